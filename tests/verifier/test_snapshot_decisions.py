"""Each decision of bundle loading (verifier/_snapshot.py), pinned by what a caller sees: the
exact parts dropped (part, reason, kind, in order), the versions recorded, the boundaries the
docs give (docs/verifying.md, "Trust data" and "Lists dated after their bundle")."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from protocol.bundle import MAGIC, Bundle, make_delta, open_container, read_unchecked
from protocol.encoding import b64url_encode, dumps_compact, format_time
from protocol.errors import TrustDataError
from protocol.jws import TYP_VC, parse_compact, sign_compact
from protocol.keys import SigningKey, VerifyKey
from protocol.lists import (
    TYP_FEDERATION_LIST,
    TYP_TRUST_LIST,
    FederationList,
    KeyRecord,
    Member,
    StatusEvent,
    TrustList,
)
from protocol.names import NamePattern
from protocol.reasons import ReasonCode
from protocol.rootchain import sign_rotation
from protocol.status_list import Bitstring, StatusList
from protocol.vocabulary import STATUS_PURPOSES
from testkit import FEDERATION, NOW, YEAR_AGO, World
from verifier import _snapshot
from verifier._snapshot import (
    FUTURE_TOLERANCE,
    PartVersion,
    Skipped,
    Snapshot,
    Versions,
    load_bundle,
    load_snapshot,
    status_key,
)

CN, RU, KZ = World.reg_id("CN"), World.reg_id("RU"), World.reg_id("KZ")
QDTC, SDMT, NFTC = "https://qdtc.example.cn", "https://sdmt.example.cn", "https://nftc.example.ru"
#: When the World's trust and status lists are dated (testkit), and its bundles built.
LISTED = NOW - timedelta(hours=1)
BUILT = NOW - timedelta(minutes=30)


class KeyedWorld(World):
    """A World whose member registries' key records can be set (validity, revocation)."""

    records: dict[str, tuple[KeyRecord, ...]]

    def __post_init__(self) -> None:
        super().__post_init__()
        self.records = {}

    def member(self, cc: str) -> Member:
        member = super().member(cc)
        return replace(member, keys=self.records[cc]) if cc in self.records else member


def load(world: World, **kw: object) -> Snapshot:
    return load_bundle(world.bundle(**kw), pinned_roots=[world.root.public])  # type: ignore[arg-type]


def skips(snap: Snapshot) -> list[tuple[str, str, str]]:
    return [(s.part, s.reason, s.kind) for s in snap.skipped]


def trust_list(world: World, cc: str, **changes: object) -> str:
    """The world's trust list of ``cc`` with fields changed, signed by ``signer`` (default its key)."""
    signer = changes.pop("signer", world.reg_keys[cc])
    assert isinstance(signer, SigningKey)
    kid = changes.pop("kid", signer.public.kid)
    assert isinstance(kid, str)
    tl = TrustList.from_json(_payload(world.trust_list(cc)))
    return replace(tl, **changes).sign(signer, kid)  # type: ignore[arg-type]


def _payload(token: str) -> dict[str, object]:
    return parse_compact(token).payload_json()


def sign_fed(fed: FederationList, key: SigningKey, kid: str | None = None) -> str:
    """A federation list signed by any key (FederationList.sign insists on its own rootKeys)."""
    return sign_compact(dumps_compact(fed.to_json()), key, kid=kid or key.public.kid, typ=TYP_FEDERATION_LIST)


def status_list(
    world: World,
    lab: str,
    *,
    url: str | None = None,
    issuer: str | None = None,
    valid_from: datetime = LISTED,
    valid_until: datetime | None = NOW + timedelta(days=30),
    revoked: tuple[int, ...] = (),
    signer: SigningKey | None = None,
) -> str:
    spec = world.labs[lab]
    bits = Bitstring()
    for i in revoked:
        bits.set(i, True)
    sl = StatusList(url or spec.url, issuer or spec.id, STATUS_PURPOSES, bits, valid_from, valid_until)
    key = signer or spec.key
    return sl.sign(key, key.public.kid)


def unbound(world: World, position: int, lab: str) -> tuple[str, str, str]:
    """How a status list of a lab whose listing was dropped is reported (by position: no
    bound lab vouches for what it says)."""
    kid = world.labs[lab].key.public.kid
    return (
        f"status list #{position}",
        f"not signed by a key of any listed lab (kid {kid[:20]!r})",
        "invalid",
    )


def others(world: World, *but: str) -> list[str]:
    return [t for name, spec in world.labs.items() if name not in but for t in world.status_lists(spec)]


def trust_lists(world: World, **replaced: str) -> list[str]:
    return [replaced.get(cc, world.trust_list(cc)) for cc in world.reg_keys]


# -- the federation list (fatal) --------------------------------------------------------------


def test_the_world_loads_whole() -> None:
    world = World()
    snap = load(world)
    assert skips(snap) == []
    assert sorted(snap.trust_lists) == [CN, KZ, RU]
    assert list(snap.labs) == [QDTC, SDMT, NFTC]
    assert sorted(snap.status_lists) == [
        (NFTC, NFTC + "/status"),
        (QDTC, QDTC + "/status"),
        (SDMT, SDMT + "/status"),
    ]
    assert snap.dropped_kids == {} and snap.dropped_status == {} and snap.dropped_labs == set()
    assert snap.members_without_trust_list() == []


@pytest.mark.parametrize("signer", ["registry", "root-kid-other-key", "root-key-other-kid"])
def test_federation_list_not_signed_by_the_root_fails_the_load(signer: str) -> None:
    world = World()
    fed = FederationList.from_json(_payload(world.federation()))
    if signer == "registry":
        token = sign_fed(fed, world.reg_keys["CN"])
    elif signer == "root-kid-other-key":
        token = sign_fed(fed, SigningKey.generate(), world.root.public.kid)
    else:
        token = sign_fed(fed, world.root, "another-kid")
    with pytest.raises(
        TrustDataError, match=r"^the federation list is not signed by a key of root version 1,"
    ):
        load(world, federation=token)


@pytest.mark.parametrize("change", ["version", "keys"])
def test_federation_list_naming_another_root_fails_the_load(change: str) -> None:
    world = World()
    fed = FederationList.from_json(_payload(world.federation()))
    if change == "version":
        fed = replace(fed, root_version=2)
    else:
        fed = replace(fed, root_keys=(world.root.public, SigningKey.generate().public))
    with pytest.raises(TrustDataError, match=r"^the federation list names root version"):
        load(world, federation=sign_fed(fed, world.root))


def test_federation_list_of_another_federation_fails_the_load() -> None:
    world = World()
    fed = FederationList.from_json(_payload(world.federation()))
    token = sign_fed(replace(fed, federation="https://other.example"), world.root)
    with pytest.raises(TrustDataError, match=r"but holds the list of 'https://other\.example'"):
        load(world, federation=token)


