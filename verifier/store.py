"""The verifier's pinned root and last accepted snapshot, kept on disk.

A store is a directory (``$YILU_DATA_DIR/trust`` for the command line) holding:

``root-keys.json``  the federation root public keys, pinned once (``yilu trust install --root``),
                    rewritten with the new keys when a bundle rotates the root;
``index.db``        the installed snapshot, verified once at install and indexed for scanning
                    (verifier/_index.py), with its parts (to apply the next delta to), the
                    version of every part (the rollback record) and the **root pin**: the root
                    version and keys the snapshot was verified with (what the next install
                    walks the root chain from).

Root rotation (docs/verifying.md, "Root rotation"), as TUF updates its root: a bundle
signed by a later root version is installed only if its root rotations lead, one version
at a time, from the pinned version to that one (protocol/rootchain.py); the new version is
pinned only once the whole install has succeeded, and a bundle of a lower root version
than the pin is refused (a rollback of the root).

TUF-style protections (docs/verifying.md, "Rollback and freeze"): a bundle, or a delta
applied to the installed snapshot, is installed only if it verifies from the pinned root,
its federation list has not expired (freeze), and no part of it is older than the
installed one: the bundle's own sequence, the federation list, every registry's trust list
and every lab's status list (rollback); two different contents may not share one version.
A part the bundle lacks or cannot use keeps its installed version on record while its
owner is in the federation (its certificates cannot be verified meanwhile, and nothing
older can come back), and every revocation seen stays on record (revocation is final).
The index is written beside the old one and renamed over it: an interrupted install
leaves the old snapshot and its record whole.
"""

from __future__ import annotations

import json
import os
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from protocol.bundle import Bundle, apply_delta, encode_records, open_body
from protocol.encoding import format_time, parse_time
from protocol.errors import InputError, RollbackError, StaleTrustDataError, TrustDataError
from protocol.keys import VerifyKey
from protocol.lists import key_set
from protocol.reasons import ReasonCode
from protocol.storage import read_json, write_json
from verifier._index import (
    open_index,
    read_installed_at,
    read_parts,
    read_pin,
    read_record,
    read_retired,
    read_verified,
    write_index,
)
from verifier._snapshot import (
    PartVersion,
    Snapshot,
    Versions,
    load_snapshot,
    open_manifest,
    read_body,
)

ROOT_FILE: Final = "root-keys.json"
INDEX_FILE: Final = "index.db"


def read_root_keys(path: Path) -> tuple[VerifyKey, ...]:
    """Read a JSON list of root public JWKs (``yilu root init`` writes ``root-keys.json``)."""
    try:
        jwks = read_json(path)
        if not isinstance(jwks, list) or not jwks:
            raise InputError(f"{path} must hold a JSON list of the federation root's public keys")
        return tuple(VerifyKey.from_jwk(j) for j in jwks)
    except InputError as exc:
        raise TrustDataError(str(exc), code=ReasonCode.TRUST_DATA_MISSING) from exc


def _jwks(keys: Iterable[VerifyKey]) -> list[dict[str, str]]:
    return sorted((dict(k.jwk) for k in keys), key=lambda j: json.dumps(j, sort_keys=True))


@dataclass(frozen=True, slots=True)
class Installed:
    """What :meth:`SnapshotStore.install` did."""

    snapshot: Snapshot
    changed: bool
    #: Things the operator should know: e.g. a lab whose new list clears revocations.
    warnings: tuple[str, ...] = ()


