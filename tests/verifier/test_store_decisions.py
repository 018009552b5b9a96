"""The store's decisions (verifier/store.py) at their edges: the freeze boundary, the pin file,
what an install tells the operator, and which versions the record keeps (docs/verifying.md,
"Rollback and freeze", "Root rotation")."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from protocol.bundle import Bundle
from protocol.errors import RollbackError, StaleTrustDataError, TrustDataError
from protocol.jws import parse_compact
from protocol.keys import SigningKey
from protocol.lists import FederationList, TrustList
from protocol.reasons import ReasonCode
from protocol.status_list import Bitstring, StatusList
from protocol.vocabulary import STATUS_PURPOSES
from testkit import NOW, World
from verifier import load_bundle
from verifier._index import read_record
from verifier.store import SnapshotStore, _jwks, read_root_keys

QDTC = "https://qdtc.example.cn"
LISTED = NOW - timedelta(hours=1)


def store_for(world: World, path: Path) -> SnapshotStore:
    return SnapshotStore(path / "trust", pinned_roots=[world.root.public])


def cn_food_list(world: World, bits: tuple[int, ...], *, valid_from: timedelta) -> str:
    spec = world.labs["cn-food"]
    bitstring = Bitstring()
    for i in bits:
        bitstring.set(i, True)
    sl = StatusList(spec.url, spec.id, STATUS_PURPOSES, bitstring, NOW - valid_from, NOW + timedelta(days=30))
    return sl.sign(spec.key, spec.key.public.kid)


def others(world: World) -> list[str]:
    return [t for name in ("cn-metals", "ru-food") for t in world.status_lists(world.labs[name])]


@pytest.mark.parametrize("content", ["[]", "{}", '"key"'])
def test_root_keys_file_without_keys_is_missing_trust_data(tmp_path: Path, content: str) -> None:
    path = tmp_path / "root-keys.json"
    path.write_text(content)
    with pytest.raises(
        TrustDataError, match="must hold a JSON list of the federation root's public keys"
    ) as e:
        read_root_keys(path)
    assert e.value.code == ReasonCode.TRUST_DATA_MISSING


def test_root_keys_file_is_read_back(world: World, tmp_path: Path) -> None:
    path = tmp_path / "root-keys.json"
    other = SigningKey.generate().public
    path.write_text(json.dumps([dict(world.root.public.jwk), dict(other.jwk)]))
    assert read_root_keys(path) == (world.root.public, other)


@pytest.mark.parametrize(("expires", "installs"), [(NOW, True), (NOW - timedelta(seconds=1), False)])
def test_freeze_boundary_is_the_federation_lists_expiry(
    world: World, tmp_path: Path, expires: datetime, installs: bool
) -> None:
    """A federation list expiring at the very instant of the install is still current."""
    world.federation_expires = expires
    store = store_for(world, tmp_path)
    if installs:
        assert store.install(world.bundle(), now=NOW).changed
        return
    with pytest.raises(
        StaleTrustDataError, match=r"^the bundle's federation list expired 2026-11-27T08:59:59Z"
    ) as e:
        store.install(world.bundle(), now=NOW)
    assert e.value.code == ReasonCode.TRUST_DATA_STALE
    assert not store.path.exists() and not store.root_path.exists()


def test_a_newer_federation_list_alone_moves_nothing_but_is_kept(world: World, tmp_path: Path) -> None:
    store = store_for(world, tmp_path)
    first = world.bundle()
    store.install(first, now=NOW)
    same = store.install(first, now=NOW)
    assert not same.changed
    world.sequence = 2
    moved = store.install(world.bundle(), now=NOW)
    assert moved.changed and read_record(store.path)["federationList"]["sequence"] == 2  # type: ignore[index]


def test_an_older_federation_list_in_a_newer_bundle_is_a_rollback(world: World, tmp_path: Path) -> None:
    store = store_for(world, tmp_path)
    world.sequence = 3
    store.install(world.bundle(), now=NOW)
    world.sequence = 2
    with pytest.raises(
        RollbackError, match=r"its federation list \(sequence 2\) is older than the installed one"
    ):
        store.install(world.bundle(sequence=4), now=NOW)


def test_an_older_status_list_is_a_rollback_naming_its_url(world: World, tmp_path: Path) -> None:
    store = store_for(world, tmp_path)
    store.install(
        world.bundle(status_lists=[*others(world), cn_food_list(world, (), valid_from=timedelta(hours=1))]),
        now=NOW,
    )
    older = cn_food_list(world, (), valid_from=timedelta(hours=2))
    with pytest.raises(
        RollbackError,
        match=rf"^refusing a rollback: its status list {QDTC}/status \(issued 2026-11-27T07:00:00Z\) is "
        "older",
    ):
        store.install(world.bundle(sequence=2, status_lists=[*others(world), older]), now=NOW)


@pytest.mark.parametrize("count", [11, 12])
def test_cleared_revocations_show_the_first_ten(world: World, tmp_path: Path, count: int) -> None:
    store = store_for(world, tmp_path)
    many = tuple(range(0, 2 * count, 2))
    store.install(
        world.bundle(status_lists=[*others(world), cn_food_list(world, many, valid_from=timedelta(hours=2))]),
        now=NOW,
    )
    installed = store.install(
        world.bundle(
            sequence=2, status_lists=[*others(world), cn_food_list(world, (), valid_from=timedelta(hours=1))]
        ),
        now=NOW,
    )
    assert installed.warnings == (
        f"{QDTC}/status of {QDTC} clears revocations this device had seen "
        "(index 0, 2, 4, 6, 8, 10, 12, 14, 16, 18 ...): they stay revoked",
    )
    record = read_record(store.path)
    assert record is not None and record["statusLists"][f"{QDTC} {QDTC}/status"]["revoked"] == list(many)


def test_ten_cleared_revocations_are_all_shown(world: World, tmp_path: Path) -> None:
    store = store_for(world, tmp_path)
    eleven = tuple(range(0, 22, 2))
    store.install(
        world.bundle(
            status_lists=[*others(world), cn_food_list(world, eleven, valid_from=timedelta(hours=2))]
        ),
        now=NOW,
    )
    installed = store.install(
        world.bundle(
            sequence=2,
            status_lists=[*others(world), cn_food_list(world, (20,), valid_from=timedelta(hours=1))],
        ),
        now=NOW,
    )
    assert installed.warnings == (
        f"{QDTC}/status of {QDTC} clears revocations this device had seen "
        "(index 0, 2, 4, 6, 8, 10, 12, 14, 16, 18): they stay revoked",
    )


def test_install_says_which_registry_lacks_a_trust_list_and_how_many_parts_were_dropped(
    world: World, tmp_path: Path
) -> None:
    store = store_for(world, tmp_path)
    trust = [world.trust_list("CN"), world.trust_list("RU"), "junk"]
    installed = store.install(world.bundle(trust_lists=trust), now=NOW)
    assert installed.warnings == (
        "the bundle holds no usable trust list of AB-KZ (https://registry.example.kz): "
        "certificates of its labs cannot be verified",
        "1 parts of the bundle were dropped: yilu trust show lists them",
    )


def test_a_rotation_is_told_and_pins_the_new_keys(world: World, tmp_path: Path) -> None:
    store = store_for(world, tmp_path)
    store.install(world.bundle(), now=NOW)
    old = world.rotate_root()
    world.sequence = 2
    rotated = world.bundle()
    installed = store.install(rotated, now=NOW)
    assert installed.changed
    assert installed.warnings == (
        "the federation root rotated its keys: this device now trusts root version 2 "
        f"(key {world.root.public.kid}) instead of version 1, whose keys are retired",
    )
    assert read_root_keys(store.root_path) == (world.root.public,)
    assert store.pin() == ((world.root.public,), 2)
    # The retired key, given again, still names this federation: the pin is used.
    assert SnapshotStore(store.directory, pinned_roots=[old.public]).roots() == (world.root.public,)
    # The same bundle again changes nothing and tells nothing.
    again = store.install(rotated, now=NOW)
    assert not again.changed and again.warnings == ()


def test_a_store_without_an_install_has_no_pin_version_and_no_parts(world: World, tmp_path: Path) -> None:
    store = store_for(world, tmp_path)
    assert store.pin() == ((world.root.public,), None)
    assert store.installed_bundle() is None and store.current() is None and store.stored_versions() is None
    assert store.stored_roots() is None


def test_check_says_whether_a_snapshot_changes_anything(world: World, tmp_path: Path) -> None:
    store = store_for(world, tmp_path)
    data = world.bundle()
    assert (
        store.check(load_bundle(data, pinned_roots=[world.root.public]), now=NOW) is True
    )  # nothing installed
    store.install(data, now=NOW)
    assert store.check(load_bundle(data, pinned_roots=[world.root.public]), now=NOW) is False
    world.sequence = 2
    assert store.check(load_bundle(world.bundle(), pinned_roots=[world.root.public]), now=NOW) is True


def test_pinned_keys_are_written_in_the_order_of_their_canonical_json() -> None:
    """root-keys.json lists the keys sorted by their JSON with sorted members, whatever the
    order given: an Ed25519 key ("crv":"Ed25519") before a P-256 one ("crv":"P-256")."""
    okp, ec = SigningKey.generate().public, SigningKey.generate("ES256").public
    expected = [dict(okp.jwk), dict(ec.jwk)]
    assert _jwks([ec, okp]) == expected and _jwks([okp, ec]) == expected


# -- which installed status lists the record keeps when a bundle lacks them ------------------------

CN_FOOD_KEY = f"{QDTC} {QDTC}/status"


def record_keys(store: SnapshotStore) -> set[str]:
    record = read_record(store.path)
    assert record is not None
    return set(record["statusLists"])


@pytest.mark.parametrize("revoked", [False, True])
def test_a_delisted_labs_status_list_is_forgotten_unless_it_revoked(
    world: World, tmp_path: Path, revoked: bool
) -> None:
    """Its registry's valid trust list no longer names the lab: its list's version goes, but
    not if it holds a revocation (the lab may be listed again, docs/verifying.md "Rollback")."""
    store = store_for(world, tmp_path)
    first = cn_food_list(world, (8,) if revoked else (), valid_from=timedelta(hours=1))
    store.install(world.bundle(status_lists=[*others(world), first]), now=NOW)
    assert CN_FOOD_KEY in record_keys(store)
    world.labs.pop("cn-food")
    world.sequence = 2
    store.install(world.bundle(status_lists=others(world)), now=NOW)
    assert (CN_FOOD_KEY in record_keys(store)) is revoked


def test_a_listed_labs_missing_status_list_keeps_its_version(world: World, tmp_path: Path) -> None:
    store = store_for(world, tmp_path)
    store.install(world.bundle(), now=NOW)
    world.sequence = 2
    store.install(world.bundle(status_lists=others(world)), now=NOW)
    assert CN_FOOD_KEY in record_keys(store)


def test_a_status_list_whose_registry_sent_no_usable_trust_list_keeps_its_version(
    world: World, tmp_path: Path
) -> None:
    store = store_for(world, tmp_path)
    store.install(world.bundle(), now=NOW)
    world.labs.pop("cn-food")
    world.sequence = 2
    trust = [world.trust_list("RU"), world.trust_list("KZ")]  # none of CN
    store.install(world.bundle(trust_lists=trust, status_lists=others(world)), now=NOW)
    assert CN_FOOD_KEY in record_keys(store)


def test_a_status_list_whose_lab_listing_was_dropped_keeps_its_version(world: World, tmp_path: Path) -> None:
    store = store_for(world, tmp_path)
    store.install(world.bundle(), now=NOW)
    world.sequence = 2
    # The CN list names the lab twice: that listing is dropped, the CN list itself is used.
    tl = TrustList.from_json(parse_compact(world.trust_list("CN")).payload_json())
    key = world.reg_keys["CN"]
    twice = replace(tl, labs=(*tl.labs, tl.labs[0])).sign(key, key.public.kid)
    trust = [twice, world.trust_list("RU"), world.trust_list("KZ")]
    installed = store.install(world.bundle(trust_lists=trust, status_lists=others(world)), now=NOW)
    assert QDTC in installed.snapshot.dropped_labs and World.reg_id("CN") in installed.snapshot.trust_lists
    assert CN_FOOD_KEY in record_keys(store)


def test_a_status_list_of_a_registry_that_left_is_forgotten_even_with_revocations(
    world: World, tmp_path: Path
) -> None:
    store = store_for(world, tmp_path)
    store.install(
        world.bundle(status_lists=[*others(world), cn_food_list(world, (8,), valid_from=timedelta(hours=1))]),
        now=NOW,
    )
    world.reg_keys.pop("CN")
    world.agreements = []
    world.sequence = 2
    store.install(world.bundle(status_lists=world.status_lists(world.labs["ru-food"])), now=NOW)
    assert record_keys(store) == {"https://nftc.example.ru https://nftc.example.ru/status"}


def test_a_bundle_of_another_federation_is_refused(world: World, tmp_path: Path) -> None:
    """Same root key, another federation id: the installed data is not replaced by it."""
    store = store_for(world, tmp_path)
    store.install(world.bundle(), now=NOW)
    other = "https://other.example"
    fed = FederationList.from_json(parse_compact(world.federation()).payload_json())
    fed_token = replace(fed, federation=other, sequence=2).sign(world.root, world.root.public.kid)
    bundle = Bundle(
        other,
        2,
        NOW - timedelta(minutes=30),
        (dict(world.root.public.jwk),),
        fed_token,
        tuple(world.trust_list(cc) for cc in world.reg_keys),
        tuple(world.all_status_lists()),
    )
    before = store.path.read_bytes()
    with pytest.raises(
        TrustDataError,
        match=f"^this bundle belongs to federation {other}, the installed data to https://federation.example$",
    ):
        store.install(bundle.sign(world.root, world.root.public.kid), now=NOW)
    assert store.path.read_bytes() == before
