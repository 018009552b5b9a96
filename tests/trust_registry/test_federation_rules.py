"""Rules the registry and the federation root enforce on their own files.

Name constraints at admission, canonical lab ids, final withdrawals for cause, the status
lists a registry mirrors (verified, newest only, all or nothing), and bundle sequences.
"""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from protocol.errors import InputError, MalformedInputError, TrustDataError
from protocol.jws import parse_compact
from protocol.keys import SigningKey
from protocol.lists import TrustList
from protocol.status_list import Bitstring, StatusList
from protocol.vocabulary import STATUS_PURPOSES
from testkit import accredit, file_registry
from trust_registry import FederationRoot, Registry
from verifier import load_bundle
from verifier.store import SnapshotStore

PASS = "federation rules passphrase"
SINCE = datetime(2026, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
LAB = "https://lab.example.cn"


@pytest.fixture(autouse=True)
def _passphrase(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YILU_KEY_PASSPHRASE", PASS)


def make_registry(tmp_path: Path, name: str, country: str) -> Registry:
    return file_registry(
        tmp_path / name,
        passphrase=PASS,
        since=SINCE,
        registry_id=f"https://{name}.example.org",
        country=country,
        body=name.upper(),
    )


def make_root(tmp_path: Path) -> FederationRoot:
    return FederationRoot.create(
        tmp_path / "root", federation_id="https://fed.example", passphrase_text=PASS, now=SINCE
    )


def add_lab(registry: Registry, key: SigningKey, lab_id: str = LAB) -> None:
    accredit(registry, key, lab_id=lab_id, since=SINCE)


def member_ids(root: FederationRoot) -> list[str]:
    state = json.loads((root.directory / "root.json").read_text())
    return [r["id"] for r in state["registries"]]


# -- admission: no two members' names overlap -------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("https://*.example.cn", "https://qdtc.example.cn"),
        ("https://qdtc.example.cn", "https://*.example.cn"),
        ("https://*.example.cn", "https://*.labs.example.cn"),
        ("https://*.example.cn", "https://*.example.cn"),
        ("https://reg.example.org/labs", "https://reg.example.org/labs/kz"),
        ("https://reg.example.org", "https://reg.example.org/kz"),
    ],
)
def test_admit_refuses_overlapping_names(tmp_path: Path, first: str, second: str) -> None:
    root = make_root(tmp_path)
    cn, kz = make_registry(tmp_path, "cn", "CN"), make_registry(tmp_path, "kz", "KZ")
    root.admit(cn.member_record(since=SINCE, permitted_lab_ids=[first]))
    with pytest.raises(InputError) as info:
        root.admit(kz.member_record(since=SINCE, permitted_lab_ids=["https://*.example.kz", second]))
    text = str(info.value)
    assert first in text and second in text and cn.id in text, text
    assert "\n" not in text
    assert member_ids(FederationRoot.open(root.directory)) == [cn.id]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("https://*.example.cn", "https://*.example.kz"),
        ("https://*.example.cn", "https://example.cn"),  # the wildcard does not cover its base host
        ("https://reg.example.org/cn", "https://reg.example.org/kz"),
        ("https://reg.example.org/labs", "https://reg.example.org/labs2"),
    ],
)
def test_admit_accepts_disjoint_names(tmp_path: Path, first: str, second: str) -> None:
    root = make_root(tmp_path)
    cn, kz = make_registry(tmp_path, "cn", "CN"), make_registry(tmp_path, "kz", "KZ")
    root.admit(cn.member_record(since=SINCE, permitted_lab_ids=[first]))
    root.admit(kz.member_record(since=SINCE, permitted_lab_ids=[second]))
    assert member_ids(FederationRoot.open(root.directory)) == [cn.id, kz.id]
    fed = root.federation_list(now=NOW, validity=timedelta(days=1))
    assert [[p.text for p in m.permitted_lab_ids] for m in fed.registries] == [[first], [second]]


def test_member_record_needs_valid_patterns(tmp_path: Path) -> None:
    cn = make_registry(tmp_path, "cn", "CN")
    with pytest.raises(InputError, match="at least one lab id pattern"):
        cn.member_record(since=SINCE, permitted_lab_ids=[])
    for bad in ("https://*.cn", "https://*.example.cn/", "https://Example.cn", "example.cn", ""):
        with pytest.raises(MalformedInputError, match="pattern"):
            cn.member_record(since=SINCE, permitted_lab_ids=["https://*.example.cn", bad])
    member = cn.member_record(since=SINCE, permitted_lab_ids=["https://*.example.cn"])
    assert [p.text for p in member.permitted_lab_ids] == ["https://*.example.cn"]


