"""The lab side as a library: keys at rest, issuance, status lists."""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

import pytest

from issuer import LabIssuer, qr_version
from protocol import yl1
from protocol.errors import InputError, MalformedInputError, SecretError
from protocol.jws import parse_compact, verify_signature
from protocol.keys import VerifyKey
from protocol.status_list import StatusList
from protocol.storage import read_json
from testkit import AT_NOW, NOW, report

PASS = "a long test passphrase"


@pytest.fixture
def lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LabIssuer:
    monkeypatch.setenv("YILU_KEY_PASSPHRASE", PASS)
    return LabIssuer.create(
        tmp_path / "lab",
        lab_id="https://lab.example.cn",
        names={"en": "Lab"},
        country="CN",
        passphrase_text=PASS,
        now=NOW - timedelta(days=1),
    )


def test_key_at_rest_is_encrypted_and_public_record_matches(lab: LabIssuer) -> None:
    pem = (lab.directory / "key.pem").read_bytes()
    assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert (lab.directory / "key.pem").stat().st_mode & 0o077 == 0
    public = read_json(lab.directory / "public.json")
    assert VerifyKey.from_jwk(public["jwk"]).kid == public["kid"] == lab.kid


def test_open_needs_the_right_passphrase(lab: LabIssuer, monkeypatch: pytest.MonkeyPatch) -> None:
    assert LabIssuer.open(lab.directory).kid == lab.kid
    monkeypatch.setenv("YILU_KEY_PASSPHRASE", "wrong")
    with pytest.raises(SecretError):
        LabIssuer.open(lab.directory)
    monkeypatch.delenv("YILU_KEY_PASSPHRASE")
    with pytest.raises(SecretError, match="YILU_KEY_PASSPHRASE"):
        LabIssuer.open(lab.directory)


def test_create_refuses_existing_lab(lab: LabIssuer) -> None:
    with pytest.raises(InputError):
        LabIssuer.create(
            lab.directory, lab_id="x", names={"en": "x"}, country="CN", passphrase_text=PASS, now=NOW
        )


def test_issue_signs_the_report(lab: LabIssuer) -> None:
    issued = lab.issue(report("green-tea-8"), now=NOW)
    assert issued.id == "https://lab.example.cn/certificates/QDTC-2026-FT-004512"
    assert yl1.decode(issued.qr) == issued.jws
    parsed = parse_compact(issued.jws)
    verify_signature(parsed, lab.key.public)
    cred = parsed.payload_json()
    assert cred["issuer"] == lab.id and cred["validFrom"] == "2026-11-27T09:00:00Z"
    assert cred["validUntil"] == "2027-05-20T00:00:00Z" and "validUntil" not in cred["credentialSubject"]
    # One slot of the lab's one list: revocation at the even index, suspension at the next.
    i = issued.status_list_index
    assert i % 2 == 0
    entries = cred["credentialStatus"]
    assert [(s["statusPurpose"], s["statusListIndex"], s["statusListCredential"]) for s in entries] == [
        ("revocation", str(i), f"{lab.id}/status"),
        ("suspension", str(i + 1), f"{lab.id}/status"),
    ]
    assert lab.config["statusList"] == f"{lab.id}/status"
    assert qr_version(issued.qr) <= 18


def test_report_numbers_are_escaped_and_unique(lab: LabIssuer) -> None:
    body = report("green-tea-3")
    body["reportNumber"] = "No. 12/2026 A"
    issued = lab.issue(body, now=NOW)
    assert issued.id.endswith("/certificates/No.%2012%2F2026%20A")
    # Issuing the same report again (later, even) returns the certificate already issued.
    again = lab.issue(body, now=NOW + timedelta(hours=1))
    assert again.existing and not issued.existing
    assert (again.id, again.jws, again.qr, again.status_list_index) == (
        issued.id,
        issued.jws,
        issued.qr,
        issued.status_list_index,
    )
    assert lab.show(issued.id).jws == lab.show("No. 12/2026 A").jws == issued.jws
    # The same number with other content is refused: one report number, one certificate.
    body["conclusion"] = "fail"
    with pytest.raises(InputError, match="different content"):
        lab.issue(body, now=NOW)


