"""SnapshotStore: the pinned root, the version record of every part, and what it refuses.

Each test installs real root-signed bundles of a testkit World into a temporary store.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from protocol.errors import RollbackError, StaleTrustDataError, TrustDataError
from protocol.keys import SigningKey
from protocol.lists import KeyRecord, Member
from protocol.reasons import ReasonCode as R
from protocol.status_list import Bitstring, StatusList
from protocol.vocabulary import STATUS_PURPOSES
from testkit import NOW, YEAR_AGO, LabSpec, World
from verifier import Verifier, load_bundle
from verifier import store as store_module
from verifier._index import read_record
from verifier.store import SnapshotStore

KZ_REGISTRY = "https://registry.example.kz"


def store_for(world: World, path: Path) -> SnapshotStore:
    return SnapshotStore(path, pinned_roots=[world.root.public])


def bundle(world: World, *, sequence: int, **kwargs: Any) -> bytes:
    return world.bundle(sequence=sequence, **kwargs)


def record(store: SnapshotStore) -> dict[str, Any]:
    loaded = read_record(store.path)
    assert loaded is not None
    return loaded


def set_record(store: SnapshotStore, text: str) -> None:
    db = sqlite3.connect(store.path)
    with db:
        db.execute("UPDATE meta SET value = ? WHERE name = 'versions'", (text,))
    db.close()


def stored_record_text(store: SnapshotStore) -> str:
    db = sqlite3.connect(store.path)
    try:
        return str(db.execute("SELECT value FROM meta WHERE name = 'versions'").fetchone()[0])
    finally:
        db.close()


def files(store: SnapshotStore) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(store.directory.iterdir()) if p.is_file()}


# -- the pin --------------------------------------------------------------------------------------


def test_first_install_pins_the_given_roots(world: World, tmp_path: Path) -> None:
    store = store_for(world, tmp_path)
    assert store.stored_roots() is None and not store.root_path.exists()
    installed = store.install(bundle(world, sequence=1), now=NOW)
    assert installed.changed is True
    assert json.loads(store.root_path.read_text()) == [dict(world.root.public.jwk)]
    # A store opened later without given keys verifies from the pin.
    reopened = SnapshotStore(tmp_path)
    assert [k.kid for k in reopened.roots()] == [world.root.public.kid]
    current = reopened.current()
    assert current is not None and current.sequence == 1


def test_other_roots_than_the_pin_are_refused(world: World, tmp_path: Path) -> None:
    store_for(world, tmp_path).install(bundle(world, sequence=1), now=NOW)
    before = files(store_for(world, tmp_path))
    other = World()
    with pytest.raises(TrustDataError, match="already pins another federation root"):
        SnapshotStore(tmp_path, pinned_roots=[other.root.public]).install(bundle(other, sequence=2), now=NOW)
    with pytest.raises(TrustDataError, match="already pins another federation root"):
        SnapshotStore(tmp_path, pinned_roots=[other.root.public]).current()
    # The genuine root plus another one is not the pin either.
    with pytest.raises(TrustDataError, match="already pins another federation root"):
        SnapshotStore(tmp_path, pinned_roots=[world.root.public, other.root.public]).current()
    assert files(store_for(world, tmp_path)) == before


def test_no_pin_and_no_given_roots_is_missing_trust_data(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    assert store.current() is None
    with pytest.raises(TrustDataError) as info:
        store.install(World().bundle(), now=NOW)
    assert info.value.code is R.TRUST_DATA_MISSING
    assert list(tmp_path.iterdir()) == []


# -- same, equal and older bundles ----------------------------------------------------------------


def test_same_bundle_twice_is_unchanged_and_no_error(world: World, tmp_path: Path) -> None:
    store = store_for(world, tmp_path)
    data = bundle(world, sequence=1)
    assert store.install(data, now=NOW).changed is True
    first = record(store)
    again = store.install(data, now=NOW + timedelta(minutes=1))
    assert again.changed is False
    second = record(store)
    assert {k: v for k, v in second.items() if k != "installedAt"} == {
        k: v for k, v in first.items() if k != "installedAt"
    }
    installed = store.installed_bundle()
    assert installed is not None and installed.state() == first["bundle"]["digest"]
    assert installed == load_bundle(data, pinned_roots=[world.root.public]).bundle


def test_different_bundle_with_the_same_sequence_is_refused(world: World, tmp_path: Path) -> None:
    store = store_for(world, tmp_path)
    store.install(bundle(world, sequence=4), now=NOW)
    before = files(store)
    other = bundle(world, sequence=4, created_at=NOW - timedelta(minutes=1))
    with pytest.raises(RollbackError):
        store.install(other, now=NOW)
    assert files(store) == before


def test_older_bundle_sequence_is_refused(world: World, tmp_path: Path) -> None:
    store = store_for(world, tmp_path)
    old = bundle(world, sequence=1)
    store.install(bundle(world, sequence=2), now=NOW)
    before = files(store)
    with pytest.raises(RollbackError):
        store.install(old, now=NOW)
    assert files(store) == before


# -- parts that vanish --------------------------------------------------------------------------


def test_newer_bundle_lacking_a_members_trust_list_installs_and_keeps_its_version(
    world: World, tmp_path: Path
) -> None:
    """A missing part is no rollback (its certificates cannot be verified, never accepted),
    and one party's omission must not block every later bundle; but its version stays, so
    that a later bundle cannot bring an older list of that registry back."""
    store = store_for(world, tmp_path)
    world.sequence = 5
    store.install(bundle(world, sequence=1), now=NOW)
    world.sequence = 6
    without_kz = [world.trust_list("CN"), world.trust_list("RU")]
    installed = store.install(bundle(world, sequence=2, trust_lists=without_kz), now=NOW)
    assert installed.changed and KZ_REGISTRY not in installed.snapshot.trust_lists
    assert record(store)["trustLists"][KZ_REGISTRY]["version"] == "5"
    world.sequence = 4
    old_kz = world.trust_list("KZ")  # an older KZ list than the one this device saw
    world.sequence = 7
    lists = [world.trust_list("CN"), world.trust_list("RU"), old_kz]
    with pytest.raises(RollbackError, match=KZ_REGISTRY):
        store.install(bundle(world, sequence=3, trust_lists=lists), now=NOW)


def test_trust_list_of_a_registry_that_left_the_federation_may_go(world: World, tmp_path: Path) -> None:
    store = store_for(world, tmp_path)
    store.install(bundle(world, sequence=1), now=NOW)
    assert KZ_REGISTRY in record(store)["trustLists"]
    del world.reg_keys["KZ"]  # the federation list no longer names KZ, and there is no KZ list
    world.sequence = 2
    installed = store.install(bundle(world, sequence=2), now=NOW)
    assert installed.changed is True
    assert KZ_REGISTRY not in installed.snapshot.trust_lists
    assert KZ_REGISTRY not in record(store)["trustLists"]
    current = store.current()
    assert current is not None and [m.country for m in current.federation.registries] == ["CN", "RU"]


class Compromisable(World):
    """A world whose federation list can say a registry's key was compromised."""

    compromised: frozenset[str] = frozenset()

    def member(self, cc: str) -> Member:
        member = super().member(cc)
        if cc not in self.compromised:
            return member
        revoked = KeyRecord(
            self.reg_keys[cc].public, YEAR_AGO, None, NOW - timedelta(days=1), "keyCompromise"
        )
        return replace(member, keys=(revoked,))


