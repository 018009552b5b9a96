"""The service benchmarks ``make bench`` runs (issue 7 §6) work at tiny sizes and give the
figures the report reads, so a change to the services cannot break the bench silently."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bench import __main__ as harness
from bench import report

REGISTRY_KEYS = {"labs", "small", "import_seconds", "publish_seconds", "trust_list_bytes", "at_small", "at_n"}
ROOT_KEYS = {
    "labs",
    "members",
    "admit_50_s",
    "agreements_50_s",
    "publish_s",
    "fetch_and_keep_lists_s",
    "build_bundle_s",
    "bundle_bytes",
    "refetch_after_1pc_s",
    "build_next_bundle_with_delta_s",
    "delta_bytes",
    "wall_s",
    "max_rss",
}


def test_the_service_benches_run_in_their_processes_and_the_report_shows_them() -> None:
    got = harness.figure_services(registry_labs=20, registry_small=10, root_labs=20)
    assert got["registry_labs"] == 20 and got["root_labs"] == 20
    for db in harness.DATABASES:
        registry, root = got["registry"][db], got["root"][db]
        if db == "postgresql" and shutil.which("initdb") is None:
            assert registry["skipped"].startswith("PostgreSQL not available")
            assert root["skipped"].startswith("PostgreSQL not available")
            continue
        assert set(registry) >= REGISTRY_KEYS, registry
        assert set(registry["at_n"]) == {"add_lab_ms", "import_one_lab_ms"}
        assert set(root) >= ROOT_KEYS, root
        assert root["lists_dropped"] == 0 and root["bundle_warnings"] == 0
        assert root["lists_kept"] == 20 + 50 and root["delta_bytes"] > 0
    results = {"machine": harness.machine(), "services": got}
    assert report.failures(results) == []
    doc = report.render(results)
    assert "## 4. Services: registry and root" in doc
    assert "registry imports 18,000 labs with keys <= 60 s" in doc
    assert "root bundle of 50 registries × 120k labs <= 25 MB" in doc
    assert "failed" not in doc.split("## 4.")[1].split("## How")[0]


def test_only_services_keeps_the_other_sections_of_the_last_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    last = {"machine": {"date": "then"}, "scan": {"error": "kept"}, "sizes": [1000], "snapshots": []}
    (tmp_path / "latest.json").write_text(json.dumps(last))
    monkeypatch.setattr(harness, "RESULTS", tmp_path)
    monkeypatch.setattr(harness, "figure_services", lambda *a: {"registry": {}, "root": {}})
    monkeypatch.setattr("sys.argv", ["bench", "--only", "services", "--no-doc"])
    with pytest.raises(SystemExit):
        harness.main()
    (run,) = tmp_path.glob("run-*.json")
    merged = json.loads(run.read_text())
    assert merged["scan"] == {"error": "kept"} and merged["machine"] == {"date": "then"}
    # --no-doc (CI's quick run) leaves the doc's source alone.
    assert json.loads((tmp_path / "latest.json").read_text()) == last
    assert merged["services"]["quick"] is False and merged["measured"] == ["services"]


def test_a_database_not_measured_keeps_its_last_figures() -> None:
    previous = {"registry": {"postgresql": {"labs": 18_000}}, "root": {"postgresql": {"labs": 40_000}}}
    got = harness.figure_services(20, 10, 20, databases=(), previous=previous)
    assert got["registry"] == {"postgresql": {"labs": 18_000}}
    assert got["root"] == {"postgresql": {"labs": 40_000}}