def test_federation_list_naming_a_member_twice_fails_the_load() -> None:
    world = World()
    fed = FederationList.from_json(_payload(world.federation()))
    token = sign_fed(replace(fed, registries=(*fed.registries, fed.registries[0])), world.root)
    with pytest.raises(TrustDataError, match="names a member registry twice"):
        load(world, federation=token)


# -- trust lists ------------------------------------------------------------------------------


def test_trust_list_signed_by_a_compromised_registry_key_is_dropped_with_its_labs() -> None:
    world = KeyedWorld()
    # Revoked for keyCompromise after the list was issued: never valid (docs/formats.md, "Keys").
    world.records["CN"] = (KeyRecord(world.reg_keys["CN"].public, YEAR_AGO, None, NOW, "keyCompromise"),)
    snap = load(world)
    kid = world.reg_keys["CN"].public.kid
    assert skips(snap) == [
        (
            f"trust list of AB-CN ({CN})",
            f"signed with key {kid}, which was revoked (keyCompromise)",
            "invalid",
        ),
        unbound(world, 1, "cn-food"),
        unbound(world, 2, "cn-metals"),
    ]
    assert sorted(snap.trust_lists) == [KZ, RU]
    assert list(snap.labs) == [NFTC]
    assert snap.dropped_labs == {QDTC, SDMT}
    assert sorted(snap.dropped_kids) == sorted(world.labs[n].key.public.kid for n in ("cn-food", "cn-metals"))
    assert [m.id for m in snap.members_without_trust_list()] == [CN]
    assert snap.dropped_status == {} and snap.status_lists.keys() == {(NFTC, NFTC + "/status")}
    assert CN not in snap.versions.trust_lists


def test_trust_list_signed_by_a_key_revoked_for_another_reason_after_it_was_issued_is_kept() -> None:
    world = KeyedWorld()
    world.records["CN"] = (KeyRecord(world.reg_keys["CN"].public, YEAR_AGO, None, NOW, "superseded"),)
    snap = load(world)
    assert skips(snap) == [] and CN in snap.trust_lists


@pytest.mark.parametrize(
    ("valid_from", "valid_until", "usable"),
    [
        (LISTED, None, True),  # valid from the very instant the list was issued
        (LISTED + timedelta(seconds=1), None, False),
        (YEAR_AGO, LISTED, True),  # valid until the very instant
        (YEAR_AGO, LISTED - timedelta(seconds=1), False),
    ],
)
def test_trust_list_signing_key_must_be_valid_when_the_list_was_issued(
    valid_from: datetime, valid_until: datetime | None, usable: bool
) -> None:
    world = KeyedWorld()
    world.records["RU"] = (KeyRecord(world.reg_keys["RU"].public, valid_from, valid_until),)
    snap = load(world)
    if usable:
        assert skips(snap) == [] and RU in snap.trust_lists
        return
    kid = world.reg_keys["RU"].public.kid
    assert skips(snap) == [
        (f"trust list of AB-RU ({RU})", f"signed with key {kid} outside its validity", "invalid"),
        unbound(world, 3, "ru-food"),
    ]
    assert RU not in snap.trust_lists and NFTC not in snap.labs
    assert snap.dropped_labs == {NFTC}


def test_trust_list_claiming_another_country_is_dropped() -> None:
    world = World()
    snap = load(world, trust_lists=trust_lists(world, KZ=trust_list(world, "KZ", country="UZ")))
    assert skips(snap) == [
        (f"trust list of AB-KZ ({KZ})", "claims country UZ, the federation list says KZ", "invalid")
    ]
    assert KZ not in snap.trust_lists and KZ not in snap.versions.trust_lists


def test_a_bad_key_is_reported_before_a_wrong_country() -> None:
    world = KeyedWorld()
    world.records["CN"] = (KeyRecord(world.reg_keys["CN"].public, NOW),)
    snap = load(world, trust_lists=trust_lists(world, CN=trust_list(world, "CN", country="RU")))
    kid = world.reg_keys["CN"].public.kid
    assert skips(snap)[0] == (
        f"trust list of AB-CN ({CN})",
        f"signed with key {kid} outside its validity",
        "invalid",
    )
    assert snap.dropped_labs == {QDTC, SDMT}


def test_trust_list_claiming_another_registry_is_a_conflict() -> None:
    world = World()
    snap = load(world, trust_lists=trust_lists(world, KZ=trust_list(world, "KZ", registry=RU)))
    assert skips(snap) == [
        (f"trust list of AB-KZ ({KZ})", f"signed by {KZ} but claims to be the list of {RU}", "conflict")
    ]
    assert KZ not in snap.trust_lists and RU in snap.trust_lists


def test_trust_list_signed_by_a_key_no_member_has() -> None:
    world = World()
    rogue = SigningKey.generate()
    forged = trust_list(world, "CN", signer=rogue)
    snap = load(world, trust_lists=trust_lists(world, CN=forged))
    assert skips(snap)[0] == (
        f"trust list of {CN}",
        "its signature does not verify with the member's keys",
        "invalid",
    )
    assert snap.dropped_labs == {QDTC, SDMT} and CN not in snap.trust_lists
    assert set(snap.dropped_kids) == {
        world.labs["cn-food"].key.public.kid,
        world.labs["cn-metals"].key.public.kid,
    }


@pytest.mark.parametrize("alg", ["EdDSA", "ES256"])
def test_trust_list_under_a_member_kid_but_another_key(alg: str) -> None:
    """The signer is found by kid and then verified: the kid alone proves nothing, nor does a
    header naming another algorithm than the member key's."""
    world = World()
    forged = trust_list(world, "CN", signer=SigningKey.generate(alg), kid=world.reg_keys["CN"].public.kid)
    snap = load(world, trust_lists=trust_lists(world, CN=forged))
    assert skips(snap)[0] == (
        f"trust list of {CN}",
        "its signature does not verify with the member's keys",
        "invalid",
    )


def test_trust_list_signed_by_its_key_under_another_kid_is_not_used() -> None:
    world = World()
    snap = load(world, trust_lists=trust_lists(world, RU=trust_list(world, "RU", kid="not-its-kid")))
    assert skips(snap)[0] == (
        f"trust list of {RU}",
        "its signature does not verify with the member's keys",
        "invalid",
    )


def test_trust_list_of_a_registry_outside_the_federation_is_a_conflict() -> None:
    world = World()
    outsider = trust_list(world, "KZ", registry="https://registry.example.uz", signer=SigningKey.generate())
    snap = load(world, trust_lists=[*trust_lists(world), outsider])
    assert skips(snap) == [
        ("trust list #4", "registry https://registry.example.uz is not a federation member", "conflict")
    ]
    assert sorted(snap.trust_lists) == [CN, KZ, RU]