def test_status_indices_are_random_and_distinct(lab: LabIssuer) -> None:
    indices = []
    for i in range(20):
        body = report("green-tea-3")
        body["reportNumber"] = f"R-{i}"
        indices.append(lab.issue(body, now=NOW).status_list_index)
    assert len(set(indices)) == 20
    assert indices != sorted(indices)
    assert all(i % 2 == 0 for i in indices)  # revocation indices: a slot each, never shared


def test_slots_are_never_shared(lab: LabIssuer, monkeypatch: pytest.MonkeyPatch) -> None:
    """A slot is taken by its revocation index 2k: a second certificate never lands on
    2k + 1 (the first one's suspension bit), even when the random draw repeats."""
    draws = iter([7, 7, 7, 8])
    monkeypatch.setattr(secrets, "randbelow", lambda n: next(draws))
    first = report("green-tea-3")
    first["reportNumber"] = "R-1"
    second = report("green-tea-3")
    second["reportNumber"] = "R-2"
    assert lab.issue(first, now=NOW).status_list_index == 14
    assert lab.issue(second, now=NOW).status_list_index == 16


def test_bad_reports_are_refused_and_nothing_recorded(lab: LabIssuer) -> None:
    body = report("green-tea-8")
    del body["results"]
    with pytest.raises(MalformedInputError, match="results"):
        lab.issue(body, now=NOW)
    body = report("green-tea-8")
    body["validUntil"] = "2020-01-01T00:00:00Z"
    with pytest.raises(MalformedInputError, match="validUntil"):
        lab.issue(body, now=NOW)
    assert read_json(lab.directory / "certificates.json") == {}


def _list(lab: LabIssuer) -> StatusList:
    assert sorted(p.name for p in (lab.directory / "status").iterdir()) == ["list.jwt"]
    token = (lab.directory / "status" / "list.jwt").read_text()
    assert lab.status_list_tokens() == [token.strip()]
    parsed = parse_compact(token)
    verify_signature(parsed, lab.key.public)
    status_list = StatusList.from_credential(parsed.payload_json())
    assert (status_list.url, status_list.purposes) == (f"{lab.id}/status", ("revocation", "suspension"))
    assert parsed.payload_json()["credentialSubject"]["statusPurpose"] == ["revocation", "suspension"]
    return status_list


def test_revoke_and_suspend_flip_signed_bits(lab: LabIssuer) -> None:
    issued = lab.issue(report("green-tea-8"), now=NOW)
    i = issued.status_list_index
    assert _list(lab).bits.set_indices() == ()
    lab.set_status(issued.id, purpose="suspension", value=True, now=NOW)
    assert _list(lab).bits.set_indices() == (i + 1,)
    assert _list(lab).suspended_indices() == (i + 1,) and _list(lab).revoked_indices() == ()
    lab.set_status("QDTC-2026-FT-004512", purpose="suspension", value=False, now=NOW)  # by report number
    assert _list(lab).bits.set_indices() == ()
    lab.set_status(issued.id, purpose="revocation", value=True, now=NOW)
    assert _list(lab).bits.set_indices() == (i,)
    assert _list(lab).revoked_indices() == (i,)
    with pytest.raises(InputError, match="final"):
        lab.set_status(issued.id, purpose="revocation", value=False, now=NOW)
    with pytest.raises(InputError, match="no certificate"):
        lab.set_status("nope", purpose="revocation", value=True, now=NOW)


def test_es256_lab(tmp_path: Path) -> None:
    lab = LabIssuer.create(
        tmp_path / "es",
        lab_id="https://es.example.kz",
        names={"en": "ES"},
        country="KZ",
        passphrase_text=PASS,
        alg="ES256",
        now=NOW,
    )
    issued = lab.issue(report("green-tea-3"), now=NOW)
    parsed = parse_compact(yl1.decode(issued.qr))
    assert parsed.alg == "ES256" and len(parsed.signature) == 64
    verify_signature(parsed, lab.key.public)


def test_report_too_big_for_a_qr_is_refused_before_it_is_recorded(lab: LabIssuer) -> None:
    import random

    rng = random.Random(7)
    body = report("green-tea-40")
    body["results"] = [
        {"parameter": f"Analyte {rng.getrandbits(40):x}", "value": f"{rng.random():.4f}", "verdict": "pass"}
        for _ in range(200)
    ]
    # docs/formats.md, "QR": an issuer writes at most 3,391 characters (version 40, ECC M).
    with pytest.raises(InputError, match="a QR code at ECC M holds at most 3391: split it"):
        lab.issue(body, now=NOW)
    assert read_json(lab.directory / "certificates.json") == {}