class SnapshotStore:
    """A directory holding the one bundle this verifier trusts right now, and its pin."""

    def __init__(self, directory: Path, *, pinned_roots: Iterable[VerifyKey] | None = None) -> None:
        self.directory = directory
        self._given = tuple(pinned_roots) if pinned_roots is not None else None

    @property
    def path(self) -> Path:
        """The installed snapshot's index."""
        return self.directory / INDEX_FILE

    @property
    def root_path(self) -> Path:
        return self.directory / ROOT_FILE

    def stored_roots(self) -> tuple[VerifyKey, ...] | None:
        """The root keys pinned in this store, or None if none are pinned yet."""
        return read_root_keys(self.root_path) if self.root_path.exists() else None

    def roots(self) -> tuple[VerifyKey, ...]:
        """The keys to verify with: those given to the store, else the stored pin.

        Given keys that differ from a stored pin are refused: re-pinning another
        federation must be a deliberate act (a new store), never a side effect. Keys of a
        root version this device trusted before a rotation name this federation: the
        stored pin is used.
        """
        stored = self.stored_roots()
        if self._given is not None:
            if stored is not None and key_set(self._given) <= key_set(read_retired(self.path)):
                return stored
            if stored is not None and _jwks(stored) != _jwks(self._given):
                raise TrustDataError(
                    f"{self.directory} already pins another federation root; use a new data directory "
                    "(YILU_DATA_DIR) to verify for another federation"
                )
            return self._given
        if stored is None:
            raise TrustDataError(
                "no federation root is pinned: install a bundle once with --root KEYS "
                "(the root public keys your agency gave you)",
                code=ReasonCode.TRUST_DATA_MISSING,
            )
        return stored

    def pin(self) -> tuple[tuple[VerifyKey, ...], int | None]:
        """The root this device trusts now: the version and keys the installed snapshot was
        verified with (the index records them), else the pinned keys, of a version the next
        bundle's root chain tells (None)."""
        roots = self.roots()
        recorded = read_pin(self.path)
        return (roots, None) if recorded is None else recorded

    def current(self) -> Snapshot | None:
        """The installed snapshot, read lazily from its index; None if nothing is installed.

        It was verified from the pin when it was installed; opening it checks no signature
        (docs/verifying.md, "Trust data"), so a verifier is ready in milliseconds.
        """
        if not self.path.exists():
            return None
        return open_index(self.path, self.roots())

    def stored_versions(self) -> Versions | None:
        record = read_record(self.path)
        return None if record is None else Versions.from_json(record)

    def installed_at(self) -> datetime | None:
        try:
            return parse_time(read_installed_at(self.path), "installedAt")
        except InputError:
            return None

    def installed_bundle(self) -> Bundle | None:
        """The installed snapshot's parts (what a delta applies to)."""
        return read_parts(self.path) if self.path.exists() else None

    def check(self, new: Snapshot, *, now: datetime) -> bool:
        """Raise unless ``new`` may replace what is installed; True if it changes anything.

        Raises :class:`StaleTrustDataError` (freeze), :class:`RollbackError` (a part older
        than installed, or different at the same version) or TrustDataError.
        """
        return _check(self.stored_versions(), new, now=now)

    def check_not_older(self, new: Snapshot) -> None:
        """Raise :class:`RollbackError` if any part of ``new`` is older than what is installed,
        and carry the installed revocations over to it (``yilu verify --bundle`` runs this)."""
        old = self.stored_versions()
        if old is not None:
            _compare(old, new)
            _remember_revocations(new, old)

    def install(self, bundle: bytes, *, now: datetime) -> Installed:
        """Verify a full bundle, or a delta to the installed snapshot, and make it current,
        unless it is stale or older in any part than what is installed.

        The first install pins the given root keys. A bundle signed by a later root version
        is installed only if its root rotations lead there from the pinned version; the pin
        moves to that version only once everything else succeeded. On any error the store
        is untouched.
        """
        roots, pinned_version = self.pin()
        old = self.stored_versions()  # read once: at 120,000 labs it lists 120,000 status lists
        manifest, body, root, from_version = open_manifest(
            bundle, roots, pinned_version=pinned_version, federation=None if old is None else old.federation
        )
        if manifest.base is None:
            parts = read_body(manifest, body)
        else:
            base = self.installed_bundle()
            if base is None:
                raise TrustDataError(
                    f"this is a delta from bundle sequence {manifest.base.sequence} and nothing is "
                    "installed to apply it to: install a full bundle"
                )
            try:
                parts = apply_delta(manifest, open_body(manifest, body), base)
            except InputError as exc:
                raise TrustDataError(f"cannot apply this delta: {exc}") from exc
        new = load_snapshot(
            parts, root.keys, state=manifest.state, known=read_verified(self.path), root_version=root.version
        )
        new.pinned_version = from_version
        changed = _check(old, new, now=now)
        if self.stored_roots() is None:
            write_json(self.root_path, _jwks(roots))
        record = _record(old, new, now)
        staging = self.path.with_name(INDEX_FILE + ".new")
        write_index(
            staging,
            new,
            # A full bundle's body is kept as it came (compressed); a delta's result is encoded.
            parts=(manifest.encoding, body)
            if manifest.base is None
            else ("zlib", zlib.compress(encode_records(parts), 1)),
            record=record,
            verified=new.verified,
            retired=_retired(read_retired(self.path), roots, root.keys),
        )
        os.replace(staging, self.path)
        # The index (written last, atomically) holds the new pin; root-keys.json follows it.
        rotated = key_set(root.keys) != key_set(roots)
        if rotated:
            write_json(self.root_path, _jwks(root.keys))
        _remember_revocations(new, old)
        return Installed(
            new,
            changed or rotated,
            _rotated(new, from_version) + _cleared_revocations(old, new) + _unusable(new),
        )


