"""The verifier's last accepted snapshot, kept on disk and replaced only by newer data.

TUF-style protections (docs/verifying.md, "Trust data"): a bundle whose federation list
or any member's trust list has a lower ``sequence`` than the stored one is a rollback
and is refused; a bundle whose federation list has already expired is refused (freeze);
the stored bundle is swapped atomically, so a crash leaves the old one or the new one.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Final

from yilu.protocol.encoding import format_time
from yilu.protocol.errors import RollbackError, StaleTrustDataError, TrustDataError
from yilu.protocol.keys import VerifyKey
from yilu.protocol.storage import write_atomic
from yilu.verifier._snapshot import Snapshot, load_bundle

BUNDLE_FILE: Final = "bundle.jwt"


class SnapshotStore:
    """A directory holding the one bundle this verifier trusts right now."""

    def __init__(self, directory: Path, *, pinned_roots: Iterable[VerifyKey] | None = None) -> None:
        self.directory = directory
        self.pinned_roots = tuple(pinned_roots) if pinned_roots is not None else None

    @property
    def path(self) -> Path:
        return self.directory / BUNDLE_FILE

    def current(self) -> Snapshot | None:
        """The stored snapshot, verified again on load; ``None`` if nothing is stored yet."""
        if not self.path.exists():
            return None
        return load_bundle(self.path.read_bytes(), pinned_roots=self.pinned_roots)

    def install(self, bundle: bytes, *, now: datetime) -> Snapshot:
        """Verify ``bundle`` and make it current, unless it is stale or older than what is stored.

        Raises :class:`RollbackError`, :class:`StaleTrustDataError` or :class:`TrustDataError`;
        on any error the stored snapshot is left untouched.
        """
        new = load_bundle(bundle, pinned_roots=self.pinned_roots)
        if new.federation.expires_at < now:
            raise StaleTrustDataError(
                f"the bundle's federation list expired {format_time(new.federation.expires_at)}"
            )
        try:
            old = self.current()
        except TrustDataError:
            old = None  # a damaged stored bundle must not block installing a good one
        if old is not None:
            if new.federation.sequence < old.federation.sequence:
                raise RollbackError(
                    f"federation list sequence {new.federation.sequence} is older than the stored "
                    f"{old.federation.sequence}"
                )
            for registry, stored in old.trust_lists.items():
                incoming = new.trust_lists.get(registry)
                if incoming is not None and incoming.sequence < stored.sequence:
                    raise RollbackError(
                        f"trust list of {stored.accreditation_body} has sequence {incoming.sequence}, "
                        f"older than the stored {stored.sequence}"
                    )
        write_atomic(self.path, bundle)
        return new
