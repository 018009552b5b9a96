"""The ``yilu`` command line as scripts and people use it: real processes, real files."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
import zlib
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from protocol.encoding import b45_encode, b64url_decode, b64url_encode, format_time
from protocol.yl1 import dictionary
from testkit import AT_NOW, DATA, NOW, run_yilu


def yilu(
    *args: str, stdin: bytes | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return run_yilu(*args, stdin=stdin, env=env)


def later(minutes: int) -> str:
    """``--at`` ``minutes`` after the tests' clock (testkit.NOW)."""
    return format_time(NOW + timedelta(minutes=minutes))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A demo federation built at the tests' clock: every command here runs ``--at`` it."""
    root = tmp_path_factory.mktemp("demo") / "fed"
    proc = yilu("demo", "init", str(root), "--json", "--at", AT_NOW)
    assert proc.returncode == 0, proc.stderr
    info: dict[str, Any] = json.loads(proc.stdout)
    info["root"] = root
    return info


def lab_dir(demo: dict[str, Any], lab_id: str) -> str:
    return next(lab["dir"] for lab in demo["labs"] if lab["id"] == lab_id)


def issue(
    demo: dict[str, Any], report: str, lab: str, tmp_path: Path, at: str = AT_NOW
) -> dict[str, Any]:
    """Issue a reference report under a report number unique to this test (one certificate per report)."""
    body = json.loads((DATA / f"{report}.json").read_text())
    body["reportNumber"] += "-" + uuid.uuid4().hex[:8]
    path = tmp_path / f"{report}.json"
    path.write_text(json.dumps(body, ensure_ascii=False))
    proc = yilu(
        "issue", str(path), "--lab", lab, "--qr-png", str(tmp_path / "qr.png"), "--json", "--at", at
    )
    assert proc.returncode == 0, proc.stderr
    issued: dict[str, Any] = json.loads(proc.stdout)
    return issued


def verify(demo: dict[str, Any], data: str, *extra: str, country: str = "KZ") -> tuple[int, dict[str, Any]]:
    """``yilu verify --json`` against the demo's bundle, at the tests' clock unless ``extra`` has ``--at``."""
    root = () if "--root" in extra else ("--root", demo["rootKeys"])
    at = () if "--at" in extra else ("--at", AT_NOW)
    proc = yilu(
        "verify", data, "--bundle", demo["bundle"], "--country", country, "--json", *root, *at, *extra
    )
    return proc.returncode, json.loads(proc.stdout) if proc.stdout else {}


def outcome(answer: tuple[int, dict[str, Any]]) -> tuple[int, list[str]]:
    """The exit status and the ordered reason codes of a :func:`verify` answer."""
    code, result = answer
    return code, [r["code"] for r in result.get("reasons", [])]


def test_demo_init_shape(demo: dict[str, Any]) -> None:
    assert Path(demo["bundle"]).is_file()
    assert json.loads(Path(demo["rootKeys"]).read_text()) == json.loads(
        (Path(demo["root"]) / "root" / "root-keys.json").read_text()
    )
    labs = {(lab["country"], tuple(lab["scopes"])) for lab in demo["labs"]}
    assert labs == {("CN", ("food", "chemicals")), ("CN", ("minerals-metals",)), ("RU", ("food",))}
    for lab in demo["labs"]:
        assert Path(lab["dir"], "lab.json").is_file()
        assert b"ENCRYPTED" in Path(lab["dir"], "key.pem").read_bytes()


def test_demo_init_refuses_non_empty_dir(tmp_path: Path) -> None:
    (tmp_path / "x").write_text("keep me")
    proc = yilu("demo", "init", str(tmp_path))
    assert proc.returncode == 2 and "not empty" in proc.stderr
    assert (tmp_path / "x").read_text() == "keep me"