def test_unverified_trust_list_that_is_no_trust_list() -> None:
    world = World()
    junk = sign_compact(dumps_compact({"registry": 7}), SigningKey.generate(), kid="x", typ=TYP_TRUST_LIST)
    snap = load(world, trust_lists=[*trust_lists(world), junk])
    assert skips(snap) == [("trust list #4", "not signed by a key of any member registry", "invalid")]


def test_malformed_trust_list_token_is_reported_by_position() -> None:
    world = World()
    snap = load(
        world,
        trust_lists=[world.trust_list("CN"), "not a jws", world.trust_list("RU"), world.trust_list("KZ")],
    )
    assert [(p, k) for p, _, k in skips(snap)] == [("trust list #2", "invalid")]
    assert skips(snap)[0][1].startswith("trust list #2 is malformed: ")
    assert sorted(snap.trust_lists) == [CN, KZ, RU]


def test_signed_trust_list_with_a_malformed_payload() -> None:
    world = World()
    key = world.reg_keys["KZ"]
    bad = sign_compact(dumps_compact({"registry": KZ}), key, kid=key.public.kid, typ=TYP_TRUST_LIST)
    snap = load(world, trust_lists=trust_lists(world, KZ=bad))
    assert len(skips(snap)) == 1
    part, reason, kind = skips(snap)[0]
    assert (part, kind) == (f"trust list of AB-KZ ({KZ})", "invalid") and reason.startswith("malformed: ")
    assert KZ not in snap.trust_lists


@pytest.mark.parametrize(
    ("after", "kept"), [(FUTURE_TOLERANCE, True), (FUTURE_TOLERANCE + timedelta(seconds=1), False)]
)
def test_trust_list_dated_after_its_bundle(after: timedelta, kept: bool) -> None:
    """Up to an hour after the bundle's createdAt is kept, later is dropped (docs/verifying.md)."""
    world = World()
    snap = load(world, created_at=LISTED - after)
    if kept:
        assert skips(snap) == []
        return
    assert [s for s in skips(snap) if s[0].startswith("trust list")] == [
        (
            f"trust list of AB-{cc} ({World.reg_id(cc)})",
            "issued 2026-11-27T08:00:00Z, after the bundle that carries it was built",
            "invalid",
        )
        for cc in ("CN", "RU", "KZ")
    ]
    assert snap.trust_lists == {}


def test_future_tolerance_is_the_documented_hour() -> None:
    assert timedelta(hours=1) == FUTURE_TOLERANCE


@pytest.mark.parametrize("older_first", [True, False])
def test_only_the_newest_trust_list_of_a_registry_is_kept(older_first: bool) -> None:
    world = World()
    old = world.trust_list("RU")
    new = trust_list(world, "RU", sequence=2)
    pair = [old, new] if older_first else [new, old]
    snap = load(world, trust_lists=[world.trust_list("CN"), *pair, world.trust_list("KZ")])
    assert skips(snap) == []
    assert snap.trust_lists[RU].sequence == 2
    assert snap.versions.trust_lists[RU].version == "2"


def test_two_lists_at_one_sequence_disable_the_registry() -> None:
    world = World()
    other = trust_list(world, "RU", accreditation_body="AB-RU2")
    snap = load(world, trust_lists=[*trust_lists(world), other])
    assert skips(snap)[0] == (
        f"trust list of AB-RU ({RU})",
        "two different lists with sequence 1: the registry must publish one",
        "invalid",
    )
    assert RU not in snap.trust_lists and NFTC in snap.dropped_labs and RU not in snap.versions.trust_lists


def test_the_same_list_twice_is_one_list() -> None:
    world = World()
    snap = load(world, trust_lists=[*trust_lists(world), world.trust_list("RU")])
    assert skips(snap) == [] and RU in snap.trust_lists


# -- binding ----------------------------------------------------------------------------------


def test_a_lab_listed_twice_is_dropped() -> None:
    world = World()
    tl = TrustList.from_json(_payload(world.trust_list("RU")))
    token = replace(tl, labs=(*tl.labs, tl.labs[0])).sign(
        world.reg_keys["RU"], world.reg_keys["RU"].public.kid
    )
    snap = load(world, trust_lists=trust_lists(world, RU=token))
    assert (
        skips(snap)[:2]
        == [(f"listing of lab {NFTC} by AB-RU", "the trust list names this lab more than once", "invalid")]
        * 2
    )
    assert NFTC not in snap.labs and NFTC in snap.dropped_labs


def test_a_lab_outside_the_registrys_names_is_a_conflict_and_its_kid_stays_usable_elsewhere() -> None:
    world = World()
    cn = TrustList.from_json(_payload(world.trust_list("CN")))
    ru = TrustList.from_json(_payload(world.trust_list("RU")))
    # The RU registry lists the CN lab (same keys): it may not.
    token = replace(ru, labs=(*ru.labs, cn.labs[0])).sign(
        world.reg_keys["RU"], world.reg_keys["RU"].public.kid
    )
    snap = load(world, trust_lists=trust_lists(world, RU=token))
    assert skips(snap) == [
        (
            f"listing of lab {QDTC} by AB-RU",
            "AB-RU may not list this lab: it is outside the lab ids the federation list permits that "
            "registry",
            "conflict",
        )
    ]
    assert snap.labs[QDTC].member.id == CN
    # Its kid is bound by the CN listing: not reported as dropped.
    assert world.labs["cn-food"].key.public.kid not in snap.dropped_kids
    assert [e.owner.member.id for e in snap.keys_by_kid[world.labs["cn-food"].key.public.kid]] == [CN]


# -- status lists -----------------------------------------------------------------------------


def test_status_list_versions_record_owner_registry_and_revocations() -> None:
    world = World()
    token = status_list(world, "ru-food", revoked=(4, 5, 8))
    snap = load(world, status_lists=[*others(world, "ru-food"), token])
    version = snap.versions.status_lists[status_key(NFTC, NFTC + "/status")]
    assert version == PartVersion("2026-11-27T08:00:00Z", version.digest, NFTC, RU, (4, 8))
    assert snap.status_list(NFTC, NFTC + "/status") is not None
    assert snap.status_list(NFTC, NFTC + "/other") is None


def test_status_list_naming_another_lab_as_issuer_is_a_conflict() -> None:
    world = World()
    token = status_list(world, "cn-food", issuer=SDMT, url=SDMT + "/status")
    snap = load(world, status_lists=[*others(world), token])
    assert skips(snap) == [
        (f"status list {SDMT}/status", f"signed by a key of {QDTC} but names the issuer {SDMT}", "conflict")
    ]


def test_status_list_url_outside_its_lab_is_a_conflict() -> None:
    world = World()
    token = status_list(world, "cn-food", url="https://elsewhere.example.cn/status")
    snap = load(world, status_lists=[*others(world), token])
    assert skips(snap) == [
        (
            "status list https://elsewhere.example.cn/status",
            f"its URL is not inside its lab's id {QDTC}",
            "conflict",
        )
    ]


