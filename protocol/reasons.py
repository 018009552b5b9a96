"""Reason codes, what each says about a certificate, and their texts in en / zh / ru / kk.

The codes, the order in which they are checked and the three outcomes are documented in
docs/verifying.md. Messages are templates: ``{name}`` placeholders are filled from a
reason's details, each value made safe to show first (:func:`safe_text`), and a missing
detail leaves the placeholder's name visible rather than failing. Every code also has
*advice*: what the inspector should do.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable, Mapping
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Final, Literal

Lang = Literal["en", "zh", "ru", "kk"]
LANGS: Final[tuple[Lang, ...]] = ("en", "zh", "ru", "kk")
Verdict = Literal["accept", "reject", "unverifiable"]


class ReasonCode(StrEnum):
    """Why a certificate was rejected or could not be verified (``ACCEPTED``: why accepted)."""

    ACCEPTED = "ACCEPTED"
    UNREADABLE = "UNREADABLE"
    MALFORMED = "MALFORMED"
    UNSUPPORTED_FORMAT = "UNSUPPORTED_FORMAT"
    UNSUPPORTED_ALG = "UNSUPPORTED_ALG"
    UNKNOWN_KEY = "UNKNOWN_KEY"
    SIGNATURE_INVALID = "SIGNATURE_INVALID"
    NOT_YET_VALID = "NOT_YET_VALID"
    EXPIRED = "EXPIRED"
    KEY_NOT_VALID_AT_ISSUANCE = "KEY_NOT_VALID_AT_ISSUANCE"
    KEY_REVOKED = "KEY_REVOKED"
    LAB_NOT_ACCREDITED = "LAB_NOT_ACCREDITED"
    LAB_WITHDRAWN_FOR_CAUSE = "LAB_WITHDRAWN_FOR_CAUSE"
    SCOPE_NOT_ACCREDITED = "SCOPE_NOT_ACCREDITED"
    REGISTRY_NOT_MEMBER = "REGISTRY_NOT_MEMBER"
    STATUS_ENTRY_INVALID = "STATUS_ENTRY_INVALID"
    REVOKED = "REVOKED"
    SUSPENDED = "SUSPENDED"
    STATUS_UNAVAILABLE = "STATUS_UNAVAILABLE"
    NOT_RECOGNISED = "NOT_RECOGNISED"
    TRUST_DATA_STALE = "TRUST_DATA_STALE"
    TRUST_DATA_INVALID = "TRUST_DATA_INVALID"
    TRUST_DATA_MISSING = "TRUST_DATA_MISSING"


#: Facts about the certificate itself that no newer trust data can change: any of them
#: makes the verdict ``reject`` whatever else is found.
FINAL_CODES: Final = frozenset(
    {
        ReasonCode.MALFORMED,
        ReasonCode.UNSUPPORTED_ALG,
        ReasonCode.SIGNATURE_INVALID,
        ReasonCode.EXPIRED,
        ReasonCode.KEY_NOT_VALID_AT_ISSUANCE,
        ReasonCode.KEY_REVOKED,
        ReasonCode.LAB_WITHDRAWN_FOR_CAUSE,
        ReasonCode.STATUS_ENTRY_INVALID,
        ReasonCode.REVOKED,
    }
)
#: Problems of the device, its input or its trust data: they say nothing against the
#: certificate, so without a final reason the verdict is ``unverifiable`` (a device problem
#: never turns goods back), even beside reasons judged from that same data. A code that
#: could not be read, a format this software does not know yet and a certificate dated
#: after the device's clock (a wrong clock is the usual cause at a border post) are here.
UNVERIFIABLE_CODES: Final = frozenset(
    {
        ReasonCode.UNREADABLE,
        ReasonCode.UNSUPPORTED_FORMAT,
        ReasonCode.NOT_YET_VALID,
        ReasonCode.STATUS_UNAVAILABLE,
        ReasonCode.TRUST_DATA_STALE,
        ReasonCode.TRUST_DATA_INVALID,
        ReasonCode.TRUST_DATA_MISSING,
    }
)


def verdict_for(codes: Iterable[ReasonCode]) -> Verdict:
    """The verdict for a set of reasons (docs/verifying.md, "Three outcomes").

    A final reason rejects; otherwise a device or trust-data problem makes the certificate
    unverifiable; otherwise any reason rejects; no reason (or only ACCEPTED) accepts.
    """
    found = set(codes) - {ReasonCode.ACCEPTED}
    if found & FINAL_CODES:
        return "reject"
    if found & UNVERIFIABLE_CODES:
        return "unverifiable"
    return "reject" if found else "accept"


@cache
def _texts() -> Mapping[str, Mapping[str, list[str]]]:
    """(message, advice) per code and language, from ``data/reasons.json`` (one file that
    translators edit; every code has every language: tests/protocol/test_reasons_text.py)."""
    text = resources.files("protocol").joinpath("data/reasons.json").read_text(encoding="utf-8")
    loaded: Mapping[str, Mapping[str, list[str]]] = json.loads(text)
    return loaded


#: Longest untrusted value shown inside a message (a kid, a detail, a name).
MAX_SHOWN_CHARS: Final = 200
_INVISIBLE: Final = frozenset("\u200b\u200c\u200d\u2060\ufeff")


def safe_text(value: object, limit: int = MAX_SHOWN_CHARS) -> str:
    """``value`` as one line that is safe to show a person.

    Control characters (C0, C1, DEL), line and paragraph separators, bidirectional
    controls, zero-width characters and lone surrogates (which no terminal can even encode)
    are written as ``\\uXXXX`` escapes, so that no
    untrusted string can start a new line, reorder text or draw a fake verdict; the
    result is cut to ``limit`` characters with an ellipsis (docs/security.md).
    """
    text = str(value)[: limit * 4]  # bounds the work on a huge string; more never shows
    out = []
    for ch in text:
        if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp") or ch in _INVISIBLE:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    shown = "".join(out)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


class _Keep(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def message(code: ReasonCode, lang: Lang = "en", details: Mapping[str, object] | None = None) -> str:
    """The human message for ``code`` in ``lang``, filled from ``details`` (made safe)."""
    template = _texts()[code][lang][0]
    values = _Keep({k: safe_text(v) for k, v in (details or {}).items()})
    return template.format_map(values)


def advice(code: ReasonCode, lang: Lang = "en") -> str:
    """What the inspector should do about ``code``, in ``lang``."""
    return _texts()[code][lang][1]