def test_dropped_trust_list_keeps_the_registrys_version_on_record(tmp_path: Path) -> None:
    world = Compromisable()
    store = store_for(world, tmp_path)
    world.sequence = 3
    store.install(bundle(world, sequence=1), now=NOW)
    assert record(store)["trustLists"][KZ_REGISTRY]["version"] == "3"
    kept = record(store)["trustLists"][KZ_REGISTRY]

    # Sequence 2 of the bundle: KZ's list is signed by a key the federation list now says was
    # compromised, so it is dropped; the bundle installs, KZ's last good version stays on record.
    world.compromised = frozenset({"KZ"})
    world.sequence = 4
    installed = store.install(bundle(world, sequence=2), now=NOW)
    assert installed.changed is True
    assert KZ_REGISTRY not in installed.snapshot.trust_lists
    assert any(KZ_REGISTRY in str(s) or "AB-KZ" in str(s) for s in installed.snapshot.skipped)
    assert record(store)["trustLists"][KZ_REGISTRY] == kept
    assert record(store)["trustLists"]["https://registry.example.cn"]["version"] == "4"

    # KZ gets a new key; a later bundle carrying an OLDER (sequence 2) valid KZ list is refused.
    world.compromised = frozenset()
    world.reg_keys["KZ"] = SigningKey.generate()
    world.sequence = 2
    old_kz = world.trust_list("KZ")
    world.sequence = 5
    lists = [world.trust_list("CN"), world.trust_list("RU"), old_kz]
    before = files(store)
    with pytest.raises(RollbackError, match=KZ_REGISTRY):
        store.install(bundle(world, sequence=3, trust_lists=lists), now=NOW)
    assert files(store) == before
    # The same bundle with KZ's list at a newer sequence installs.
    installed = store.install(bundle(world, sequence=3), now=NOW)
    assert installed.snapshot.trust_lists[KZ_REGISTRY].sequence == 5
    assert record(store)["trustLists"][KZ_REGISTRY]["version"] == "5"