@pytest.mark.parametrize(
    ("after", "kept"), [(FUTURE_TOLERANCE, True), (FUTURE_TOLERANCE + timedelta(seconds=1), False)]
)
def test_status_list_dated_after_its_bundle(after: timedelta, kept: bool) -> None:
    world = World()
    token = status_list(world, "cn-food", valid_from=BUILT + after)
    snap = load(world, status_lists=[*others(world, "cn-food"), token])
    key = (QDTC, QDTC + "/status")
    if kept:
        assert skips(snap) == [] and key in snap.status_lists
        return
    expected = Skipped(
        f"status list {QDTC}/status",
        f"issued {(BUILT + after).strftime('%Y-%m-%dT%H:%M:%SZ')}, after the bundle that carries it "
        "was built",
    )
    assert snap.skipped == [expected] and snap.dropped_status == {key: expected}


@pytest.mark.parametrize(
    ("key_from", "key_until", "kept"),
    [
        (LISTED, None, True),
        (LISTED + timedelta(seconds=1), None, False),
        (YEAR_AGO, LISTED, True),
        (YEAR_AGO, LISTED - timedelta(seconds=1), False),
    ],
)
def test_status_list_key_must_be_valid_at_its_valid_from(
    key_from: datetime, key_until: datetime | None, kept: bool
) -> None:
    world = World()
    world.labs["ru-food"].key_from, world.labs["ru-food"].key_until = key_from, key_until
    snap = load(world)
    key = (NFTC, NFTC + "/status")
    if kept:
        assert skips(snap) == [] and key in snap.status_lists
        return
    kid = world.labs["ru-food"].key.public.kid
    assert skips(snap) == [
        (f"status list {NFTC}/status", f"signed with key {kid} outside its validity", "invalid")
    ]
    assert key not in snap.status_lists and key in snap.dropped_status


def test_status_list_usable_if_one_of_the_labs_keys_under_its_kid_is() -> None:
    """Two records of one key (an old window and a new one): the list is dated in the new."""
    world = World()
    spec = world.labs["ru-food"]
    spec.key_until = LISTED - timedelta(days=1)
    spec.extra_keys = [KeyRecord(spec.key.public, LISTED - timedelta(hours=1))]
    snap = load(world)
    assert skips(snap) == [] and (NFTC, NFTC + "/status") in snap.status_lists


@pytest.mark.parametrize(("until", "kept"), [(LISTED, True), (LISTED - timedelta(seconds=1), False)])
def test_status_list_valid_until_before_valid_from(until: datetime, kept: bool) -> None:
    world = World()
    token = status_list(world, "cn-food", valid_until=until)
    snap = load(world, status_lists=[*others(world, "cn-food"), token])
    if kept:
        assert skips(snap) == []
        return
    assert skips(snap) == [
        (f"status list {QDTC}/status", "its validUntil is before its validFrom", "invalid")
    ]


def test_status_list_without_valid_until_is_kept() -> None:
    world = World()
    token = status_list(world, "cn-food", valid_until=None)
    snap = load(world, status_lists=[*others(world, "cn-food"), token])
    assert skips(snap) == [] and snap.status_lists[(QDTC, QDTC + "/status")].valid_until is None


@pytest.mark.parametrize("older_first", [True, False])
def test_newest_status_list_wins_and_clears_an_older_ones_drop(older_first: bool) -> None:
    world = World()
    old = status_list(
        world, "cn-food", valid_from=LISTED - timedelta(hours=1), valid_until=LISTED - timedelta(hours=2)
    )
    new = status_list(world, "cn-food", revoked=(2,))
    pair = [old, new] if older_first else [new, old]
    snap = load(world, status_lists=[*others(world, "cn-food"), *pair])
    key = (QDTC, QDTC + "/status")
    # The older list is bad (validUntil before validFrom): reported, but the newer is used.
    assert skips(snap) == [
        (f"status list {QDTC}/status", "its validUntil is before its validFrom", "invalid")
    ]
    assert snap.status_lists[key].revoked_indices() == (2,)
    assert key not in snap.dropped_status


def test_two_status_lists_at_one_valid_from_disable_the_url() -> None:
    world = World()
    a, b = status_list(world, "cn-food", revoked=(2,)), status_list(world, "cn-food", revoked=(4,))
    snap = load(world, status_lists=[*others(world, "cn-food"), a, b])
    key = (QDTC, QDTC + "/status")
    expected = Skipped(
        f"status list {QDTC}/status",
        "two different lists issued at 2026-11-27T08:00:00Z: the lab must publish one",
    )
    assert snap.skipped == [expected] and snap.dropped_status == {key: expected}
    assert key not in snap.status_lists and status_key(*key) not in snap.versions.status_lists


def test_status_list_of_a_known_lab_signed_by_another_key() -> None:
    world = World()
    token = status_list(world, "cn-food", signer=SigningKey.generate())
    snap = load(world, status_lists=[*others(world, "cn-food"), token])
    key = (QDTC, QDTC + "/status")
    expected = Skipped(f"status list {QDTC}/status", f"not signed by a key of {QDTC}")
    assert snap.skipped == [expected] and snap.dropped_status == {key: expected}


def test_unverified_status_list_outside_its_claimed_lab_is_only_reported() -> None:
    world = World()
    rogue = SigningKey.generate()
    token = status_list(world, "cn-food", url="https://elsewhere.example.cn/s", signer=rogue)
    snap = load(world, status_lists=[*others(world), token])
    assert skips(snap) == [
        (
            "status list #4",
            f"not signed by a key of any listed lab (kid {rogue.public.kid[:20]!r})",
            "invalid",
        )
    ]
    assert snap.dropped_status == {}


def test_malformed_status_list_token_is_reported_by_position() -> None:
    world = World()
    snap = load(world, status_lists=["junk", *others(world)])
    assert [(p, k) for p, _, k in skips(snap)] == [("status list #1", "invalid")]
    assert skips(snap)[0][1].startswith("status list #1 is malformed: ")
    assert len(snap.status_lists) == 3


# -- the snapshot's answers -------------------------------------------------------------------


def test_expires_at_is_the_earliest_list() -> None:
    world = World()
    world.trust_expires = NOW + timedelta(days=3)
    snap = load(world)
    assert snap.expires_at() == NOW + timedelta(days=3)
    world.trust_expires, world.federation_expires = NOW + timedelta(days=60), NOW + timedelta(days=2)
    assert load(world).expires_at() == NOW + timedelta(days=2)


def test_lab_counts_and_status_validity() -> None:
    world = World()
    world.labs["cn-metals"].status_valid_until = None
    snap = load(world)
    assert snap.lab_counts() == {CN: 2, RU: 1}
    assert sorted(snap.status_validity(), key=lambda p: p[0]) == [
        (NFTC + "/status", NOW + timedelta(days=30)),
        (QDTC + "/status", NOW + timedelta(days=30)),
        (SDMT + "/status", None),
    ]


