"""``yilu trust install|show`` and ``yilu verify`` against installed trust data: real processes.

Every subprocess runs in a temporary directory with ``$YILU_DATA_DIR`` pointing into the
test's own temporary directory, so nothing is ever written into the repository and no
test sees another's installed snapshot. Every command runs ``--at`` the tests' clock
(testkit.NOW), but for the revocation test, which runs as ``make run`` does, at the real
current time, on a report dated for today.
"""

from __future__ import annotations

import json
import re
import subprocess
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from protocol.encoding import b64url_encode
from protocol.keys import SigningKey
from testkit import AT_NOW, DATA, report_for_today, run_yilu

CN_FOOD = "https://qdtc.example.cn"
CN_METALS = "https://sdmt.example.cn"
FEDERATION = "https://federation.yilu.example"
REGISTRIES = {"https://cnas.example.cn", "https://fsa.example.ru", "https://nca.example.kz"}


def yilu(
    *args: str, data_dir: Path, env: dict[str, str] | None = None, stdin: bytes | None = None
) -> subprocess.CompletedProcess[str]:
    """The CLI with ``$YILU_DATA_DIR`` = ``data_dir``, run inside ``data_dir``."""
    return run_yilu(*args, data_dir=data_dir, env=env, stdin=stdin, cwd=data_dir)


def one_line_error(proc: subprocess.CompletedProcess[str]) -> str:
    """Exit 2 with exactly one ``yilu: error:`` line on stderr; that line."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert proc.stderr.startswith("yilu: error: ") and proc.stderr.count("\n") == 1, proc.stderr
    return proc.stderr


def clock(at: str | None) -> tuple[str, ...]:
    """``--at`` ``at``, or nothing: the command's default clock, now."""
    return () if at is None else ("--at", at)


def new_demo(base: Path, at: str | None = AT_NOW) -> dict[str, Any]:
    proc = yilu("demo", "init", str(base / "fed"), "--json", *clock(at), data_dir=base / "demo-data")
    assert proc.returncode == 0, proc.stderr
    info: dict[str, Any] = json.loads(proc.stdout)
    assert set(info) >= {"bundle", "rootKeys", "labs"}
    info["dir"] = str(base / "fed")
    return info


def lab_dir(demo: dict[str, Any], lab_id: str = CN_FOOD) -> str:
    return str(next(lab["dir"] for lab in demo["labs"] if lab["id"] == lab_id))


def issue(
    demo: dict[str, Any],
    base: Path,
    report: str = "green-tea-3",
    lab_id: str = CN_FOOD,
    at: str | None = AT_NOW,
) -> dict[str, Any]:
    """A certificate of a reference report under a report number no other test uses (at the
    default clock, now, the report is dated for today)."""
    body = json.loads((DATA / f"{report}.json").read_text()) if at is not None else report_for_today(report)
    body["reportNumber"] += "-" + uuid.uuid4().hex[:8]
    path = base / f"{report}-{uuid.uuid4().hex[:6]}.json"
    path.write_text(json.dumps(body, ensure_ascii=False))
    args = ("issue", str(path), "--lab", lab_dir(demo, lab_id), "--json", *clock(at))
    proc = yilu(*args, data_dir=base / "issue-data")
    assert proc.returncode == 0, proc.stderr
    issued: dict[str, Any] = json.loads(proc.stdout)
    return issued


def install(
    bundle: str, data_dir: Path, *extra: str, at: str | None = AT_NOW
) -> subprocess.CompletedProcess[str]:
    """``yilu trust install``, at the tests' clock unless ``extra`` has ``--at``."""
    when = () if "--at" in extra else clock(at)
    return yilu("trust", "install", bundle, *extra, *when, data_dir=data_dir)


def verify_json(
    data: str, data_dir: Path, *extra: str, country: str = "KZ", at: str | None = AT_NOW
) -> tuple[int, dict[str, Any]]:
    proc = yilu("verify", data, "--country", country, "--json", *extra, *clock(at), data_dir=data_dir)
    assert proc.returncode in (0, 1, 2), proc.stderr
    return proc.returncode, json.loads(proc.stdout) if proc.stdout else {}


def codes(result: dict[str, Any]) -> list[str]:
    return [r["code"] for r in result["reasons"]]


def text_codes(stdout: str) -> list[str]:
    """The reason codes of a text result, in order (its ``  - [CODE] message`` lines)."""
    return re.findall(r"^  - \[([A-Z_]+)\] ", stdout, re.MULTILINE)


