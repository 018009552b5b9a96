"""Root key rotation at install (docs/verifying.md, "Root rotation"): a device pinned at an
old root version walks the bundle's rotations forward, and moves its pin only once the
whole install succeeded. Real keys throughout; attacks use the keys their attacker holds.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocol.bundle import MAGIC, make_delta, open_container, read_unchecked
from protocol.errors import RollbackError, TrustDataError
from protocol.keys import SigningKey, VerifyKey
from protocol.reasons import ReasonCode as R
from service.db import session
from testkit import NOW, World, enrol, sql_registry, sql_root
from trust_registry import _root_domain as root_domain
from verifier import Verifier, load_bundle
from verifier.store import SnapshotStore

PASS = "root passphrase"


def files(store: SnapshotStore) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(store.directory.iterdir()) if p.is_file()}


def pinned_at_1(world: World, path: Path) -> tuple[SnapshotStore, SigningKey]:
    """A device that pinned root version 1 and installed its bundle; the world then rotates
    to version 3. Returns the store and the retired version 1 key."""
    store = SnapshotStore(path, pinned_roots=[world.root.public])
    store.install(world.bundle(), now=NOW)
    first = world.rotate_root()
    world.rotate_root()
    world.sequence = 2
    return store, first


def test_a_device_at_1_walks_to_3_and_accepts_certificates(world: World, tmp_path: Path) -> None:
    store, first = pinned_at_1(world, tmp_path)
    installed = store.install(world.bundle(), now=NOW)
    assert installed.changed
    assert installed.snapshot.root_version == 3 and installed.snapshot.pinned_version == 1
    assert any("now trusts root version 3" in w and "instead of version 1" in w for w in installed.warnings)
    # The pin moved: root-keys.json holds version 3's key, the index records version 3.
    assert json.loads(store.root_path.read_text()) == [dict(world.root.public.jwk)]
    assert store.pin() == ((world.root.public,), 3)
    reopened = SnapshotStore(tmp_path)
    current = reopened.current()
    assert current is not None and current.root_version == 3
    assert [k.kid for k in current.root_keys] == [world.root.public.kid]
    assert Verifier(current, country="KZ").verify(world.issue(), at=NOW).accepted
    # The original keys given again (``--root`` as on the first day) name this federation.
    assert SnapshotStore(tmp_path, pinned_roots=[first.public]).roots() == (world.root.public,)
    with pytest.raises(TrustDataError, match="already pins another federation root"):
        SnapshotStore(tmp_path, pinned_roots=[SigningKey.generate().public]).roots()


def test_after_the_move_the_retired_key_is_refused(world: World, tmp_path: Path) -> None:
    """A bundle signed by the version 1 key (stolen, or just old) after the device reached 3."""
    store, first = pinned_at_1(world, tmp_path)
    store.install(world.bundle(), now=NOW)
    before = files(store)
    current = world.root
    world.root, world.sequence = first, 5
    with pytest.raises(RollbackError, match=r"rollback of the federation root.*already trusts version 3"):
        store.install(world.bundle(root_chain=[]), now=NOW)
    # Even with the real chain, the old key no longer signs anything this device accepts.
    with pytest.raises(TrustDataError, match="not by a key of root version 3"):
        store.install(world.bundle(root_chain=world.root_chain), now=NOW)
    assert files(store) == before
    world.root = current


def test_a_federation_list_signed_by_the_retired_key_is_refused(world: World, tmp_path: Path) -> None:
    store, first = pinned_at_1(world, tmp_path)
    current = world.root
    world.root = first
    old_list = world.federation()
    world.root = current
    with pytest.raises(TrustDataError, match="federation list is not signed by a key of root version 3"):
        store.install(world.bundle(federation=old_list), now=NOW)
    assert store.pin() == ((first.public,), 1)


def test_a_missing_rotation_leaves_the_store_untouched(world: World, tmp_path: Path) -> None:
    store, _ = pinned_at_1(world, tmp_path)
    before = files(store)
    with pytest.raises(
        TrustDataError, match=r"does not carry the root rotation from version 1; ask your agency"
    ):
        store.install(world.bundle(root_chain=world.root_chain[1:]), now=NOW)
    # A bundle that carries no rotation at all, signed by version 3.
    with pytest.raises(TrustDataError, match="the bundle does not carry the root rotation from version 1"):
        store.install(world.bundle(root_chain=[]), now=NOW)
    assert files(store) == before


def test_replayed_rotations_are_refused(world: World, tmp_path: Path) -> None:
    store, _ = pinned_at_1(world, tmp_path)
    before = files(store)
    chain = world.root_chain
    for bad in ([chain[0], chain[0], chain[1]], [chain[1], chain[0]]):
        with pytest.raises(TrustDataError):
            store.install(world.bundle(root_chain=bad), now=NOW)
    assert files(store) == before


def test_a_stale_federation_list_keeps_the_old_pin(world: World, tmp_path: Path) -> None:
    """TUF §5.3.10: the walk is kept only if the final root's data is fresh."""
    store, first = pinned_at_1(world, tmp_path)
    world.federation_expires = NOW - timedelta(minutes=1)
    with pytest.raises(TrustDataError, match="expired"):
        store.install(world.bundle(), now=NOW)
    assert store.pin() == ((first.public,), 1)
    assert json.loads(store.root_path.read_text()) == [dict(first.public.jwk)]


