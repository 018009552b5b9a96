# Every target sets up its own virtual environment, so `make run` and `make test` work on a
# fresh machine with nothing but Python 3.11+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.bench-installed
DEMO ?= demo
# make test-shifted: the test suite on a machine whose clock says CLOCK (libfaketime).
CLOCK ?= 2031-06-01 12:00:00
PACKAGES := protocol service issuer verifier trust_registry yilu

.PHONY: run test test-shifted lint bench mutation clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	DEMO=$(DEMO) PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/demo.sh

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q

# No test may depend on today's date (docs/testing.md): the same suite with the clock moved
# to CLOCK, e.g. make test-shifted CLOCK="2040-01-15 00:00:00". Every process starts at CLOCK.
test-shifted: $(STAMP)
	@command -v faketime >/dev/null 2>&1 || { echo "make test-shifted: faketime not found: install libfaketime (apt-get install faketime)" >&2; exit 1; }
	faketime -f "@$(CLOCK)" $(BIN)/python -m pytest -n 2 -q

lint: $(STAMP)
	$(BIN)/ruff check $(PACKAGES) tests tools bench
	$(BIN)/mypy --strict

$(BENCH_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_STAMP)

# make bench: 1k, 10k and 120k labs; make bench QUICK=1: 1k only (a few minutes, for CI);
# SIZES="1000 10000" picks sizes; ONLY=services (or scan, cli, snapshots) measures only those
# sections and keeps the others' last results (bench/results/latest.json). The services are
# the registry (18,000 labs; QUICK: 2,000) and the root (120,000 labs; QUICK: 1,000) on SQLite
# and PostgreSQL. Writes docs/performance.md (not with NODOC=1, as CI runs it) and
# bench/results/*.json.
bench: $(BENCH_STAMP)
	PYTHONPATH="$(CURDIR)" $(BIN)/python -m bench $(if $(QUICK),--quick) $(if $(SIZES),--sizes $(SIZES)) \
		$(if $(ONLY),--only $(ONLY)) $(if $(NODOC),--no-doc)

# make mutation: mutation testing of protocol/ and verifier/ (docs/testing.md, "Mutation
# testing"): maps which tests run which line, runs every mutant (or MODULES="verifier/_verify.py
# ..."), rewrites the report in docs/testing.md and fails under 90 % or with a survivor that is
# not listed as equivalent. SAMPLE=N runs a random sample instead (CI) and fails on a survivor.
mutation: $(STAMP)
	$(BIN)/python tools/mutation.py map
ifdef SAMPLE
	$(BIN)/python tools/mutation.py run --sample $(SAMPLE) --seed "$(or $(SEED),yilu)" $(MODULES)
else
	$(BIN)/python tools/mutation.py run $(MODULES)
	$(BIN)/python tools/mutation.py report --write-docs --check $(MODULES)
endif

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache .mypy_cache .ruff_cache .mutation
