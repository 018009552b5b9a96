"""``yilu registry …``, ``yilu root …`` and ``yilu lab key-request`` as operators use them:
real processes against real services on loopback (docs/operating-a-registry.md).

The services run on the tests' clock (testkit.NOW, as regkit's), and so does every command
that reads the clock (``--at``, ``--since``): nothing depends on the day the tests run."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from protocol.keys import SigningKey
from regkit import Clock
from servekit import Served
from service.settings import ServiceSettings
from testkit import AT_NOW, DATA, run_yilu
from trust_registry.registry import create_app as registry_app
from trust_registry.root import create_app as root_app

PASSPHRASE = "correct horse battery staple"
KZ_REGISTRY = "https://nca.example.kz"
CN_REGISTRY = "https://cnas.example.cn"
KZ_LAB = "https://lab.example.kz"


def one_line_error(proc: subprocess.CompletedProcess[str]) -> str:
    """Exit 2 with exactly one ``yilu: error:`` line on stderr; that line."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert proc.stderr.startswith("yilu: error: ") and proc.stderr.count("\n") == 1, proc.stderr
    return proc.stderr


@dataclass
class Ops:
    """One test's operators: running ``yilu`` with their tokens against the services."""

    tmp: Path
    registry_url: str = ""
    root_url: str = ""
    registry_token: str = ""
    root_token: str = ""

    def run(self, *args: str, token: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
        full = {
            "YILU_KEY_PASSPHRASE": PASSPHRASE,
            "YILU_REGISTRY_URL": self.registry_url,
            "YILU_ROOT_URL": self.root_url,
            **env,
        }
        if token is not None:
            full["YILU_TOKEN"] = token
        return run_yilu(*args, data_dir=self.tmp / "cli-data", env=full)

    def ok(self, *args: str, token: str | None = None) -> str:
        proc = self.run(*args, token=token)
        assert proc.returncode == 0, (args, proc.stdout, proc.stderr)
        assert "Traceback" not in proc.stderr
        return proc.stdout.strip()


@pytest.fixture
def ops(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, serve: Callable[[Any], Served]) -> Ops:
    """A KZ registry and a root, set up with ``yilu … init`` and served on loopback."""
    monkeypatch.setenv("YILU_KEY_PASSPHRASE", PASSPHRASE)  # the services' own key passphrase
    o = Ops(tmp_path)
    # The registry's publication URL is where it is served: reserve the port first.
    # The publish jobs run on start only: the test says when lists are published.
    registry = serve(
        registry_app(ServiceSettings(data_dir=tmp_path / "reg", publish_interval_seconds=3600), clock=Clock())
    )
    o.registry_url = registry.url
    o.registry_token = o.ok(
        "registry",
        "init",
        "--data-dir",
        str(tmp_path / "reg"),
        "--id",
        KZ_REGISTRY,
        "--country",
        "KZ",
        "--body",
        "NCA",
        "--url",
        registry.url,
        "--lab-ids",
        "https://*.example.kz",
        "--at",
        AT_NOW,
    )
    root = serve(
        root_app(ServiceSettings(data_dir=tmp_path / "root", publish_interval_seconds=3600), clock=Clock())
    )
    o.root_url = root.url
    o.root_token = o.ok(
        "root", "init", "--data-dir", str(tmp_path / "root"), "--id", "https://fed.example", "--at", AT_NOW
    )
    return o


def lab_with_key(ops: Ops, lab_dir: Path, lab_id: str = KZ_LAB) -> str:
    """A lab directory, accredited, its key enrolled with proof of possession and approved;
    its kid."""
    ops.ok(
        "lab",
        "init",
        str(lab_dir),
        "--id",
        lab_id,
        "--name",
        "Almaty Lab",
        "--local-name",
        "ru=Алматинская лаборатория",
        "--country",
        "KZ",
        "--alg",
        "ES256",
        "--scope",
        "food",
        "--at",
        AT_NOW,
    )
    ops.ok(
        "registry",
        "lab",
        "add",
        lab_id,
        "--name",
        "en=Almaty Lab",
        "--name",
        "ru=Алматинская лаборатория",
        "--country",
        "KZ",
        "--number",
        "KZ.T.01",
        "--scope",
        "food",
        "--since",
        "2024-01-01T00:00:00Z",
        token=ops.registry_token,
    )
    request = ops.tmp / "key.jwt"
    request.write_text(ops.ok("lab", "key-request", "--lab", str(lab_dir), "--at", AT_NOW))
    lab_token = ops.ok(
        "registry",
        "token",
        "create",
        "almaty",
        "--role",
        "lab",
        "--lab",
        lab_id,
        "--data-dir",
        str(ops.tmp / "reg"),
        "--at",
        AT_NOW,
    )
    kid = ops.ok("registry", "key", "submit", lab_id, str(request), token=lab_token)
    # Pending keys in a pipe: lab, kid, the scopes it will sign, when it was submitted.
    pending = ops.ok("registry", "key", "pending", token=ops.registry_token).split("\t")
    assert pending[:3] == [lab_id, kid, "food"] and pending[3].startswith("20"), pending
    # A lab may not approve its own key.
    assert "needs: admin, operator" in one_line_error(
        ops.run("registry", "key", "approve", lab_id, kid, token=lab_token)
    )
    approved = ops.ok(
        "registry",
        "key",
        "approve",
        lab_id,
        kid,
        "--valid-from",
        "2024-01-01T00:00:00Z",
        token=ops.registry_token,
    )
    # Plain output is the key's row as `key list` prints it, not the service's JSON.
    assert approved.split("\t")[:4] == [lab_id, kid, "approved", "2024-01-01T00:00:00Z"], approved
    ops.ok("registry", "push", str(lab_dir / "status" / "list.jwt"), token=lab_token)
    return kid


def test_a_federation_by_hand_over_http(ops: Ops) -> None:
    """A lab, a registry and a root made one command at a time, as their operators would:
    the certificate verifies from the bundle the root built from lists fetched over HTTP."""
    lab_dir = ops.tmp / "lab"
    kid = lab_with_key(ops, lab_dir)
    assert not (lab_dir / "key.pem").read_bytes().startswith(b"-----BEGIN PRIVATE KEY")
    listed = json.loads(ops.ok("registry", "key", "list", KZ_LAB, "--json", token=ops.registry_token))
    assert [(k["kid"], k["state"]) for k in listed] == [(kid, "approved")]
    ops.ok("registry", "publish", token=ops.registry_token)
    # The root admits the registry from the document it serves, for its lab ids.
    number = ops.ok(
        "root",
        "member",
        "admit",
        f"{ops.registry_url}/registry",
        "--lab-ids",
        "https://*.example.kz",
        "--since",
        "2024-01-01T00:00:00Z",
        token=ops.root_token,
    )
    assert number == "1"
    members = json.loads(ops.ok("root", "member", "list", "--json", token=ops.root_token))
    assert [(m["id"], m["labIds"]) for m in members] == [(KZ_REGISTRY, ["https://*.example.kz"])]
    ops.ok(
        "root",
        "agreement",
        "add",
        "--country",
        "CN",
        "--accepts",
        KZ_REGISTRY,
        "--scope",
        "food",
        "--from",
        "2024-01-01T00:00:00Z",
        token=ops.root_token,
    )
    # A bundle before the agreement is published is refused, saying so.
    bundle = ops.tmp / "bundle.ylb"
    assert "publish it first (yilu root publish" in one_line_error(
        ops.run("root", "bundle", "--out", str(bundle), token=ops.root_token)
    )
    ops.ok("root", "publish", token=ops.root_token)
    fetched = ops.run("root", "fetch", token=ops.root_token)
    # Plain output is a line saying what happened, not the service's JSON (that is --json).
    assert fetched.returncode == 0 and fetched.stdout == "", fetched
    assert "fetched the members' lists: 2 new or changed, 0 unchanged, 0 dropped" in fetched.stderr
    ops.ok("root", "bundle", "--out", str(bundle), token=ops.root_token)
    text = ops.ok("issue", str(DATA / "green-tea-3.json"), "--lab", str(lab_dir), "--at", AT_NOW)
    pin = ("--root", str(ops.tmp / "root" / "root-keys.json"), "--at", AT_NOW)
    for country, expected in (("CN", 0), ("KZ", 0), ("RU", 1)):
        got = ops.run("verify", text, "--bundle", str(bundle), "--country", country, *pin).returncode
        assert got == expected, country
    # Every change is in the registry's audit log, which is intact.
    assert ops.ok("registry", "audit", "verify", "--data-dir", str(ops.tmp / "reg")).startswith(
        "audit log intact"
    )


def test_tokens_and_the_audit_log_on_the_services_own_data(ops: Ops) -> None:
    reg = str(ops.tmp / "reg")
    create = ("registry", "token", "create", "ops", "--role", "operator", "--data-dir", reg, "--at", AT_NOW)
    created = json.loads(ops.ok(*create, "--json"))
    assert created["secret"].startswith("yl_") and created["role"] == "operator"
    listed = ops.ok("registry", "token", "list", "--data-dir", reg)
    assert created["secret"] not in listed and created["prefix"] in listed
    ops.ok(
        "registry",
        "lab",
        "add",
        KZ_LAB,
        "--name",
        "en=Almaty Lab",
        "--country",
        "KZ",
        "--number",
        "1",
        "--scope",
        "food",
        "--since",
        AT_NOW,
        token=created["secret"],
    )
    ops.ok("registry", "token", "revoke", str(created["id"]), "--data-dir", reg, "--at", AT_NOW)
    # Reading is public: a bogus token does not matter there.
    assert ops.run("registry", "lab", "list", "--limit", "1", token="yl_" + "x" * 43).returncode == 0
    line = one_line_error(ops.run("registry", "publish", token=created["secret"]))
    assert "unknown or revoked" in line and "YILU_TOKEN" in line
    assert "no token 99" in one_line_error(ops.run("registry", "token", "revoke", "99", "--data-dir", reg))
    assert "lab id" in one_line_error(
        ops.run("registry", "token", "create", "x", "--role", "lab", "--data-dir", reg)
    )
    # A changed audit row is detected: exit 1, the row named.
    with sqlite3.connect(ops.tmp / "reg" / "service.db") as db:
        db.execute("UPDATE audit_entry SET actor = 'someone else' WHERE seq = 2")
    proc = ops.run("registry", "audit", "verify", "--data-dir", reg)
    assert proc.returncode == 1 and "NOT intact" in proc.stderr and proc.stdout.strip(), proc
    assert "no registry in" in one_line_error(
        ops.run("registry", "audit", "verify", "--data-dir", str(ops.tmp / "nothing-here"))
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--country", "china"], "did you mean CN?"),
        (["--country", "XX"], "not an ISO 3166-1 alpha-2"),
        (["--country", "Kazakhstan"], "did you mean KZ?"),
        (["--id", "cnas.example.cn"], "registry id"),
        (["--body", " "], "accreditation body"),
        (["--url", "http://cnas.example.cn/yilu"], "https:// URL"),
        (["--lab-ids", "https://qdtc.example.cn/*/x"], "pattern"),
    ],
)
def test_registry_init_refuses_bad_values_with_one_line(
    tmp_path: Path, args: list[str], message: str
) -> None:
    base = {
        "--id": CN_REGISTRY,
        "--country": "CN",
        "--body": "CNAS",
        "--url": "https://cnas.example.cn/yilu",
        "--lab-ids": "https://*.example.cn",
    }
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    argv = ["registry", "init", "--data-dir", str(tmp_path / "reg")]
    for k, v in base.items():
        argv += [k, v]
    line = one_line_error(run_yilu(*argv, env={"YILU_KEY_PASSPHRASE": PASSPHRASE}))
    assert message in line
    assert not (tmp_path / "reg" / "registry-key.pem").exists()


