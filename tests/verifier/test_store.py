"""Rollback and freeze protection of the verifier's stored snapshot."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from protocol.bundle import Bundle
from protocol.errors import RollbackError, StaleTrustDataError, TrustDataError
from testkit import FEDERATION, NOW, World
from verifier.store import SnapshotStore


def test_install_newer_replaces_older(world: World, tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path, pinned_roots=[world.root.public])
    assert store.current() is None
    store.install(world.bundle(), now=NOW)
    world.sequence = 2
    installed = store.install(world.bundle(), now=NOW)
    assert installed.changed and installed.snapshot.federation.sequence == 2
    current = store.current()
    assert current is not None and current.federation.sequence == 2


def test_rollback_refused_and_store_untouched(world: World, tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path, pinned_roots=[world.root.public])
    old = world.bundle()
    world.sequence = 5
    store.install(world.bundle(), now=NOW)
    before = store.path.read_bytes()
    with pytest.raises(RollbackError):
        store.install(old, now=NOW)
    assert store.path.read_bytes() == before


def test_trust_list_rollback_refused(world: World, tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path, pinned_roots=[world.root.public])
    world.sequence = 3
    store.install(world.bundle(), now=NOW)
    # The same federation list (sequence 3) with older trust lists (sequence 2): still a rollback.
    fed = world.federation()
    world.sequence = 2
    b = Bundle(
        FEDERATION,
        4,
        NOW,
        (dict(world.root.public.jwk),),
        fed,
        tuple(world.trust_list(cc) for cc in world.reg_keys),
        tuple(t for spec in world.labs.values() for t in world.status_lists(spec)),
    )
    with pytest.raises(RollbackError, match="trust list"):
        store.install(b.sign(world.root, world.root.public.kid), now=NOW)


def test_expired_bundle_refused(world: World, tmp_path: Path) -> None:
    world.federation_expires = NOW - timedelta(seconds=1)
    with pytest.raises(StaleTrustDataError):
        SnapshotStore(tmp_path, pinned_roots=[world.root.public]).install(world.bundle(), now=NOW)
    assert not (tmp_path / "bundle.jwt").exists()


def test_foreign_root_refused(world: World, tmp_path: Path) -> None:
    with pytest.raises(TrustDataError):
        SnapshotStore(tmp_path, pinned_roots=[world.root.public]).install(World().bundle(), now=NOW)