def test_dropped_trust_list_keeps_its_labs_status_list_versions(tmp_path: Path) -> None:
    world = Compromisable()
    spec = world.labs["cn-food"]
    token = world.issue(slot=9)
    others = [t for name in ("cn-metals", "ru-food") for t in world.status_lists(world.labs[name])]
    revoked = [_status(spec, bits=(18,), hours_ago=1)]  # slot 9
    older = [_status(spec, bits=(), hours_ago=5)]
    store = store_for(world, tmp_path)
    store.install(bundle(world, sequence=1, status_lists=[*others, *revoked]), now=NOW)
    world.compromised = frozenset({"CN"})  # CN's trust list is dropped, and with it its labs
    world.sequence = 2
    store.install(bundle(world, sequence=2, status_lists=[*others, *revoked]), now=NOW)
    world.compromised = frozenset()
    world.reg_keys["CN"] = SigningKey.generate()
    world.sequence = 3
    with pytest.raises(RollbackError):
        store.install(bundle(world, sequence=3, status_lists=[*others, *older]), now=NOW)
    # Still installed: bundle 2, in which CN's labs cannot be verified at all (not accepted).
    current = store.current()
    assert current is not None and current.sequence == 2
    result = Verifier(current, country="KZ").verify(token, at=NOW)
    assert result.codes == (R.TRUST_DATA_INVALID,) and result.verdict == "unverifiable"
    # Once CN publishes again with the revocation, the certificate is REVOKED.
    world.sequence = 4
    store.install(bundle(world, sequence=4, status_lists=[*others, *revoked]), now=NOW)
    again = store.current()
    assert again is not None and Verifier(again, country="KZ").verify(token, at=NOW).codes == (R.REVOKED,)


# -- freeze and damage ----------------------------------------------------------------------------


def test_bundle_whose_federation_list_expired_is_refused_and_nothing_written(
    world: World, tmp_path: Path
) -> None:
    world.federation_expires = NOW - timedelta(seconds=1)
    store = store_for(world, tmp_path)
    with pytest.raises(StaleTrustDataError) as info:
        store.install(bundle(world, sequence=1), now=NOW)
    assert info.value.code is R.TRUST_DATA_STALE
    assert list(tmp_path.iterdir()) == []
    # The same data one second earlier was still current.
    assert store.install(bundle(world, sequence=1), now=NOW - timedelta(seconds=2)).changed


@pytest.mark.parametrize(
    "damage",
    ["{not json", "[]", '"text"', "{}", '{"federation": "x", "bundle": {"sequence": "one"}}', ""],
    ids=["not-json", "list", "string", "empty-object", "bad-sequence", "empty-file"],
)
def test_damaged_version_record_is_trust_data_error(world: World, tmp_path: Path, damage: str) -> None:
    store = store_for(world, tmp_path)
    store.install(bundle(world, sequence=1), now=NOW)
    set_record(store, damage)
    # The verified index itself is intact, so scanning goes on; no install may build on a
    # record it cannot read (it could not tell a rollback), and the damage stays for an operator.
    current = store.current()
    assert current is not None and current.sequence == 1
    with pytest.raises(TrustDataError):
        store.install(bundle(world, sequence=2), now=NOW)
    assert stored_record_text(store) == damage