def test_init_refuses_a_weak_or_missing_passphrase_and_a_bad_federation_id(tmp_path: Path) -> None:
    argv = [
        "registry",
        "init",
        "--data-dir",
        str(tmp_path / "reg"),
        "--id",
        CN_REGISTRY,
        "--country",
        "CN",
        "--body",
        "CNAS",
        "--url",
        "https://cnas.example.cn/yilu",
        "--lab-ids",
        "https://*.example.cn",
    ]
    assert "12 characters" in one_line_error(run_yilu(*argv, env={"YILU_KEY_PASSPHRASE": "short"}))
    assert "YILU_KEY_PASSPHRASE" in one_line_error(run_yilu(*argv))
    line = one_line_error(
        run_yilu(
            "root",
            "init",
            "--data-dir",
            str(tmp_path / "root"),
            "--id",
            "fed",
            env={"YILU_KEY_PASSPHRASE": PASSPHRASE},
        )
    )
    assert "federation id" in line


def test_http_errors_are_one_line(ops: Ops) -> None:
    tok = ops.registry_token
    assert "outside the lab ids" in one_line_error(
        ops.run(
            "registry",
            "lab",
            "add",
            "https://lab.example.ru",
            "--name",
            "en=X",
            "--country",
            "RU",
            "--number",
            "1",
            "--scope",
            "food",
            token=tok,
        )
    )
    assert "scope" in one_line_error(
        ops.run(
            "registry",
            "lab",
            "add",
            KZ_LAB,
            "--name",
            "en=X",
            "--country",
            "KZ",
            "--number",
            "1",
            "--scope",
            "fud",
            token=tok,
        )
    )
    assert "LANG=NAME" in one_line_error(
        ops.run(
            "registry", "lab", "add", KZ_LAB, "--name", "X", "--country", "KZ", "--number", "1", token=tok
        )
    )
    assert "language" in one_line_error(
        ops.run(
            "registry",
            "lab",
            "add",
            KZ_LAB,
            "--name",
            "english=X",
            "--country",
            "KZ",
            "--number",
            "1",
            token=tok,
        )
    )
    assert "no lab" in one_line_error(ops.run("registry", "lab", "show", KZ_LAB, token=tok))
    assert "must start with https://" in one_line_error(ops.run("registry", "lab", "show", "lab.example.kz"))
    assert "bearer token" in one_line_error(ops.run("registry", "publish"))
    gone = one_line_error(ops.run("registry", "publish", token=tok, YILU_REGISTRY_URL="http://127.0.0.1:9"))
    assert "cannot reach http://127.0.0.1:9" in gone