def test_skipped_total_counts_the_list_unless_an_index_kept_a_count() -> None:
    world = World()
    snap = load(world, status_lists=["junk"])
    assert snap.skipped_total == 1
    snap.skipped_count = 0
    assert snap.skipped_total == 0
    snap.skipped_count = 7
    assert snap.skipped_total == 7


def test_members_without_trust_list_are_only_the_active_ones() -> None:
    world = World()
    world.member_status["KZ"] = [
        StatusEvent("active", YEAR_AGO),
        StatusEvent("suspended", NOW - timedelta(days=1)),
    ]
    snap = load(world, trust_lists=[world.trust_list("CN")])
    assert [m.id for m in snap.members_without_trust_list()] == [RU]


def test_versions_round_trip_and_refuse_damage() -> None:
    world = World()
    versions = load(
        world, status_lists=[*others(world, "ru-food"), status_list(world, "ru-food", revoked=(6,))]
    ).versions
    assert Versions.from_json(versions.to_json()) == versions
    obj = versions.to_json()
    assert obj["bundle"] == {"sequence": 1, "digest": versions.bundle_digest}
    assert obj["federationList"]["sequence"] == 1
    assert list(obj["trustLists"]) == sorted(obj["trustLists"])
    assert obj["trustLists"][CN] == {"version": "1", "digest": versions.trust_lists[CN].digest}
    assert obj["statusLists"][status_key(NFTC, NFTC + "/status")]["revoked"] == [6]
    assert "revoked" not in obj["statusLists"][status_key(QDTC, QDTC + "/status")]
    for broken in ({}, {**obj, "bundle": {"sequence": "x", "digest": ""}}, {**obj, "trustLists": []}):
        with pytest.raises(TrustDataError, match="the stored version record is damaged"):
            Versions.from_json(broken)
    assert Versions.empty() == Versions("", -1, "", -1, "", {}, {})


def test_part_version_json_names_owner_only_when_set() -> None:
    assert PartVersion("1", "d").to_json() == {"version": "1", "digest": "d"}
    assert PartVersion("1", "d", "o", "r", (2,)).to_json() == {
        "version": "1",
        "digest": "d",
        "owner": "o",
        "registry": "r",
        "revoked": [2],
    }


def test_skipped_reads_as_part_and_reason() -> None:
    assert str(Skipped("trust list #1", "bad")) == "trust list #1: bad"


# -- the bundle file --------------------------------------------------------------------------


def test_bundle_size_limit_is_inclusive(monkeypatch: pytest.MonkeyPatch) -> None:
    world = World()
    data = world.bundle()
    monkeypatch.setattr(_snapshot, "MAX_BUNDLE_BYTES", len(data))
    assert load_bundle(data, pinned_roots=[world.root.public]).sequence == 1
    monkeypatch.setattr(_snapshot, "MAX_BUNDLE_BYTES", len(data) - 1)
    with pytest.raises(
        TrustDataError, match=rf"^this file is larger than any bundle \({len(data) - 1} bytes at most\)$"
    ):
        load_bundle(data, pinned_roots=[world.root.public])


def test_bundle_signed_by_another_root() -> None:
    world = World()
    other = SigningKey.generate()
    with pytest.raises(TrustDataError, match="not by your pinned federation root"):
        load_bundle(world.bundle(signer=other), pinned_roots=[world.root.public])


def test_bundle_under_the_root_kid_but_another_key_is_damaged() -> None:
    world = World()
    b = Bundle(
        FEDERATION,
        1,
        BUILT,
        (dict(world.root.public.jwk),),
        world.federation(),
        tuple(world.trust_list(cc) for cc in world.reg_keys),
        tuple(world.all_status_lists()),
    )
    forged = b.sign(SigningKey.generate(), world.root.public.kid)
    with pytest.raises(
        TrustDataError, match=r"^the bundle's signature does not verify: the file was damaged or altered$"
    ):
        load_bundle(forged, pinned_roots=[world.root.public])


def test_part_digests_are_the_documented_hash_of_what_is_signed() -> None:
    """docs/verifying.md, "Rollback and freeze": the first 32 hex digits of the SHA-256 of the
    signing input (a record written by one version must match the next)."""
    world = World()
    fed, cn = world.federation(), world.trust_list("CN")
    status = status_list(world, "cn-food")
    snap = load(
        world,
        federation=fed,
        trust_lists=trust_lists(world, CN=cn),
        status_lists=[*others(world, "cn-food"), status],
    )

    def digest(token: str) -> str:
        return hashlib.sha256(token.rsplit(".", 1)[0].encode()).hexdigest()[:32]

    assert snap.versions.federation_digest == digest(fed)
    assert snap.versions.trust_lists[CN].digest == digest(cn)
    assert snap.versions.status_lists[status_key(QDTC, QDTC + "/status")].digest == digest(status)


def test_an_unverified_trust_list_is_not_decoded_before_its_signature() -> None:
    """docs/verifying.md, "Trust data": the signature is checked before the payload is parsed,
    so a list no member signed is reported as such, whatever its payload holds."""
    world = World()
    rogue = SigningKey.generate()
    header = parse_compact(trust_list(world, "CN", signer=rogue)).signing_input.split(b".")[0]
    junk = header + b".%%%not-base64%%%"
    token = f"{junk.decode()}.{b64url_encode(rogue.sign(junk))}"
    snap = load(world, trust_lists=[*trust_lists(world), token])
    assert skips(snap) == [("trust list #4", "not signed by a key of any member registry", "invalid")]


# -- many status lists: checked in worker processes ---------------------------------------------


def test_status_lists_checked_in_worker_processes_give_the_in_process_result(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """From PARALLEL_FROM status lists on, they are checked in forked workers, in batches;
    every list must come back matched to its own token (here 450 lists: three batches)."""
    world = World()
    spec = world.labs["ru-food"]
    many = [
        status_list(world, "ru-food", url=f"{spec.id}/s/{i}", revoked=(2 * i,), valid_from=LISTED)
        for i in range(450)
    ]
    data = world.bundle(status_lists=[*others(world, "ru-food"), *many, "junk"])
    in_process = load_bundle(data, pinned_roots=[world.root.public])
    monkeypatch.setattr(_snapshot._Checker, "PARALLEL_FROM", 1)
    monkeypatch.setattr(_snapshot.os, "cpu_count", lambda: 2)
    batches: list[int] = []
    real_results = _snapshot._StatusRun.results

    def results(run: _snapshot._StatusRun) -> list[_snapshot._StatusResult]:
        batches.append(len(run.futures))
        return real_results(run)

    monkeypatch.setattr(_snapshot._StatusRun, "results", results)
    forked = load_bundle(data, pinned_roots=[world.root.public])
    assert batches == [3]  # 452 lists verified: 200, 200 and 52
    assert skips(forked) == skips(in_process) and [p for p, _, _ in skips(forked)] == ["status list #453"]
    assert forked.versions == in_process.versions
    for i in (0, 199, 200, 449):
        assert forked.status_lists[(NFTC, f"{NFTC}/s/{i}")].revoked_indices() == (2 * i,)
    assert len(forked.status_lists) == 452


def test_workers_leave_ctrl_c_to_the_installing_process() -> None:
    import signal

    before = signal.getsignal(signal.SIGINT)
    try:
        # From Python's own handler: a process started in the background may inherit SIG_IGN.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        _snapshot._worker_ignores_ctrl_c()
        assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, before)