def test_lab_with_scopes_refuses_other_scopes(tmp_path: Path) -> None:
    lab = LabIssuer.create(
        tmp_path / "food",
        lab_id="https://food.example.cn",
        names={"en": "Food"},
        country="CN",
        passphrase_text=PASS,
        now=NOW,
        scopes=("food",),
    )
    refusal = r"accredited only for food: verifiers would reject it \(SCOPE_NOT_ACCREDITED\)$"
    with pytest.raises(InputError, match=r"is for scope 'minerals-metals', but this lab is " + refusal):
        lab.issue(report("steel-rebar-6"), now=NOW)
    assert lab.issue(report("green-tea-3"), now=NOW).id.endswith("QDTC-2026-FT-004514")
    with pytest.raises(InputError, match="unknown scopes"):
        LabIssuer.create(
            tmp_path / "x",
            lab_id="https://x.example",
            names={"en": "X"},
            country="CN",
            passphrase_text=PASS,
            now=NOW,
            scopes=("spaceships",),
        )


def test_concurrent_issuers_lose_no_record(lab: LabIssuer, tmp_path: Path) -> None:
    """Eight processes issue at once; the register keeps every certificate (issuer/_lab.py LOCK_FILE)."""
    import json
    import os
    import subprocess
    import sys

    reports = []
    for i in range(8):
        body = report("green-tea-3")
        body["reportNumber"] = f"PAR-{i}"
        path = tmp_path / f"r{i}.json"
        path.write_text(json.dumps(body))
        reports.append(path)
    env = {**os.environ, "YILU_KEY_PASSPHRASE": PASS}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "yilu.cli", "issue", str(p), "--lab", str(lab.directory), "--at", AT_NOW],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
        )
        for p in reports
    ]
    outcomes = [(p.communicate(timeout=120)[1], p.returncode) for p in procs]
    assert all(code == 0 for _, code in outcomes), outcomes
    register = read_json(lab.directory / "certificates.json")
    assert {c["reportNumber"] for c in register.values()} == {f"PAR-{i}" for i in range(8)}
    assert len({c["statusListIndex"] for c in register.values()}) == 8


def test_a_revoked_certificate_is_not_suspended_and_revoking_again_changes_nothing(lab: LabIssuer) -> None:
    issued = lab.issue(report("green-tea-3"), now=NOW)
    before = (lab.directory / "status" / "list.jwt").read_text()
    assert lab.set_status(issued.id, purpose="revocation", value=True, now=NOW + timedelta(minutes=1))
    after = (lab.directory / "status" / "list.jwt").read_text()
    assert after != before
    assert not lab.set_status(issued.id, purpose="revocation", value=True, now=NOW + timedelta(minutes=2))
    assert (lab.directory / "status" / "list.jwt").read_text() == after  # not re-signed
    with pytest.raises(InputError, match="is revoked, which is final"):
        lab.set_status(issued.id, purpose="suspension", value=True, now=NOW + timedelta(minutes=3))
    with pytest.raises(InputError, match="a revocation is final"):
        lab.set_status(issued.id, purpose="revocation", value=False, now=NOW + timedelta(minutes=3))


def test_published_files_are_readable_by_others_and_the_key_is_not(lab: LabIssuer) -> None:
    """Lists are handed to registries and served by web servers; the key stays private."""
    import os

    mask = os.umask(0o022)
    try:
        lab.publish_status_lists(now=NOW)
        lab.issue(report("green-tea-3"), now=NOW)
    finally:
        os.umask(mask)
    for name in ("status/list.jwt", "public.json"):
        assert (lab.directory / name).stat().st_mode & 0o777 == 0o644, name
    assert (lab.directory / "key.pem").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("country", ["China", "XX", "CHN", "", "c"])
def test_lab_country_must_be_an_iso_code(tmp_path: Path, country: str) -> None:
    with pytest.raises(MalformedInputError, match="not an ISO 3166-1 alpha-2 country code"):
        LabIssuer.create(
            tmp_path / "lab",
            lab_id="https://lab.example.cn",
            names={"en": "Lab"},
            country=country,
            passphrase_text=PASS,
            now=NOW,
        )
    assert not (tmp_path / "lab" / "lab.json").exists()
