"""Decisions of verifier/_cli.py pinned in process (``yilu.cli.main``, so that a mutant is
seen): ``yilu verify`` inputs, exit codes and output, ``yilu trust install|show`` with
their exact lines, boundaries of expiry and of the documented limits (docs/verifying.md,
"Command line": inputs <= 20 MiB, --clock-skew at most 86400)."""

from __future__ import annotations

import io
import json
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import verifier._cli as cli
from protocol.encoding import format_time
from protocol.keys import SigningKey
from tests.testkit import NOW, World
from verifier import load_bundle
from yilu.cli import main

AT = format_time(NOW)
MIB = 1024 * 1024


class Setup:
    """A world, its bundle and root keys on disk, and a data directory."""

    def __init__(self, tmp: Path, world: World | None = None) -> None:
        self.tmp, self.world = tmp, world or World()
        self.data = tmp / "data"
        self.bundle = tmp / "bundle.ylb"
        self.root = tmp / "root-keys.json"
        self.bundle.write_bytes(self.world.bundle())
        self.root.write_text(json.dumps([dict(self.world.root.public.jwk)]))

    def install(self, *extra: str) -> int:
        args = ["trust", "install", str(self.bundle), "--root", str(self.root), "--data-dir", str(self.data)]
        return main([*args, "--at", AT, *extra])

    def verify(self, certificate: str, *extra: str) -> int:
        args = ["verify", certificate, "--country", "KZ", "--data-dir", str(self.data), "--at", AT]
        return main([*args, *extra])

    def show(self, at: str = AT) -> list[str]:
        return ["trust", "show", "--data-dir", str(self.data), "--at", at, "--json"]


@pytest.fixture
def setup(tmp_path: Path) -> Setup:
    world = World()
    world.labs["ru-food"].status_valid_until = NOW + timedelta(days=3)
    world.labs["cn-metals"].status_signer = SigningKey.generate()  # its status list is dropped
    return Setup(tmp_path, world)


def run_json(capsys: pytest.CaptureFixture[str], code: int, args: list[str]) -> dict[str, Any]:
    assert main(args) == code
    out: dict[str, Any] = json.loads(capsys.readouterr().out)
    return out


# -- yilu trust install / show --------------------------------------------------------------------


def summary_lines(root_kid: str, *, installed: str = "2026-11-27T09:00:00Z") -> list[str]:
    return [
        f"federation https://federation.example (root keys {root_kid})",
        f"bundle sequence 1, created 2026-11-27T08:30:00Z, installed {installed}",
        "valid until 2026-12-27T09:00:00Z (the earliest expiry of the federation list and trust lists)",
        "federation list sequence 1, 3 registries, expires 2026-12-27T09:00:00Z",
        "  AB-CN (CN): trust list sequence 1, labs: 2, expires 2026-12-27T09:00:00Z",
        "  AB-RU (RU): trust list sequence 1, labs: 1, expires 2026-12-27T09:00:00Z",
        "  AB-KZ (KZ): trust list sequence 1, labs: 0, expires 2026-12-27T09:00:00Z",
        "2 status lists, the first to expire on 2026-11-30T09:00:00Z",
        "  ! expires within 7 days: https://nftc.example.ru/status",
        "! dropped: status list https://sdmt.example.cn/status: not signed by a key of https://sdmt.example.cn",
    ]


def test_trust_install_says_what_it_installed_and_warns(
    setup: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    assert setup.install() == 0
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        "yilu: warning: 1 labs have no usable status list, so their certificates cannot be verified "
        "(e.g. https://sdmt.example.cn)",
        "yilu: warning: 1 parts of the bundle were dropped: yilu trust show lists them",
        f"installed: bundle sequence 1 of https://federation.example in {setup.data / 'trust'}",
    ]
    assert captured.out.splitlines() == summary_lines(setup.world.root.public.kid)
    assert setup.install() == 0
    again = f"already installed: bundle sequence 1 of https://federation.example in {setup.data / 'trust'}"
    assert again in capsys.readouterr().err


def test_trust_install_json(setup: Setup, capsys: pytest.CaptureFixture[str]) -> None:
    first = run_json(capsys, 0, ["trust", "install", str(setup.bundle), "--root", str(setup.root),
                                 "--data-dir", str(setup.data), "--at", AT, "--json"])  # fmt: skip
    assert (first["changed"], first["sequence"], first["federation"]) == (True, 1, "https://federation.example")
    assert first["warnings"] == [
        "1 labs have no usable status list, so their certificates cannot be verified (e.g. https://sdmt.example.cn)",
        "1 parts of the bundle were dropped: yilu trust show lists them",
    ]
    args = ["trust", "install", str(setup.bundle), "--data-dir", str(setup.data), "--at", AT, "--json"]
    again = run_json(capsys, 0, args)
    assert again["changed"] is False