def test_issue_verify_text_and_png_agree(demo: dict[str, Any], tmp_path: Path) -> None:
    issued = issue(demo, "green-tea-3", lab_dir(demo, "https://qdtc.example.cn"), tmp_path)
    assert set(issued) == {"id", "jws", "qr", "statusListIndex"}
    assert issued["qr"].startswith("YL1:")
    code_text, text_result = verify(demo, issued["qr"])
    code_png, png_result = verify(demo, str(tmp_path / "qr.png"))
    code_jws, jws_result = verify(demo, issued["jws"])
    assert code_text == code_png == code_jws == 0
    assert text_result["verdict"] == png_result["verdict"] == jws_result["verdict"] == "accept"
    assert text_result["credential"] == png_result["credential"]
    # statusListIndex is the revocation index 2k; the suspension entry is 2k + 1, same list.
    index = issued["statusListIndex"]
    assert index % 2 == 0
    entries = text_result["credential"]["credentialStatus"]
    assert [(e["statusPurpose"], e["statusListIndex"]) for e in entries] == [
        ("revocation", str(index)),
        ("suspension", str(index + 1)),
    ]
    assert set(text_result) == {"verdict", "reasons", "credential", "issuer", "trust"}
    assert {"sequence", "ageSeconds"} <= set(text_result["trust"])
    # Same verdict and reasons, for a rejecting country, from text and from the photo.
    assert (
        outcome(verify(demo, issued["qr"], country="UZ"))
        == outcome(verify(demo, str(tmp_path / "qr.png"), country="UZ"))
        == (1, ["NOT_RECOGNISED"])
    )


def test_issue_plain_prints_yl1(demo: dict[str, Any], tmp_path: Path) -> None:
    proc = yilu(
        "issue",
        str(DATA / "green-tea-8-fail.json"),
        "--lab",
        lab_dir(demo, "https://qdtc.example.cn"),
        "--at",
        AT_NOW,
    )
    assert proc.returncode == 0
    assert proc.stdout.startswith("YL1:") and proc.stdout.count("\n") == 1
    assert "QR version" in proc.stderr


def test_demo_food_lab_refuses_steel_report(demo: dict[str, Any]) -> None:
    lab = lab_dir(demo, "https://qdtc.example.cn")
    proc = yilu("issue", str(DATA / "steel-rebar-6.json"), "--lab", lab, "--at", AT_NOW)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert proc.stderr.endswith("for food, chemicals: verifiers would reject it (SCOPE_NOT_ACCREDITED)\n")


def test_issue_twice_returns_the_same_certificate(demo: dict[str, Any], tmp_path: Path) -> None:
    lab = lab_dir(demo, "https://sdmt.example.cn")
    first = yilu("issue", str(DATA / "steel-rebar-6.json"), "--lab", lab, "--json", "--at", AT_NOW)
    # A minute later: still the certificate issued the first time.
    again = yilu("issue", str(DATA / "steel-rebar-6.json"), "--lab", lab, "--json", "--at", later(1))
    assert first.returncode == again.returncode == 0
    assert json.loads(first.stdout) == json.loads(again.stdout)
    assert "already issued, unchanged" not in first.stderr and "already issued, unchanged" in again.stderr
    # The same number with other content is refused: a changed report needs a new number.
    changed = json.loads((DATA / "steel-rebar-6.json").read_text())
    changed["product"]["batch"] = "OTHER-BATCH"
    (tmp_path / "changed.json").write_text(json.dumps(changed))
    proc = yilu("issue", str(tmp_path / "changed.json"), "--lab", lab, "--at", AT_NOW)
    assert proc.returncode == 2 and "different content" in proc.stderr and proc.stderr.count("\n") == 1


def test_issue_bad_report(demo: dict[str, Any], tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"reportNumber": "X-1", "scope": "spaceships"}))
    proc = yilu("issue", str(bad), "--lab", lab_dir(demo, "https://qdtc.example.cn"))
    assert proc.returncode == 2 and proc.stderr.startswith("yilu: error: report invalid")
    (tmp_path / "notjson.json").write_text("{nope")
    assert (
        yilu(
            "issue", str(tmp_path / "notjson.json"), "--lab", lab_dir(demo, "https://qdtc.example.cn")
        ).returncode
        == 2
    )
    assert (
        yilu(
            "issue", str(tmp_path / "missing.json"), "--lab", lab_dir(demo, "https://qdtc.example.cn")
        ).returncode
        == 2
    )


def test_wrong_passphrase_is_one_line(demo: dict[str, Any]) -> None:
    proc = yilu(
        "issue",
        str(DATA / "green-tea-8.json"),
        "--lab",
        lab_dir(demo, "https://qdtc.example.cn"),
        "--at",
        AT_NOW,
        env={"YILU_KEY_PASSPHRASE": "wrong"},
    )
    assert proc.returncode == 2 and "wrong passphrase" in proc.stderr and proc.stderr.count("\n") == 1


