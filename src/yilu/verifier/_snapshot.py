"""Load a bundle into an in-memory snapshot, verifying every signature up to the root.

Chain (docs/verifying.md, "Trust data"): pinned root key(s) -> bundle and federation
list -> each member's trust list (signed by a key the federation list gives that
member) -> each lab's status lists (signed by a key its trust list gives that lab).
Keys are parsed once here and indexed by kid, so verification does no parsing of
trust data at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from yilu.protocol.bundle import MAX_BUNDLE_BYTES, TYP_BUNDLE, Bundle
from yilu.protocol.errors import InputError, SignatureError, TrustDataError
from yilu.protocol.jws import MAX_JWS_CHARS, TYP_VC, ParsedJWS, parse_compact, verify_with_any
from yilu.protocol.keys import VerifyKey
from yilu.protocol.lists import (
    TYP_FEDERATION_LIST,
    TYP_TRUST_LIST,
    FederationList,
    KeyRecord,
    Lab,
    Member,
    TrustList,
)
from yilu.protocol.status_list import StatusList


@dataclass(frozen=True, slots=True)
class LabEntry:
    """A lab together with the member registry and trust list that vouch for it."""

    lab: Lab
    member: Member
    trust_list: TrustList


@dataclass(frozen=True, slots=True)
class KeyEntry:
    """One candidate signing key: its record and the lab it belongs to."""

    record: KeyRecord
    owner: LabEntry


@dataclass(slots=True)
class Snapshot:
    """Verified trust data, ready for offline verification."""

    created_at: datetime
    root_keys: tuple[VerifyKey, ...]
    root_pinned: bool
    federation: FederationList
    trust_lists: dict[str, TrustList] = field(default_factory=dict)
    labs: dict[str, LabEntry] = field(default_factory=dict)
    keys_by_kid: dict[str, list[KeyEntry]] = field(default_factory=dict)
    status_lists: dict[str, StatusList] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)


def _parse(token: str, typ: str, what: str, *, max_chars: int = MAX_JWS_CHARS) -> ParsedJWS:
    """Split a signed list once; every later step works on this parse."""
    try:
        return parse_compact(token, expected_typ=typ, max_chars=max_chars)
    except InputError as exc:
        raise TrustDataError(f"{what} is malformed: {exc}") from exc


def _signer(parsed: ParsedJWS, what: str, keys: Iterable[VerifyKey]) -> VerifyKey:
    """The key among ``keys`` whose signature ``parsed`` carries, or TrustDataError."""
    candidates = [k for k in keys if k.kid == parsed.kid]
    if not candidates:
        raise TrustDataError(f"{what} is signed by an unknown key {parsed.kid!r}")
    try:
        return verify_with_any(parsed, candidates)
    except SignatureError as exc:
        raise TrustDataError(f"{what} has an invalid signature") from exc


def _signing_record(records: Iterable[KeyRecord], key: VerifyKey, when: datetime, what: str) -> KeyRecord:
    for record in records:
        if record.key.kid == key.kid and record.key.jwk == key.jwk:
            if not record.valid_at(when):
                raise TrustDataError(f"{what} was signed with a key outside its validity")
            if record.revoked_at is not None and (
                record.revocation_reason == "keyCompromise" or record.revoked_at <= when
            ):
                raise TrustDataError(f"{what} was signed with a revoked key")
            return record
    raise TrustDataError(f"{what} was signed with a key its issuer does not hold")


def load_bundle(data: bytes | str, *, pinned_roots: Iterable[VerifyKey] | None = None) -> Snapshot:
    """Verify and index a bundle; raise :class:`TrustDataError` for anything wrong in it.

    With ``pinned_roots`` only those keys are trusted as roots, whatever the bundle
    embeds; without, the bundle's embedded root keys are used and the snapshot says
    so (``root_pinned=False``).
    """
    if len(data) > MAX_BUNDLE_BYTES:
        raise TrustDataError("bundle is larger than the accepted maximum")
    try:
        text = data.decode("ascii").strip() if isinstance(data, bytes) else data.strip()
    except UnicodeDecodeError as exc:
        raise TrustDataError("bundle is not a compact JWS") from exc
    parsed = _parse(text, TYP_BUNDLE, "bundle", max_chars=MAX_BUNDLE_BYTES)
    try:
        bundle = Bundle.from_json(parsed.payload_json())
        embedded = tuple(VerifyKey.from_jwk(jwk) for jwk in bundle.root_keys)
    except InputError as exc:
        raise TrustDataError(f"bundle is malformed: {exc}") from exc
    pinned = tuple(pinned_roots) if pinned_roots is not None else None
    roots = pinned if pinned is not None else embedded
    _signer(parsed, "bundle", roots)

    parsed_fed = _parse(bundle.federation_list, TYP_FEDERATION_LIST, "federation list")
    _signer(parsed_fed, "federation list", roots)
    try:
        federation = FederationList.from_json(parsed_fed.payload_json())
    except InputError as exc:
        raise TrustDataError(f"federation list is malformed: {exc}") from exc
    snap = Snapshot(bundle.created_at, roots, pinned is not None, federation)

    members = {m.id: m for m in federation.registries}
    for i, token in enumerate(bundle.trust_lists):
        _add_trust_list(snap, members, token, f"trust list #{i + 1}")
    for i, token in enumerate(bundle.status_lists):
        _add_status_list(snap, token, f"status list #{i + 1}")
    return snap


def _add_trust_list(snap: Snapshot, members: dict[str, Member], token: str, what: str) -> None:
    parsed = _parse(token, TYP_TRUST_LIST, what)
    try:
        unverified = TrustList.from_json(parsed.payload_json())
    except InputError as exc:
        raise TrustDataError(f"{what} is malformed: {exc}") from exc
    member = members.get(unverified.registry)
    if member is None:
        snap.skipped.append(f"{what}: registry {unverified.registry} is not a federation member")
        return
    what = f"trust list of {member.accreditation_body}"
    key = _signer(parsed, what, (r.key for r in member.keys))
    _signing_record(member.keys, key, unverified.issued_at, what)
    if unverified.country != member.country:
        raise TrustDataError(
            f"{what} claims country {unverified.country}, the federation says {member.country}"
        )
    previous = snap.trust_lists.get(member.id)
    if previous is not None and previous.sequence >= unverified.sequence:
        return
    snap.trust_lists[member.id] = unverified
    for lab in unverified.labs:
        entry = LabEntry(lab, member, unverified)
        snap.labs[lab.id] = entry
        for record in lab.keys:
            snap.keys_by_kid.setdefault(record.kid, []).append(KeyEntry(record, entry))


def _add_status_list(snap: Snapshot, token: str, what: str) -> None:
    parsed = _parse(token, TYP_VC, what)
    try:
        unverified = StatusList.from_credential(parsed.payload_json())
    except InputError as exc:
        raise TrustDataError(f"{what} is malformed: {exc}") from exc
    owner = snap.labs.get(unverified.issuer)
    if owner is None:
        snap.skipped.append(f"{what}: issuer {unverified.issuer} is not a listed lab")
        return
    what = f"status list {unverified.url}"
    key = _signer(parsed, what, (r.key for r in owner.lab.keys))
    try:
        _signing_record(owner.lab.keys, key, unverified.valid_from, what)
    except TrustDataError as exc:
        # A lab whose key was revoked keeps its place in the snapshot; its certificates
        # then fail on KEY_REVOKED and STATUS_UNAVAILABLE rather than the whole bundle.
        snap.skipped.append(str(exc))
        return
    previous = snap.status_lists.get(unverified.url)
    if previous is None or previous.valid_from <= unverified.valid_from:
        snap.status_lists[unverified.url] = unverified