@pytest.mark.parametrize("pin_version", [1, 2, 3])
def test_first_pin_may_be_any_root_version(tmp_path: Path, pin_version: int) -> None:
    """``yilu trust install --root KEYS`` with the keys of version 1, 2 or 3."""
    world = World()
    keys = [world.root]
    keys.append(world.rotate_root() and world.root)
    keys.append(world.rotate_root() and world.root)
    store = SnapshotStore(tmp_path, pinned_roots=[keys[pin_version - 1].public])
    installed = store.install(world.bundle(), now=NOW)
    assert installed.snapshot.pinned_version == pin_version and installed.snapshot.root_version == 3
    assert store.pin() == ((world.root.public,), 3)
    snap = load_bundle(world.bundle(), pinned_roots=[keys[pin_version - 1].public])
    assert snap.root_version == 3 and snap.pinned_version == pin_version


def test_a_delta_carries_the_rotation(world: World, tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path, pinned_roots=[world.root.public])
    first = world.bundle()
    store.install(first, now=NOW)
    world.rotate_root()
    world.sequence = 2
    full = world.bundle()
    delta = make_delta(read_unchecked(first), read_unchecked(full), world.root, world.root.public.kid)
    assert open_container(delta)[0] == tuple(world.root_chain)
    installed = store.install(delta, now=NOW)
    assert installed.snapshot.root_version == 2 and store.pin()[1] == 2
    current = store.current()
    assert current is not None
    assert Verifier(current, country="KZ").verify(world.issue(), at=NOW).accepted


def test_a_bundle_of_another_federations_root_is_still_foreign(world: World, tmp_path: Path) -> None:
    store, _ = pinned_at_1(world, tmp_path)
    other = World()
    other.rotate_root()
    with pytest.raises(
        TrustDataError, match="not signed by a key of root version 1, which this device trusts"
    ):
        store.install(other.bundle(), now=NOW)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_byte_change_in_the_chain_is_refused(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    """Every change to the rotation lines of a bundle is refused with TrustDataError, and the
    store is left as it was; the same bundle unchanged installs."""
    world = _BYTES_WORLD
    bundle = _BYTES_BUNDLE
    end = len(MAGIC) + sum(len(s) + 1 for s in world.root_chain)
    at = data.draw(st.integers(len(MAGIC), end - 1))
    value = data.draw(st.integers(0, 255).filter(lambda b: b != bundle[at]))
    changed = bundle[:at] + bytes([value]) + bundle[at + 1 :]
    store = SnapshotStore(tmp_path_factory.mktemp("dev"), pinned_roots=[_BYTES_PIN.public])
    with pytest.raises(TrustDataError) as info:
        store.install(changed, now=NOW)
    assert "\n" not in str(info.value)
    assert not store.path.exists() and not store.root_path.exists()


_BYTES_WORLD = World()
_BYTES_PIN = _BYTES_WORLD.root
_BYTES_WORLD.rotate_root()
_BYTES_WORLD.rotate_root()
_BYTES_BUNDLE = _BYTES_WORLD.bundle()


def test_the_root_service_rotates_and_devices_follow(tmp_path: Path) -> None:
    """End to end with the root service's domain (in-process, SQLite): rotate_root_key,
    then the next bundle and its delta bring a device along."""
    since = NOW - timedelta(days=10)
    registry = sql_registry(tmp_path / "reg", passphrase=PASS, since=since)
    enrol(registry, SigningKey.generate(), lab_id="https://lab.example.cn", since=since)
    root = sql_root(tmp_path / "root", passphrase=PASS, since=since)
    root.admit(registry, since=since)
    pin = json.loads((tmp_path / "root" / "root-keys.json").read_text())
    root.fetch({f"{registry.id}/yilu/": registry.publish(now=NOW - timedelta(hours=4))}, now=NOW)
    root.publish(now=NOW - timedelta(hours=3))
    first, _ = root.bundle(now=NOW)
    retired = root.signer()
    store = SnapshotStore(tmp_path / "device", pinned_roots=[retired.public])
    store.install(first, now=NOW)

    with session(root.engine) as db:
        rotated = root_domain.rotate_root_key(
            session=db,
            data_dir=root.directory,
            old_signer=retired,
            new_passphrase=PASS,
            actor="test",
            now=NOW - timedelta(hours=2),
            validity=timedelta(days=7),
        )
    new = root.signer()
    assert rotated.root_version == 2 and new.public.kid == rotated.kid != retired.public.kid
    with session(root.engine) as db:
        statement = root_domain.identity(session=db).root_chain[-1]
    current = json.loads((tmp_path / "root" / "root-keys.json").read_text())
    assert [VerifyKey.from_jwk(k) for k in current] == [new.public] and current != pin
    full, delta = root.bundle(now=NOW)
    assert delta is not None and open_container(full)[0] == (statement,)

    installed = store.install(delta, now=NOW)
    assert installed.snapshot.root_version == 2 and store.pin() == ((new.public,), 2)
    assert installed.snapshot.federation.root_keys == (new.public,)
    # A fresh device pinning the original root-keys.json still gets there from version 1.
    fresh = SnapshotStore(tmp_path / "fresh", pinned_roots=[retired.public])
    assert fresh.install(full, now=NOW).snapshot.root_version == 2
    # A result that cannot be verified for lack of the chain names the reason code for it.
    with pytest.raises(TrustDataError) as info:
        load_bundle(full.replace(statement.encode() + b"\n", b""), pinned_roots=[retired.public])
    assert info.value.code is R.TRUST_DATA_INVALID