def test_overlapping_lab_ids_are_refused_and_nothing_changes(ops: Ops) -> None:
    ops.ok("root", "member", "admit", f"{ops.registry_url}/registry", token=ops.root_token)
    other = ops.tmp / "cn.json"
    other.write_text(
        json.dumps(
            {
                "id": CN_REGISTRY,
                "country": "CN",
                "accreditationBody": "CNAS",
                "publicationUrl": "https://cnas.example.cn/y",
                "keys": [{"jwk": dict(SigningKey.generate().public.jwk)}],
                "labIds": ["https://*.example.cn"],
            }
        )
    )
    line = one_line_error(
        ops.run(
            "root",
            "member",
            "admit",
            str(other),
            "--lab-ids",
            "https://*.example.cn",
            "--lab-ids",
            KZ_LAB,
            token=ops.root_token,
        )
    )
    assert KZ_LAB in line and "https://*.example.kz" in line
    assert len(json.loads(ops.ok("root", "member", "list", "--json", token=ops.root_token))) == 1
    # Admitted from a saved document with its own lab ids, it is fine.
    assert ops.ok("root", "member", "admit", str(other), token=ops.root_token) == "2"


def test_bundle_warns_about_a_member_without_lists_and_needs_an_existing_folder(ops: Ops) -> None:
    ops.ok("root", "member", "admit", f"{ops.registry_url}/registry", token=ops.root_token)
    ops.ok("root", "publish", token=ops.root_token)
    assert "does not exist" in one_line_error(
        ops.run("root", "bundle", "--out", str(ops.tmp / "no" / "b.ylb"), token=ops.root_token)
    )
    proc = ops.run("root", "bundle", "--out", str(ops.tmp / "b.ylb"), token=ops.root_token)
    assert proc.returncode == 0, proc.stderr
    assert f"no trust list of member {KZ_REGISTRY}" in proc.stderr
    assert (ops.tmp / "b.ylb").read_bytes().startswith(b"YILU-BUNDLE/")