def _check(old: Versions | None, new: Snapshot, *, now: datetime) -> bool:
    """Freeze, then rollback: see :meth:`SnapshotStore.check`."""
    if new.federation.expires_at < now:
        raise StaleTrustDataError(
            f"the bundle's federation list expired {format_time(new.federation.expires_at)}: "
            "ask your agency for a current bundle",
            code=ReasonCode.TRUST_DATA_STALE,
        )
    return True if old is None else _compare(old, new)


def _newer(what: str, label: str, old: PartVersion, new: PartVersion, *, numeric: bool) -> bool:
    """Compare one part; raise on a rollback or an equivocation; True if it moved forward.

    ``what`` names the part ("this bundle", "its trust list of X"), ``label`` its version
    ("sequence", "issued")."""
    if numeric:
        a: Any = int(old.version)
        b: Any = int(new.version)
    else:
        a, b = parse_time(old.version, "version"), parse_time(new.version, "version")
    if b < a:
        raise RollbackError(
            f"refusing a rollback: {what} ({label} {new.version}) is older than the "
            f"installed one ({label} {old.version}); installing it could undo revocations",
            code=ReasonCode.TRUST_DATA_INVALID,
        )
    if b == a and new.digest != old.digest:
        raise RollbackError(
            f"refusing {what}: it differs from the installed one at the same "
            f"{label} {new.version}, and one version cannot have two contents",
            code=ReasonCode.TRUST_DATA_INVALID,
        )
    return bool(b > a)


def _compare(old: Versions, snap: Snapshot) -> bool:
    """Raise unless every part of ``snap`` is at least as new as in ``old``; True if the
    bundle moved forward (an equal sequence with an equal digest is the same bundle)."""
    new = snap.versions
    if new.federation != old.federation:
        raise TrustDataError(
            f"this bundle belongs to federation {new.federation}, the installed data to {old.federation}"
        )
    changed = _newer(
        "this bundle",
        "sequence",
        PartVersion(str(old.bundle), old.bundle_digest),
        PartVersion(str(new.bundle), new.bundle_digest),
        numeric=True,
    )
    _newer(
        "its federation list",
        "sequence",
        PartVersion(str(old.federation_list), old.federation_digest),
        PartVersion(str(new.federation_list), new.federation_digest),
        numeric=True,
    )
    # A part that is missing or unusable is not a rollback: its certificates cannot be
    # verified (never accepted), and the record keeps its last version (see _record).
    for registry, before in old.trust_lists.items():
        after = new.trust_lists.get(registry)
        if after is not None:
            _newer(f"its trust list of {registry}", "sequence", before, after, numeric=True)
    for key, before in old.status_lists.items():
        after = new.status_lists.get(key)
        if after is not None:
            url = key.split(" ", 1)[-1]
            _newer(f"its status list {url}", "issued", before, after, numeric=False)
    return changed


def _forgotten(before: PartVersion, snap: Snapshot) -> bool:
    """True if an installed status list absent from ``snap`` may be forgotten: its lab's
    registry left the federation, or published a valid trust list that no longer lists the
    lab and the list holds no revocation (a delisted lab listed again later must not come
    back with its revocations cleared). Any other absence keeps its version."""
    if before.registry not in {m.id for m in snap.federation.registries}:
        return True
    return (
        not before.revoked
        and before.registry in snap.trust_lists
        and before.owner not in snap.labs
        and before.owner not in snap.dropped_labs
    )