def test_trust_show_text_and_json(setup: Setup, capsys: pytest.CaptureFixture[str]) -> None:
    assert setup.install() == 0
    capsys.readouterr()
    assert main(["trust", "show", "--data-dir", str(setup.data), "--at", AT]) == 0
    assert capsys.readouterr().out.splitlines() == summary_lines(setup.world.root.public.kid)
    shown = run_json(capsys, 0, ["trust", "show", "--data-dir", str(setup.data), "--at", AT, "--json"])
    kid = setup.world.root.public.kid
    trust_list = {"sequence": 1, "expiresAt": "2026-12-27T09:00:00Z", "expired": False}
    assert shown == {
        "dataDir": str(setup.data / "trust"),
        "federation": "https://federation.example",
        "rootKeys": [kid],
        "sequence": 1,
        "createdAt": "2026-11-27T08:30:00Z",
        "installedAt": "2026-11-27T09:00:00Z",
        "ageSeconds": 1800,
        "expiresAt": "2026-12-27T09:00:00Z",
        "federationList": {**trust_list, "registries": 3},
        "trustLists": [
            {"registry": f"https://registry.example.{cc.lower()}"}
            | {"accreditationBody": f"AB-{cc}", "country": cc}
            | trust_list
            | {"labs": labs}
            for cc, labs in (("CN", 2), ("RU", 1), ("KZ", 0))
        ],
        "statusLists": {
            "count": 2,
            "expiresAt": "2026-11-30T09:00:00Z",
            "expired": [],
            "expiringSoon": ["https://nftc.example.ru/status"],
        },
        "skipped": ["status list https://sdmt.example.cn/status: not signed by a key of https://sdmt.example.cn"],
        "skippedCount": 1,
    }