def test_withdrawal_for_cause_is_final_and_keys_are_revoked_by_kid(ops: Ops) -> None:
    lab_dir = ops.tmp / "lab"
    kid = lab_with_key(ops, lab_dir)
    tok = ops.registry_token
    # The lab's key requests named food only: it may not be listed for textiles.
    line = one_line_error(ops.run("registry", "lab", "scope-add", KZ_LAB, "textiles", token=tok))
    assert "textiles" in line
    ops.ok("registry", "key", "revoke", KZ_LAB, kid, "--reason", "keyCompromise", token=tok)
    revoked = json.loads(ops.ok("registry", "key", "list", KZ_LAB, "--json", token=tok))
    assert revoked[0]["revocationReason"] == "keyCompromise"
    ops.ok("registry", "lab", "status", KZ_LAB, "withdrawn", "--for-cause", token=tok)
    assert "final" in one_line_error(ops.run("registry", "lab", "status", KZ_LAB, "active", token=tok))


def test_a_kid_starting_with_a_dash_reaches_the_kid_argument(ops: Ops) -> None:
    key = SigningKey.generate()
    while not key.public.kid.startswith("-"):
        key = SigningKey.generate()
    line = one_line_error(
        ops.run("registry", "key", "approve", KZ_LAB, key.public.kid, token=ops.registry_token)
    )
    assert "no lab" in line or key.public.kid in line  # the kid was an argument, not an unknown option