def _record(old: Versions | None, snap: Snapshot, now: datetime) -> dict[str, Any]:
    """The version record to keep: the new snapshot's versions, plus the installed version
    of every part the new bundle lacks or could not use while its owner is still in the
    federation (its high-water mark stays, so that no later bundle can bring an older
    version back); the revoked (even) indices of each status list only ever grow."""
    new = snap.versions
    trust, status = dict(new.trust_lists), dict(new.status_lists)
    if old is not None:
        members = {m.id for m in snap.federation.registries}
        for registry, version in old.trust_lists.items():
            if registry not in trust and registry in members:
                trust[registry] = version
        for key, version in old.status_lists.items():
            if key not in status:
                if not _forgotten(version, snap):
                    status[key] = version
            elif version.revoked:
                now_revoked = set(status[key].revoked) | set(version.revoked)
                status[key] = replace(status[key], revoked=tuple(sorted(now_revoked)))
    record = replace(new, trust_lists=trust, status_lists=status)
    return {**record.to_json(), "installedAt": format_time(now)}


def _cleared_revocations(old: Versions | None, snap: Snapshot) -> tuple[str, ...]:
    """A warning for each status list whose new version clears revocation (even) bits seen
    set before; clearing a suspension (odd) bit is an unsuspension and warns of nothing."""
    if old is None:
        return ()
    out = []
    for key, before in old.status_lists.items():
        after = snap.versions.status_lists.get(key)
        cleared = sorted(set(before.revoked) - set(after.revoked)) if after is not None else []
        if cleared:
            lab, url = key.split(" ", 1)
            shown = ", ".join(str(i) for i in cleared[:10]) + (" ..." if len(cleared) > 10 else "")
            out.append(
                f"{url} of {lab} clears revocations this device had seen (index {shown}): they stay revoked"
            )
    return tuple(out)


def _retired(
    before: Iterable[VerifyKey], roots: Iterable[VerifyKey], now_trusted: Iterable[VerifyKey]
) -> list[VerifyKey]:
    """Keys this device trusted before and trusts no more (each once)."""
    current = key_set(now_trusted)
    out: dict[tuple[tuple[str, str], ...], VerifyKey] = {}
    for key in (*before, *roots):
        ident = tuple(sorted(key.jwk.items()))
        if frozenset({ident}) - current:
            out.setdefault(ident, key)
    return list(out.values())


def _rotated(snap: Snapshot, from_version: int) -> tuple[str, ...]:
    """What the operator is told when the bundle moved this device to a later root version."""
    if snap.root_version == from_version:
        return ()
    kids = ", ".join(sorted(k.kid for k in snap.root_keys))
    return (
        f"the federation root rotated its keys: this device now trusts root version {snap.root_version} "
        f"(key {kids}) instead of version {from_version}, whose keys are retired",
    )


def _unusable(snap: Snapshot) -> tuple[str, ...]:
    """Warnings about what the installed snapshot cannot verify."""
    out = [
        f"the bundle holds no usable trust list of {m.accreditation_body} ({m.id}): "
        "certificates of its labs cannot be verified"
        for m in snap.members_without_trust_list()
    ]
    with_lists = {lab for lab, _ in snap.status_lists}
    quiet = sorted(lab for lab in snap.labs if lab not in with_lists)
    if quiet:
        out.append(
            f"{len(quiet)} labs have no usable status list, so their certificates cannot be verified "
            f"(e.g. {quiet[0]})"
        )
    if snap.skipped:
        out.append(f"{len(snap.skipped)} parts of the bundle were dropped: yilu trust show lists them")
    return tuple(out)


def _remember_revocations(snap: Snapshot, record: Versions | None) -> None:
    """Give ``snap`` the revocations this device saw before: a lab's later list that clears
    a revoked bit does not un-revoke here (revocation is final; docs/verifying.md)."""
    if record is None:
        return
    for key, version in record.status_lists.items():
        if version.revoked:
            lab, url = key.split(" ", 1)
            snap.revoked_before[(lab, url)] = frozenset(version.revoked)