# -- labs -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "lab_id",
    [
        "https://LAB.example.cn",
        "https://lab.example.cn/",
        "https://lab.example.cn:443",
        "http://lab.example.cn",
        "https://lab.example.cn?x",
        "https://lab",
        "lab.example.cn",
    ],
)
def test_add_lab_refuses_a_non_canonical_id(tmp_path: Path, lab_id: str) -> None:
    cn = make_registry(tmp_path, "cn", "CN")
    with pytest.raises(MalformedInputError, match="is not valid: use https://"):
        add_lab(cn, SigningKey.generate(), lab_id)
    assert Registry.open(cn.directory).state["labs"] == []


def test_only_a_withdrawal_can_be_for_cause(tmp_path: Path) -> None:
    cn = make_registry(tmp_path, "cn", "CN")
    add_lab(cn, SigningKey.generate())
    for status in ("active", "suspended"):
        with pytest.raises(InputError, match="only a withdrawal"):
            cn.set_lab_status(LAB, status, since=NOW, for_cause=True)
    assert [e["status"] for e in Registry.open(cn.directory).state["labs"][0]["status"]] == ["active"]


def test_withdrawal_for_cause_is_final_and_published(tmp_path: Path) -> None:
    cn = make_registry(tmp_path, "cn", "CN")
    add_lab(cn, SigningKey.generate())
    cn.set_lab_status(LAB, "withdrawn", since=NOW, for_cause=True)
    for status, for_cause in (
        ("active", False),
        ("suspended", False),
        ("withdrawn", False),
        ("withdrawn", True),
    ):
        with pytest.raises(InputError, match="final"):
            cn.set_lab_status(LAB, status, since=NOW + timedelta(days=1), for_cause=for_cause)
    reopened = Registry.open(cn.directory)
    with pytest.raises(InputError, match="final"):
        reopened.set_lab_status(LAB, "active", since=NOW + timedelta(days=2))
    lab = TrustList.from_json(parse_compact(reopened.publish(now=NOW)).payload_json()).labs[0]
    assert [(e.status, e.for_cause) for e in lab.status] == [("active", False), ("withdrawn", True)]


def test_plain_withdrawal_can_be_followed_by_reaccreditation(tmp_path: Path) -> None:
    cn = make_registry(tmp_path, "cn", "CN")
    add_lab(cn, SigningKey.generate())
    cn.set_lab_status(LAB, "withdrawn", since=NOW)
    cn.set_lab_status(LAB, "active", since=NOW + timedelta(days=1))
    statuses = [e["status"] for e in Registry.open(cn.directory).state["labs"][0]["status"]]
    assert statuses == ["active", "withdrawn", "active"]


# -- mirrored status lists ------------------------------------------------------------------------


def status_token(
    key: SigningKey,
    *,
    minutes: int,
    bits: tuple[int, ...] = (),
    issuer: str = LAB,
    purposes: tuple[str, ...] = STATUS_PURPOSES,
    url: str | None = None,
) -> str:
    """A signed status list of ``issuer`` (one list, both purposes unless told)."""
    bitstring = Bitstring()
    for i in bits:
        bitstring.set(i, True)
    valid_from = NOW + timedelta(minutes=minutes)
    sl = StatusList(
        url or f"{issuer}/status", issuer, purposes, bitstring, valid_from, valid_from + timedelta(days=30)
    )
    return sl.sign(key, key.public.kid)


@pytest.fixture
def mirror(tmp_path: Path) -> tuple[Registry, SigningKey]:
    cn = make_registry(tmp_path, "cn", "CN")
    key = SigningKey.generate()
    add_lab(cn, key)
    return cn, key


def mirrored(registry: Registry) -> dict[str, str]:
    """URL -> token of every mirrored status list."""
    out = {}
    for token in registry.status_list_tokens():
        out[parse_compact(token).payload_json()["id"]] = token
    return out


def test_mirror_keeps_one_file_per_url_and_returns_what_changed(mirror: tuple[Registry, SigningKey]) -> None:
    reg, key = mirror
    first = status_token(key, minutes=0)
    assert reg.mirror_status_lists([first], now=NOW + timedelta(hours=1)) == [f"{LAB}/status"]
    assert reg.mirror_status_lists([first], now=NOW + timedelta(hours=1)) == []  # the same copy again
    second = status_token(key, minutes=5, bits=(2, 3))
    assert reg.mirror_status_lists([second], now=NOW + timedelta(hours=1)) == [f"{LAB}/status"]
    assert mirrored(reg) == {f"{LAB}/status": second}
    # Another URL of the lab is another file (labs publish one, but the mirror is per URL).
    extra = status_token(key, minutes=5, url=f"{LAB}/status/b")
    assert reg.mirror_status_lists([extra], now=NOW + timedelta(hours=1)) == [f"{LAB}/status/b"]
    assert len(list((reg.directory / "published" / "status").glob("*.jwt"))) == 2


