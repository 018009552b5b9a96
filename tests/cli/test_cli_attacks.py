"""Attacks through the ``yilu`` command line: real processes, real files, real keys.

Every test states the secure behaviour. Those marked ``xfail(strict=True)`` fail on the
current code (issue 5 lists the classes by number); they turn into passes as the fixes land.
Each run gets its own empty ``$YILU_DATA_DIR``, so no installed snapshot is ever used by accident.
"""

from __future__ import annotations

import json
import random
import re
import signal
import subprocess
import sys
import time
import unicodedata
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from protocol.encoding import b64url_encode, dumps_compact
from protocol.jws import TYP_VC, parse_compact
from protocol.keys import SigningKey
from protocol.status_list import StatusList
from testkit import AT_NOW, DATA, NOW, SRC, World, run_yilu, yilu_env

CN_FOOD = "https://qdtc.example.cn"


def yilu(
    *args: str,
    data_dir: Path,
    stdin: bytes | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 120,
    max_memory: int | None = None,
) -> subprocess.CompletedProcess[str]:
    return run_yilu(*args, data_dir=data_dir, stdin=stdin, env=env, timeout=timeout, max_memory=max_memory)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("demo") / "fed"
    data_dir = tmp_path_factory.mktemp("data")
    proc = yilu("demo", "init", str(root), "--json", "--at", AT_NOW, data_dir=data_dir)
    assert proc.returncode == 0, proc.stderr
    info: dict[str, Any] = json.loads(proc.stdout)
    info["root"] = root
    info["rootKeysFile"] = str(root / "root" / "root-keys.json")
    return info


def lab_dir(demo: dict[str, Any], lab_id: str = CN_FOOD) -> str:
    return str(next(lab["dir"] for lab in demo["labs"] if lab["id"] == lab_id))


def unique_report(tmp_path: Path, name: str = "green-tea-3") -> Path:
    """A reference report under a report number no other test uses (one certificate per report)."""
    body = json.loads((DATA / f"{name}.json").read_text())
    body["reportNumber"] += "-" + uuid.uuid4().hex[:8]
    path = tmp_path / f"{name}-{uuid.uuid4().hex[:6]}.json"
    path.write_text(json.dumps(body, ensure_ascii=False))
    return path


