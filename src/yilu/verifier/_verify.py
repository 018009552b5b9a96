"""Offline verification in the order of docs/verifying.md.

Decode -> key by kid -> alg allow-list and signature -> validity window -> key valid
at issuance and not revoked -> lab accredited at issuance -> scope -> registry in good
standing -> status bits -> recognition by the verifier's country -> snapshot freshness.
Decoding and signature problems stop the check (nothing after them could be trusted);
every later check runs, so a reject lists all of its reasons.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Final

from yilu.protocol import yl1
from yilu.protocol.encoding import format_time, parse_time
from yilu.protocol.errors import InputError, MalformedInputError, SignatureError
from yilu.protocol.jws import TYP_VC, ParsedJWS, looks_like_compact, parse_compact, verify_with_any
from yilu.protocol.lists import status_at
from yilu.protocol.reasons import ReasonCode
from yilu.protocol.vocabulary import CREDENTIAL_TYPE
from yilu.verifier._snapshot import KeyEntry, Snapshot
from yilu.verifier.result import Reason, VerificationResult

DEFAULT_CLOCK_SKEW: Final = timedelta(minutes=5)
_IMAGE_MAGIC: Final = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")
#: Largest plain-text input (a compact VC-JWT): far above any real certificate.
MAX_TEXT_INPUT: Final = 256 * 1024


def _decode_input(data: str | bytes) -> ParsedJWS:
    """Turn QR text, a compact JWS or a PNG/JPEG photo into a parsed (unverified) JWS."""
    is_image = isinstance(data, bytes) and data.startswith(_IMAGE_MAGIC)
    if not is_image and len(data) > MAX_TEXT_INPUT:
        raise MalformedInputError("input is too large to be a certificate", code=ReasonCode.MALFORMED)
    if isinstance(data, str):
        text = data
    elif is_image:
        from yilu.verifier._photo import read_qr_text  # Pillow + zxing only when needed

        text = read_qr_text(data)
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedInputError(
                "input is neither text nor a PNG/JPEG image", code=ReasonCode.UNSUPPORTED_FORMAT
            ) from exc
    text = text.strip()
    if text.startswith(yl1.PREFIX):
        text = yl1.decode(text)
    elif not looks_like_compact(text):
        raise MalformedInputError(
            "input is neither YL1: text nor a compact VC-JWT", code=ReasonCode.UNSUPPORTED_FORMAT
        )
    return parse_compact(text, expected_typ=TYP_VC)


class Verifier:
    """Verifies certificates offline against one snapshot, for one country's inspectors."""

    def __init__(
        self, snapshot: Snapshot, *, country: str, clock_skew: timedelta = DEFAULT_CLOCK_SKEW
    ) -> None:
        self.snapshot = snapshot
        self.country = country.upper()
        self.clock_skew = clock_skew
        # What every result says about the snapshot, apart from its age: computed once,
        # not on each verification (the hot path, docs/verifying.md).
        self._trust_summary: dict[str, Any] = {
            "createdAt": format_time(snapshot.created_at),
            "federation": snapshot.federation.federation,
            "rootPinned": snapshot.root_pinned,
            "trustLists": {registry: tl.sequence for registry, tl in snapshot.trust_lists.items()},
        }
        if snapshot.skipped:
            self._trust_summary["skipped"] = list(snapshot.skipped)

    def verify(self, data: str | bytes, *, at: datetime) -> VerificationResult:
        """Verify ``data`` (``YL1:`` text, a compact VC-JWT, or PNG/JPEG bytes) as of ``at``."""
        try:
            parsed = _decode_input(data)
        except InputError as exc:
            code = exc.code or ReasonCode.MALFORMED
            return self._finish(VerificationResult.reject(code, detail=str(exc)), at)

        candidates = self.snapshot.keys_by_kid.get(parsed.kid, [])
        if not candidates:
            return self._finish(VerificationResult.reject(ReasonCode.UNKNOWN_KEY, kid=parsed.kid), at)
        try:
            key = verify_with_any(parsed, [c.record.key for c in candidates])
        except SignatureError as exc:
            code = exc.codes[0] if exc.codes else ReasonCode.SIGNATURE_INVALID
            return self._finish(VerificationResult.reject(code, alg=parsed.alg, detail=str(exc)), at)
        # The same public key may be listed for more than one lab: every listing of the
        # key that verified is a possible signer; the credential's issuer picks among them.
        owners = [c for c in candidates if c.record.key.jwk == key.jwk]
        return self._finish(self._check_credential(parsed, owners, at), at)

    def verify_or_raise(self, data: str | bytes, *, at: datetime) -> VerificationResult:
        """Raising twin of :meth:`verify`: returns an accept, raises VerificationError otherwise."""
        return self.verify(data, at=at).raise_for_verdict()

    # -- after the signature: every check runs and contributes its reasons --------------

    def _check_credential(
        self, parsed: ParsedJWS, owners: list[KeyEntry], at: datetime
    ) -> VerificationResult:
        try:
            cred = parsed.payload_json()
            types = cred.get("type")
            if not isinstance(types, list) or CREDENTIAL_TYPE not in types:
                raise MalformedInputError(f"not a {CREDENTIAL_TYPE}")
            valid_from = parse_time(cred.get("validFrom"), "validFrom")
            valid_until = parse_time(cred.get("validUntil"), "validUntil")
            subject = cred.get("credentialSubject")
            if not isinstance(subject, dict) or not isinstance(subject.get("scope"), str):
                raise MalformedInputError("credentialSubject has no scope")
        except MalformedInputError as exc:
            return VerificationResult.reject(ReasonCode.MALFORMED, detail=str(exc))

        entry = next((o for o in owners if o.owner.lab.id == cred.get("issuer")), owners[0])
        lab, member, trust_list = entry.owner.lab, entry.owner.member, entry.owner.trust_list
        issuer = self._issuer_info(entry)
        if cred.get("issuer") != lab.id:
            return VerificationResult(
                "reject",
                (
                    Reason(
                        ReasonCode.SIGNATURE_INVALID,
                        {"detail": f"signed by a key of {lab.id}, but claims issuer {cred.get('issuer')!r}"},
                    ),
                ),
                cred,
                issuer,
            )

        reasons: list[Reason] = []
        scope: str = subject["scope"]
        fmt_from = format_time(valid_from)
        # Validity window, with skew (docs/verifying.md, "Time").
        if valid_from > at + self.clock_skew:
            reasons.append(Reason(ReasonCode.NOT_YET_VALID, {"validFrom": fmt_from}))
        if valid_until < at - self.clock_skew:
            reasons.append(Reason(ReasonCode.EXPIRED, {"validUntil": format_time(valid_until)}))
        # The key at issuance; a key revoked for compromise taints everything it signed.
        record = entry.record
        if not record.valid_at(valid_from):
            reasons.append(Reason(ReasonCode.KEY_NOT_VALID_AT_ISSUANCE, {"validFrom": fmt_from}))
        if record.revoked_at is not None and (
            record.revocation_reason == "keyCompromise" or record.revoked_at <= valid_from
        ):
            reasons.append(
                Reason(
                    ReasonCode.KEY_REVOKED,
                    {
                        "reason": record.revocation_reason,
                        "revokedAt": format_time(record.revoked_at),
                    },
                )
            )
        # Accreditation at issuance, and for this scope.
        lab_status = status_at(lab.status, valid_from)
        if lab_status != "active":
            reasons.append(
                Reason(
                    ReasonCode.LAB_NOT_ACCREDITED,
                    {"lab": lab.name(), "status": lab_status or "not yet accredited"},
                )
            )
        if scope not in {s.category for s in lab.scopes}:
            reasons.append(Reason(ReasonCode.SCOPE_NOT_ACCREDITED, {"lab": lab.name(), "scope": scope}))
        # The registry: a member in good standing when the certificate was issued and now.
        for when in (valid_from, at):
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
        reasons.extend(self._status_reasons(cred, lab.id, at))
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
        for name, expires in (
            ("federation list", self.snapshot.federation.expires_at),
            (f"{member.accreditation_body} trust list", trust_list.expires_at),
        ):
            if expires < at:
                reasons.append(
                    Reason(
                        ReasonCode.TRUST_DATA_STALE,
                        {"detail": f"{name} expired {format_time(expires)}"},
                    )
                )
        if reasons:
            return VerificationResult("reject", tuple(reasons), cred, issuer)
        return VerificationResult(
            "accept", (Reason(ReasonCode.ACCEPTED, {"country": self.country}),), cred, issuer
        )

    def _status_reasons(self, cred: dict[str, Any], issuer: str, at: datetime) -> list[Reason]:
        entries = cred.get("credentialStatus")
        if isinstance(entries, dict):
            entries = [entries]
        if not isinstance(entries, list) or not entries:
            return [Reason(ReasonCode.STATUS_UNAVAILABLE, {"detail": "the certificate has no status entry"})]
        reasons: list[Reason] = []
        for item in entries:
            if not isinstance(item, dict):
                reasons.append(Reason(ReasonCode.STATUS_UNAVAILABLE, {"detail": "malformed status entry"}))
                continue
            url, purpose = item.get("statusListCredential"), item.get("statusPurpose")
            status_list = self.snapshot.status_lists.get(url) if isinstance(url, str) else None
            try:
                index = int(str(item.get("statusListIndex")))
            except ValueError:
                index = -1
            if status_list is None or status_list.issuer != issuer or status_list.purpose != purpose:
                reasons.append(
                    Reason(
                        ReasonCode.STATUS_UNAVAILABLE,
                        {"detail": f"no {purpose} list {url} in the trust data"},
                    )
                )
            elif status_list.valid_until is not None and status_list.valid_until < at:
                reasons.append(
                    Reason(
                        ReasonCode.STATUS_UNAVAILABLE,
                        {"detail": f"the {purpose} list expired {format_time(status_list.valid_until)}"},
                    )
                )
            elif not 0 <= index < len(status_list.bits):
                reasons.append(
                    Reason(
                        ReasonCode.STATUS_UNAVAILABLE,
                        {"detail": f"index {index} is outside the {purpose} list"},
                    )
                )
            elif status_list.bits.get(index):
                reasons.append(
                    Reason(ReasonCode.REVOKED if purpose == "revocation" else ReasonCode.SUSPENDED)
                )
        return reasons

    def _issuer_info(self, entry: KeyEntry) -> dict[str, Any]:
        lab, member = entry.owner.lab, entry.owner.member
        return {
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

    def _finish(self, result: VerificationResult, at: datetime) -> VerificationResult:
        snap = self.snapshot
        trust: dict[str, Any] = {
            "sequence": snap.federation.sequence,
            "createdAt": self._trust_summary["createdAt"],
            "ageSeconds": int((at - snap.created_at).total_seconds()),
            **self._trust_summary,
        }
        return VerificationResult(result.verdict, result.reasons, result.credential, result.issuer, trust)