def test_mirror_refuses_a_list_older_than_its_copy(mirror: tuple[Registry, SigningKey]) -> None:
    reg, key = mirror
    newer = status_token(key, minutes=10, bits=(2,))
    reg.mirror_status_lists([newer], now=NOW + timedelta(hours=1))
    with pytest.raises(InputError, match="older"):
        reg.mirror_status_lists([status_token(key, minutes=0)], now=NOW + timedelta(hours=1))
    assert mirrored(reg) == {f"{LAB}/status": newer}


@pytest.mark.parametrize("bad", ["stranger", "older", "not-a-token", "foreign-lab", "outside-url"])
def test_mirror_is_all_or_nothing(mirror: tuple[Registry, SigningKey], bad: str) -> None:
    reg, key = mirror
    first = status_token(key, minutes=10)
    reg.mirror_status_lists([first], now=NOW + timedelta(hours=1))
    before = mirrored(reg)
    good = [
        status_token(key, minutes=20, url=f"{LAB}/status/b"),
        status_token(key, minutes=20, bits=(2,)),
    ]
    if bad == "stranger":
        broken = status_token(SigningKey.generate(), minutes=30)
    elif bad == "older":
        broken = status_token(key, minutes=0)
    elif bad == "not-a-token":
        broken = "not.a.token"
    elif bad == "foreign-lab":
        broken = status_token(key, minutes=30, issuer="https://other.example.cn")
    else:
        broken = status_token(key, minutes=30, url="https://elsewhere.example.cn/status")
    with pytest.raises(InputError):
        reg.mirror_status_lists([good[0], broken, good[1]], now=NOW + timedelta(hours=1))
    assert mirrored(reg) == before


def test_mirror_never_keeps_the_older_of_two_lists_in_one_batch(mirror: tuple[Registry, SigningKey]) -> None:
    reg, key = mirror
    revoked = status_token(key, minutes=10, bits=(2,))
    unrevoked = status_token(key, minutes=0)
    with contextlib.suppress(InputError):  # refusing the batch is fine too
        reg.mirror_status_lists([revoked, unrevoked], now=NOW + timedelta(hours=1))
    assert mirrored(reg).get(f"{LAB}/status") in (None, revoked)


# -- bundles ----------------------------------------------------------------------------------------


