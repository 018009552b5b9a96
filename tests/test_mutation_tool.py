"""The mutation tool (tools/mutation.py, docs/testing.md "Mutation testing") mutates what it
says it mutates, skips what it says it skips, and each mutant changes behaviour."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).parents[1]


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("yilu_mutation_tool", ROOT / "tools" / "mutation.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


tool = _tool()

SOURCE = '''"""Docstring: never mutated."""
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    LIMIT_FOR_TYPES = 1

LIMIT = 10
__all__ = ["check"]


def check(value: int, kind: str, items: dict[str, int]) -> str:
    """Not mutated either."""
    if value > LIMIT:
        raise ValueError(f"{value} is over {LIMIT}")
    if kind == "a" and not items:
        return "empty"
    for key in items:
        if key in {"skip"}:
            continue
    audit(value)
    return items.get("total", value + 1)


def audit(value: int) -> None:
    assert value >= 0
'''


def _mutants() -> list[Any]:
    return tool._Collections("pkg/mod.py", SOURCE).collect()  # type: ignore[no-any-return]


def test_each_kind_of_decision_is_mutated() -> None:
    changes = {(m.kind, m.before, m.after) for m in _mutants()}
    assert ("compare", "value > LIMIT", "value >= LIMIT") in changes
    assert ("compare", "kind == 'a'", "kind != 'a'") in changes
    assert ("boolean", "kind == 'a' and (not items)", "kind == 'a' or not items") in changes
    assert ("not", "not items", "items") in changes
    assert ("condition", "if value > LIMIT:", "if False:") in changes
    assert ("constant", "10", "11") in changes
    assert ("constant", "'a'", "'XXaXX'") in changes  # compared
    assert ("constant", "'skip'", "'XXskipXX'") in changes  # member of a compared set
    assert ("constant", "'total'", "'XXtotalXX'") in changes  # a lookup key
    assert ("loop", "continue", "break") in changes
    assert ("arithmetic", "value + 1", "value - 1") in changes
    assert ("call", "audit(value)", "(removed)") in changes
    assert ("return", "return 'empty'", "return None") in changes


def test_what_is_not_a_decision_is_left_alone() -> None:
    text = " ".join(f"{m.before} {m.after}" for m in _mutants())
    assert "Docstring" not in text and "Not mutated" not in text
    assert "is over" not in text  # raise messages
    assert "LIMIT_FOR_TYPES" not in text and "'check'" not in text  # TYPE_CHECKING, __all__
    assert "value >= 0" not in text.replace("value >= LIMIT", "")  # assert statements
    assert not [m for m in _mutants() if m.before == "str"]  # annotations


def test_keys_are_unique_and_name_where_the_change_is() -> None:
    keys = [m.key for m in _mutants()]
    assert len(keys) == len(set(keys))
    assert "pkg/mod.py::check::compare: value > LIMIT -> value >= LIMIT" in keys
    assert "pkg/mod.py::<module>::constant: 10 -> 11" in keys
    targets = {m.key: m.target for m in _mutants()}
    assert targets["pkg/mod.py::check::compare: value > LIMIT -> value >= LIMIT"] == "check"
    assert targets["pkg/mod.py::<module>::constant: 10 -> 11"] == ""


@pytest.mark.parametrize(
    ("change", "args", "original", "mutated"),
    [
        ("compare: value > LIMIT -> value >= LIMIT", (10, "b", {}), 11, ValueError),
        ("boolean: kind == 'a' and (not items) -> kind == 'a' or not items", (1, "b", {}), 2, "empty"),
        ("arithmetic: value + 1 -> value - 1", (3, "b", {}), 4, 2),
        ("constant: 'total' -> 'XXtotalXX'", (3, "b", {"total": 7}), 7, 4),
        ("condition: if value > LIMIT: -> if False:", (11, "b", {}), ValueError, 12),
    ],
)
def test_each_mutant_changes_behaviour(
    change: str, args: tuple[Any, ...], original: Any, mutated: Any
) -> None:
    (mutant,) = [m for m in _mutants() if m.key.endswith(change)]

    def run(code: Any) -> Any:
        namespace: dict[str, Any] = {"__name__": "pkg.mod"}
        exec(code, namespace)  # noqa: S102 - running the module under test
        try:
            return namespace["check"](*args)
        except ValueError:
            return ValueError

    assert run(compile(SOURCE, "pkg/mod.py", "exec")) == original
    assert run(tool.mutated_code(mutant, SOURCE)) == mutated


def test_the_mutated_modules_are_every_module_of_protocol_and_verifier() -> None:
    found = tool.modules()
    assert "verifier/_verify.py" in found and "protocol/jws.py" in found
    assert not [m for m in found if m.endswith("__init__.py")]
    expected = {
        p.relative_to(ROOT).as_posix()
        for d in ("protocol", "verifier") for p in (ROOT / d).glob("*.py")
    }
    assert set(found) == {p for p in expected if not p.endswith("__init__.py")}


def test_report_flags_a_module_under_goal_and_lists_survivors() -> None:
    mutants = _mutants()
    score = tool.ModuleScore("pkg/mod.py", total=len(mutants), killed=len(mutants) - 5)
    score.survivors = [(mutants[0], "survived")]
    score.equivalent, score.equivalents = 1, [mutants[1]]
    assert score.score == (len(mutants) - 5) / (len(mutants) - 1)  # equivalents are not counted
    text = tool.render([score], {mutants[1].key: "no input tells them apart"})
    assert "**under 90 %**" in text
    assert f"`{mutants[0].key}` (line {mutants[0].line}, survived)" in text
    assert "no input tells them apart" in text


def test_a_default_value_belongs_to_the_scope_that_evaluates_it() -> None:
    """Defaults live on the function object, so swapping its code would not change them:
    the mutant is made where the default is evaluated (here, the module)."""
    source = "def cut(text: str, limit: int = 120) -> str:\n    return text[: limit - 1]\n"
    (default,) = [m for m in tool._Collections("m.py", source).collect() if m.before == "120"]
    assert (default.key, default.target) == ("m.py::<module>::constant: 120 -> 121", "")
    namespace: dict[str, Any] = {}
    exec(tool.mutated_code(default, source), namespace)  # noqa: S102 - running the mutant
    assert len(namespace["cut"]("x" * 500)) == 120


def test_a_mutant_that_removes_super_is_imported_afresh() -> None:
    """Removing the only ``super()`` call drops the ``__class__`` cell: Python refuses that
    code for the live function, so the tool imports the module afresh for it instead."""
    source = (
        "class Base:\n    def __init__(self) -> None:\n        self.ready = True\n\n\n"
        "class Child(Base):\n    def __init__(self) -> None:\n"
        "        super().__init__()\n        self.size = 1\n"
    )
    mutants = tool._Collections("m.py", source).collect()
    (no_super,) = [m for m in mutants if m.key.endswith("super().__init__() -> (removed)")]
    (size,) = [m for m in mutants if m.key.endswith("constant: 1 -> 2")]
    assert no_super.target == size.target == "Child.__init__"
    assert tool._changes_closure(no_super, source) is True
    assert tool._changes_closure(size, source) is False
    namespace: dict[str, Any] = {}
    exec(compile(source, "m.py", "exec"), namespace)  # noqa: S102 - the module under test
    live = namespace["Child"].__init__
    with pytest.raises(ValueError, match="free var"):
        live.__code__ = tool._find_code(tool.mutated_code(no_super, source), "Child.__init__")


def _fake_mutant() -> Any:
    # A real module path: the outcome is recorded with the module's hash.
    return tool.Mutant("protocol/reasons.py::f::x", "protocol/reasons.py", 7, 0, "x", "a", "b", "f")


def _selection() -> Any:
    """Line 7 is run by a fast test that misses the mutant and a slow one (past the first
    budget, within the retry's) that kills it."""
    tests = ["tests/t.py::fast", "tests/t.py::slow"]
    return tool.Selection({"protocol/reasons.py": {7: tests}}, {tests[0]: 1.0, tests[1]: 20.0})


def test_selection_keeps_to_the_budget_fastest_first() -> None:
    selection = _selection()
    assert selection.tests_for(_fake_mutant()) == ["tests/t.py::fast"]
    assert selection.tests_for(_fake_mutant(), tool.RETRY_BUDGET) == ["tests/t.py::fast", "tests/t.py::slow"]
    assert tool.TEST_BUDGET < 21.0 <= tool.RETRY_BUDGET


@pytest.mark.parametrize(("retry", "status"), [(True, "killed"), (False, "survived")])
def test_a_survivor_runs_again_with_the_slower_tests(
    monkeypatch: pytest.MonkeyPatch, retry: bool, status: str
) -> None:
    """A mutant whose killing test lies past the first budget is not reported a survivor:
    it runs again with the tests of RETRY_BUDGET (unless it is equivalent)."""
    import os

    monkeypatch.setattr(tool, "_save", lambda results: None)  # never the real results file
    runs: list[list[str]] = []

    def start(mutant: Any, tests: list[str]) -> int:
        runs.append(tests)
        pid = os.fork()
        if pid == 0:
            os._exit(1 if "tests/t.py::slow" in tests else 0)  # the slow test kills it
        return pid

    mutant = _fake_mutant()
    results: dict[str, Any] = {}
    tool._schedule([mutant], _selection(), 1, results, start, {mutant.key} if retry else set())
    assert results[mutant.key]["status"] == status
    fast, both = ["tests/t.py::fast"], ["tests/t.py::fast", "tests/t.py::slow"]
    assert runs == ([fast, both] if retry else [fast])


def test_a_module_constant_is_run_by_its_modules_own_tests() -> None:
    """A test that only reads a constant (``yl1.MAX_ISSUED_CHARS``) runs none of the module's
    lines, so coverage never names it: a module-level mutant gets its own test files too."""
    reader = "tests/protocol/test_reasons_limits.py::test_reads_the_constant"
    selection = tool.Selection(
        {"protocol/reasons.py": {7: ["tests/t.py::fast"]}}, {"tests/t.py::fast": 1.0, reader: 0.1}
    )
    constant = tool.Mutant("protocol/reasons.py::<module>::x", "protocol/reasons.py", 7, 0, "x", "1", "2", "")
    assert selection.tests_for(constant) == [reader, "tests/t.py::fast"]
    assert selection.tests_for(_fake_mutant()) == ["tests/t.py::fast"]  # inside a function: coverage decides
    assert selection.retry_tests(_fake_mutant()) == [reader, "tests/t.py::fast"]  # a cache hides later calls


def test_a_condition_over_several_lines_is_run_by_the_tests_of_its_code() -> None:
    """``if (`` has no code on its own line: the tests of the next recorded line run it. A
    test file changed since the map runs whole, never by test ids that may be gone."""
    selection = tool.Selection(
        {"protocol/reasons.py": {9: ["tests/t.py::fast", "tests/gone.py::renamed"]}},
        {"tests/t.py::fast": 1.0, "tests/gone.py::renamed": 1.0},
        ["tests/gone.py"],
    )
    spread = tool.Mutant("protocol/reasons.py::f::y", "protocol/reasons.py", 7, 0, "y", "a", "b", "f")
    assert selection.tests_for(spread) == ["tests/t.py::fast", "tests/gone.py"]


def test_a_mutant_child_has_bounded_memory() -> None:
    """A mutant that loops while it appends (``while start != -2``) fails at CHILD_MEMORY
    instead of taking the machine's memory."""
    import os
    import resource

    pid = os.fork()
    if pid == 0:
        try:
            tool._quiet_child()
            soft, _ = resource.getrlimit(resource.RLIMIT_AS)
            try:
                bytearray(tool.CHILD_MEMORY)
            except MemoryError:
                os._exit(0 if soft == tool.CHILD_MEMORY else 2)
            os._exit(1)
        except BaseException:
            os._exit(3)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def _group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes of process group ``pgid``, from /proc."""
    from pathlib import Path

    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            found.append(int(stat.parent.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process groups from /proc")
def test_what_a_mutant_leaves_running_is_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    """A mutant that never closes its worker pool leaves the workers behind when it exits:
    its whole process group is killed, so no run leaks sleeping processes."""
    import os
    import time

    monkeypatch.setattr(tool, "_save", lambda results: None)
    children: list[int] = []

    def start(mutant: Any, tests: list[str]) -> int:
        pid = os.fork()
        if pid == 0:
            os.setpgid(0, 0)
            if os.fork() == 0:  # the worker the mutant forgets
                time.sleep(600)
                os._exit(0)
            time.sleep(0.2)  # the worker is running when the mutant exits
            os._exit(1)
        children.append(pid)
        return pid

    mutant = _fake_mutant()
    results: dict[str, Any] = {}
    tool._schedule([mutant], _selection(), 1, results, start, set())
    assert results[mutant.key]["status"] == "killed"
    deadline = time.monotonic() + 10
    while _group_members(children[0]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _group_members(children[0]) == []