def test_trust_show_at_the_expiry_instant_and_one_second_later(
    setup: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    assert setup.install() == 0
    capsys.readouterr()
    expiry = NOW + timedelta(days=30)  # the federation list, the trust lists and cn-food's status list
    at_expiry = run_json(capsys, 0, setup.show(format_time(expiry)))
    assert at_expiry["federationList"]["expired"] is False
    assert [t["expired"] for t in at_expiry["trustLists"]] == [False, False, False]
    assert at_expiry["statusLists"]["expired"] == ["https://nftc.example.ru/status"]
    assert at_expiry["statusLists"]["expiringSoon"] == ["https://qdtc.example.cn/status"]
    assert at_expiry["ageSeconds"] == 30 * 86400 + 1800
    later = format_time(expiry + timedelta(seconds=1))
    assert main(["trust", "show", "--data-dir", str(setup.data), "--at", later]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[3] == (
        "federation list sequence 1, 3 registries, expires 2026-12-27T09:00:00Z"
        " ! EXPIRED: install a current bundle"
    )
    assert lines[4] == (
        "  AB-CN (CN): trust list sequence 1, labs: 2, expires 2026-12-27T09:00:00Z"
        " ! EXPIRED: install a current bundle"
    )
    assert lines[7:10] == [
        "2 status lists, the first to expire on 2026-11-30T09:00:00Z",
        "  ! expired: https://nftc.example.ru/status (its lab must republish)",
        "  ! expired: https://qdtc.example.cn/status (its lab must republish)",
    ]


def test_a_status_list_is_expiring_soon_for_less_than_7_days(
    setup: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    assert setup.install() == 0
    capsys.readouterr()
    week_before = format_time(NOW + timedelta(days=23))  # cn-food's list expires in exactly 7 days
    shown = run_json(capsys, 0, setup.show(week_before))
    assert shown["statusLists"]["expiringSoon"] == []
    assert shown["statusLists"]["expired"] == ["https://nftc.example.ru/status"]
    just_inside = format_time(NOW + timedelta(days=23, seconds=1))
    shown = run_json(capsys, 0, setup.show(just_inside))
    assert shown["statusLists"]["expiringSoon"] == ["https://qdtc.example.cn/status"]


def test_the_first_status_list_to_expire_ignores_lists_that_never_expire(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    world = World()
    world.labs["cn-food"].status_valid_until = None
    world.labs["ru-food"].status_valid_until = NOW + timedelta(days=3)
    setup = Setup(tmp_path, world)
    assert setup.install("--json") == 0
    capsys.readouterr()
    shown = run_json(capsys, 0, ["trust", "show", "--data-dir", str(setup.data), "--at", AT, "--json"])
    assert shown["statusLists"]["count"] == 3
    assert shown["statusLists"]["expiresAt"] == "2026-11-30T09:00:00Z"


def test_trust_show_without_status_lists(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    world = World()
    setup = Setup(tmp_path, world)
    setup.bundle.write_bytes(world.bundle(status_lists=[]))
    assert setup.install("--json") == 0
    capsys.readouterr()
    assert main(["trust", "show", "--data-dir", str(setup.data), "--at", AT]) == 0
    assert "0 status lists, the first to expire on -" in capsys.readouterr().out.splitlines()


def test_trust_show_on_a_terminal_draws_the_trust_lists_as_a_table(
    setup: Setup, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert setup.install() == 0
    capsys.readouterr()
    monkeypatch.setattr(cli, "on_terminal", lambda stream: True)
    monkeypatch.setenv("COLUMNS", "120")
    assert main(["trust", "show", "--data-dir", str(setup.data), "--at", AT]) == 0
    lines = capsys.readouterr().out.splitlines()
    expected = summary_lines(setup.world.root.public.kid)
    assert lines[:4] == expected[:4]
    assert lines[-3:] == expected[-3:]
    table = "\n".join(lines[4:-3])
    assert "trust lists" in table
    for cell in ("accreditation body", "country", "sequence", "labs", "expires", "AB-CN", "AB-KZ"):
        assert cell in table
    row = next(line for line in lines if "AB-RU" in line)
    assert row.index("AB-RU") < row.index("RU ") < row.index("1") < row.index("2026-12-27T09:00:00Z")
    assert "trust list sequence" not in table  # the lines the table replaces


def test_the_table_marks_an_expired_trust_list(
    setup: Setup, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert setup.install() == 0
    capsys.readouterr()
    monkeypatch.setattr(cli, "on_terminal", lambda stream: True)
    monkeypatch.setenv("COLUMNS", "140")
    later = format_time(NOW + timedelta(days=31))
    assert main(["trust", "show", "--data-dir", str(setup.data), "--at", later]) == 0
    assert capsys.readouterr().out.count("2026-12-27T09:00:00Z EXPIRED") == 3


def test_trust_show_needs_something_installed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["trust", "show", "--data-dir", str(tmp_path)]) == 2
    assert "nothing is installed in" in capsys.readouterr().err


# -- where the trust data is -------------------------------------------------------------------------


def test_the_data_directory_comes_from_the_option_the_environment_or_the_current_folder(
    setup: Setup, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert setup.install() == 0
    capsys.readouterr()
    monkeypatch.setenv("YILU_DATA_DIR", str(setup.data))
    assert run_json(capsys, 0, ["trust", "show", "--json"])["dataDir"] == str(setup.data / "trust")
    monkeypatch.delenv("YILU_DATA_DIR")
    monkeypatch.chdir(setup.tmp)
    assert main(["trust", "show"]) == 2
    assert f"nothing is installed in {Path('yilu-data') / 'trust'}" in capsys.readouterr().err


# -- yilu verify ----------------------------------------------------------------------------------


def test_verify_exit_codes_and_json(setup: Setup, capsys: pytest.CaptureFixture[str]) -> None:
    assert setup.install() == 0
    capsys.readouterr()
    good = setup.world.issue()
    accepted = run_json(capsys, 0, ["verify", good, "--country", "KZ", "--data-dir", str(setup.data),
                                    "--at", AT, "--json"])  # fmt: skip
    assert accepted["verdict"] == "accept"
    stranger = setup.world.issue(key=SigningKey.generate())
    rejected = run_json(capsys, 1, ["verify", stranger, "--country", "KZ", "--data-dir", str(setup.data),
                                    "--at", AT, "--json"])  # fmt: skip
    assert [r["code"] for r in rejected["reasons"]] == ["UNKNOWN_KEY"]
    assert setup.verify(good) == 0
    out = capsys.readouterr().out
    assert out.startswith("✔ ACCEPT\n")
    assert setup.verify(stranger) == 1


def test_verify_without_trust_data_cannot_verify(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    world = World()
    missing = run_json(capsys, 2, ["verify", world.issue(), "--country", "KZ", "--data-dir", str(tmp_path),
                                   "--at", AT, "--json"])  # fmt: skip
    assert missing["verdict"] == "unverifiable"
    assert [r["code"] for r in missing["reasons"]] == ["TRUST_DATA_MISSING"]


def test_a_bundle_that_is_not_one_cannot_verify(setup: Setup, capsys: pytest.CaptureFixture[str]) -> None:
    setup.bundle.write_bytes(b"not a bundle")
    args = ["--bundle", str(setup.bundle), "--root", str(setup.root), "--data-dir", str(setup.data)]
    certificate = setup.world.issue()
    result = run_json(capsys, 2, ["verify", certificate, "--country", "KZ", *args, "--at", AT, "--json"])
    assert [r["code"] for r in result["reasons"]] == ["TRUST_DATA_INVALID"]


def test_verify_colours_the_verdict_line_on_a_terminal(
    setup: Setup, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert setup.install() == 0
    capsys.readouterr()
    monkeypatch.setattr(cli, "on_terminal", lambda stream: True)
    assert setup.verify(setup.world.issue()) == 0
    accepted = capsys.readouterr().out
    assert accepted.startswith("\x1b[32m\x1b[1m✔ ACCEPT\x1b[0m\n  - [ACCEPTED] ")
    assert setup.verify(setup.world.issue(key=SigningKey.generate())) == 1
    assert capsys.readouterr().out.startswith("\x1b[31m\x1b[1m")
    empty = setup.tmp / "empty"
    code = main(["verify", setup.world.issue(), "--country", "KZ", "--data-dir", str(empty), "--at", AT])
    assert code == 2
    assert capsys.readouterr().out.startswith("\x1b[33m\x1b[1m")


@pytest.mark.parametrize(
    ("skew", "code"),
    [("300", 0), ("", 2), ("200", 0), ("199", 1), ("86400", 0), ("86401", None), ("-1", None), ("5m", None)],
)
def test_clock_skew(setup: Setup, capsys: pytest.CaptureFixture[str], skew: str, code: int | None) -> None:
    """A certificate dated 200 s after the device's clock: accepted within the skew."""
    assert setup.install() == 0
    capsys.readouterr()
    ahead = setup.world.issue(valid_from=NOW + timedelta(seconds=200))
    args = ["--clock-skew", skew] if skew else []
    got = setup.verify(ahead, *args, "--json")
    captured = capsys.readouterr()
    if code is None:
        assert got == 2
        assert "a whole number of seconds from 0 to 86400" in captured.err
    elif skew == "":
        assert got == 0  # the default, 300 s
    elif code == 1:
        assert got == 2  # NOT_YET_VALID: cannot verify (the device's clock may be wrong)
        assert [r["code"] for r in json.loads(captured.out)["reasons"]] == ["NOT_YET_VALID"]
    else:
        assert got == code


# -- inputs ---------------------------------------------------------------------------------------


def _stdin(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    class In:
        buffer = io.BytesIO(data)

    monkeypatch.setattr(sys, "stdin", In)


def test_stdin_of_20_mib_is_read_and_one_byte_more_refused(
    setup: Setup, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _stdin(monkeypatch, b"\0" * (20 * MIB))
    result = run_json(capsys, 2, ["verify", "-", "--country", "KZ", "--data-dir", str(setup.tmp), "--json"])
    assert result["verdict"] == "unverifiable"
    _stdin(monkeypatch, b"\0" * (20 * MIB + 1))
    assert main(["verify", "-", "--country", "KZ", "--data-dir", str(setup.tmp)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "yilu: error: standard input is larger than any certificate or photo\n"


def test_stdin_holds_the_certificate(
    setup: Setup, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert setup.install() == 0
    capsys.readouterr()
    _stdin(monkeypatch, setup.world.issue().encode() + b"\n")
    assert setup.verify("-") == 0


def test_a_file_of_20_mib_is_read_and_one_byte_more_refused(
    setup: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    big = setup.tmp / "big.png"
    with open(big, "wb") as fh:
        fh.truncate(20 * MIB)
    assert main(["verify", str(big), "--country", "KZ", "--data-dir", str(setup.tmp), "--json"]) == 2
    assert json.loads(capsys.readouterr().out)["verdict"] == "unverifiable"
    with open(big, "ab") as fh:
        fh.write(b"\0")
    assert main(["verify", str(big), "--country", "KZ", "--data-dir", str(setup.tmp)]) == 2
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", f"yilu: error: {big} is larger than 20 MB\n")


def test_a_file_holding_the_certificate(setup: Setup, capsys: pytest.CaptureFixture[str]) -> None:
    assert setup.install() == 0
    capsys.readouterr()
    path = setup.tmp / "certificate.txt"
    path.write_text(setup.world.issue() + "\n")
    assert setup.verify(str(path)) == 0


@pytest.mark.parametrize(
    ("text", "read"),
    [
        ("YL1:NOT-REALLY", True),
        ("  YL1:NOT-REALLY  ", True),
        ("a" * 30 + "." + "b" * 16 + "." + "c" * 17, True),  # 65 characters shaped like a JWS
        ("a" * 30 + "." + "b" * 16 + "." + "c" * 16, False),  # 64: could be a file name
        ("x" * 100, False),  # long, but not shaped like a JWS
    ],
)
def test_text_or_file_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, read: bool
) -> None:
    code = main(["verify", text, "--country", "KZ", "--data-dir", str(tmp_path), "--json"])
    captured = capsys.readouterr()
    assert code == 2
    if read:  # read as a certificate: a verdict (no trust data here)
        assert json.loads(captured.out)["verdict"] == "unverifiable"
    else:
        assert captured.out == ""
        assert captured.err == (
            f"yilu: error: {text[:80]!r} is neither YL1: text, a compact VC-JWT nor a readable file\n"
        )


# -- roots and bundles ----------------------------------------------------------------------------


def test_verify_against_a_bundle_with_root_keys_from_the_option_or_the_environment(
    setup: Setup, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    good = setup.world.issue()
    args = ["verify", good, "--country", "KZ", "--bundle", str(setup.bundle), "--data-dir", str(setup.data)]
    assert main([*args, "--root", str(setup.root), "--at", AT]) == 0
    monkeypatch.setenv("YILU_ROOT_KEYS", str(setup.root))
    assert main([*args, "--at", AT]) == 0
    monkeypatch.setenv("YILU_ROOT_KEYS", "")
    capsys.readouterr()
    missing = run_json(capsys, 2, [*args, "--at", AT, "--json"])  # nothing pinned, no keys given
    assert [r["code"] for r in missing["reasons"]] == ["TRUST_DATA_MISSING"]


def test_root_keys_that_are_missing_or_unreadable_are_usage_errors(
    setup: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["verify", "YL1:X", "--country", "KZ", "--bundle", str(setup.bundle)]
    args += ["--data-dir", str(setup.data)]
    assert main([*args, "--root", str(setup.tmp / "nope.json")]) == 2
    nope = setup.tmp / "nope.json"
    assert capsys.readouterr().err == f"yilu: error: root keys file {nope} does not exist\n"
    setup.root.write_text("[]")
    assert main([*args, "--root", str(setup.root)]) == 2
    assert "must hold a JSON list of the federation root's public keys" in capsys.readouterr().err


def test_a_missing_or_oversized_bundle(
    setup: Setup, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import protocol.bundle

    args = ["--country", "KZ", "--root", str(setup.root), "--data-dir", str(setup.data), "--at", AT]
    assert main(["verify", "YL1:X", "--bundle", str(setup.tmp / "none.ylb"), *args]) == 2
    assert capsys.readouterr().err == f"yilu: error: bundle {setup.tmp / 'none.ylb'} does not exist\n"
    size = setup.bundle.stat().st_size
    monkeypatch.setattr(protocol.bundle, "MAX_BUNDLE_BYTES", size)
    assert main(["verify", setup.world.issue(), "--bundle", str(setup.bundle), *args]) == 0
    capsys.readouterr()
    monkeypatch.setattr(protocol.bundle, "MAX_BUNDLE_BYTES", size - 1)
    certificate = setup.world.issue()
    result = run_json(capsys, 2, ["verify", certificate, "--bundle", str(setup.bundle), *args, "--json"])
    assert [r["code"] for r in result["reasons"]] == ["TRUST_DATA_INVALID"]
    assert f"larger than any bundle ({size - 1} at most)" in json.dumps(result)
    assert setup.install() == 2
    assert f"larger than any bundle ({size - 1} at most)" in capsys.readouterr().err


def test_a_bundle_older_than_the_installed_one_is_refused_for_the_same_root(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    world = World()
    setup = Setup(tmp_path, world)
    old = tmp_path / "old.ylb"
    old.write_bytes(world.bundle())
    world.sequence = 2
    setup.bundle.write_bytes(world.bundle())
    assert setup.install() == 0
    capsys.readouterr()
    good = world.issue()
    for roots in ([], ["--root", str(setup.root)]):
        args = ["verify", good, "--country", "KZ", "--bundle", str(old), "--data-dir", str(setup.data)]
        args += ["--at", AT]
        result = run_json(capsys, 2, [*args, *roots, "--json"])
        assert result["verdict"] == "unverifiable", roots
    # Another federation's root: its bundle is not compared with what is installed here.
    other = World()
    other_setup = Setup(tmp_path / "other", other) if (tmp_path / "other").mkdir() is None else None
    assert other_setup is not None
    args = ["verify", other.issue(), "--country", "KZ", "--bundle", str(other_setup.bundle),
            "--root", str(other_setup.root), "--data-dir", str(setup.data), "--at", AT]  # fmt: skip
    assert main(args) == 0


def test_verify_with_other_root_keys_than_the_installed_pin(
    setup: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    assert setup.install() == 0
    capsys.readouterr()
    stranger = setup.tmp / "stranger.json"
    stranger.write_text(json.dumps([dict(SigningKey.generate().public.jwk)]))
    result = run_json(capsys, 2, ["verify", setup.world.issue(), "--country", "KZ", "--root", str(stranger),
                                  "--data-dir", str(setup.data), "--at", AT, "--json"])  # fmt: skip
    assert result["verdict"] == "unverifiable"


def test_the_table_bounds_what_the_trust_data_says(monkeypatch: pytest.MonkeyPatch) -> None:
    """An accreditation body is cut to 80 characters and a country to 8 (docs/security.md,
    "Display injection"), control characters escaped: the trust data is signed, not trusted."""
    drawn: list[tuple[str, tuple[str, ...], list[tuple[str, ...]]]] = []
    monkeypatch.setattr(cli, "on_terminal", lambda stream: True)
    monkeypatch.setattr(
        cli, "table", lambda title, columns, rows: drawn.append((title, tuple(columns), list(rows)))
    )
    body = "B" * 79 + "CD"
    summary = {
        "federation": "https://federation.example",
        "rootKeys": ["k1"],
        "sequence": 1,
        "createdAt": "c",
        "installedAt": None,
        "expiresAt": "e",
        "federationList": {"sequence": 1, "expiresAt": "f", "expired": False, "registries": 1},
        "trustLists": [
            {"accreditationBody": body, "country": "KZ\nFAKE-LINE", "sequence": 3, "labs": 5}
            | {"expiresAt": "2026-12-27T09:00:00Z", "expired": True},
        ],
        "statusLists": {"count": 0, "expiresAt": None, "expired": [], "expiringSoon": []},
        "skipped": [],
    }
    cli._print_summary(summary)
    assert drawn == [
        (
            "trust lists",
            ("accreditation body", "country", "sequence", "labs", "expires"),
            [("B" * 79 + "…", "KZ\\u000…", "3", "5", "2026-12-27T09:00:00Z EXPIRED")],
        )
    ]


class _Store:
    """What ``_trust_summary`` asks of the store: its directory and the install time."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def installed_at(self) -> None:
        return None


@pytest.mark.parametrize("count", [1, 3])
def test_the_summary_names_the_earliest_status_list_expiry(tmp_path: Path, count: int) -> None:
    """``yilu trust show --json``: statusLists.expiresAt is the first status list to expire,
    whether one list is installed or several (in process, without an install: a short test)."""
    world = World()
    world.labs["ru-food"].status_valid_until = NOW + timedelta(days=3)
    world.labs["cn-food"].status_valid_until = NOW + timedelta(days=5)
    lists = world.status_lists(world.labs["ru-food"]) if count == 1 else world.all_status_lists()
    snap = load_bundle(world.bundle(status_lists=lists), pinned_roots=[world.root.public])
    assert len(snap.status_validity()) == count
    summary = cli._trust_summary(_Store(tmp_path), snap, NOW)
    soon = ["https://nftc.example.ru/status", "https://qdtc.example.cn/status"][:count]  # within 7 days
    assert summary["statusLists"] == {
        "count": count,
        "expiresAt": format_time(NOW + timedelta(days=3)),
        "expired": [],
        "expiringSoon": soon,
    }
