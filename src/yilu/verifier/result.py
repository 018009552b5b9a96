"""The structured verification result: verdict, reasons, certificate, issuer, snapshot.

Shape of :meth:`VerificationResult.to_json` is the CLI contract of ``yilu verify
--json`` (DESIGN.md, "Command line contract"; docs/verifying.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from yilu.protocol.errors import VerificationError
from yilu.protocol.reasons import Lang, ReasonCode, message

Verdict = Literal["accept", "reject"]


@dataclass(frozen=True, slots=True)
class Reason:
    """One reason code with the details its message is filled from."""

    code: ReasonCode
    details: Mapping[str, Any] = field(default_factory=dict)

    def message(self, lang: Lang = "en") -> str:
        return message(self.code, lang, self.details)

    def to_json(self, lang: Lang = "en") -> dict[str, Any]:
        out: dict[str, Any] = {"code": str(self.code), "message": self.message(lang)}
        if self.details:
            out["details"] = {k: v for k, v in self.details.items()}
        return out


@dataclass(frozen=True, slots=True)
class VerificationResult:
    """What a verification concluded and why; never just a boolean."""

    verdict: Verdict
    reasons: tuple[Reason, ...]
    credential: Mapping[str, Any] | None = None
    issuer: Mapping[str, Any] | None = None
    trust: Mapping[str, Any] | None = None

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
        """Return ``self`` if accepted, else raise :class:`VerificationError` with the codes."""
        if not self.accepted:
            text = "; ".join(r.message("en") for r in self.reasons)
            raise VerificationError(text, codes=self.codes)
        return self

    @classmethod
    def reject(cls, code: ReasonCode, **details: Any) -> VerificationResult:
        return cls("reject", (Reason(code, details),))
