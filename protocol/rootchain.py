"""Root key rotation, as TUF rotates its root (TUF specification §5.3, "Update the root role").

The federation root's keys have a **root version**: 1 for the keys a federation starts
with, +1 at every rotation. To go from version N to N+1 the root publishes a **root
rotation statement** (docs/formats.md, "Root rotation"): a JWS in the general JSON
Serialization (RFC 7515 §7.2.1) whose payload names the federation, the new version and
its keys, signed by a key of version N **and** by a key of version N+1. A verifier that
pinned version N walks the chain forward, one version at a time (:func:`walk_root_chain`),
as python-tuf's ``TrustedMetadataSet.update_root`` does: each statement signed by the keys
it trusts and by the new keys themselves, its version exactly one more; only the keys
the walk ends with are trusted afterwards (the older ones are retired). The chain carries
no expiry: freshness is the federation list's ``expiresAt`` (TUF §5.3.10's check of the
final root), checked by the verifier's store.

Every statement a federation ever made is carried in its bundles, in version order, so
that a device pinned at any earlier version can catch up. Pure functions: no files, no
clock; every refusal is a :class:`TrustDataError` whose one line says what to do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, NamedTuple

from protocol.encoding import dumps_compact, format_time, parse_time
from protocol.errors import InputError, MalformedInputError, RollbackError, TrustDataError
from protocol.jws import GeneralJWS, ParsedJWS, Signer, parse_general, sign_general, verify_raw
from protocol.keys import VerifyKey
from protocol.lists import is_version, key_set, parse_root_keys

TYP_ROOT_ROTATION: Final = "yilu-root-rotation+json"
ROTATION_VERSION: Final = 1
#: Most rotations a chain may hold (one a year for centuries; a bound, not a policy).
MAX_ROTATIONS: Final = 256

#: What every refusal of a chain ends with: the device can do nothing else.
_ASK: Final = "ask your agency for a current bundle"


class RootState(NamedTuple):
    """A root version and its keys: what a device trusts, before and after a walk."""

    keys: tuple[VerifyKey, ...]
    version: int


@dataclass(frozen=True, slots=True)
class RootRotation:
    """The payload of a root rotation statement: from now on, ``federation``'s root is
    version ``root_version`` with ``root_keys``."""

    federation: str
    root_version: int
    root_keys: tuple[VerifyKey, ...]
    issued_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "RootRotation",
            "version": ROTATION_VERSION,
            "federation": self.federation,
            "rootVersion": self.root_version,
            "rootKeys": [dict(k.jwk) for k in self.root_keys],
            "issuedAt": format_time(self.issued_at),
        }

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> RootRotation:
        if obj.get("type") != "RootRotation" or not is_version(obj, ROTATION_VERSION):
            raise MalformedInputError("not a version 1 root rotation statement")
        federation, version = obj.get("federation"), obj.get("rootVersion")
        if not isinstance(federation, str) or type(version) is not int or version < 2:
            raise MalformedInputError("a root rotation names its federation and a rootVersion of 2 or more")
        return cls(
            federation,
            version,
            parse_root_keys(obj.get("rootKeys"), "rootRotation.rootKeys"),
            parse_time(obj.get("issuedAt"), "rootRotation.issuedAt"),
        )


def sign_rotation(
    federation: str,
    root_version: int,
    old_keys: Sequence[VerifyKey],
    new_keys: Sequence[VerifyKey],
    *,
    old_signer: Signer,
    old_kid: str,
    new_signer: Signer,
    new_kid: str,
    issued_at: datetime,
) -> str:
    """The statement that rotates ``federation``'s root from version ``root_version - 1``
    (``old_keys``) to ``root_version`` (``new_keys``), signed by a key of each.

    The statement is checked as a device will check it before it is returned, so that a
    root never publishes a rotation that devices refuse (a signer that is not the key its
    kid names, a new key nobody holds). Raises :class:`MalformedInputError`.
    """
    rotation = RootRotation(federation, root_version, tuple(new_keys), issued_at)
    payload = dumps_compact(rotation.to_json())
    RootRotation.from_json(rotation.to_json())  # what devices will parse
    text = sign_general(payload, [(old_signer, old_kid), (new_signer, new_kid)], typ=TYP_ROOT_ROTATION)
    try:
        walk_root_chain(tuple(old_keys), root_version - 1, [text], federation, first_version=root_version)
    except TrustDataError as exc:
        raise MalformedInputError(f"refusing to publish this root rotation: {exc}") from exc
    return text


def read_chain(
    statements: Sequence[str], federation: str | None, *, first_version: int = 2
) -> list[tuple[GeneralJWS, RootRotation]]:
    """Parse every statement (nothing verified yet) and check the chain's shape: versions
    ``first_version``, +1, +1 ... in order, all of one federation (``federation``, or that of
    the first statement when None). Raises :class:`TrustDataError`."""
    if len(statements) > MAX_ROTATIONS:
        raise TrustDataError(f"the bundle carries more than {MAX_ROTATIONS} root rotations: {_ASK}")
    out: list[tuple[GeneralJWS, RootRotation]] = []
    for i, text in enumerate(statements):
        expected = first_version + i
        try:
            parsed = parse_general(text, expected_typ=TYP_ROOT_ROTATION)
            rotation = RootRotation.from_json(parsed.payload_json())
        except InputError as exc:
            raise TrustDataError(
                f"root rotation #{i + 1} of the bundle is malformed ({exc}): {_ASK}"
            ) from exc
        if federation is None:
            federation = rotation.federation
        if rotation.federation != federation:
            raise TrustDataError(
                f"the root rotation to version {rotation.root_version} is of federation "
                f"{rotation.federation[:120]!r}, not {federation[:120]!r}: {_ASK}"
            )
        if rotation.root_version > expected:
            raise TrustDataError(
                f"the bundle does not carry the root rotation from version {expected - 1}; {_ASK}"
            )
        if rotation.root_version < expected:
            raise TrustDataError(
                f"the bundle carries the root rotation to version {rotation.root_version} again or out "
                f"of order (where version {expected} belongs): {_ASK}"
            )
        out.append((parsed, rotation))
    return out


def chain_federation(statements: Sequence[str]) -> str | None:
    """The federation a well-formed chain belongs to (None for no statement)."""
    chain = read_chain(statements, None)
    return chain[0][1].federation if chain else None


def version_of(keys: Sequence[VerifyKey], statements: Sequence[str], federation: str | None) -> int:
    """The root version whose keys are ``keys`` in this chain (the latest such statement),
    else 1, the federation's first root, which has no statement: how a first pin finds the
    version of the keys it was given (a label: the walk checks every signature after it)."""
    wanted = key_set(keys)
    found = 1
    for _, rotation in read_chain(statements, federation):
        if key_set(rotation.root_keys) == wanted:
            found = rotation.root_version
    return found


def walk_root_chain(
    trusted: Sequence[VerifyKey],
    trusted_version: int,
    statements: Sequence[str],
    federation: str | None,
    *,
    first_version: int = 2,
) -> RootState:
    """Walk from the root a device trusts (``trusted``, version ``trusted_version``) through
    ``statements`` (the rotations to versions ``first_version``, +1 ... in order: a bundle
    carries them all, from 2) to the last version; return its keys and version.

    For each statement beyond ``trusted_version``, as TUF §5.3.4-5.3.5: a signature by a key
    of the version trusted so far, a signature by a key of the statement's own ``rootKeys``,
    its version exactly one more, its federation the chain's. Statements up to
    ``trusted_version`` are not checked again, except that the one naming that version must
    name the trusted keys (the chain passes through the device's root). A chain ending
    below ``trusted_version`` is a rollback of the root (:class:`RollbackError`). A key id
    is a hint: every trusted key with the signature's kid is tried.
    """
    if trusted_version < 1:
        raise TrustDataError("a pinned root version is 1 or more")
    chain = read_chain(statements, federation, first_version=first_version)
    top = first_version - 1 + len(chain)
    if trusted_version > top:
        raise RollbackError(
            f"refusing a rollback of the federation root: this bundle is signed by root version {top}, "
            f"this device already trusts version {trusted_version}; {_ASK}"
        )
    keys = tuple(trusted)
    skip = trusted_version - (first_version - 1)
    if skip > 0 and key_set(chain[skip - 1][1].root_keys) != key_set(keys):
        raise TrustDataError(
            f"the bundle's root rotations do not pass through the root this device trusts (version "
            f"{trusted_version}): it belongs to another federation, or the pinned root is wrong"
        )
    version = trusted_version
    for parsed, rotation in chain[max(skip, 0) :]:
        if not _signed_by_any(parsed, keys):
            raise TrustDataError(
                f"the root rotation to version {rotation.root_version} is not signed by a key of root "
                f"version {version}, which this device trusts: refused; {_ASK}"
            )
        if not _signed_by_any(parsed, rotation.root_keys):
            raise TrustDataError(
                f"the root rotation to version {rotation.root_version} is not signed by a key of that "
                f"new version itself: refused; {_ASK}"
            )
        keys, version = rotation.root_keys, rotation.root_version
    return RootState(keys, version)


def _signed_by_any(parsed: GeneralJWS, keys: Sequence[VerifyKey]) -> bool:
    """True if some signature of ``parsed`` verifies with one of ``keys`` (tried by kid)."""
    return any(_verifies(sig, key) for sig in parsed.signatures for key in keys if key.kid == sig.kid)


def _verifies(sig: ParsedJWS, key: VerifyKey) -> bool:
    return verify_raw(sig, key)
