"""Offline verification in the order of docs/verifying.md.

Decode -> key by kid -> alg allow-list and signature -> validity window -> key valid
at issuance and not revoked -> lab accredited at issuance -> scope -> registry in good
standing -> status bits -> recognition by the verifier's country -> snapshot freshness.
Decoding and signature problems stop the check (nothing after them could be trusted);
every later check runs, so a result lists all of its reasons. The verdict follows from
the reasons: accept, reject, or unverifiable when the trust data is at fault
(docs/verifying.md, "Three outcomes").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from protocol import yl1
from protocol.bundle import KIND_OF_TYP
from protocol.bundle import MAGIC as BUNDLE_MAGIC
from protocol.encoding import format_time, loads_json_object, parse_time, shift
from protocol.errors import (
    InputError,
    MalformedInputError,
    SignatureError,
    TrustDataError,
    UnsupportedFormatError,
)
from protocol.jws import (
    TYP_VC,
    ParsedJWS,
    from_parts,
    looks_like_compact,
    parse_compact,
    verify_with_any,
)
from protocol.lists import Scope, StatusEvent, status_at
from protocol.names import is_under
from protocol.reasons import ReasonCode
from protocol.vocabulary import CREDENTIAL_TYPE, STATUS_LIST_TYPE, STATUS_PURPOSES, check_country
from verifier._snapshot import KeyEntry, Snapshot
from verifier.result import Reason, VerificationResult

DEFAULT_CLOCK_SKEW: Final = timedelta(minutes=5)
_IMAGE_MAGIC: Final = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")
#: Largest plain-text input (a compact VC-JWT): far above any real certificate.
MAX_TEXT_INPUT: Final = 256 * 1024
#: A status list index as Bitstring Status List writes it: a decimal string, no sign,
#: no leading zeros, at most 10 digits (docs/formats.md, "Status lists").
_INDEX: Final = re.compile(r"0|[1-9][0-9]{0,9}", re.ASCII)
#: Bound of each per-verifier cache below (a bound, not a policy: a miss only recomputes).
_CACHE_SIZE: Final = 4096


@dataclass(frozen=True, slots=True)
class _LabFacts:
    """What the checks after the signature need of one key's lab, derived once per
    :class:`KeyEntry` (docs/verifying.md, "Verification order", steps 8-9): all of it
    depends on the (frozen) entry alone, never on the certificate."""

    entry: KeyEntry  # held, so that the id() this is cached under stays this entry's
    name: str
    #: category -> the (from, until) windows in which the lab was accredited for it.
    scopes: dict[str, tuple[tuple[datetime | None, datetime | None], ...]]
    for_cause: StatusEvent | None
    issuer: dict[str, Any]


def _lab_facts(entry: KeyEntry) -> _LabFacts:
    lab, member = entry.owner.lab, entry.owner.member
    issuer = {
        "id": lab.id,
        "name": lab.name(),
        "names": dict(lab.names),
        "country": lab.country,
        "accreditationNumber": lab.accreditation_number,
        "kid": entry.record.kid,
        "registry": {
            "id": member.id,
            "country": member.country,
            "accreditationBody": member.accreditation_body,
        },
    }
    return _LabFacts(
        entry,
        lab.name(),
        _scope_windows(lab.scopes),
        next((e for e in lab.status if e.for_cause), None),
        issuer,
    )


def _scope_windows(scopes: Iterable[Scope]) -> dict[str, tuple[tuple[datetime | None, datetime | None], ...]]:
    out: dict[str, tuple[tuple[datetime | None, datetime | None], ...]] = {}
    for s in scopes:
        out[s.category] = (*out.get(s.category, ()), (s.since, s.until))
    return out


def _accredited_for(windows: tuple[tuple[datetime | None, datetime | None], ...], when: datetime) -> bool:
    """In one of the windows: scope history is judged at ``validFrom`` (docs/verifying.md, step 8)."""
    return any((a is None or a <= when) and (b is None or when <= b) for a, b in windows)


def _copy_issuer(info: dict[str, Any]) -> dict[str, Any]:
    """A fresh copy of a cached ``issuer`` dict: results never share a mutable member."""
    return {**info, "names": dict(info["names"]), "registry": dict(info["registry"])}


def _decode_input(data: str | bytes) -> tuple[ParsedJWS, dict[str, Any]]:
    """Turn QR text, a compact JWS or a PNG/JPEG photo into a parsed (unverified) JWS and
    its payload object. A payload that is not a JSON object can be no certificate at all
    (a ``YL1:`` text made with another dictionary, say): MALFORMED, before any key is tried."""
    if isinstance(data, bytes) and data.startswith(BUNDLE_MAGIC):
        raise MalformedInputError("this is a bundle, not a certificate", code=ReasonCode.UNREADABLE)
    is_image = isinstance(data, bytes) and data.startswith(_IMAGE_MAGIC)
    if not is_image and len(data) > MAX_TEXT_INPUT:
        raise MalformedInputError("input is too large to be a certificate", code=ReasonCode.UNREADABLE)
    if isinstance(data, str):
        text = data
    elif is_image:
        from verifier._photo import read_qr_text  # Pillow + zxing only when needed

        text = read_qr_text(data)
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedInputError(
                "input is neither text nor a PNG/JPEG image", code=ReasonCode.UNREADABLE
            ) from exc
    text = text.strip()
    from_qr = text.startswith(yl1.PREFIX)
    if from_qr:  # straight to the decoded parts: no compact text to decode again
        parsed = from_parts(*yl1.decode_parts(text))
    elif looks_like_compact(text):
        parsed = parse_compact(text)
    else:
        raise MalformedInputError(
            "input is neither YL1: text nor a compact VC-JWT: is this the certificate's QR code?",
            code=ReasonCode.UNREADABLE,
        )
    typ = parsed.header.get("typ")
    if typ != TYP_VC:
        kind = KIND_OF_TYP.get(typ) if isinstance(typ, str) else None
        if kind is not None:  # a Yilu file given by mistake, not a certificate at all
            raise MalformedInputError(f"this is {kind}, not a certificate", code=ReasonCode.UNREADABLE)
        raise UnsupportedFormatError(
            f"expected typ {TYP_VC!r}, got {typ!r}", code=ReasonCode.UNSUPPORTED_FORMAT
        )
    try:
        payload = loads_json_object(parsed.payload_bytes, "the certificate")
    except MalformedInputError as exc:
        hint = " (a YL1 code made with another dictionary, or a damaged one)" if from_qr else ""
        raise MalformedInputError(f"{exc}{hint}", code=ReasonCode.MALFORMED) from exc
    types = payload.get("type")
    if isinstance(types, list) and STATUS_LIST_TYPE in types:
        raise MalformedInputError("this is a status list, not a certificate", code=ReasonCode.UNREADABLE)
    return parsed, payload


class Verifier:
    """Verifies certificates offline against one snapshot, for one country's inspectors."""

    def __init__(
        self, snapshot: Snapshot, *, country: str, clock_skew: timedelta = DEFAULT_CLOCK_SKEW
    ) -> None:
        self.snapshot = snapshot
        self.country = check_country(country)
        self.clock_skew = clock_skew
        self._incomplete = {m.id for m in snapshot.members_without_trust_list()}
        # What every result says about the snapshot, apart from its age: computed once,
        # not on each verification (the hot path, docs/verifying.md).
        self._trust_summary: dict[str, Any] = {
            "sequence": snapshot.sequence,
            "createdAt": format_time(snapshot.created_at),
            "federation": snapshot.federation.federation,
            "federationSequence": snapshot.federation.sequence,
            "trustLists": {registry: tl.sequence for registry, tl in snapshot.trust_lists.items()},
        }
        if snapshot.skipped:
            self._trust_summary["skipped"] = [str(s) for s in snapshot.skipped]
        # Per-verifier caches of the hot path, each keyed by exactly what its value is
        # computed from: an entry object (held by the value), a (URL, lab id) pair of
        # strings, a time. Nothing one certificate says can change another's result.
        self._facts: dict[int, _LabFacts] = {}
        self._under: dict[tuple[str, str], bool] = {}
        self._formatted: dict[datetime, str] = {}

    def verify(self, data: str | bytes, *, at: datetime) -> VerificationResult:
        """Verify ``data`` (``YL1:`` text, a compact VC-JWT, or PNG/JPEG bytes) as of ``at``.

        Never raises for the certificate or the trust data: an installed index that turns
        out unreadable mid-way gives TRUST_DATA_INVALID (cannot verify), like any other
        trust data problem (docs/verifying.md, "Three outcomes")."""
        try:
            return self._verify(data, at)
        except TrustDataError as exc:
            reason = Reason(exc.code, {"detail": str(exc)})
            return self._finish(VerificationResult.of([reason]), at, self.snapshot.federation.expires_at)

    def _verify(self, data: str | bytes, at: datetime) -> VerificationResult:
        expiry = self.snapshot.federation.expires_at
        try:
            parsed, cred = _decode_input(data)
        except InputError as exc:
            code = exc.code or ReasonCode.MALFORMED
            return self._finish(VerificationResult.reject(code, detail=str(exc)), at, expiry)

        candidates = self.snapshot.keys_by_kid.get(parsed.kid, [])
        if not candidates:
            return self._finish(self._unknown_key(parsed.kid, cred.get("issuer"), at), at, expiry)
        try:
            key = verify_with_any(parsed, [c.record.key for c in candidates])
        except SignatureError as exc:
            code = exc.codes[0] if exc.codes else ReasonCode.SIGNATURE_INVALID
            return self._finish(VerificationResult.reject(code, alg=parsed.alg, detail=str(exc)), at, expiry)
        # The same public key may be listed for more than one lab: every listing of the
        # key that verified is a possible signer; the credential's issuer picks among them.
        owners = [c for c in candidates if c.record.key.jwk == key.jwk]
        return self._check_credential(cred, owners, at)

    def verify_or_raise(self, data: str | bytes, *, at: datetime) -> VerificationResult:
        """Raising twin of :meth:`verify`: returns an accept; raises VerificationError for a
        reject and TrustDataError when the trust data did not allow a verdict."""
        return self.verify(data, at=at).raise_for_verdict()

    def _unknown_key(self, kid: str, claimed_issuer: object, at: datetime) -> VerificationResult:
        """No usable key has this kid. If a dropped part of the trust data listed it, say so:
        an invalid part means we cannot tell (unverifiable), a conflict that no registry may
        vouch for it (reject). If the lab the certificate names (unverified: it can only turn
        a reject into a cannot-verify) belongs to a member whose trust list this snapshot
        lacks, the trust data is incomplete: cannot verify."""
        reasons = [Reason(ReasonCode.UNKNOWN_KEY, {"kid": kid})]
        dropped = self.snapshot.dropped_kids.get(kid)
        owners = self.snapshot.names.owners(claimed_issuer) if isinstance(claimed_issuer, str) else []
        if dropped is not None and dropped.kind == "invalid":
            reasons = [Reason(ReasonCode.TRUST_DATA_INVALID, {"detail": str(dropped)})]
        elif dropped is not None:
            reasons[0] = Reason(ReasonCode.UNKNOWN_KEY, {"kid": kid, "detail": str(dropped)})
        elif len(owners) == 1 and owners[0].id in self._incomplete:
            member = owners[0]
            detail = (
                f"it holds no usable trust list of {member.accreditation_body} ({member.country}), "
                "the registry of the lab this certificate names"
            )
            reasons = [Reason(ReasonCode.TRUST_DATA_INVALID, {"detail": detail})]
        if self.snapshot.federation.expires_at < at:
            # A key newer than stale trust data is the likely story: cannot verify.
            reasons.append(self._stale("federation list", self.snapshot.federation.expires_at))
        return VerificationResult.of(reasons)

    @staticmethod
    def _stale(name: str, expired: datetime) -> Reason:
        return Reason(ReasonCode.TRUST_DATA_STALE, {"detail": f"the {name} expired {format_time(expired)}"})

    # -- after the signature: every check runs and contributes its reasons --------------

    def _check_credential(
        self, cred: dict[str, Any], owners: list[KeyEntry], at: datetime
    ) -> VerificationResult:
        """Steps 4-13 of docs/verifying.md, "Verification order": the finished result."""
        expiry = self.snapshot.federation.expires_at
        try:
            types = cred.get("type")
            if not isinstance(types, list) or CREDENTIAL_TYPE not in types:
                raise MalformedInputError(f"not a {CREDENTIAL_TYPE}")
            valid_from = parse_time(cred.get("validFrom"), "validFrom")
            valid_until = parse_time(cred.get("validUntil"), "validUntil")
            if valid_until < valid_from:
                raise MalformedInputError("its validUntil is before its validFrom")
            subject = cred.get("credentialSubject")
            if not isinstance(subject, dict) or not isinstance(subject.get("scope"), str):
                raise MalformedInputError("credentialSubject has no scope")
        except MalformedInputError as exc:
            return self._finish(VerificationResult.reject(ReasonCode.MALFORMED, detail=str(exc)), at, expiry)

        claimed = cred.get("issuer")
        entry = next((o for o in owners if o.owner.lab.id == claimed), owners[0])
        lab, member, trust_list = entry.owner.lab, entry.owner.member, entry.owner.trust_list
        facts = self._facts_of(entry)
        issuer = _copy_issuer(facts.issuer)
        if claimed != lab.id:
            detail = f"signed by a key of {lab.id}, but claims issuer {claimed!r}"
            result = VerificationResult.of(
                (Reason(ReasonCode.SIGNATURE_INVALID, {"detail": detail}),), cred, issuer
            )
            return self._finish(result, at, expiry)

        reasons: list[Reason] = []
        scope: str = subject["scope"]
        lab_name = facts.name
        # Validity window, with skew (docs/verifying.md, "Time"); saturating, never overflowing.
        if valid_from > shift(at, self.clock_skew):
            reasons.append(Reason(ReasonCode.NOT_YET_VALID, {"validFrom": format_time(valid_from)}))
        if valid_until < shift(at, -self.clock_skew):
            reasons.append(Reason(ReasonCode.EXPIRED, {"validUntil": format_time(valid_until)}))
        # The key at issuance; a key revoked for compromise taints everything it signed.
        record = entry.record
        if not record.valid_at(valid_from):
            reasons.append(
                Reason(ReasonCode.KEY_NOT_VALID_AT_ISSUANCE, {"validFrom": format_time(valid_from)})
            )
        if record.revoked_at is not None and record.revoked_for(valid_from):
            reasons.append(
                Reason(
                    ReasonCode.KEY_REVOKED,
                    {"reason": record.revocation_reason, "revokedAt": format_time(record.revoked_at)},
                )
            )
        # Accreditation at issuance, and for this scope. A withdrawal for cause voids
        # whatever the lab signed, whatever date it bears (docs/verifying.md, "Back-dating").
        for_cause = facts.for_cause
        if for_cause is not None:
            reasons.append(
                Reason(
                    ReasonCode.LAB_WITHDRAWN_FOR_CAUSE,
                    {"lab": lab_name, "since": format_time(for_cause.since)},
                )
            )
        else:
            lab_status = status_at(lab.status, valid_from)
            if lab_status != "active":
                reasons.append(
                    Reason(
                        ReasonCode.LAB_NOT_ACCREDITED,
                        {"lab": lab_name, "status": lab_status or "not yet accredited"},
                    )
                )
        if not _accredited_for(facts.scopes.get(scope, ()), valid_from):
            reasons.append(Reason(ReasonCode.SCOPE_NOT_ACCREDITED, {"lab": lab_name, "scope": scope}))
        # The registry: a member in good standing when the certificate was issued and now.
        # (A device clock before the issuance says nothing about membership "now".)
        for when in (valid_from, at) if at >= valid_from else (valid_from,):
            member_status = status_at(member.status, when)
            if member_status != "active":
                reasons.append(
                    Reason(
                        ReasonCode.REGISTRY_NOT_MEMBER,
                        {
                            "registry": member.accreditation_body,
                            "status": f"{member_status or 'not a member'} at {format_time(when)}",
                        },
                    )
                )
                break
        status_reasons, status_expiry = self._status_reasons(cred, lab.id, lab_name, at)
        reasons.extend(status_reasons)
        # Recognition: own registry always; otherwise an agreement covering it.
        if member.country != self.country and not any(
            a.country == self.country and a.covers(member.id, scope, valid_from)
            for a in self.snapshot.federation.agreements
        ):
            reasons.append(
                Reason(
                    ReasonCode.NOT_RECOGNISED,
                    {
                        "country": self.country,
                        "registry": f"{member.accreditation_body} ({member.country})",
                        "scope": scope,
                    },
                )
            )
        # Freshness of the trust data used.
        if self.snapshot.federation.expires_at < at:
            reasons.append(self._stale("federation list", self.snapshot.federation.expires_at))
        if trust_list.expires_at < at:
            reasons.append(self._stale(f"{member.accreditation_body} trust list", trust_list.expires_at))
        expiry = min(expiry, trust_list.expires_at, *status_expiry)
        if not reasons:
            reasons.append(Reason(ReasonCode.ACCEPTED, {"country": self.country}))
        return VerificationResult.of(reasons, cred, issuer, self._trust(at, expiry))

    def _status_reasons(
        self, cred: dict[str, Any], issuer: str, lab_name: str, at: datetime
    ) -> tuple[list[Reason], list[datetime]]:
        """Check every ``credentialStatus`` entry (docs/verifying.md, "Status").

        A certificate must carry exactly one entry per purpose, revocation among them, each
        pointing at a list inside its lab's id whose ``statusPurpose`` includes the entry's.
        Its revocation index is even (2k) and its suspension entry, if any, names index
        2k + 1 of the same list (the Yilu profile: docs/formats.md, "Status lists"; it is
        what lets a device keep revocations final). Problems of the entry itself are final
        (STATUS_ENTRY_INVALID); a list missing from, or expired in, the trust data is not
        the certificate's fault (STATUS_UNAVAILABLE: cannot verify)."""
        raw = cred.get("credentialStatus")
        if type(raw) is list and len(raw) == 2:
            paired = self._paired_status(raw, issuer, lab_name, at)
            if paired is not None:
                return paired
        entries = [raw] if isinstance(raw, dict) else raw
        invalid = ReasonCode.STATUS_ENTRY_INVALID
        if not isinstance(entries, list) or not entries:
            return [Reason(invalid, {"detail": "the certificate has no status entry"})], []
        purposes = [e.get("statusPurpose") if isinstance(e, dict) else None for e in entries]
        if "revocation" not in purposes:
            return [Reason(invalid, {"detail": "the certificate has no revocation entry"})], []
        reasons: list[Reason] = []
        expiries: list[datetime] = []
        revocation = entries[purposes.index("revocation")]
        for item, purpose in zip(entries, purposes, strict=True):
            if not isinstance(item, dict) or purpose not in STATUS_PURPOSES:
                reasons.append(Reason(invalid, {"detail": f"unsupported status entry (purpose {purpose!r})"}))
                continue
            if purposes.count(purpose) > 1:
                reasons.append(Reason(invalid, {"detail": f"more than one {purpose} entry"}))
                break
            url, raw_index = item.get("statusListCredential"), item.get("statusListIndex")
            if not isinstance(raw_index, str) or not _INDEX.fullmatch(raw_index):
                shown = raw_index if isinstance(raw_index, str | int) else type(raw_index).__name__
                reasons.append(
                    Reason(
                        invalid,
                        {
                            "detail": f"the {purpose} index {shown!r} is not a status list index "
                            "(a decimal string of at most 10 digits, no leading zeros)"
                        },
                    )
                )
                continue
            if not isinstance(url, str) or not self._is_under(url, issuer):
                reasons.append(
                    Reason(invalid, {"detail": f"the {purpose} list is not one of the lab's own lists"})
                )
                continue
            index = int(raw_index)
            mismatch = _pair_mismatch(purpose, index, url, revocation)
            if mismatch:
                reasons.append(Reason(invalid, {"detail": mismatch}))
                continue
            status_list = self.snapshot.status_list(issuer, url)
            if status_list is not None and purpose not in status_list.purposes:
                reasons.append(
                    Reason(
                        invalid,
                        {
                            "detail": f"the {purpose} entry points at a list of the lab for "
                            f"{' and '.join(status_list.purposes)} only"
                        },
                    )
                )
                continue
            seen_revoked = purpose == "revocation" and index in self.snapshot.revoked_before.get(
                (issuer, url), ()
            )
            if status_list is None and seen_revoked:
                reasons.append(Reason(ReasonCode.REVOKED))  # this device saw it revoked: final
                continue
            if status_list is None:
                dropped = self.snapshot.dropped_status.get((issuer, url))
                why = (
                    f"the lab's status list is unusable ({dropped.reason})"
                    if dropped is not None
                    else f"the trust data holds no status list {url} of {lab_name}"
                )
                _add_once(reasons, Reason(ReasonCode.STATUS_UNAVAILABLE, {"detail": why}))
                continue
            if not 0 <= index < len(status_list.bits):
                reasons.append(
                    Reason(
                        invalid,
                        {
                            "detail": f"the {purpose} index {index} is outside the status list "
                            f"({len(status_list.bits)} entries)"
                        },
                    )
                )
                continue
            bit = status_list.bits.get(index) or seen_revoked
            expired = status_list.valid_until is not None and status_list.valid_until < at
            if bit and purpose == "revocation":
                reasons.append(Reason(ReasonCode.REVOKED))  # final, even in an expired list
            elif expired and status_list.valid_until is not None:
                _add_once(
                    reasons,
                    Reason(
                        ReasonCode.STATUS_UNAVAILABLE,
                        {
                            "detail": f"the status list of {lab_name} expired "
                            f"{format_time(status_list.valid_until)}: the lab must republish it"
                        },
                    ),
                )
            elif bit:
                reasons.append(Reason(ReasonCode.SUSPENDED))
            if status_list.valid_until is not None:
                expiries.append(status_list.valid_until)
        return reasons, expiries

    def _paired_status(
        self, raw: list[Any], issuer: str, lab_name: str, at: datetime
    ) -> tuple[list[Reason], list[datetime]] | None:
        """The common case of :meth:`_status_reasons`, or None to take the general path.

        Exactly a revocation entry at an even index 2k and a suspension entry at 2k + 1 of
        the same list of the lab, a list the snapshot holds for both purposes and large
        enough: every rule of docs/verifying.md, "Status entries", holds, so what is left
        is the bits and the list's expiry, reported as the general path reports them
        (REVOKED, STATUS_UNAVAILABLE once, SUSPENDED). Anything else returns None and the
        general path finds and words the problem."""
        revocation, suspension = raw
        if type(revocation) is not dict or type(suspension) is not dict:
            return None
        if revocation.get("statusPurpose") != "revocation" or suspension.get("statusPurpose") != "suspension":
            return None
        url = revocation.get("statusListCredential")
        raw_rev, raw_sus = revocation.get("statusListIndex"), suspension.get("statusListIndex")
        if (
            type(url) is not str
            or suspension.get("statusListCredential") != url
            or type(raw_rev) is not str
            or type(raw_sus) is not str
            or not _INDEX.fullmatch(raw_rev)
            or not _INDEX.fullmatch(raw_sus)
        ):
            return None
        index = int(raw_rev)
        if index % 2 or int(raw_sus) != index + 1 or not self._is_under(url, issuer):
            return None
        status_list = self.snapshot.status_list(issuer, url)
        if (
            status_list is None
            or "revocation" not in status_list.purposes
            or "suspension" not in status_list.purposes
            or index + 1 >= len(status_list.bits)
        ):
            return None
        reasons: list[Reason] = []
        valid_until = status_list.valid_until
        expired = valid_until is not None and valid_until < at
        if status_list.bits.get(index) or index in self.snapshot.revoked_before.get((issuer, url), ()):
            reasons.append(Reason(ReasonCode.REVOKED))  # final, even in an expired list
        if expired and valid_until is not None:
            detail = (
                f"the status list of {lab_name} expired {format_time(valid_until)}: the lab must republish it"
            )
            reasons.append(Reason(ReasonCode.STATUS_UNAVAILABLE, {"detail": detail}))
        elif status_list.bits.get(index + 1):
            reasons.append(Reason(ReasonCode.SUSPENDED))
        return reasons, [] if valid_until is None else [valid_until, valid_until]

    def _facts_of(self, entry: KeyEntry) -> _LabFacts:
        """The :class:`_LabFacts` of ``entry``, derived on first use (the cached value holds
        the entry itself, so a hit is always this very entry's)."""
        facts = self._facts.get(id(entry))
        if facts is None or facts.entry is not entry:
            facts = _lab_facts(entry)
            if len(self._facts) >= _CACHE_SIZE:
                self._facts.clear()
            self._facts[id(entry)] = facts
        return facts

    def _is_under(self, url: str, issuer: str) -> bool:
        """:func:`is_under`, remembered per exact (URL, lab id) pair of strings."""
        key = (url, issuer)
        under = self._under.get(key)
        if under is None:
            under = is_under(url, issuer)
            if len(self._under) >= _CACHE_SIZE:
                self._under.clear()
            self._under[key] = under
        return under

    def _format(self, value: datetime) -> str:
        """:func:`format_time`, remembered for the few expiry times results report."""
        text = self._formatted.get(value)
        if text is None:
            text = format_time(value)
            if len(self._formatted) >= _CACHE_SIZE:
                self._formatted.clear()
            self._formatted[value] = text
        return text

    def _trust(self, at: datetime, expires: datetime) -> dict[str, Any]:
        """The result's ``trust`` member: the summary made once, plus age and expiry."""
        return {
            **self._trust_summary,
            "ageSeconds": int((at - self.snapshot.created_at).total_seconds()),
            "expiresAt": self._format(expires),
        }

    def _finish(self, result: VerificationResult, at: datetime, expires: datetime) -> VerificationResult:
        trust = self._trust(at, expires)
        return VerificationResult(result.verdict, result.reasons, result.credential, result.issuer, trust)


def _add_once(reasons: list[Reason], reason: Reason) -> None:
    """Append ``reason`` unless an equal one is there: both entries name one list, whose
    absence or expiry is one problem."""
    if reason not in reasons:
        reasons.append(reason)


def _pair_mismatch(purpose: str, index: int, url: str, revocation: dict[str, Any]) -> str:
    """Why an entry breaks the Yilu pairing rule (revocation at an even index 2k, suspension
    at 2k + 1 of the same list), or "" if it keeps it (docs/verifying.md, "Status entries")."""
    if purpose == "revocation":
        if index % 2:
            return (
                f"the revocation index {index} is odd: revocation bits are the even indices "
                "(index 2k; suspension is 2k + 1)"
            )
        return ""
    raw = revocation.get("statusListIndex")
    if not isinstance(raw, str) or not _INDEX.fullmatch(raw):
        return ""  # the revocation entry's own problem, reported with it
    if url != revocation.get("statusListCredential"):
        return "the suspension entry names another list than the revocation entry: both are in one list"
    if index != int(raw) + 1:
        return f"the suspension index {index} is not the revocation index + 1 ({int(raw) + 1})"
    return ""