@pytest.fixture(scope="module")
def issued(demo: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One certificate of the demo's CN food lab."""
    tmp = tmp_path_factory.mktemp("issued")
    report = unique_report(tmp)
    proc = yilu("issue", str(report), "--lab", lab_dir(demo), "--json", "--at", AT_NOW, data_dir=tmp / "data")
    assert proc.returncode == 0, proc.stderr
    out: dict[str, Any] = json.loads(proc.stdout)
    return out


def verify(
    data: str, bundle: str | Path, *extra: str, data_dir: Path, country: str = "KZ", **kwargs: Any
) -> subprocess.CompletedProcess[str]:
    """``yilu verify``, at the tests' clock unless ``extra`` has ``--at``."""
    at = () if "--at" in extra else ("--at", AT_NOW)
    args = ("verify", data, "--bundle", str(bundle), "--country", country, *at, *extra)
    return yilu(*args, data_dir=data_dir, **kwargs)


def write_world(world: World, directory: Path, name: str) -> tuple[Path, Path]:
    """The world's bundle and its pinned root keys as files."""
    directory.mkdir(parents=True, exist_ok=True)
    bundle = directory / f"{name}-bundle.jwt"
    bundle.write_bytes(world.bundle())
    roots = directory / f"{name}-root-keys.json"
    roots.write_text(json.dumps([dict(world.root.public.jwk)]))
    return bundle, roots


def verdict(proc: subprocess.CompletedProcess[str]) -> str | None:
    if not proc.stdout.strip():
        return None
    value = json.loads(proc.stdout).get("verdict")
    return None if value is None else str(value)


def reason_codes(proc: subprocess.CompletedProcess[str]) -> list[str]:
    """The reason codes of a result, in order: from ``--json`` output, else from the text
    output's ``  - [CODE] message`` lines."""
    if proc.stdout.lstrip().startswith("{"):
        return [r["code"] for r in json.loads(proc.stdout)["reasons"]]
    return re.findall(r"^  - \[([A-Z_]+)\] ", proc.stdout, re.MULTILINE)


# -- control: a pinned, genuine certificate is accepted -----------------------------------------


def test_pinned_demo_certificate_is_accepted(
    demo: dict[str, Any], issued: dict[str, Any], tmp_path: Path
) -> None:
    proc = verify(issued["qr"], demo["bundle"], "--root", demo["rootKeysFile"], "--json", data_dir=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert verdict(proc) == "accept"


# -- 4. an unpinned root ----------------------------------------------------------------------


def test_attacker_federation_is_not_accepted_without_a_pinned_root(tmp_path: Path) -> None:
    attacker = World()
    bundle, _ = write_world(attacker, tmp_path, "attacker")
    proc = verify(attacker.issue(), bundle, "--at", AT_NOW, "--json", data_dir=tmp_path / "data")
    assert proc.returncode != 0
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert reason_codes(proc) == ["TRUST_DATA_MISSING"]


def test_demo_init_names_its_root_keys(demo: dict[str, Any]) -> None:
    path = Path(demo["rootKeys"])
    assert path.is_file()
    assert json.loads(path.read_text()) == json.loads((demo["root"] / "root" / "root-keys.json").read_text())


# -- 6. calendar edges --------------------------------------------------------------------------


def test_verify_at_the_end_of_the_calendar(
    demo: dict[str, Any], issued: dict[str, Any], tmp_path: Path
) -> None:
    proc = verify(
        issued["qr"],
        demo["bundle"],
        "--root",
        demo["rootKeysFile"],
        "--at",
        "9999-12-31T23:59:59Z",
        "--json",
        data_dir=tmp_path,
    )
    assert proc.returncode != 3 and "internal error" not in proc.stderr, proc.stderr
    # Past the supported calendar (docs/verifying.md, "Time and clock skew"): refused as an argument.
    assert (proc.returncode, proc.stdout) == (2, ""), proc.stdout + proc.stderr
    assert proc.stderr.startswith("yilu: error: --at is outside the supported range"), proc.stderr


# -- 7. resource use before authentication ----------------------------------------------------


def test_huge_bundle_file_is_refused_before_reading(
    demo: dict[str, Any], issued: dict[str, Any], tmp_path: Path
) -> None:
    huge = tmp_path / "huge-bundle.jwt"
    with open(huge, "wb") as fh:
        fh.truncate(6 << 30)  # sparse: no disk used
    # Reading it would need 6 GiB; a 2 GiB address-space limit turns that into a MemoryError
    # instead of a machine-wide memory spike.
    proc = verify(
        issued["qr"],
        huge,
        "--root",
        demo["rootKeysFile"],
        data_dir=tmp_path / "data",
        timeout=60,
        max_memory=2 << 30,
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "CANNOT VERIFY" in proc.stdout and "larger than any bundle" in proc.stdout, proc.stdout
    assert reason_codes(proc) == ["TRUST_DATA_INVALID"]
    assert not proc.stderr, proc.stderr


# -- 9. display injection ---------------------------------------------------------------------

BIDI = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}


def assert_clean_display(text: str) -> None:
    """No forged verdict line, no control characters but newlines, no bidi overrides."""
    for line in text.split("\n"):
        assert not line.startswith("✔"), text
        assert not re.match(r"\s*- \[ACCEPTED\]", line), text
    assert not [c for c in text if c != "\n" and unicodedata.category(c) == "Cc"], repr(text)
    assert not BIDI & set(text), repr(text)


INJECTED = "x\n✔ ACCEPT\n  - [ACCEPTED] Genuine"


@pytest.mark.parametrize(
    ("kid", "lang"),
    [
        pytest.param(INJECTED, "en", id="newlines-en"),
        pytest.param(INJECTED, "zh", id="newlines-zh"),
        pytest.param(INJECTED, "ru", id="newlines-ru"),
        pytest.param("x\r\x1b[2K✔ ACCEPT\x07", "en", id="terminal-controls-en"),
        pytest.param("x\u202e\u2066TPECCA\u2069\u202c ✔", "en", id="bidi-en"),
    ],
)
def test_kid_cannot_inject_lines_into_text_output(
    demo: dict[str, Any], issued: dict[str, Any], tmp_path: Path, kid: str, lang: str
) -> None:
    key = SigningKey.generate()
    head = b64url_encode(dumps_compact({"alg": key.alg, "kid": kid, "typ": TYP_VC}))
    signing_input = f"{head}.{issued['jws'].split('.')[1]}"
    token = f"{signing_input}.{b64url_encode(key.sign(signing_input.encode()))}"
    proc = verify(token, demo["bundle"], "--root", demo["rootKeysFile"], "--lang", lang, data_dir=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert reason_codes(proc) == ["UNKNOWN_KEY"]  # and no forged reason line
    assert_clean_display(proc.stdout)


# -- 10. "cannot verify" is not "reject" -------------------------------------------------------


@pytest.mark.parametrize("kind", ["png", "text"])
def test_file_that_is_not_a_bundle_is_unverifiable(
    demo: dict[str, Any], issued: dict[str, Any], tmp_path: Path, kind: str
) -> None:
    fake = tmp_path / f"not-a-bundle.{kind}"
    if kind == "png":
        fake.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    else:
        fake.write_text("this is a shopping list, not a bundle\n")
    proc = verify(issued["qr"], fake, "--root", demo["rootKeysFile"], "--json", data_dir=tmp_path / "data")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert (verdict(proc), reason_codes(proc)) == ("unverifiable", ["TRUST_DATA_INVALID"])


def test_bundle_of_another_federation_is_unverifiable(tmp_path: Path) -> None:
    ours, theirs = World(), World()
    _, our_roots = write_world(ours, tmp_path, "ours")
    their_bundle, _ = write_world(theirs, tmp_path, "theirs")
    proc = verify(
        theirs.issue(),
        their_bundle,
        "--root",
        str(our_roots),
        "--at",
        AT_NOW,
        "--json",
        data_dir=tmp_path / "d",
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert (verdict(proc), reason_codes(proc)) == ("unverifiable", ["TRUST_DATA_INVALID"])
    assert "another federation" in (proc.stdout + proc.stderr).lower()


def test_expired_federation_list_is_unverifiable(tmp_path: Path) -> None:
    world = World()
    world.federation_expires = NOW - timedelta(minutes=1)
    bundle, roots = write_world(world, tmp_path, "expired")
    proc = verify(
        world.issue(), bundle, "--root", str(roots), "--at", AT_NOW, "--json", data_dir=tmp_path / "d"
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert (verdict(proc), reason_codes(proc)) == ("unverifiable", ["TRUST_DATA_STALE"])


def test_no_pinned_root_is_unverifiable(demo: dict[str, Any], issued: dict[str, Any], tmp_path: Path) -> None:
    proc = verify(issued["qr"], demo["bundle"], "--json", data_dir=tmp_path / "empty")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert (verdict(proc), reason_codes(proc)) == ("unverifiable", ["TRUST_DATA_MISSING"])


# -- 11. messages and arguments -----------------------------------------------------------------



# -- 12. nothing lost on the lab side -----------------------------------------------------------


def issue_json(demo: dict[str, Any], report: Path, data_dir: Path) -> subprocess.CompletedProcess[str]:
    return yilu("issue", str(report), "--lab", lab_dir(demo), "--json", "--at", AT_NOW, data_dir=data_dir)


def test_failed_qr_png_write_loses_nothing(demo: dict[str, Any], tmp_path: Path) -> None:
    report = unique_report(tmp_path)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    failed = yilu(
        "issue",
        str(report),
        "--lab",
        lab_dir(demo),
        "--qr-png",
        str(blocker / "x.png"),
        "--at",
        AT_NOW,
        data_dir=tmp_path / "d",
    )
    assert failed.returncode == 2, failed.stdout + failed.stderr
    proc = issue_json(demo, report, tmp_path / "d")
    assert proc.returncode == 0, proc.stderr
    assert set(json.loads(proc.stdout)) == {"id", "jws", "qr", "statusListIndex"}


def test_issuing_the_same_report_twice_returns_the_same_certificate(
    demo: dict[str, Any], tmp_path: Path
) -> None:
    report = unique_report(tmp_path)
    first, second = (issue_json(demo, report, tmp_path / "d") for _ in range(2))
    assert first.returncode == 0 and second.returncode == 0, second.stderr
    a, b = json.loads(first.stdout), json.loads(second.stdout)
    assert (a["id"], a["jws"]) == (b["id"], b["jws"])


def test_lab_show_reprints_an_issued_certificate(demo: dict[str, Any], tmp_path: Path) -> None:
    proc = issue_json(demo, unique_report(tmp_path), tmp_path / "d")
    assert proc.returncode == 0, proc.stderr
    issued = json.loads(proc.stdout)
    shown = yilu("lab", "show", issued["id"], "--lab", lab_dir(demo), "--json", data_dir=tmp_path / "d")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout) == issued


_FRAME = re.compile(r'^  File "(?P<path>[^"]+)", line (?P<line>\d+)', re.MULTILINE)
#: yilu/cli.py's line that installs its SIGINT handler (yilu's first lines run before it).
_HANDLER_LINE = next(
    n
    for n, line in enumerate((SRC / "yilu" / "cli.py").read_text().splitlines(), 1)
    if line.strip().startswith("_signal.signal(_signal.SIGINT, _interrupted)")
)


#: The project's own packages (pyproject's ``packages.find``): a frame in a virtualenv kept
#: inside the checkout (``.venv/…/site-packages``, where site runs its .pth files) is not ours.
_OUR_PACKAGES = frozenset({"protocol", "service", "issuer", "verifier", "trust_registry", "yilu"})


def _as_from_a_terminal() -> None:
    """In the child: Ctrl-C as a terminal delivers it. A background job of a non-interactive
    shell (a CI script, nohup) inherits SIGINT ignored, and Python then never raises
    KeyboardInterrupt: without this the two Ctrl-C tests would pass without testing."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _is_ours(path: Path) -> bool:
    return path.is_relative_to(SRC) and path.relative_to(SRC).parts[0] in _OUR_PACKAGES


def _frames_in_yilu(stderr: str) -> bool:
    """True if a traceback in ``stderr`` has a frame in this checkout's code (a frame line
    ``File "SRC/…"``; the path may also appear in an import-machinery message, e.g. a
    ``KeyError`` of the path cache, when the interrupt lands before any of it runs).

    A Ctrl-C that arrives while the interpreter starts is delivered at the next line Python
    runs: when that is yilu's own first lines, before the handler is installed (the
    traceback ends there, with no deeper call), no program can prevent it either."""
    if "Traceback" not in stderr:
        return False
    frames = [(Path(m["path"]), int(m["line"])) for m in _FRAME.finditer(stderr)]
    ours = [(path, line) for path, line in frames if _is_ours(path)]
    if not ours:
        return False
    path, line = frames[-1]
    before_handler = path == SRC / "yilu" / "cli.py" and line <= _HANDLER_LINE
    too_early = before_handler or path == SRC / "yilu" / "__init__.py"
    return not (len(ours) == 1 and ours[0] == frames[-1] and too_early)


def test_frames_in_yilu_tells_our_frames_from_the_interpreters() -> None:
    """The classifier of the two Ctrl-C tests: a frame deep in yilu's code counts; one in a
    virtualenv inside the checkout (site's .pth files, CI's layout) or in yilu's first lines
    does not."""

    def tb(*frames: tuple[Path, int]) -> str:
        lines = [f'  File "{path}", line {line}, in f\n    x()' for path, line in frames]
        return "Traceback (most recent call last):\n" + "\n".join(lines) + "\nKeyboardInterrupt\n"

    deep = SRC / "protocol" / "jws.py"
    venv = SRC / ".venv" / "lib" / "python3.11" / "site-packages" / "a1_coverage.pth"
    assert _frames_in_yilu(tb((SRC / "yilu" / "cli.py", _HANDLER_LINE + 5), (deep, 10)))
    assert not _frames_in_yilu(tb((venv, 1), (Path("<frozen importlib._bootstrap>"), 1)))
    assert not _frames_in_yilu(tb((SRC / "yilu" / "cli.py", _HANDLER_LINE)))
    assert _frames_in_yilu(tb((SRC / "yilu" / "cli.py", _HANDLER_LINE + 1)))
    assert not _frames_in_yilu("KeyboardInterrupt\n")


def test_interrupted_issue_loses_nothing(demo: dict[str, Any], tmp_path: Path) -> None:
    """Ctrl-C at random moments of ``yilu issue``; then the report still issues, and reprints identically.

    A SIGINT that lands while the interpreter itself starts (site, runpy: before any yilu code
    runs) prints a KeyboardInterrupt traceback no program can prevent, so the check is that no
    traceback ever runs through yilu's own code.
    """
    report = unique_report(tmp_path)
    args = ("issue", str(report), "--lab", lab_dir(demo), "--json", "--at", AT_NOW)
    rng = random.Random(5)
    for _ in range(12):
        child = subprocess.Popen(
            [sys.executable, "-m", "yilu.cli", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=yilu_env(tmp_path / "d"),
            preexec_fn=_as_from_a_terminal,
        )
        time.sleep(rng.uniform(0, 0.6))
        child.send_signal(signal.SIGINT)
        _, err = child.communicate(timeout=60)
        assert not _frames_in_yilu(err.decode()), err.decode()
    proc = issue_json(demo, report, tmp_path / "d")
    assert proc.returncode == 0, proc.stderr
    issued = json.loads(proc.stdout)
    shown = yilu("lab", "show", issued["id"], "--lab", lab_dir(demo), "--json", data_dir=tmp_path / "d")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout) == issued


_SET_NAME_INTERRUPTED = """
import os, signal, sys
sys.argv[0] = "yilu"
import yilu.cli

class Descriptor:
    def __set_name__(self, owner, name):
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C while an import creates a class
        for _ in range(10**6):
            pass

class Holder:
    field = Descriptor()

print("not reached")
"""


def test_ctrl_c_while_an_import_creates_a_class_prints_one_line(tmp_path: Path) -> None:
    """Python 3.11 wraps an exception raised in ``__set_name__`` (ipaddress's cached_property,
    met by a Ctrl-C 85 ms into ``yilu verify``) in a RuntimeError: still one line, exit 130."""
    proc = subprocess.run(
        [sys.executable, "-c", _SET_NAME_INTERRUPTED],
        capture_output=True,
        text=True,
        env=yilu_env(tmp_path / "d"),
        cwd=tmp_path,
        preexec_fn=_as_from_a_terminal,
        timeout=60,
    )
    assert (proc.returncode, proc.stderr, proc.stdout) == (130, "yilu: interrupted\n", "")


def test_ctrl_c_while_yilu_starts_prints_no_traceback(tmp_path: Path) -> None:
    """Ctrl-C in yilu's first ~90 ms, a delay every 1.5 ms: the handler is installed before
    any slow import (yilu/cli.py takes _signal, loaded at start-up), so no traceback runs
    through yilu's code. With ``import signal`` first (~7 ms of enum), about one in ten did."""
    through_yilu = []
    for step in range(60):
        child = subprocess.Popen(
            [sys.executable, "-m", "yilu.cli", "verify", "YL1:AB", "--country", "KZ"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=yilu_env(tmp_path / "d"),
            cwd=tmp_path,
            preexec_fn=_as_from_a_terminal,
        )
        time.sleep(step * 0.0015)
        child.send_signal(signal.SIGINT)
        _, err = child.communicate(timeout=60)
        if _frames_in_yilu(err.decode()):
            through_yilu.append((step * 1.5, err.decode()))
    assert not through_yilu, through_yilu[0]


# -- 13. a quiet lab ------------------------------------------------------------------------------


def _status_list(demo: dict[str, Any]) -> StatusList:
    token = (Path(lab_dir(demo)) / "status" / "list.jwt").read_text().strip()
    return StatusList.from_credential(parse_compact(token, expected_typ=TYP_VC).payload_json())


def test_lab_republish_resigns_status_lists_later(demo: dict[str, Any], tmp_path: Path) -> None:
    """The daily routine: nothing to do while the lists have time left; re-signed (later
    validFrom and validUntil) once fewer than 10 of their 30 days remain."""
    before = _status_list(demo)
    assert before.valid_until is not None
    proc = yilu("lab", "republish", "--lab", lab_dir(demo), "--at", AT_NOW, data_dir=tmp_path / "d")
    assert proc.returncode == 0 and "nothing to do" in proc.stderr, proc.stderr
    assert _status_list(demo).valid_from == before.valid_from
    day_21 = (before.valid_from + timedelta(days=21)).strftime("%Y-%m-%dT%H:%M:%SZ")
    proc = yilu("lab", "republish", "--lab", lab_dir(demo), "--at", day_21, data_dir=tmp_path / "d")
    assert proc.returncode == 0 and "re-signed" in proc.stderr, proc.stderr
    after = _status_list(demo)
    assert after.valid_from > before.valid_from
    assert after.valid_until is not None and after.valid_until > before.valid_until + timedelta(days=20)


def test_main_answers_ctrl_c_wrapped_by_a_lazy_import(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same wrap inside a command's lazy import reaches main(): exit 130, and no
    "internal error" line after the one the handler wrote."""
    from yilu import cli as yilu_cli

    def interrupted_import(**kwargs: object) -> int:
        try:
            raise yilu_cli._Interrupted(130)
        except yilu_cli._Interrupted as exc:
            raise RuntimeError("Error calling __set_name__ on 'cached_property' instance") from exc

    monkeypatch.setattr(yilu_cli.app, "main", interrupted_import)
    assert yilu_cli.main(["verify"]) == 130
    assert capsys.readouterr().err == ""
    monkeypatch.setattr(yilu_cli.app, "main", lambda **kwargs: (_ for _ in ()).throw(RuntimeError("x")))
    assert yilu_cli.main(["verify"]) == 3  # any other RuntimeError is still an internal error
    assert "internal error (RuntimeError)" in capsys.readouterr().err