def test_an_install_interrupted_while_writing_leaves_the_old_snapshot_whole(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = store_for(world, tmp_path)
    store.install(bundle(world, sequence=1), now=NOW)
    before = record(store)
    world.sequence = 2
    new = bundle(world, sequence=2)
    real = store_module.write_index

    def crash(path: Path, *args: Any, **kwargs: Any) -> None:
        real(path, *args, **kwargs)
        raise KeyboardInterrupt  # Ctrl-C after the new index was written, before it replaced the old

    monkeypatch.setattr(store_module, "write_index", crash)
    with pytest.raises(KeyboardInterrupt):
        store.install(new, now=NOW)
    monkeypatch.undo()
    current = store.current()
    assert current is not None and current.sequence == 1
    assert record(store) == before
    # Installing the newest bundle again completes it.
    store.install(new, now=NOW)
    current = store.current()
    assert current is not None and current.sequence == 2


# -- check_not_older ------------------------------------------------------------------------------


def test_check_not_older(world: World, tmp_path: Path) -> None:
    store = store_for(world, tmp_path)
    old = load_bundle(bundle(world, sequence=1), pinned_roots=[world.root.public])
    store.check_not_older(old)  # nothing installed: anything goes
    world.sequence = 2
    data = bundle(world, sequence=2)
    store.install(data, now=NOW)
    before = files(store)
    with pytest.raises(RollbackError):
        store.check_not_older(old)
    store.check_not_older(load_bundle(data, pinned_roots=[world.root.public]))
    world.sequence = 3
    store.check_not_older(load_bundle(bundle(world, sequence=3), pinned_roots=[world.root.public]))
    assert files(store) == before  # checking never installs


# -- status lists: one version per lab and URL ----------------------------------------------------


def _status(spec: LabSpec, *, bits: tuple[int, ...], hours_ago: float, url: str = "") -> str:
    """The lab's status list (both purposes) with ``bits`` set: slot k is revoked by 2k,
    suspended by 2k + 1."""
    bitstring = Bitstring()
    for i in bits:
        bitstring.set(i, True)
    valid_from = NOW - timedelta(hours=hours_ago)
    sl = StatusList(
        url or spec.url, spec.id, STATUS_PURPOSES, bitstring, valid_from, NOW + timedelta(days=30)
    )
    return sl.sign(spec.key, spec.key.public.kid)


def test_nested_lab_cannot_mask_a_rollback_of_another_labs_status_list(world: World, tmp_path: Path) -> None:
    parent = world.labs["cn-food"]  # https://qdtc.example.cn
    world.labs["branch"] = LabSpec(f"{parent.id}/branch", "CN", ("food",), SigningKey.generate())
    branch = world.labs["branch"]
    token = world.issue("branch", slot=7)
    others = [t for name in ("cn-food", "cn-metals", "ru-food") for t in world.status_lists(world.labs[name])]
    # The parent lab signs a list at the branch's URL (its URL is inside the parent's id too).
    squat = _status(parent, bits=(), hours_ago=0.1, url=branch.url)
    revoked = _status(branch, bits=(14,), hours_ago=1)
    unrevoked = _status(branch, bits=(), hours_ago=5)  # older
    store = store_for(world, tmp_path)
    store.install(bundle(world, sequence=1, status_lists=[*others, revoked, squat]), now=NOW)
    current = store.current()
    assert current is not None
    assert Verifier(current, country="CN").verify(token, at=NOW).codes == (R.REVOKED,)
    with pytest.raises(RollbackError):
        store.install(bundle(world, sequence=2, status_lists=[*others, unrevoked, squat]), now=NOW)
    current = store.current()
    assert current is not None
    assert Verifier(current, country="CN").verify(token, at=NOW).codes == (R.REVOKED,)


# -- revocation is final on a device ---------------------------------------------------------------


def test_a_later_list_clearing_a_revoked_bit_does_not_unrevoke(world: World, tmp_path: Path) -> None:
    """A rogue lab (its own key) signs a newer revocation list without the bit it had set: a
    device that saw the revocation keeps it, and the install says so."""
    spec = world.labs["cn-food"]
    token = world.issue(slot=9)
    others = [t for name in ("cn-metals", "ru-food") for t in world.status_lists(world.labs[name])]
    revoked = _status(spec, bits=(18, 80), hours_ago=2)
    cleared = _status(spec, bits=(80,), hours_ago=1)  # newer, index 18 (slot 9) cleared
    store = store_for(world, tmp_path)
    store.install(bundle(world, sequence=1, status_lists=[*others, revoked]), now=NOW)
    assert record(store)["statusLists"][f"{spec.id} {spec.url}"]["revoked"] == [18, 80]
    installed = store.install(bundle(world, sequence=2, status_lists=[*others, cleared]), now=NOW)
    assert installed.warnings == (
        f"{spec.url} of {spec.id} clears revocations this device had seen (index 18): they stay revoked",
    )
    assert record(store)["statusLists"][f"{spec.id} {spec.url}"]["revoked"] == [18, 80]
    for snapshot in (installed.snapshot, store.current()):
        assert snapshot is not None
        assert Verifier(snapshot, country="KZ").verify(token, at=NOW).codes == (R.REVOKED,)
    # A bundle given to verify directly gets the device's revocations too.
    given = load_bundle(
        bundle(world, sequence=3, status_lists=[*others, cleared]),
        pinned_roots=[world.root.public],
    )
    assert Verifier(given, country="KZ").verify(token, at=NOW).codes == (R.ACCEPTED,)
    store.check_not_older(given)
    assert Verifier(given, country="KZ").verify(token, at=NOW).codes == (R.REVOKED,)
    # Another certificate of that lab is unaffected.
    assert Verifier(given, country="KZ").verify(world.issue(slot=10), at=NOW).codes == (R.ACCEPTED,)


def test_an_unsuspension_is_accepted_while_a_cleared_revocation_stays(world: World, tmp_path: Path) -> None:
    """Odd bits are suspensions, which a lab lifts: a device keeps only the even (revocation)
    bits it saw. One newer list clears both kinds: the suspension is lifted, the revocation stays."""
    spec = world.labs["cn-food"]
    suspended, revoked = world.issue(slot=9), world.issue(slot=10)  # bits 19 and 20
    others = [t for name in ("cn-metals", "ru-food") for t in world.status_lists(world.labs[name])]
    first = _status(spec, bits=(19, 20), hours_ago=2)
    lifted = _status(spec, bits=(), hours_ago=1)
    store = store_for(world, tmp_path)
    installed = store.install(bundle(world, sequence=1, status_lists=[*others, first]), now=NOW)
    assert record(store)["statusLists"][f"{spec.id} {spec.url}"]["revoked"] == [20]
    verifier = Verifier(installed.snapshot, country="KZ")
    assert (verifier.verify(suspended, at=NOW).codes, verifier.verify(revoked, at=NOW).codes) == (
        (R.SUSPENDED,),
        (R.REVOKED,),
    )
    installed = store.install(bundle(world, sequence=2, status_lists=[*others, lifted]), now=NOW)
    assert installed.warnings == (
        f"{spec.url} of {spec.id} clears revocations this device had seen (index 20): they stay revoked",
    )
    assert record(store)["statusLists"][f"{spec.id} {spec.url}"]["revoked"] == [20]
    for snapshot in (installed.snapshot, store.current()):
        assert snapshot is not None
        verifier = Verifier(snapshot, country="KZ")
        assert verifier.verify(suspended, at=NOW).codes == (R.ACCEPTED,)
        assert verifier.verify(revoked, at=NOW).codes == (R.REVOKED,)


# -- parts from the future ---------------------------------------------------------------------------


def test_a_status_list_dated_after_its_bundle_is_dropped_and_cannot_block_later_bundles(
    world: World, tmp_path: Path
) -> None:
    """A stolen lab key signs a list dated far ahead: were it kept, every genuine later list
    would look like a rollback once the key is revoked. Lists dated over an hour after the
    bundle that carries them are dropped instead."""
    spec = world.labs["cn-food"]
    others = [t for name in ("cn-metals", "ru-food") for t in world.status_lists(world.labs[name])]
    future = _status(spec, bits=(), hours_ago=-24 * 365)
    near = _status(spec, bits=(), hours_ago=-0.5)  # within the hour: clocks differ
    bundle_time = NOW - timedelta(minutes=30)
    snap = load_bundle(
        world.bundle(status_lists=[*others, future], created_at=bundle_time),
        pinned_roots=[world.root.public],
    )
    assert (spec.id, spec.url) not in snap.status_lists
    assert any("after the bundle that carries it was built" in str(s) for s in snap.skipped)
    result = Verifier(snap, country="KZ").verify(world.issue(), at=NOW)
    assert result.verdict == "unverifiable" and result.codes == (R.STATUS_UNAVAILABLE,)
    near_snap = load_bundle(
        world.bundle(status_lists=[*others, near], created_at=bundle_time),
        pinned_roots=[world.root.public],
    )
    assert (spec.id, spec.url) in near_snap.status_lists
    store = store_for(world, tmp_path)
    store.install(bundle(world, sequence=1, status_lists=[*others, future]), now=NOW)
    assert f"{spec.id} {spec.url}" not in record(store)["statusLists"]
    genuine = _status(spec, bits=(), hours_ago=0.2)
    assert store.install(bundle(world, sequence=2, status_lists=[*others, genuine]), now=NOW).changed


def test_a_trust_list_dated_after_its_bundle_is_dropped(world: World) -> None:
    class Ahead(World):
        def trust_list(self, cc: str) -> str:
            if cc != "KZ":
                return super().trust_list(cc)
            from protocol.lists import TrustList

            tl = TrustList(
                self.reg_id(cc), cc, f"AB-{cc}", 99, NOW + timedelta(days=300), NOW + timedelta(days=330), ()
            )
            return tl.sign(self.reg_keys[cc], self.reg_keys[cc].public.kid)

    ahead = Ahead()
    snap = load_bundle(ahead.bundle(), pinned_roots=[ahead.root.public])
    assert KZ_REGISTRY not in snap.trust_lists and KZ_REGISTRY not in snap.versions.trust_lists
    assert [str(s) for s in snap.skipped if KZ_REGISTRY in str(s)] == [
        f"trust list of AB-KZ ({KZ_REGISTRY}): issued 2027-09-23T09:00:00Z, "
        "after the bundle that carries it was built"
    ]


def test_a_revocation_seen_stays_revoked_when_the_list_goes_missing(world: World, tmp_path: Path) -> None:
    """The device saw the bit set; a later bundle without that list (or with it dropped)
    still shows REVOKED, not a cannot-verify."""
    spec = world.labs["cn-food"]
    token = world.issue(slot=9)
    others = [t for name in ("cn-metals", "ru-food") for t in world.status_lists(world.labs[name])]
    revoked = _status(spec, bits=(18,), hours_ago=2)
    store = store_for(world, tmp_path)
    store.install(bundle(world, sequence=1, status_lists=[*others, revoked]), now=NOW)
    installed = store.install(bundle(world, sequence=2, status_lists=[*others]), now=NOW)
    result = Verifier(installed.snapshot, country="KZ").verify(token, at=NOW)
    # A reject: the suspension bit is unknown now, but the revocation is final.
    assert (result.verdict, result.codes) == ("reject", (R.REVOKED, R.STATUS_UNAVAILABLE))
    # Another certificate of that lab: its status list is missing, so cannot verify.
    other = Verifier(installed.snapshot, country="KZ").verify(world.issue(slot=10), at=NOW)
    assert (other.verdict, other.codes) == ("unverifiable", (R.STATUS_UNAVAILABLE,))


def test_a_delisted_lab_listed_again_cannot_come_back_with_its_revocations_cleared(
    world: World, tmp_path: Path
) -> None:
    spec = world.labs["cn-food"]
    token = world.issue(slot=9)
    others = [t for name in ("cn-metals", "ru-food") for t in world.status_lists(world.labs[name])]
    revoked = _status(spec, bits=(18,), hours_ago=2)
    store = store_for(world, tmp_path)
    store.install(bundle(world, sequence=1, status_lists=[*others, revoked]), now=NOW)
    listed = world.labs.pop("cn-food")  # the CN registry stops listing the lab ...
    world.sequence = 2
    store.install(bundle(world, sequence=2, status_lists=others), now=NOW)
    assert record(store)["statusLists"][f"{spec.id} {spec.url}"]["revoked"] == [18]
    world.labs["cn-food"] = listed  # ... and lists it again, with a newer list that clears the bit
    world.sequence = 3
    cleared = _status(spec, bits=(), hours_ago=1)
    installed = store.install(bundle(world, sequence=3, status_lists=[*others, cleared]), now=NOW)
    assert Verifier(installed.snapshot, country="KZ").verify(token, at=NOW).codes == (R.REVOKED,)


def test_install_warns_about_labs_without_a_status_list(world: World, tmp_path: Path) -> None:
    others = [t for name in ("cn-metals", "ru-food") for t in world.status_lists(world.labs[name])]
    installed = store_for(world, tmp_path).install(bundle(world, sequence=1, status_lists=others), now=NOW)
    assert installed.warnings == (
        "1 labs have no usable status list, so their certificates cannot be verified (e.g. https://qdtc.example.cn)",
    )