def test_bundle_sequence_grows_by_one_per_bundle(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    cn = make_registry(tmp_path, "cn", "CN")
    add_lab(cn, SigningKey.generate())
    root.admit(cn.member_record(since=SINCE, permitted_lab_ids=["https://*.example.cn"]))
    root.publish(now=NOW)
    trust = [cn.publish(now=NOW)]
    sequences, deltas = [], []
    for i in range(3):
        token, delta = root.build_bundle(trust_lists=trust, status_lists=[], now=NOW + timedelta(minutes=i))
        sequences.append(load_bundle(token, pinned_roots=[root.key.public]).sequence)
        deltas.append(delta)
    assert sequences == [1, 2, 3]
    # The first bundle has nothing to be a delta from; each later one comes with its delta.
    assert deltas[0] is None and all(d is not None for d in deltas[1:])
    reopened = FederationRoot.open(root.directory)
    assert reopened.state["bundleSequence"] == 3
    fourth, _ = reopened.build_bundle(trust_lists=trust, status_lists=[], now=NOW + timedelta(hours=1))
    assert load_bundle(fourth, pinned_roots=[root.key.public]).sequence == 4
    # Publishing the federation list moves its own sequence, not the bundle's.
    reopened.publish(now=NOW + timedelta(hours=2))
    token, delta = reopened.build_bundle(trust_lists=trust, status_lists=[], now=NOW + timedelta(hours=2))
    snapshot = load_bundle(token, pinned_roots=[root.key.public])
    assert (snapshot.sequence, snapshot.federation.sequence) == (5, 2)
    # A device holding bundle 4 gets to exactly bundle 5 with the delta, and only once.
    store = SnapshotStore(tmp_path / "device", pinned_roots=[root.key.public])
    store.install(fourth, now=NOW + timedelta(hours=2))
    assert delta is not None
    installed = store.install(delta, now=NOW + timedelta(hours=2))
    assert installed.changed and installed.snapshot.versions == snapshot.versions
    assert (root.directory / "published" / "bundle.ylb").read_bytes() == token
    with pytest.raises(TrustDataError, match="install a full bundle"):
        store.install(delta, now=NOW + timedelta(hours=2))  # it holds bundle 5 now, not 4


def test_mirror_refuses_a_list_dated_in_the_future(mirror: tuple[Registry, SigningKey]) -> None:
    reg, key = mirror
    now = NOW + timedelta(hours=1)
    with pytest.raises(InputError, match="in the future: check the lab's clock"):
        reg.mirror_status_lists([status_token(key, minutes=60 + 61)], now=now)
    assert mirrored(reg) == {}
    # Up to an hour ahead is a clock difference, not the future.
    reg.mirror_status_lists([status_token(key, minutes=60 + 59)], now=now)
    assert list(mirrored(reg)) == [f"{LAB}/status"]


def test_mirror_refuses_a_list_that_clears_a_revoked_bit(
    mirror: tuple[Registry, SigningKey],
) -> None:
    """A rogue lab signing a newer list without a revocation (an even bit) it had
    published: refused. Revoked slots 1 and 4 (bits 2, 8), suspended slot 2 (bit 5)."""
    reg, key = mirror
    now = NOW + timedelta(hours=1)
    reg.mirror_status_lists([status_token(key, minutes=0, bits=(2, 5, 8))], now=now)
    kept = mirrored(reg)
    with pytest.raises(
        InputError, match=r"clears revocations \(1 of them, e\.g\. index 8\): a revocation is final"
    ):
        reg.mirror_status_lists([status_token(key, minutes=5, bits=(2, 5))], now=now)
    assert mirrored(reg) == kept
    # A list that no longer says it is for revocation clears every revocation: refused.
    with pytest.raises(InputError, match=r"clears revocations \(2 of them"):
        reg.mirror_status_lists(
            [status_token(key, minutes=5, bits=(2, 5, 8), purposes=("suspension",))], now=now
        )
    assert mirrored(reg) == kept


def test_mirror_accepts_an_unsuspension(mirror: tuple[Registry, SigningKey]) -> None:
    """Clearing an odd (suspension) bit lifts a suspension: mirrored; adding is fine too."""
    reg, key = mirror
    now = NOW + timedelta(hours=1)
    reg.mirror_status_lists([status_token(key, minutes=0, bits=(2, 5, 8))], now=now)
    lifted = status_token(key, minutes=5, bits=(2, 8))
    assert reg.mirror_status_lists([lifted], now=now) == [f"{LAB}/status"]
    assert mirrored(reg) == {f"{LAB}/status": lifted}
    more = status_token(key, minutes=6, bits=(2, 8, 10, 11))
    assert reg.mirror_status_lists([more], now=now) == [f"{LAB}/status"]


def test_registry_lists_only_labs_within_its_own_lab_ids(tmp_path: Path) -> None:
    reg = file_registry(
        tmp_path / "cn",
        passphrase=PASS,
        since=SINCE,
        registry_id="https://cn.example.org",
        body="CN",
        lab_ids=["https://*.example.cn", "https://labs.example.org/cn"],
    )
    key = SigningKey.generate()
    with pytest.raises(
        InputError, match=r"outside the lab ids this registry may list .*verifiers would drop it"
    ):
        add_lab(reg, key, "https://lab.example.kz")
    with pytest.raises(InputError, match="outside the lab ids"):
        add_lab(reg, key, "https://labs.example.org/kz/l1")
    add_lab(reg, key, "https://lab.example.cn")
    add_lab(reg, SigningKey.generate(), "https://labs.example.org/cn/l1")
    # No lab id inside, or around, another's: their status list URLs would overlap.
    for nested in ("https://lab.example.cn/branch", "https://labs.example.org/cn/l1/x"):
        with pytest.raises(InputError, match="nested with the id of lab"):
            add_lab(reg, SigningKey.generate(), nested)
    assert [lab["id"] for lab in reg.state["labs"]] == [
        "https://lab.example.cn",
        "https://labs.example.org/cn/l1",
    ]
    # The root admits it, by default, with the lab ids it was created with.
    member = reg.member_record(since=SINCE)
    assert [p.text for p in member.permitted_lab_ids] == [
        "https://*.example.cn",
        "https://labs.example.org/cn",
    ]
    with pytest.raises(MalformedInputError):
        Registry.create(
            tmp_path / "bad",
            registry_id="https://bad.example.org",
            country="CN",
            accreditation_body="B",
            publication_url="https://bad.example.org/",
            passphrase_text=PASS,
            now=SINCE,
            lab_ids=["http://*.example.cn"],
        )
    assert not (tmp_path / "bad" / "registry.json").exists()