def test_revoke_suspend_refresh_cycle(tmp_path: Path) -> None:
    """Each step a minute after the one before, from the tests' clock."""
    root = tmp_path / "fed"
    info = json.loads(yilu("demo", "init", str(root), "--json", "--at", AT_NOW).stdout)
    lab = lab_dir(info, "https://nftc.example.ru")
    issued = issue(info, "green-tea-8", lab, tmp_path)
    step = iter(range(1, 100))

    def run(*args: str) -> int:
        """A command at the next minute; its exit status."""
        return yilu(*args, "--at", later(next(step))).returncode

    def check(country: str = "CN", what: str | None = None) -> tuple[int, dict[str, Any]]:
        return verify(info, what or issued["qr"], "--at", later(next(step)), country=country)

    assert check()[0] == 0
    assert run("revoke", issued["id"], "--lab", lab, "--suspend") == 0
    assert check()[0] == 0  # bundle not rebuilt yet: still the old snapshot
    assert run("demo", "refresh", str(root)) == 0
    code, result = check()
    assert code == 1 and [r["code"] for r in result["reasons"]] == ["SUSPENDED"]
    assert result["trust"]["sequence"] == 2
    assert run("revoke", issued["id"], "--lab", lab, "--unsuspend") == 0
    assert run("demo", "refresh", str(root)) == 0
    assert check()[0] == 0
    assert run("revoke", "GREEN-TEA-UNKNOWN", "--lab", lab) == 2
    assert run("revoke", issued["id"], "--lab", lab) == 0
    assert run("demo", "refresh", str(root)) == 0
    code, result = check()
    assert code == 1 and [r["code"] for r in result["reasons"]] == ["REVOKED"]
    # The PNG gives the same verdict as the text.
    assert outcome(check(what=str(tmp_path / "qr.png"))) == (1, ["REVOKED"])
    # A revocation is final.
    assert run("revoke", issued["id"], "--lab", lab, "--unsuspend") == 0  # touches only the suspension list
    assert run("demo", "refresh", str(root)) == 0
    assert check()[0] == 1


def test_languages(demo: dict[str, Any], tmp_path: Path) -> None:
    issued = issue(demo, "green-tea-3", lab_dir(demo, "https://qdtc.example.cn"), tmp_path)
    messages = {}
    for lang in ("en", "zh", "ru"):
        code, result = verify(demo, issued["qr"], "--lang", lang, country="UZ")
        assert code == 1
        messages[lang] = result["reasons"][0]["message"]
    assert "recognise" in messages["en"] and "不承认" in messages["zh"] and "не признаёт" in messages["ru"]
    human = yilu(
        "verify",
        issued["qr"],
        "--bundle",
        demo["bundle"],
        "--root",
        demo["rootKeys"],
        "--country",
        "KZ",
        "--lang",
        "zh",
        "--at",
        AT_NOW,
    )
    assert human.returncode == 0 and "通过" in human.stdout and "崂山绿茶" in human.stdout


