"""Registries and the federation root as a library: lists, agreements, bundles."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from protocol.errors import InputError
from protocol.jws import parse_compact, verify_signature
from protocol.keys import SigningKey
from protocol.lists import FederationList, KeyRecord, Scope, TrustList
from testkit import NOW
from trust_registry import FederationRoot, Registry
from verifier import load_bundle

PASS = "registry passphrase"


@pytest.fixture
def registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Registry:
    monkeypatch.setenv("YILU_KEY_PASSPHRASE", PASS)
    return Registry.create(
        tmp_path / "reg",
        registry_id="https://cnas.example.cn",
        country="cn",
        accreditation_body="CNAS",
        publication_url="https://cnas.example.cn/yilu/",
        passphrase_text=PASS,
        now=NOW - timedelta(days=10),
    )


def lab_key() -> dict[str, object]:
    return KeyRecord(SigningKey.generate().public, NOW - timedelta(days=5)).to_json()


def add(
    registry: Registry, lab_id: str = "https://lab.example.cn", scopes: tuple[str, ...] = ("food",)
) -> None:
    registry.add_lab(
        lab_id=lab_id,
        names={"en": "Lab"},
        country="CN",
        accreditation_number="L1",
        scopes=[Scope(s) for s in scopes],
        key=lab_key(),
        accredited_since=NOW - timedelta(days=5),
    )


def test_publish_signs_and_increments_sequence(registry: Registry) -> None:
    add(registry)
    first = registry.publish(now=NOW)
    second = registry.publish(now=NOW + timedelta(hours=1))
    lists = []
    for token in (first, second):
        parsed = parse_compact(token, expected_typ="yilu-trust-list+jwt")
        verify_signature(parsed, registry.key.public)
        lists.append(TrustList.from_json(parsed.payload_json()))
    assert [tl.sequence for tl in lists] == [1, 2]
    assert lists[1].country == "CN" and lists[1].labs[0].scopes == (Scope("food"),)
    assert lists[1].expires_at == NOW + timedelta(hours=1) + timedelta(days=30)
    assert Registry.open(registry.directory).state["sequence"] == 2


def test_lab_admin_validates(registry: Registry) -> None:
    add(registry)
    with pytest.raises(InputError, match="already"):
        add(registry)
    with pytest.raises(InputError, match="unknown scope"):
        add(registry, "https://other.example.cn", ("spaceships",))
    with pytest.raises(InputError, match="no lab"):
        registry.set_lab_status("https://missing.example", "suspended", since=NOW)
    with pytest.raises(InputError, match="no key"):
        registry.revoke_lab_key("https://lab.example.cn", "nokid", at=NOW, reason="keyCompromise")


def test_status_history_and_key_revocation_are_published(registry: Registry) -> None:
    add(registry)
    registry.set_lab_status("https://lab.example.cn", "suspended", since=NOW)
    kid = registry.state["labs"][0]["keys"][0]["kid"]
    registry.revoke_lab_key("https://lab.example.cn", kid, at=NOW, reason="keyCompromise")
    lab = TrustList.from_json(parse_compact(registry.publish(now=NOW)).payload_json()).labs[0]
    assert [e.status for e in lab.status] == ["active", "suspended"]
    assert lab.keys[0].revoked_at == NOW and lab.keys[0].revocation_reason == "keyCompromise"


def test_root_admits_agrees_and_bundles(tmp_path: Path, registry: Registry) -> None:
    add(registry)
    root = FederationRoot.create(
        tmp_path / "root",
        federation_id="https://fed.example",
        passphrase_text=PASS,
        now=NOW - timedelta(days=10),
    )
    root.admit(
        registry.member_record(since=NOW - timedelta(days=10), permitted_lab_ids=["https://*.example.cn"])
    )
    with pytest.raises(InputError, match="already a member"):
        root.admit(registry.member_record(since=NOW, permitted_lab_ids=["https://*.example.kz"]))
    with pytest.raises(InputError, match="not member"):
        root.agree(country="KZ", accepts=["https://unknown.example"], scopes=["food"], since=NOW)
    with pytest.raises(InputError, match="unknown scopes"):
        root.agree(country="KZ", accepts=[registry.id], scopes=["spaceships"], since=NOW)
    root.agree(country="kz", accepts=[registry.id], scopes=["food"], since=NOW - timedelta(days=1))
    with pytest.raises(InputError, match="publish the federation list"):
        root.build_bundle(trust_lists=[], status_lists=[], now=NOW)
    fed_token = root.publish(now=NOW)
    fed = FederationList.from_json(parse_compact(fed_token).payload_json())
    assert fed.agreements[0].country == "KZ" and fed.registries[0].country == "CN"
    bundle, delta = root.build_bundle(trust_lists=[registry.publish(now=NOW)], status_lists=[], now=NOW)
    assert delta is None  # the root's first bundle
    snapshot = load_bundle(bundle, pinned_roots=[root.key.public])
    assert "https://lab.example.cn" in snapshot.labs and snapshot.sequence == 1
    root.set_member_status(registry.id, "withdrawn", since=NOW)
    with pytest.raises(InputError):
        root.set_member_status("https://nobody.example", "withdrawn", since=NOW)


def test_root_keys_file_is_what_verifiers_pin(tmp_path: Path) -> None:
    import json

    root = FederationRoot.create(
        tmp_path / "root", federation_id="https://fed.example", passphrase_text=PASS, now=NOW
    )
    pinned = json.loads((tmp_path / "root" / "root-keys.json").read_text())
    assert pinned == [dict(root.key.public.jwk)]
