"""The structured verification result: verdict, reasons, certificate, issuer, snapshot.

Shape of :meth:`VerificationResult.to_json` is the CLI contract of ``yilu verify
--json`` (DESIGN.md, "Command line contract"; docs/verifying.md). The verdict is one of
three (docs/verifying.md, "Three outcomes") and always follows from the reasons.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from protocol.errors import TrustDataError, VerificationError
from protocol.reasons import Lang, ReasonCode, Verdict, advice, message, verdict_for


@dataclass(frozen=True, slots=True)
class Reason:
    """One reason code with the details its message is filled from."""

    code: ReasonCode
    details: Mapping[str, Any] = field(default_factory=dict)

    def message(self, lang: Lang = "en") -> str:
        return message(self.code, lang, self.details)

    def advice(self, lang: Lang = "en") -> str:
        return advice(self.code, lang)

    def to_json(self, lang: Lang = "en") -> dict[str, Any]:
        out: dict[str, Any] = {
            "code": str(self.code),
            "message": self.message(lang),
            "advice": self.advice(lang),
        }
        if self.details:
            out["details"] = dict(self.details)
        return out


@dataclass(frozen=True, slots=True)
class VerificationResult:
    """What a verification concluded and why; never just a boolean."""

    verdict: Verdict
    reasons: tuple[Reason, ...]
    credential: Mapping[str, Any] | None = None
    issuer: Mapping[str, Any] | None = None
    trust: Mapping[str, Any] | None = None

    @classmethod
    def of(
        cls,
        reasons: Iterable[Reason],
        credential: Mapping[str, Any] | None = None,
        issuer: Mapping[str, Any] | None = None,
        trust: Mapping[str, Any] | None = None,
    ) -> VerificationResult:
        """A result whose verdict follows from ``reasons`` (none at all: accept)."""
        found = tuple(reasons)
        return cls(verdict_for(r.code for r in found), found, credential, issuer, trust)

    @classmethod
    def reject(cls, code: ReasonCode, **details: Any) -> VerificationResult:
        """A result with the single reason ``code`` (its verdict follows from the code)."""
        return cls.of((Reason(code, details),))

    @property
    def accepted(self) -> bool:
        return self.verdict == "accept"

    @property
    def codes(self) -> tuple[ReasonCode, ...]:
        return tuple(r.code for r in self.reasons)

    def to_json(self, lang: Lang = "en") -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "reasons": [r.to_json(lang) for r in self.reasons],
            "credential": self.credential,
            "issuer": self.issuer,
            "trust": self.trust,
        }

    def raise_for_verdict(self) -> VerificationResult:
        """Return ``self`` if accepted; raise :class:`VerificationError` for a reject and
        :class:`TrustDataError` when the certificate could not be verified."""
        if self.accepted:
            return self
        text = "; ".join(r.message("en") for r in self.reasons)
        if self.verdict == "unverifiable":
            raise TrustDataError(text, code=self.codes[0], codes=self.codes)
        raise VerificationError(text, codes=self.codes)