def trust_files(data_dir: Path) -> dict[str, bytes]:
    folder = data_dir / "trust"
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())} if folder.is_dir() else {}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("trust-demo")
    info = new_demo(base)
    info["qr"] = issue(info, base)["qr"]
    return info


# -- install, verify, show ----------------------------------------------------------------------


def test_install_then_verify_without_bundle_accepts(demo: dict[str, Any], tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    proc = install(demo["bundle"], data_dir, "--root", demo["rootKeys"], "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["changed"] is True
    assert set(trust_files(data_dir)) == {"index.db", "root-keys.json"}
    assert json.loads((data_dir / "trust" / "root-keys.json").read_text()) == json.loads(
        Path(demo["rootKeys"]).read_text()
    )
    code, result = verify_json(demo["qr"], data_dir)
    assert (code, result["verdict"], codes(result)) == (0, "accept", ["ACCEPTED"])
    assert result["trust"]["sequence"] == 1 and result["trust"]["federation"] == FEDERATION
    text = yilu("verify", demo["qr"], "--country", "KZ", "--at", AT_NOW, data_dir=data_dir)
    assert text.returncode == 0 and "[ACCEPTED]" in text.stdout
    # Installing the same bundle again changes nothing and is no error.
    again = install(demo["bundle"], data_dir, "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["changed"] is False


def test_trust_show(demo: dict[str, Any], tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    one_line_error(yilu("trust", "show", "--at", AT_NOW, data_dir=data_dir))  # nothing installed yet
    assert install(demo["bundle"], data_dir, "--root", demo["rootKeys"]).returncode == 0
    proc = yilu("trust", "show", "--json", "--at", AT_NOW, data_dir=data_dir)
    assert proc.returncode == 0, proc.stderr
    shown = json.loads(proc.stdout)
    assert shown["federation"] == FEDERATION
    assert shown["sequence"] == 1
    created = datetime.fromisoformat(shown["createdAt"].replace("Z", "+00:00"))
    assert shown["expiresAt"] == (created + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert {t["registry"] for t in shown["trustLists"]} == REGISTRIES
    assert {t["registry"]: t["labs"] for t in shown["trustLists"]} == {
        "https://cnas.example.cn": 2,
        "https://fsa.example.ru": 1,
        "https://nca.example.kz": 0,
    }
    status = shown["statusLists"]
    assert (status["count"], status["expired"], status["expiringSoon"]) == (3, [], [])  # one per lab
    assert shown["skipped"] == []
    text = yilu("trust", "show", "--at", AT_NOW, data_dir=data_dir)
    assert text.returncode == 0 and FEDERATION in text.stdout and text.stderr == ""

    def at(days: int) -> dict[str, Any]:
        moment = (created + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")
        proc = yilu("trust", "show", "--json", "--at", moment, data_dir=data_dir)
        assert proc.returncode == 0, proc.stderr
        return dict(json.loads(proc.stdout)["statusLists"])

    soon = at(25)
    assert (len(soon["expiringSoon"]), soon["expired"]) == (3, [])
    assert f"{CN_FOOD}/status" in soon["expiringSoon"]
    late = at(31)
    assert (len(late["expired"]), late["expiringSoon"]) == (3, [])


def test_verify_with_nothing_installed_is_unverifiable(demo: dict[str, Any], tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    code, result = verify_json(demo["qr"], data_dir)
    assert (code, result["verdict"], codes(result)) == (2, "unverifiable", ["TRUST_DATA_MISSING"])
    assert result["credential"] is None and result["issuer"] is None
    text = yilu("verify", demo["qr"], "--country", "KZ", "--at", AT_NOW, data_dir=data_dir)
    assert (text.returncode, text_codes(text.stdout)) == (2, ["TRUST_DATA_MISSING"])
    assert trust_files(data_dir) == {}


def test_install_without_root_and_nothing_pinned_is_refused(demo: dict[str, Any], tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    proc = install(demo["bundle"], data_dir)
    one_line_error(proc)
    assert proc.stdout == ""
    assert trust_files(data_dir) == {}


def test_install_with_another_root_than_the_pin_is_refused(demo: dict[str, Any], tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    assert install(demo["bundle"], data_dir, "--root", demo["rootKeys"]).returncode == 0
    before = trust_files(data_dir)
    other = tmp_path / "other-root-keys.json"
    other.write_text(json.dumps([dict(SigningKey.generate().public.jwk)]))
    one_line_error(install(demo["bundle"], data_dir, "--root", str(other)))
    assert trust_files(data_dir) == before
    # Verifying with the other root against the installed data cannot verify either.
    code, result = verify_json(demo["qr"], data_dir, "--root", str(other))
    assert (code, result["verdict"], codes(result)) == (2, "unverifiable", ["TRUST_DATA_INVALID"])
    # The pin still works.
    code, result = verify_json(demo["qr"], data_dir)
    assert (code, codes(result)) == (0, ["ACCEPTED"])


def test_install_of_an_expired_bundle_is_refused(demo: dict[str, Any], tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    proc = install(demo["bundle"], data_dir, "--root", demo["rootKeys"], "--at", "2100-01-01T00:00:00Z")
    one_line_error(proc)
    assert trust_files(data_dir) == {}
    code, result = verify_json(demo["qr"], data_dir)
    assert (code, codes(result)) == (2, ["TRUST_DATA_MISSING"])


# -- revocation and rollback ----------------------------------------------------------------------


def test_revocation_then_refused_rollback(tmp_path: Path) -> None:
    """What ``make run`` does, at every command's default clock, the real current time: a
    report dated for today (yilu demo report) is accepted, revoked, and stays revoked."""
    demo = new_demo(tmp_path, at=None)
    issued = issue(demo, tmp_path, at=None)
    data_dir = tmp_path / "data"
    old = tmp_path / "old-bundle.jwt"
    old.write_bytes(Path(demo["bundle"]).read_bytes())
    assert install(str(old), data_dir, "--root", demo["rootKeys"], at=None).returncode == 0
    assert verify_json(issued["qr"], data_dir, at=None)[0] == 0
    shown = yilu("trust", "show", "--json", data_dir=data_dir)
    assert shown.returncode == 0, shown.stderr
    lists = json.loads(shown.stdout)["statusLists"]
    assert (lists["count"], lists["expired"], lists["expiringSoon"]) == (3, [], [])
    republished = yilu("lab", "republish", "--lab", lab_dir(demo), data_dir=tmp_path / "lab-data")
    assert republished.returncode == 0 and "nothing to do" in republished.stderr, republished.stderr

    assert (
        yilu("revoke", issued["id"], "--lab", lab_dir(demo), data_dir=tmp_path / "lab-data").returncode == 0
    )
    assert yilu("demo", "refresh", demo["dir"], data_dir=tmp_path / "demo-data").returncode == 0
    assert Path(demo["bundle"]).read_bytes() != old.read_bytes()
    proc = install(demo["bundle"], data_dir, "--json", at=None)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["sequence"] == 2
    code, result = verify_json(issued["qr"], data_dir, at=None)
    assert (code, result["verdict"], codes(result)) == (1, "reject", ["REVOKED"])

    installed = trust_files(data_dir)
    line = one_line_error(install(str(old), data_dir, at=None))
    assert "this bundle (sequence 1) is older" in line, line
    assert trust_files(data_dir) == installed
    code, result = verify_json(issued["qr"], data_dir, at=None)
    assert (code, codes(result)) == (1, ["REVOKED"])

    # The old bundle given directly, while the newer one is installed: cannot verify.
    code, result = verify_json(issued["qr"], data_dir, "--bundle", str(old), at=None)
    assert (code, result["verdict"], codes(result)) == (2, "unverifiable", ["TRUST_DATA_INVALID"])
    # The installed bundle given directly is fine.
    code, result = verify_json(issued["qr"], data_dir, "--bundle", demo["bundle"], at=None)
    assert (code, codes(result)) == (1, ["REVOKED"])


# -- administration errors ----------------------------------------------------------------------



def test_lab_show_of_an_unknown_certificate(demo: dict[str, Any], tmp_path: Path) -> None:
    proc = yilu("lab", "show", "NO-SUCH-REPORT-1", "--lab", lab_dir(demo), data_dir=tmp_path / "data")
    one_line_error(proc)
    assert proc.stdout == ""


# -- display of hostile values --------------------------------------------------------------------


def _token_with_surrogate_kid() -> str:
    key = SigningKey.generate()
    head = b64url_encode(b'{"alg":"EdDSA","kid":"\\ud800x","typ":"vc+jwt"}')
    signing_input = f"{head}.{b64url_encode(b'{}')}"
    return f"{signing_input}.{b64url_encode(key.sign(signing_input.encode()))}"


def test_kid_with_a_lone_surrogate_is_rejected_not_a_crash(demo: dict[str, Any], tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    assert install(demo["bundle"], data_dir, "--root", demo["rootKeys"]).returncode == 0
    token = _token_with_surrogate_kid()
    text = yilu("verify", token, "--country", "KZ", "--at", AT_NOW, data_dir=data_dir)
    assert text.returncode == 1, text.stderr
    assert text_codes(text.stdout) == ["UNKNOWN_KEY"]
    code, result = verify_json(token, data_dir)
    assert (code, codes(result)) == (1, ["UNKNOWN_KEY"])


# -- what is shown is safe, in every language ------------------------------------------------------


def test_trust_show_escapes_what_the_trust_data_says(tmp_path: Path) -> None:
    """A federation list whose member names itself with a newline and a fake verdict: shown
    on one line, escaped, by trust install and trust show alike."""
    from dataclasses import replace

    from protocol.lists import Member
    from testkit import NOW, World

    class Loud(World):
        def member(self, cc: str) -> Member:
            return replace(super().member(cc), accreditation_body=f"AB-{cc}\n✔ ACCEPT\x1b[2J")

    world = Loud()
    bundle, roots = tmp_path / "bundle.jwt", tmp_path / "roots.json"
    bundle.write_bytes(world.bundle())
    roots.write_text(json.dumps([dict(world.root.public.jwk)]))
    at = NOW.strftime("%Y-%m-%dT%H:%M:%SZ")
    data_dir = tmp_path / "data"
    installed = yilu("trust", "install", str(bundle), "--root", str(roots), "--at", at, data_dir=data_dir)
    shown = yilu("trust", "show", "--at", at, data_dir=data_dir)
    for proc in (installed, shown):
        assert proc.returncode == 0, proc.stderr
        assert "AB-CN\\u000a✔ ACCEPT\\u001b[2J (CN)" in proc.stdout, proc.stdout
        assert not any(line.startswith("✔") for line in proc.stdout.splitlines())
        assert "\x1b" not in proc.stdout


def test_verify_speaks_kazakh(demo: dict[str, Any], tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    assert install(demo["bundle"], data_dir, "--root", demo["rootKeys"]).returncode == 0
    proc = yilu("verify", demo["qr"], "--country", "KZ", "--lang", "kk", "--at", AT_NOW, data_dir=data_dir)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("✔ ҚАБЫЛДАНДЫ\n")
    assert "Сертификат шынайы, жарамды және KZ елінде танылады." in proc.stdout
    code, result = verify_json(demo["qr"], data_dir, "--lang", "kk", country="UZ")
    assert code == 1 and codes(result) == ["NOT_RECOGNISED"]
    assert "UZ елі food саласында" in result["reasons"][0]["message"]


def test_photo_without_a_code_cannot_be_verified_it_is_not_rejected(
    demo: dict[str, Any], tmp_path: Path
) -> None:
    """A blurred or wrong photo is the device's problem: exit 2, never a reject."""
    from PIL import Image

    data_dir = tmp_path / "data"
    assert install(demo["bundle"], data_dir, "--root", demo["rootKeys"]).returncode == 0
    blank = tmp_path / "blank.png"
    Image.new("L", (640, 480), 200).save(blank)
    code, result = verify_json(str(blank), data_dir)
    assert code == 2 and result["verdict"] == "unverifiable"
    assert codes(result) == ["UNREADABLE"]
    assert "no QR code found" in result["reasons"][0]["message"]


def test_lab_show_needs_no_passphrase(demo: dict[str, Any], tmp_path: Path) -> None:
    """An issued certificate is public: reprinting it must not need the key."""
    env = {"YILU_KEY_PASSPHRASE": "wrong passphrase"}
    issued = issue(demo, tmp_path)
    shown = yilu(
        "lab", "show", issued["id"], "--lab", lab_dir(demo), "--json", data_dir=tmp_path / "d", env=env
    )
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["jws"] == issued["jws"]



# -- every door checks what comes in -------------------------------------------------------------




def test_country_with_spaces_and_lower_case_is_the_same_country(demo: dict[str, Any], tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    assert install(demo["bundle"], data_dir, "--root", demo["rootKeys"]).returncode == 0
    code, result = verify_json(demo["qr"], data_dir, country=" kz ")
    assert code == 0 and codes(result) == ["ACCEPTED"]
    assert "KZ" in result["reasons"][0]["message"]