def test_stdin_and_at(demo: dict[str, Any], tmp_path: Path) -> None:
    issued = issue(demo, "green-tea-3", lab_dir(demo, "https://qdtc.example.cn"), tmp_path)
    pin = ("--root", demo["rootKeys"], "--at", AT_NOW)
    proc = yilu(
        "verify",
        "-",
        "--bundle",
        demo["bundle"],
        *pin,
        "--country",
        "KZ",
        "--json",
        stdin=issued["qr"].encode(),
    )
    assert proc.returncode == 0
    proc = yilu(
        "verify",
        "-",
        "--bundle",
        demo["bundle"],
        *pin,
        "--country",
        "KZ",
        "--json",
        stdin=(tmp_path / "qr.png").read_bytes(),
    )
    assert proc.returncode == 0
    code, result = verify(demo, issued["qr"], "--at", "2028-01-01T00:00:00Z")
    stale = ["STATUS_UNAVAILABLE", "TRUST_DATA_STALE", "TRUST_DATA_STALE"]  # the lists expired too
    assert (code, [r["code"] for r in result["reasons"]]) == (1, ["EXPIRED", *stale])
    code, result = verify(demo, issued["qr"], "--at", "2020-01-01T00:00:00Z")
    assert (code, [r["code"] for r in result["reasons"]]) == (2, ["NOT_YET_VALID"])
    # A device clock 10 minutes slow: cannot verify with the default 5-minute skew (a wrong
    # device clock must not turn goods back), accepted with 15.
    issued_at = json.loads(b64url_decode(issued["jws"].split(".")[1]))["validFrom"]
    slow = issued_at[:-1] + "+00:00"
    from datetime import datetime

    slow_clock = (datetime.fromisoformat(slow) - timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    code, result = verify(demo, issued["qr"], "--at", slow_clock)
    assert code == 2 and result["verdict"] == "unverifiable"
    assert [r["code"] for r in result["reasons"]] == ["NOT_YET_VALID"]
    assert verify(demo, issued["qr"], "--at", slow_clock, "--clock-skew", "900")[0] == 0
    assert (
        yilu(
            "verify", issued["qr"], "--bundle", demo["bundle"], *pin, "--country", "KZ", "--clock-skew", "-5"
        ).returncode
        == 2
    )


def _bomb() -> str:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15, 9, zdict=dictionary(1))
    data = packer.compress(b'{"alg":"EdDSA","kid":"x","typ":"vc+jwt"}' + b" " * 5_000_000) + packer.flush()
    return "YL1:" + b45_encode(b"\x01\x28" + data + b"\x00" * 64)


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        ("YL1:", ["MALFORMED"]),
        ("YL1:ZZZZ", ["MALFORMED"]),
        ("hello world", []),  # [] : no result, refused as an argument (not a certificate, not a file)
        ("a.b.c", []),
        ("YL1:" + "A" * 20_000, ["MALFORMED"]),
        ("eyJhbGciOiJub25lIn0.e30.", []),
        ("__bomb__", ["MALFORMED"]),
        ("__truncated__", ["MALFORMED"]),
        ("__garbage_file__", ["UNREADABLE"]),
        ("__huge_file__", []),  # over 20 MiB
    ],
)
def test_hostile_inputs_never_traceback(
    demo: dict[str, Any], tmp_path: Path, bad: str, expected: list[str]
) -> None:
    if bad == "__bomb__":
        bad = _bomb()
    elif bad == "__truncated__":
        bad = issue(demo, "green-tea-3", lab_dir(demo, "https://qdtc.example.cn"), tmp_path)["qr"][:400]
    elif bad == "__garbage_file__":
        (tmp_path / "g.png").write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(2000))
        bad = str(tmp_path / "g.png")
    elif bad == "__huge_file__":
        with open(tmp_path / "huge.jpg", "wb") as fh:
            fh.truncate(25 * 1024 * 1024)
        bad = str(tmp_path / "huge.jpg")
    proc = yilu(
        "verify",
        bad,
        "--bundle",
        demo["bundle"],
        "--root",
        demo["rootKeys"],
        "--country",
        "KZ",
        "--json",
        "--at",
        AT_NOW,
    )
    assert proc.returncode in (1, 2), proc
    if expected:
        # A result: reject for a code that was read but is no certificate, cannot verify for
        # input from which no code could be read at all.
        result = json.loads(proc.stdout)
        verdict = "unverifiable" if expected == ["UNREADABLE"] else "reject"
        assert (proc.returncode, result["verdict"]) == ({"reject": 1, "unverifiable": 2}[verdict], verdict)
        assert [r["code"] for r in result["reasons"]] == expected
    else:
        assert (proc.returncode, proc.stdout) == (2, "")
        assert proc.stderr.startswith("yilu: error:") and proc.stderr.count("\n") == 1


@pytest.mark.parametrize(
    "args",
    [
        ["verify"],
        ["verify", "YL1:AB", "--bundle", "/nonexistent/bundle.jwt", "--country", "KZ"],
        ["verify", "/nonexistent/photo.png", "--bundle", "__bundle__", "--country", "KZ"],
        ["verify", "YL1:AB", "--bundle", "__bundle__", "--country", "Kazakhstan"],
        ["verify", "YL1:AB", "--bundle", "__bundle__", "--country", "KZ", "--lang", "fr"],
        ["verify", "YL1:AB", "--bundle", "__bundle__", "--country", "KZ", "--at", "yesterday"],
        ["issue", str(DATA / "green-tea-3.json"), "--lab", "__lab__", "--at", "yesterday"],
        ["revoke", "QDTC-1", "--lab", "__lab__", "--at", "2026-13-01T00:00:00Z"],
        ["demo", "refresh", "__demo__", "--at", "soon"],
        ["frobnicate"],
        ["issue", "x.json"],
    ],
)
def test_bad_arguments_exit_2(demo: dict[str, Any], args: list[str]) -> None:
    given = {"__bundle__": demo["bundle"], "__lab__": lab_dir(demo, "https://qdtc.example.cn")}
    proc = yilu(*[given.get(a, str(demo["root"]) if a == "__demo__" else a) for a in args])
    assert proc.returncode == 2, proc
    assert proc.stderr.strip()
    if "--at" in args:
        assert proc.stderr.startswith("yilu: error: --at") and proc.stderr.count("\n") == 1, proc.stderr


