"""Rules the registry and the federation root enforce, on the services' storage and domain
(in-process, no HTTP; the service tests cover the same doors over HTTP).

Name constraints at admission (the shared rule, trust_registry/_root_rules.py), canonical
lab ids, final withdrawals for cause, the status lists a registry mirrors (verified,
newest only, all or nothing), and bundle sequences with their deltas.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from protocol.errors import InputError, MalformedInputError, TrustDataError
from protocol.jws import parse_compact
from protocol.keys import SigningKey
from protocol.lists import TrustList
from protocol.names import NamePattern
from protocol.status_list import Bitstring, StatusList
from protocol.vocabulary import STATUS_PURPOSES
from service.db import session
from testkit import SqlRegistry, enrol, sql_registry, sql_root
from trust_registry import _registry_domain as domain
from trust_registry import _root_domain as root_domain
from trust_registry._registry_models import LabCreate, StatusIn
from trust_registry._root_rules import check_patterns_disjoint
from verifier import load_bundle
from verifier.store import SnapshotStore

PASS = "federation rules passphrase"
SINCE = datetime(2026, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
LAB = "https://lab.example.cn"


# -- admission: no two members' names overlap -------------------------------------------------------


def patterns(*texts: str) -> list[NamePattern]:
    return [NamePattern(t) for t in texts]


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
def test_admission_refuses_overlapping_names(first: str, second: str) -> None:
    others = [("https://cn.example.org", "CN-AB", patterns(first))]
    with pytest.raises(InputError) as info:
        check_patterns_disjoint(patterns("https://*.example.kz", second), others)
    text = str(info.value)
    assert first in text and second in text and "https://cn.example.org" in text, text
    assert "\n" not in text


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("https://*.example.cn", "https://*.example.kz"),
        ("https://*.example.cn", "https://example.cn"),  # the wildcard does not cover its base host
        ("https://reg.example.org/cn", "https://reg.example.org/kz"),
        ("https://reg.example.org/labs", "https://reg.example.org/labs2"),
    ],
)
def test_admission_accepts_disjoint_names(first: str, second: str) -> None:
    check_patterns_disjoint(patterns(second), [("https://cn.example.org", "CN-AB", patterns(first))])


def test_admission_needs_valid_patterns() -> None:
    with pytest.raises(InputError, match="at least one lab id pattern"):
        check_patterns_disjoint([], [])
    for bad in ("https://*.cn", "https://*.example.cn/", "https://Example.cn", "example.cn", ""):
        with pytest.raises(MalformedInputError, match="pattern"):
            NamePattern(bad)


def test_the_root_domain_stores_nothing_of_a_refused_member(tmp_path: Path) -> None:
    cn = sql_registry(tmp_path / "cn", passphrase=PASS, since=SINCE, registry_id="https://cn.example.org")
    kz = sql_registry(
        tmp_path / "kz", passphrase=PASS, since=SINCE, registry_id="https://kz.example.org", country="KZ"
    )
    root = sql_root(tmp_path / "root", passphrase=PASS, since=SINCE)
    root.admit(cn, since=SINCE)
    with pytest.raises(InputError, match="overlap"):
        root.admit(kz, since=SINCE, lab_ids=["https://*.example.kz", "https://qdtc.example.cn"])
    with session(root.engine) as db:
        assert [m.id for m in root_domain.list_members(session=db)] == [cn.id]
    for party in (cn, kz, root):
        party.close()


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
def test_a_non_canonical_lab_id_is_refused(lab_id: str) -> None:
    body = {"id": lab_id, "names": {"en": "Lab"}, "country": "CN", "accreditationNumber": "L1"}
    with pytest.raises(ValidationError, match="is not valid: use https://"):
        LabCreate.model_validate(body | {"accreditedSince": SINCE})


@pytest.fixture
def cn(tmp_path: Path, database_url: str | None) -> Iterator[tuple[SqlRegistry, SigningKey]]:
    """A registry (SQLite and PostgreSQL) with one lab and its key, enrolled with proof."""
    reg = sql_registry(tmp_path / "cn", passphrase=PASS, since=SINCE, database_url=database_url)
    key = SigningKey.generate()
    enrol(reg, key, lab_id=LAB, since=SINCE)
    yield reg, key
    reg.close()


def set_status(reg: SqlRegistry, status: str, *, since: datetime, for_cause: bool = False) -> None:
    change = StatusIn.model_validate({"status": status, "since": since, "forCause": for_cause})
    with session(reg.engine) as db:
        domain.set_status(session=db, now=since, actor="test", lab_id=LAB, change=change)


def statuses(reg: SqlRegistry) -> list[tuple[str, bool]]:
    lab = TrustList.from_json(parse_compact(reg.publish(now=NOW + timedelta(days=3))).payload_json()).labs[0]
    return [(e.status, e.for_cause) for e in lab.status]


def test_only_a_withdrawal_can_be_for_cause(cn: tuple[SqlRegistry, SigningKey]) -> None:
    reg, _ = cn
    for status in ("active", "suspended"):
        with pytest.raises(InputError, match="only a withdrawal"):
            set_status(reg, status, since=NOW, for_cause=True)
    assert statuses(reg) == [("active", False)]


def test_withdrawal_for_cause_is_final_and_published(cn: tuple[SqlRegistry, SigningKey]) -> None:
    reg, _ = cn
    set_status(reg, "withdrawn", since=NOW, for_cause=True)
    for status, for_cause in (
        ("active", False),
        ("suspended", False),
        ("withdrawn", False),
        ("withdrawn", True),
    ):
        with pytest.raises(InputError, match="final"):
            set_status(reg, status, since=NOW + timedelta(days=1), for_cause=for_cause)
    assert statuses(reg) == [("active", False), ("withdrawn", True)]


def test_plain_withdrawal_can_be_followed_by_reaccreditation(cn: tuple[SqlRegistry, SigningKey]) -> None:
    reg, _ = cn
    set_status(reg, "withdrawn", since=NOW)
    set_status(reg, "active", since=NOW + timedelta(days=1))
    assert [s for s, _ in statuses(reg)] == ["active", "withdrawn", "active"]


def test_registry_lists_only_labs_within_its_own_lab_ids(cn: tuple[SqlRegistry, SigningKey]) -> None:
    reg, _ = cn
    with pytest.raises(InputError, match="outside the lab ids this registry may list"):
        enrol(reg, SigningKey.generate(), lab_id="https://lab.example.kz", since=SINCE)


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


LATER = NOW + timedelta(hours=1)


def test_mirror_keeps_one_copy_per_url_and_returns_what_changed(cn: tuple[SqlRegistry, SigningKey]) -> None:
    reg, key = cn
    first = status_token(key, minutes=0)
    assert reg.mirror([first], now=LATER) == [f"{LAB}/status"]
    assert reg.mirror([first], now=LATER) == []  # the same copy again
    second = status_token(key, minutes=5, bits=(2, 3))
    assert reg.mirror([second], now=LATER) == [f"{LAB}/status"]
    assert reg.mirrored() == {f"{LAB}/status": second}
    # Another URL of the lab is another copy (labs publish one, but the mirror is per URL).
    extra = status_token(key, minutes=5, url=f"{LAB}/status/b")
    assert reg.mirror([extra], now=LATER) == [f"{LAB}/status/b"]
    assert len(reg.mirrored()) == 2


def test_mirror_refuses_a_list_older_than_its_copy(cn: tuple[SqlRegistry, SigningKey]) -> None:
    reg, key = cn
    newer = status_token(key, minutes=10, bits=(2,))
    reg.mirror([newer], now=LATER)
    with pytest.raises(InputError, match="older"):
        reg.mirror([status_token(key, minutes=0)], now=LATER)
    assert reg.mirrored() == {f"{LAB}/status": newer}


@pytest.mark.parametrize("bad", ["stranger", "older", "not-a-token", "foreign-lab", "outside-url"])
def test_mirror_is_all_or_nothing(cn: tuple[SqlRegistry, SigningKey], bad: str) -> None:
    reg, key = cn
    reg.mirror([status_token(key, minutes=10)], now=LATER)
    before = reg.mirrored()
    good = [status_token(key, minutes=20, url=f"{LAB}/status/b"), status_token(key, minutes=20, bits=(2,))]
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
        reg.mirror([good[0], broken, good[1]], now=LATER)
    assert reg.mirrored() == before


def test_mirror_never_keeps_the_older_of_two_lists_in_one_batch(cn: tuple[SqlRegistry, SigningKey]) -> None:
    reg, key = cn
    revoked = status_token(key, minutes=10, bits=(2,))
    unrevoked = status_token(key, minutes=0)
    with contextlib.suppress(InputError):  # refusing the batch is fine too
        reg.mirror([revoked, unrevoked], now=LATER)
    assert reg.mirrored().get(f"{LAB}/status") in (None, revoked)


def test_mirror_refuses_a_list_dated_in_the_future(cn: tuple[SqlRegistry, SigningKey]) -> None:
    reg, key = cn
    with pytest.raises(InputError, match="in the future: check the lab's clock"):
        reg.mirror([status_token(key, minutes=60 + 61)], now=LATER)
    assert reg.mirrored() == {}
    # Up to an hour ahead is a clock difference, not the future.
    reg.mirror([status_token(key, minutes=60 + 59)], now=LATER)
    assert list(reg.mirrored()) == [f"{LAB}/status"]


def test_mirror_refuses_a_list_that_clears_a_revoked_bit(cn: tuple[SqlRegistry, SigningKey]) -> None:
    """A rogue lab signing a newer list without a revocation (an even bit) it had
    published: refused. Revoked slots 1 and 4 (bits 2, 8), suspended slot 2 (bit 5)."""
    reg, key = cn
    reg.mirror([status_token(key, minutes=0, bits=(2, 5, 8))], now=LATER)
    kept = reg.mirrored()
    with pytest.raises(
        InputError, match=r"clears revocations \(1 of them, e\.g\. index 8\): a revocation is final"
    ):
        reg.mirror([status_token(key, minutes=5, bits=(2, 5))], now=LATER)
    assert reg.mirrored() == kept
    # A list that no longer says it is for revocation clears every revocation: refused.
    with pytest.raises(InputError, match=r"clears revocations \(2 of them"):
        reg.mirror([status_token(key, minutes=5, bits=(2, 5, 8), purposes=("suspension",))], now=LATER)
    assert reg.mirrored() == kept


def test_mirror_accepts_an_unsuspension(cn: tuple[SqlRegistry, SigningKey]) -> None:
    """Clearing an odd (suspension) bit lifts a suspension: mirrored; adding is fine too."""
    reg, key = cn
    reg.mirror([status_token(key, minutes=0, bits=(2, 5, 8))], now=LATER)
    lifted = status_token(key, minutes=5, bits=(2, 8))
    assert reg.mirror([lifted], now=LATER) == [f"{LAB}/status"]
    assert reg.mirrored() == {f"{LAB}/status": lifted}
    more = status_token(key, minutes=6, bits=(2, 8, 10, 11))
    assert reg.mirror([more], now=LATER) == [f"{LAB}/status"]


# -- bundles ----------------------------------------------------------------------------------------


def test_bundle_sequence_grows_by_one_per_bundle(tmp_path: Path) -> None:
    reg = sql_registry(tmp_path / "cn", passphrase=PASS, since=SINCE)
    enrol(reg, SigningKey.generate(), lab_id=LAB, since=SINCE)
    root = sql_root(tmp_path / "root", passphrase=PASS, since=SINCE)
    root.admit(reg, since=SINCE)
    root.fetch({f"{reg.id}/yilu/": reg.publish(now=NOW)}, now=NOW)
    root.publish(now=NOW)
    pin = root.signer().public
    sequences, deltas, fulls = [], [], []
    for i in range(4):
        full, delta = root.bundle(now=NOW + timedelta(minutes=i))
        sequences.append(load_bundle(full, pinned_roots=[pin]).sequence)
        deltas.append(delta)
        fulls.append(full)
    assert sequences == [1, 2, 3, 4]
    # The first bundle has nothing to be a delta from; each later one comes with its delta.
    assert deltas[0] is None and all(d is not None for d in deltas[1:])
    # Publishing the federation list moves its own sequence, not the bundle's.
    root.publish(now=NOW + timedelta(hours=2))
    full, delta = root.bundle(now=NOW + timedelta(hours=2))
    snapshot = load_bundle(full, pinned_roots=[pin])
    assert (snapshot.sequence, snapshot.federation.sequence) == (5, 2)
    # A device holding bundle 4 gets to exactly bundle 5 with the delta, and only once.
    store = SnapshotStore(tmp_path / "device", pinned_roots=[pin])
    store.install(fulls[3], now=NOW + timedelta(hours=2))
    assert delta is not None
    installed = store.install(delta, now=NOW + timedelta(hours=2))
    assert installed.changed and installed.snapshot.versions == snapshot.versions
    with pytest.raises(TrustDataError, match="install a full bundle"):
        store.install(delta, now=NOW + timedelta(hours=2))  # it holds bundle 5 now, not 4
    reg.close()
    root.close()