def test_lab_list_prints_the_labs_and_names_the_next_page(ops: Ops) -> None:
    # /labs answers a page, {"labs": [...], "next": …}: each lab is a line, and a
    # further page is named on stderr.
    for host in ("a", "b"):
        ops.ok(
            "registry",
            "lab",
            "add",
            f"https://{host}.example.kz",
            "--name",
            f"en=Lab {host}",
            "--country",
            "KZ",
            "--number",
            f"KZ.{host}",
            "--scope",
            "food",
            "--since",
            AT_NOW,
            token=ops.registry_token,
        )
    first = ops.run("registry", "lab", "list", "--limit", "1")
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == ["https://a.example.kz\tLab a\tKZ\tKZ.a\tactive"]
    assert "yilu registry lab list --after https://a.example.kz" in first.stderr
    rest = ops.run("registry", "lab", "list", "--after", "https://a.example.kz")
    assert rest.stdout.splitlines() == ["https://b.example.kz\tLab b\tKZ\tKZ.b\tactive"]
    assert rest.stderr == ""


def test_import_says_how_many_labs_and_keys(ops: Ops) -> None:
    csv = ops.tmp / "labs.csv"
    csv.write_text(
        "id,name_en,country,accreditation_number,scopes,accredited_since,key_jwk\n"
        "https://a.example.kz,Lab A,KZ,KZ.a,food;chemicals,2025-03-01T00:00:00Z,\n"
        "https://b.example.kz,Lab B,KZ,KZ.b,food,2025-03-01T00:00:00Z,\n",
        encoding="utf-8",
    )
    proc = ops.run("registry", "import", str(csv), token=ops.registry_token)
    assert proc.returncode == 0, proc.stderr
    assert f"imported 2 labs and 0 keys from {csv}" in proc.stderr
    assert json.loads(proc.stdout) == {"labs": 2, "keys": 0}


def test_the_first_bundle_says_it_has_no_delta_and_the_second_writes_one(ops: Ops) -> None:
    """``--delta-out`` on a root's first bundle writes no file: a warning says so (a cron job
    would otherwise install whatever delta file was left there); the next bundle writes it."""
    bundle, delta = ops.tmp / "bundle.ylb", ops.tmp / "delta.ylb"
    ops.ok("root", "publish", token=ops.root_token)
    first = ops.run("root", "bundle", "--out", str(bundle), "--delta-out", str(delta), token=ops.root_token)
    assert first.returncode == 0, first
    assert f"yilu: warning: no delta written to {delta}: this root has built no bundle before" in first.stderr
    assert bundle.exists() and not delta.exists()
    second = ops.run("root", "bundle", "--out", str(bundle), "--delta-out", str(delta), token=ops.root_token)
    assert second.returncode == 0 and "warning" not in second.stderr, second
    assert f"its delta to {delta}" in second.stderr and delta.stat().st_size > 0


def test_a_member_registrys_keys_are_added_retired_and_revoked(ops: Ops) -> None:
    ops.ok("root", "member", "admit", f"{ops.registry_url}/registry", token=ops.root_token)
    new = SigningKey.generate()
    jwk = ops.tmp / "new-key.json"
    jwk.write_text(json.dumps(dict(new.public.jwk)))
    kid = ops.ok(
        "root", "member", "key-add", "1", str(jwk), "--from", "2027-01-01T00:00:00Z", token=ops.root_token
    )
    assert kid == new.public.kid
    old = json.loads(ops.ok("registry", "show", "--json"))["keys"][0]["kid"]
    ops.ok("root", "member", "key-retire", "1", old, "--until", "2027-01-02T00:00:00Z", token=ops.root_token)
    revoke = ("root", "member", "key-revoke", "1", kid, "--reason", "superseded", "--at", AT_NOW)
    ops.ok(*revoke, token=ops.root_token)
    assert "is not one of" in one_line_error(
        ops.run("root", "member", "key-revoke", "1", kid, "--reason", "lost", token=ops.root_token)
    )
    # The registry's token means nothing to the root.
    assert "unknown or revoked" in one_line_error(
        ops.run("root", "member", "key-add", "1", str(jwk), token=ops.registry_token)
    )
    (member,) = json.loads(ops.ok("root", "member", "list", "--json", token=ops.root_token))
    keys = {k["kid"]: k for k in member["keys"]}
    assert keys[kid]["revocationReason"] == "superseded" and keys[old]["validUntil"].startswith("2027-01-02")