def test_a_bad_clock_changes_nothing(demo: dict[str, Any], tmp_path: Path) -> None:
    """``--at`` is read before any work: a bad one leaves no demo and no lab behind."""
    proc = yilu("demo", "init", str(tmp_path / "fed"), "--at", "2026-11-31T00:00:00Z")
    assert proc.returncode == 2 and "--at" in proc.stderr
    assert not (tmp_path / "fed").exists()
    lab = ("lab", "init", str(tmp_path / "lab"), "--id", "https://lab.example.cn", "--name", "Lab")
    proc = yilu(*lab, "--country", "CN", "--at", "noon", env={"YILU_KEY_PASSPHRASE": "long passphrase!"})
    assert proc.returncode == 2 and "--at" in proc.stderr
    assert not (tmp_path / "lab").exists()


def test_tampered_bundle_rejects_with_trust_data_invalid(demo: dict[str, Any], tmp_path: Path) -> None:
    issued = issue(demo, "green-tea-3", lab_dir(demo, "https://qdtc.example.cn"), tmp_path)
    magic, manifest, body = Path(demo["bundle"]).read_bytes().split(b"\n", 2)
    head, payload, sig = manifest.decode().split(".")
    signed = json.loads(b64url_decode(payload))
    signed["createdAt"] = "2030-01-01T00:00:00Z"
    tampered = tmp_path / "tampered.ylb"
    changed = ".".join((head, b64url_encode(json.dumps(signed).encode()), sig)).encode()
    tampered.write_bytes(b"\n".join((magic, changed, body)))
    proc = yilu(
        "verify",
        issued["qr"],
        "--bundle",
        str(tampered),
        "--root",
        demo["rootKeys"],
        "--country",
        "KZ",
        "--json",
        "--at",
        AT_NOW,
    )
    assert proc.returncode == 2
    result = json.loads(proc.stdout)
    assert result["verdict"] == "unverifiable"
    assert [r["code"] for r in result["reasons"]] == ["TRUST_DATA_INVALID"]
    assert "signature does not verify" in result["reasons"][0]["message"]


def test_root_pinning(demo: dict[str, Any], tmp_path: Path) -> None:
    issued = issue(demo, "green-tea-3", lab_dir(demo, "https://qdtc.example.cn"), tmp_path)
    pinned = str(Path(demo["root"]) / "root" / "root-keys.json")
    code, result = verify(demo, issued["qr"], "--root", pinned)
    assert code == 0 and result["verdict"] == "accept"
    other = tmp_path / "other"
    assert yilu("demo", "init", str(other), "--at", AT_NOW).returncode == 0
    code, result = verify(demo, issued["qr"], "--root", str(other / "root" / "root-keys.json"))
    assert code == 2 and result["verdict"] == "unverifiable"
    assert [r["code"] for r in result["reasons"]] == ["TRUST_DATA_INVALID"]
    assert "belongs to another federation" in result["reasons"][0]["message"]


def test_demo_report_dates_a_reference_report_for_the_day(tmp_path: Path) -> None:
    """make run signs such a copy: sampled a week before the day, valid as long after sampling
    as the original (2026-11-16 to 2027-05-20: 185 days); nothing else changes."""
    original = json.loads((DATA / "green-tea-8.json").read_text())
    proc = yilu("demo", "report", str(DATA / "green-tea-8.json"), "--at", "2031-06-01T12:00:00Z")
    assert proc.returncode == 0, proc.stderr
    dated = json.loads(proc.stdout)
    assert dated["sampling"] == {**original["sampling"], "date": "2031-05-25"}
    assert dated["validUntil"] == "2031-11-26T00:00:00Z"
    assert list(dated) == list(original)
    assert {k: v for k, v in dated.items() if k not in ("sampling", "validUntil")} == {
        k: v for k, v in original.items() if k not in ("sampling", "validUntil")
    }
    source = DATA / "green-tea-8.json"
    assert proc.stderr == f"dated {source}: sampled 2031-05-25, valid until 2031-11-26T00:00:00Z\n"
    # Dated for the tests' own clock, the reference report moves by days only.
    proc = yilu("demo", "report", str(DATA / "green-tea-8.json"), "--at", AT_NOW)
    assert json.loads(proc.stdout)["sampling"]["date"] == "2026-11-20"
    # A report without a sampling date cannot be dated.
    del original["sampling"]
    undated = tmp_path / "undated.json"
    undated.write_text(json.dumps(original))
    proc = yilu("demo", "report", str(undated))
    assert proc.returncode == 2 and "sampling.date" in proc.stderr and proc.stdout == ""
