"""Each decision of protocol/reasons.py pinned: verdicts, safe display (docs/security.md,
"Display injection": 200 characters, then ``…``), message templates and advice."""

from __future__ import annotations

import unicodedata

import pytest

import protocol.reasons as reasons
from protocol.reasons import ReasonCode, advice, message, safe_text, verdict_for

R = ReasonCode


@pytest.mark.parametrize(
    ("codes", "verdict"),
    [
        ([], "accept"),
        ([R.ACCEPTED], "accept"),
        ([R.UNKNOWN_KEY], "reject"),
        ([R.ACCEPTED, R.SUSPENDED], "reject"),
        ([R.EXPIRED], "reject"),
        ([R.TRUST_DATA_STALE], "unverifiable"),
        ([R.ACCEPTED, R.NOT_YET_VALID], "unverifiable"),
        ([R.TRUST_DATA_STALE, R.UNKNOWN_KEY], "unverifiable"),
        ([R.TRUST_DATA_STALE, R.REVOKED], "reject"),
        ([R.UNREADABLE, R.MALFORMED], "reject"),
    ],
)
def test_verdict_for(codes: list[ReasonCode], verdict: str) -> None:
    assert verdict_for(iter(codes)) == verdict


def test_safe_text_keeps_200_characters_and_cuts_201_with_an_ellipsis() -> None:
    assert reasons.MAX_SHOWN_CHARS == 200
    assert safe_text("a" * 200) == "a" * 200
    assert safe_text("a" * 201) == "a" * 199 + "…"
    assert safe_text("abcdef", 4) == "abc…"
    assert safe_text("abcd", 4) == "abcd"


def test_safe_text_cuts_a_huge_value_to_the_limit_with_an_ellipsis() -> None:
    assert safe_text("b" * 5000, 10) == "b" * 9 + "…"
    assert safe_text("\n" * 5000, 14) == "\\u000a\\u000a\\…"


def test_safe_text_looks_at_no_more_than_four_times_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """An untrusted value of megabytes costs no more than a short one: at most 4 x limit
    characters are classified (docs/security.md, "Display injection")."""
    seen: list[str] = []
    real = unicodedata.category

    def category(ch: str) -> str:
        seen.append(ch)
        return real(ch)

    monkeypatch.setattr(reasons.unicodedata, "category", category)
    assert safe_text("c" * 45, 10) == "c" * 9 + "…"
    assert len(seen) == 40
    seen.clear()
    assert safe_text("c" * 40, 10) == "c" * 9 + "…"
    assert len(seen) == 40


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("a\x00b", "a\\u0000b"),  # Cc
        ("a\x7fb", "a\\u007fb"),  # DEL, Cc
        ("a\x85b", "a\\u0085b"),  # NEL, C1
        ("a\u202eb", "a\\u202eb"),  # right-to-left override, Cf
        ("a\ud800b", "a\\ud800b"),  # lone surrogate, Cs
        ("a\u2028b", "a\\u2028b"),  # line separator, Zl
        ("a\u2029b", "a\\u2029b"),  # paragraph separator, Zp
        ("a\u200bb", "a\\u200bb"),  # zero-width space (Cf)
        ("a\u2060b", "a\\u2060b"),  # word joiner (Cf)
        ("a b\u00e9\u4e2d", "a b\u00e9\u4e2d"),  # printable text is kept as it is
    ],
)
def test_safe_text_escapes_what_could_hide_or_reorder_text(raw: str, shown: str) -> None:
    assert safe_text(raw) == shown


def test_safe_text_escapes_the_invisible_characters_even_if_unicode_files_them_elsewhere(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The zero-width characters are escaped by name, whatever category a Unicode version
    # gives them: here they are presented as ordinary letters.
    real = unicodedata.category
    monkeypatch.setattr(
        reasons.unicodedata, "category", lambda ch: "Lo" if ch in "\u200b\ufeff" else real(ch)
    )
    assert safe_text("x\u200by\ufeff") == "x\\u200by\\ufeff"


def test_message_fills_details_made_safe_and_keeps_missing_placeholders() -> None:
    filled = message(R.UNREADABLE, "en", {"detail": "bad\nphoto"})
    assert filled == "No certificate could be read: bad\\u000aphoto"
    assert message(R.UNREADABLE, "en") == "No certificate could be read: {detail}"
    assert message(R.UNREADABLE, "en", {"other": "x"}) == "No certificate could be read: {detail}"


def test_message_and_advice_are_the_two_texts_of_a_code() -> None:
    assert message(R.UNKNOWN_KEY, "en", {"kid": "k1"}) == (
        "The signing key (k1) is not in the trust data: the issuer is unknown."
    )
    assert advice(R.UNREADABLE, "en") == (
        "Scan the certificate's own QR code again (closer, sharper, flat, well lit), or enter its "
        "text; this says nothing against the certificate."
    )
    assert advice(R.UNREADABLE, "zh") != advice(R.UNREADABLE, "en")