@pytest.mark.parametrize(
    "jwk_change", [{"x": 5}, {"crv": "Ed|25519"}, {"kty": ["OKP"]}], ids=["number", "bar", "list"]
)
def test_a_signed_trust_list_with_a_bad_lab_key_is_dropped_not_fatal(jwk_change: dict[str, object]) -> None:
    """Its keys are read (before the list is checked) to match status lists to candidate
    keys: a key that is no text, or not a key, must leave only that list dropped."""
    world = World()
    payload = _payload(world.trust_list("CN"))
    labs = payload["labs"]
    assert isinstance(labs, list)
    labs[0]["keys"][0]["jwk"].update(jwk_change)
    key = world.reg_keys["CN"]
    token = sign_compact(dumps_compact(payload), key, kid=key.public.kid, typ=TYP_TRUST_LIST)
    snap = load(world, trust_lists=trust_lists(world, CN=token))
    assert [(p, k) for p, _, k in skips(snap)] == [
        (f"trust list of AB-CN ({CN})", "invalid"),
        ("status list #1", "invalid"),
        ("status list #2", "invalid"),
    ]
    assert skips(snap)[0][1].startswith("malformed: ")
    assert sorted(snap.trust_lists) == [KZ, RU] and list(snap.labs) == [NFTC]


def test_a_status_list_is_checked_with_every_key_listed_under_its_kid() -> None:
    """A newer CN list that is malformed (its key under the lab's kid is not a key) comes
    first; the usable older list's key under that kid still verifies the lab's status list."""
    world = World()
    payload = _payload(world.trust_list("CN"))
    payload["sequence"] = 2
    labs = payload["labs"]
    assert isinstance(labs, list)
    labs[0]["keys"][0]["jwk"]["crv"] = "Ed|25519"
    key = world.reg_keys["CN"]
    bad = sign_compact(dumps_compact(payload), key, kid=key.public.kid, typ=TYP_TRUST_LIST)
    snap = load(world, trust_lists=[bad, *trust_lists(world)])
    assert [(p, k) for p, _, k in skips(snap)] == [(f"trust list of AB-CN ({CN})", "invalid")]
    assert (QDTC, QDTC + "/status") in snap.status_lists


def test_worker_processes_end_with_the_load(monkeypatch: pytest.MonkeyPatch) -> None:
    import multiprocessing

    world = World()
    monkeypatch.setattr(_snapshot._Checker, "PARALLEL_FROM", 1)
    monkeypatch.setattr(_snapshot.os, "cpu_count", lambda: 2)
    snap = load(world)
    assert len(snap.status_lists) == 3
    assert multiprocessing.active_children() == []


def test_closing_a_status_run_cancels_the_batches_not_started(monkeypatch: pytest.MonkeyPatch) -> None:
    """What Ctrl-C during a large install does: the pool stops without running the rest."""
    monkeypatch.setattr(_snapshot.os, "cpu_count", lambda: 2)
    jobs: list[_snapshot._StatusJob] = [("EdDSA", b"", b"e30.e30", [])] * 40000  # 20 batches of 2000
    run = _snapshot._StatusRun(jobs, 1)
    futures = list(run.futures)
    assert len(futures) == 20
    run.close()
    assert any(f.cancelled() for f in futures) and run.pool is None and run.futures == []


def test_no_worker_processes_means_checking_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """A sandbox that forbids processes: the same result, checked in-process."""
    import concurrent.futures

    class NoProcesses:
        def __init__(self, *args: object, **kwargs: object) -> None:
            raise OSError("no processes here")

    world = World()
    monkeypatch.setattr(_snapshot._Checker, "PARALLEL_FROM", 1)
    monkeypatch.setattr(_snapshot.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", NoProcesses)
    snap = load(world)
    assert skips(snap) == [] and len(snap.status_lists) == 3


# -- what a wrong file is said to be (docs/verifying.md, "Trust data") ---------------------------


def _refusal(data: bytes | str) -> str:
    world = World()
    with pytest.raises(TrustDataError) as info:
        load_bundle(data, pinned_roots=[world.root.public])
    return str(info.value)


def test_a_bundle_of_another_format_version_is_named_so() -> None:
    assert _refusal(b"YILU-BUNDLE/9\n" + b"x" * 40) == (
        "this is a bundle of another format version: ask your agency for a current one"
    )


def test_a_trust_list_given_as_a_bundle_is_named_so() -> None:
    assert _refusal(trust_list(World(), "CN")) == "this file is a trust list, not a bundle"


def test_a_version_1_bundle_is_named_so() -> None:
    old = sign_compact(b"{}", SigningKey.generate(), kid="r", typ="yilu-bundle+jwt")
    assert _refusal(old) == (
        "this is a bundle of an older format (version 1): ask your agency for a current one"
    )


def test_a_signed_file_of_an_unknown_type_is_not_a_bundle() -> None:
    other = sign_compact(b"{}", SigningKey.generate(), kid="r", typ="something+jwt")
    assert _refusal(other) == "this file is not a Yilu bundle (wrong typ)"
    assert _refusal("\u4e00 not ascii") == "this file is not a Yilu bundle"


# -- each decision, with the parts after it (docs/verifying.md, "Trust data") --------------------


def test_each_labs_listing_is_kept_as_its_registry_wrote_it() -> None:
    """What an index stores of a bound lab is the registry's own JSON of it, not a re-serialisation."""
    world = World()
    snap = load(world)
    cn, ru = _payload(world.trust_list("CN"))["labs"], _payload(world.trust_list("RU"))["labs"]
    assert isinstance(cn, list) and isinstance(ru, list)
    assert snap.lab_json == {QDTC: cn[0], SDMT: cn[1], NFTC: ru[0]}


def test_a_lab_id_that_is_not_canonical_is_a_conflict() -> None:
    """docs/formats.md, "Lab ids and name constraints": an id not in canonical form is no lab id,
    even where a registry's names would match it case-blind."""
    world = World()
    tl = TrustList.from_json(_payload(world.trust_list("CN")))
    odd = "https://Qdtc.example.cn"
    token = replace(tl, labs=(replace(tl.labs[0], id=odd), tl.labs[1])).sign(
        world.reg_keys["CN"], world.reg_keys["CN"].public.kid
    )
    snap = load(world, trust_lists=trust_lists(world, CN=token))
    assert skips(snap) == [
        (f"listing of lab {odd} by AB-CN", "the lab id is not a canonical https URI", "conflict"),
        unbound(world, 1, "cn-food"),
    ]
    assert list(snap.labs) == [SDMT, NFTC] and snap.dropped_labs == {odd}


class SharedNamesWorld(World):
    """A World whose KZ registry may also list the CN lab QDTC: two members' names overlap."""

    def member(self, cc: str) -> Member:
        member = super().member(cc)
        if cc != "KZ":
            return member
        return replace(member, permitted_lab_ids=(*member.permitted_lab_ids, NamePattern(QDTC)))


def test_a_lab_id_within_the_names_of_two_registries_is_dropped() -> None:
    world = SharedNamesWorld()
    snap = load(world)
    assert skips(snap) == [
        (
            f"listing of lab {QDTC} by AB-CN",
            "the lab id lies within the names of several registries (AB-CN, AB-KZ): the federation "
            "list must give it to one",
            "invalid",
        ),
        unbound(world, 1, "cn-food"),
    ]
    assert list(snap.labs) == [SDMT, NFTC] and snap.dropped_labs == {QDTC}


def test_a_trust_list_claiming_another_registry_does_not_stop_the_lists_after_it() -> None:
    world = World()
    claim = trust_list(world, "KZ", registry=RU)
    snap = load(world, trust_lists=[claim, world.trust_list("CN"), world.trust_list("RU")])
    assert skips(snap) == [
        (f"trust list of AB-KZ ({KZ})", f"signed by {KZ} but claims to be the list of {RU}", "conflict")
    ]
    assert sorted(snap.trust_lists) == [CN, RU] and list(snap.labs) == [QDTC, SDMT, NFTC]


def test_a_signed_trust_list_whose_payload_is_no_json() -> None:
    world = World()
    key = world.reg_keys["KZ"]
    bad = sign_compact(b"not json", key, kid=key.public.kid, typ=TYP_TRUST_LIST)
    snap = load(world, trust_lists=[bad, world.trust_list("CN"), world.trust_list("RU")])
    [(part, reason, kind)] = skips(snap)
    assert (part, kind) == (f"trust list of AB-KZ ({KZ})", "invalid")
    assert reason.startswith(f"malformed: trust list of AB-KZ ({KZ}) is malformed: ")
    assert sorted(snap.trust_lists) == [CN, RU]


def _status_under_kid(world: World, lab: str, signer: SigningKey) -> str:
    """The lab's status list signed by ``signer`` under the lab's own kid (a forgery)."""
    spec = world.labs[lab]
    sl = StatusList(spec.url, spec.id, STATUS_PURPOSES, Bitstring(), LISTED, NOW + timedelta(days=30))
    return sl.sign(signer, spec.key.public.kid)


@pytest.mark.parametrize("lab", ["cn-food", "cn-metals"])  # EdDSA, ES256
def test_status_list_under_its_labs_kid_but_signed_by_another_key(lab: str) -> None:
    """The kid only finds the candidate keys: the signature must verify with one of them."""
    world = World()
    spec = world.labs[lab]
    forged = _status_under_kid(world, lab, SigningKey.generate(spec.key.public.alg))
    snap = load(world, status_lists=[*others(world, lab), forged])
    key = (spec.id, spec.url)
    expected = Skipped(f"status list {spec.url}", f"not signed by a key of {spec.id}")
    assert snap.skipped == [expected] and snap.dropped_status == {key: expected}
    assert key not in snap.status_lists


def test_an_unverified_status_list_is_not_decoded(monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/verifying.md, "Trust data": the signature first; a list no key verifies is never
    read (its payload could be anything an attacker likes)."""
    world = World()
    forged = _status_under_kid(world, "cn-food", SigningKey.generate())
    decoded: list[object] = []
    real = StatusList.from_credential.__func__  # type: ignore[attr-defined]

    def from_credential(cls: type[StatusList], cred: dict[str, object]) -> StatusList:
        decoded.append(cred.get("id"))
        return real(cls, cred)  # type: ignore[no-any-return]

    monkeypatch.setattr(StatusList, "from_credential", classmethod(from_credential))
    snap = load(world, status_lists=[forged, *others(world, "cn-food")])
    assert decoded == [SDMT + "/status", NFTC + "/status"]
    assert [p for p, _, _ in skips(snap)] == [f"status list {QDTC}/status"]


def test_a_signed_status_list_that_is_no_status_list() -> None:
    world = World()
    spec = world.labs["cn-food"]
    bad = sign_compact(
        dumps_compact({"type": ["VerifiableCredential"]}), spec.key, kid=spec.key.public.kid, typ=TYP_VC
    )
    snap = load(world, status_lists=[bad, *others(world)])
    assert skips(snap) == [("status list #1", "malformed: not a BitstringStatusListCredential", "invalid")]
    assert len(snap.status_lists) == 3


@pytest.mark.parametrize("case", ["issuer", "future", "key", "equivocation"])
def test_a_dropped_status_list_does_not_stop_the_ones_after_it(case: str) -> None:
    """Each status list that is dropped comes first: the lists after it are still checked."""
    world = World()
    spec = world.labs["cn-food"]
    if case == "issuer":
        bad = [status_list(world, "cn-food", issuer=SDMT, url=SDMT + "/status")]
        reason = f"signed by a key of {QDTC} but names the issuer {SDMT}"
        expected = [(f"status list {SDMT}/status", reason, "conflict")]
    elif case == "future":
        late = BUILT + FUTURE_TOLERANCE + timedelta(seconds=1)
        bad = [status_list(world, "cn-food", valid_from=late)]
        expected = [
            (
                f"status list {QDTC}/status",
                f"issued {format_time(late)}, after the bundle that carries it was built",
                "invalid",
            )
        ]
    elif case == "key":
        spec.key_from = LISTED + timedelta(seconds=1)
        bad = world.status_lists(spec)
        kid = spec.key.public.kid
        expected = [(f"status list {QDTC}/status", f"signed with key {kid} outside its validity", "invalid")]
    else:
        bad = [status_list(world, "cn-food", revoked=(2,)), status_list(world, "cn-food", revoked=(4,))]
        expected = [
            (
                f"status list {QDTC}/status",
                "two different lists issued at 2026-11-27T08:00:00Z: the lab must publish one",
                "invalid",
            )
        ]
    snap = load(world, status_lists=[*bad, *others(world, "cn-food")])
    assert skips(snap) == expected
    assert sorted(snap.status_lists) == [(NFTC, NFTC + "/status"), (SDMT, SDMT + "/status")]


# -- remembered signature checks (what an installed index keeps for the next install) ------------


def test_every_check_a_load_did_is_remembered_and_not_redone(monkeypatch: pytest.MonkeyPatch) -> None:
    """load_snapshot's ``known``: a part whose exact bytes were verified with the same key is not
    verified again, so that a delta costs what changed (docs/verifying.md, "Trust data")."""
    world = World()
    bundle = read_unchecked(world.bundle())
    roots = [world.root.public]
    first = load_snapshot(bundle, roots, state=bundle.state(), root_version=1)
    assert len(first.verified) == 6  # three trust lists, three status lists

    checks: list[bytes] = []
    real = VerifyKey.verify

    def verify(key: VerifyKey, signature: bytes, signing_input: bytes) -> bool:
        checks.append(signing_input)
        return real(key, signature, signing_input)

    monkeypatch.setattr(VerifyKey, "verify", verify)
    again = load_snapshot(bundle, roots, state=bundle.state(), known=first.verified, root_version=1)
    # Only the federation list (signed by the root, never remembered) is checked again.
    assert checks == [parse_compact(bundle.federation_list).signing_input]
    assert again.verified == first.verified and skips(again) == [] and len(again.status_lists) == 3
    checks.clear()
    fresh = load_snapshot(bundle, roots, state=bundle.state(), root_version=1)
    assert len(checks) == 7 and fresh.verified == first.verified


def test_load_snapshot_names_the_root_version_it_was_given() -> None:
    world = World()
    bundle = read_unchecked(world.bundle())
    snap = load_snapshot(bundle, [world.root.public], state=bundle.state(), root_version=1)
    assert (snap.root_version, snap.pinned_version) == (1, 1)
    with pytest.raises(
        TrustDataError, match=r"^the federation list is not signed by a key of root version 3,"
    ):
        load_snapshot(bundle, [SigningKey.generate().public], state=bundle.state(), root_version=3)


def test_worker_processes_end_when_the_load_is_interrupted(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C while the labs are bound (the status lists being checked in workers): the pool
    stops with the load, not at exit."""
    import multiprocessing

    def interrupted(snap: Snapshot) -> None:
        raise KeyboardInterrupt

    world = World()
    monkeypatch.setattr(_snapshot._Checker, "PARALLEL_FROM", 1)
    monkeypatch.setattr(_snapshot.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(_snapshot, "_bind_labs", interrupted)
    with pytest.raises(KeyboardInterrupt):
        load(world)
    assert multiprocessing.active_children() == []


# -- the bundle's root rotations and manifest ----------------------------------------------------


def test_a_bundle_after_a_root_rotation_loads_from_the_old_pin() -> None:
    world = World()
    old = world.rotate_root()
    snap = load_bundle(world.bundle(), pinned_roots=[old.public])
    assert (snap.root_version, snap.pinned_version) == (2, 1)
    assert skips(snap) == [] and snap.root_keys == (world.root.public,)


def test_a_root_rotation_swapped_for_another_is_refused() -> None:
    """The rotation lines lie outside the signed manifest, which signs their digest: another
    valid statement to the same keys is still an altered file."""
    world = World()
    old = world.rotate_root()
    data = world.bundle()
    other = sign_rotation(
        FEDERATION,
        2,
        [old.public],
        [world.root.public],
        old_signer=old,
        old_kid=old.public.kid,
        new_signer=world.root,
        new_kid=world.root.public.kid,
        issued_at=NOW - timedelta(hours=3),
    )
    assert other != world.root_chain[0]
    swapped = data.replace(world.root_chain[0].encode(), other.encode())
    with pytest.raises(
        TrustDataError,
        match=r"^the bundle's root rotations do not match what its manifest signs: the file was damaged "
        r"or altered$",
    ):
        load_bundle(swapped, pinned_roots=[old.public])


def test_a_bundle_of_another_federation_than_its_root_rotations_is_refused() -> None:
    """The root that rotated is the federation's: it cannot sign a bundle of another one, even
    with a federation list that names that other one."""
    world = World()
    old = world.rotate_root()
    other = "https://other.example"
    fed = replace(FederationList.from_json(_payload(world.federation())), federation=other)
    b = Bundle(
        other,
        1,
        BUILT,
        (dict(world.root.public.jwk),),
        sign_fed(fed, world.root),
        tuple(world.trust_list(cc) for cc in world.reg_keys),
        tuple(world.all_status_lists()),
        tuple(world.root_chain),
    )
    data = b.sign(world.root, world.root.public.kid)
    with pytest.raises(
        TrustDataError,
        match=rf"^the bundle's root rotations are of federation '{FEDERATION}', the bundle of '{other}': "
        r"ask your agency for a current bundle$",
    ):
        load_bundle(data, pinned_roots=[old.public])


def test_a_manifest_of_another_typ_is_not_a_bundle() -> None:
    world = World()
    _, manifest, body = open_container(world.bundle())
    resigned = sign_compact(
        dumps_compact(_payload(manifest)), world.root, kid=world.root.public.kid, typ=TYP_TRUST_LIST
    )
    with pytest.raises(TrustDataError, match=r"^this file is not a Yilu bundle \(wrong typ\)$"):
        load_bundle(MAGIC + resigned.encode() + b"\n" + body, pinned_roots=[world.root.public])


def test_a_delta_is_not_loaded_as_a_full_bundle() -> None:
    world = World()
    old = read_unchecked(world.bundle())
    delta = make_delta(old, replace(old, sequence=2), world.root, world.root.public.kid)
    with pytest.raises(
        TrustDataError,
        match=r"^this is a delta bundle \(from sequence 1\): install it with yilu trust install onto the "
        r"snapshot it updates$",
    ):
        load_bundle(delta, pinned_roots=[world.root.public])


@pytest.mark.parametrize(
    ("typ", "said"),
    [
        (TYP_TRUST_LIST, "this file is a trust list, not a bundle"),
        (
            "yilu-bundle+jwt",
            "this is a bundle of an older format (version 1): ask your agency for a current one",
        ),
    ],
)
def test_a_signed_file_is_named_by_its_header_whatever_its_payload(typ: str, said: str) -> None:
    """Only the header is read to say what a wrong file is: its payload is not even decoded."""
    header, _, signature = sign_compact(b"{}", SigningKey.generate(), kid="r", typ=typ).split(".")
    assert _refusal(f"{header}.%%%not-base64%%%.{signature}") == said


def test_no_pinned_root_is_missing_trust_data() -> None:
    world = World()
    with pytest.raises(TrustDataError) as info:
        load_bundle(world.bundle(), pinned_roots=[])
    assert str(info.value) == "no federation root key is pinned: a bundle proves nothing without one"
    assert info.value.code == ReasonCode.TRUST_DATA_MISSING
