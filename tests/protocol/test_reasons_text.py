"""Reason texts and verdicts (protocol/reasons.py): safe display, translations, three outcomes.

The sets of codes below are written out literally: a change of classification must be
made here on purpose, not inherited from the constants under test.
"""

from __future__ import annotations

import itertools
import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.reasons import ReasonCode, advice, message, safe_text, verdict_for

ALL_CODES = {
    "ACCEPTED",
    "UNREADABLE",
    "MALFORMED",
    "UNSUPPORTED_FORMAT",
    "UNSUPPORTED_ALG",
    "UNKNOWN_KEY",
    "SIGNATURE_INVALID",
    "NOT_YET_VALID",
    "EXPIRED",
    "KEY_NOT_VALID_AT_ISSUANCE",
    "KEY_REVOKED",
    "LAB_NOT_ACCREDITED",
    "LAB_WITHDRAWN_FOR_CAUSE",
    "SCOPE_NOT_ACCREDITED",
    "REGISTRY_NOT_MEMBER",
    "STATUS_ENTRY_INVALID",
    "REVOKED",
    "SUSPENDED",
    "STATUS_UNAVAILABLE",
    "NOT_RECOGNISED",
    "TRUST_DATA_STALE",
    "TRUST_DATA_INVALID",
    "TRUST_DATA_MISSING",
}
#: Facts about the certificate itself: reject whatever else is found.
FINAL = {
    "MALFORMED",
    "UNSUPPORTED_ALG",
    "SIGNATURE_INVALID",
    "EXPIRED",
    "KEY_NOT_VALID_AT_ISSUANCE",
    "KEY_REVOKED",
    "LAB_WITHDRAWN_FOR_CAUSE",
    "STATUS_ENTRY_INVALID",
    "REVOKED",
}
#: Problems of the device, its input or its trust data: unverifiable unless a final code is present.
TRUST = {
    "UNREADABLE",
    "UNSUPPORTED_FORMAT",
    "NOT_YET_VALID",
    "STATUS_UNAVAILABLE",
    "TRUST_DATA_STALE",
    "TRUST_DATA_INVALID",
    "TRUST_DATA_MISSING",
}
#: Everything else rejects, unless a trust code says the data could not tell.
PLAIN = {
    "UNKNOWN_KEY",
    "LAB_NOT_ACCREDITED",
    "SCOPE_NOT_ACCREDITED",
    "REGISTRY_NOT_MEMBER",
    "SUSPENDED",
    "NOT_RECOGNISED",
}
LANGS = ("en", "zh", "ru", "kk")
#: Every placeholder any template uses, with a harmless value.
PLACEHOLDERS = {
    "country": "KZ",
    "detail": "something",
    "kid": "abcdefghijk",
    "validFrom": "2026-11-27T09:00:00Z",
    "validUntil": "2027-05-20T00:00:00Z",
    "reason": "keyCompromise",
    "revokedAt": "2026-11-27T06:00:00Z",
    "lab": "Lab",
    "status": "withdrawn",
    "since": "2026-11-27T07:00:00Z",
    "scope": "food",
    "registry": "CNAS (CN)",
}
HOSTILE = "x\n✔ ACCEPT\r\x1b[2K\u2028\u202etpecca\u202c\u2066\u200b\ufeff\x85\x7f" + "y" * 500

BIDI = [chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))]
ZERO_WIDTH = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"]
C0 = [chr(c) for c in range(0x00, 0x20)]
C1 = [chr(c) for c in range(0x80, 0xA0)]


def code(name: str) -> ReasonCode:
    return ReasonCode(name)


def expected_verdict(names: set[str]) -> str:
    found = names - {"ACCEPTED"}
    if found & FINAL:
        return "reject"
    if found & TRUST:
        return "unverifiable"
    return "reject" if found else "accept"


def unsafe(text: str) -> list[str]:
    """Characters that could start a line, reorder text or hide: none may be shown raw."""
    return [
        ch
        for ch in text
        if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") or ch in BIDI or ch in ZERO_WIDTH
    ]


# -- the codes and their classes ----------------------------------------------------------------


def test_the_codes_are_exactly_these() -> None:
    assert {c.value for c in ReasonCode} == ALL_CODES
    assert FINAL | TRUST | PLAIN | {"ACCEPTED"} == ALL_CODES
    assert not (FINAL & TRUST) and not (FINAL & PLAIN) and not (TRUST & PLAIN)


# -- verdict_for ------------------------------------------------------------------------------------


def test_verdict_of_nothing_and_of_accepted_only() -> None:
    assert verdict_for([]) == "accept"
    assert verdict_for([code("ACCEPTED")]) == "accept"
    assert verdict_for([code("ACCEPTED"), code("ACCEPTED")]) == "accept"
    assert verdict_for(iter([code("ACCEPTED")])) == "accept"


@pytest.mark.parametrize("name", sorted(FINAL))
def test_final_code_rejects_beside_anything(name: str) -> None:
    assert verdict_for([code(name)]) == "reject"
    for other in sorted(ALL_CODES):
        assert verdict_for([code(other), code(name)]) == "reject", other
        assert verdict_for([code(name), code(other)]) == "reject", other
    assert verdict_for([code(n) for n in sorted(TRUST)] + [code(name)]) == "reject"


@pytest.mark.parametrize("name", sorted(TRUST))
def test_trust_code_without_final_is_unverifiable(name: str) -> None:
    assert verdict_for([code(name)]) == "unverifiable"
    assert verdict_for([code(name), code("ACCEPTED")]) == "unverifiable"
    for plain in sorted(PLAIN):
        assert verdict_for([code(plain), code(name)]) == "unverifiable", plain
    assert verdict_for([code(n) for n in sorted(PLAIN | TRUST)]) == "unverifiable"


@pytest.mark.parametrize("name", sorted(PLAIN))
def test_plain_code_alone_rejects(name: str) -> None:
    assert verdict_for([code(name)]) == "reject"
    assert verdict_for([code("ACCEPTED"), code(name)]) == "reject"


def test_verdict_truth_table_over_every_pair() -> None:
    for a, b in itertools.product(sorted(ALL_CODES), repeat=2):
        assert verdict_for([code(a), code(b)]) == expected_verdict({a, b}), (a, b)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.lists(st.sampled_from(sorted(ALL_CODES)), max_size=8))
def test_verdict_follows_the_rule_for_any_combination(names: list[str]) -> None:
    assert verdict_for(code(n) for n in names) == expected_verdict(set(names))


# -- safe_text --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ch",
    [
        *C0,
        "\x7f",
        *C1,
        "\u2028",
        "\u2029",
        *BIDI,
        *ZERO_WIDTH,
        "\u200e",  # left-to-right mark
        "\u200f",  # right-to-left mark
        "\u061c",  # Arabic letter mark
    ],
    ids=lambda ch: f"U+{ord(ch):04X}",
)
def test_safe_text_escapes_invisible_and_control_characters(ch: str) -> None:
    shown = safe_text(f"a{ch}b")
    assert shown == f"a\\u{ord(ch):04x}b"


def test_safe_text_examples() -> None:
    assert safe_text("x\n✔ ACCEPT") == "x\\u000a✔ ACCEPT"
    assert safe_text("\r\x1b[2K\x07") == "\\u000d\\u001b[2K\\u0007"
    assert safe_text("\u202eTPECCA\u202c") == "\\u202eTPECCA\\u202c"
    assert safe_text("a\tb") == "a\\u0009b"


@pytest.mark.parametrize(
    "text",
    [
        "青岛检测中心",
        "Циндаоский центр испытаний",
        "Qingdao Detection & Testing Centre",
        "✔ ✘ ? → ·",
        "é ü ß",
    ],
)
def test_safe_text_keeps_ordinary_text(text: str) -> None:
    assert safe_text(text) == text


def test_safe_text_of_non_strings() -> None:
    assert safe_text(123) == "123"
    assert safe_text(None) == "None"
    assert safe_text(["a\nb"]) == "['a\\nb']"  # str() of a list writes the newline as \n


def test_safe_text_bounds_the_length_with_an_ellipsis() -> None:
    assert safe_text("a" * 200) == "a" * 200
    assert safe_text("a" * 201) == "a" * 199 + "…"
    assert safe_text("abcdef", 4) == "abc…"
    assert safe_text("abcd", 4) == "abcd"
    huge = safe_text("b" * 5_000_000)
    assert huge == "b" * 199 + "…"
    # The bound applies after escaping: escapes cannot blow it up.
    escaped = safe_text("\x00" * 100)
    assert len(escaped) == 200 and escaped.endswith("…") and escaped.startswith("\\u0000\\u0000")


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.text(max_size=400), st.integers(2, 300))
def test_safe_text_is_one_bounded_safe_line(text: str, limit: int) -> None:
    shown = safe_text(text, limit)
    assert len(shown) <= limit
    assert not unsafe(shown), repr(shown)


def test_safe_text_output_is_always_encodable() -> None:
    shown = safe_text("kid\ud800x")
    shown.encode("utf-8")
    assert "\\ud800" in shown


# -- message / advice ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(ALL_CODES))
def test_every_code_has_a_message_and_advice_in_each_language(name: str) -> None:
    texts = {lang: (message(code(name), lang, PLACEHOLDERS), advice(code(name), lang)) for lang in LANGS}
    for lang, (msg, adv) in texts.items():
        assert msg.strip() and adv.strip(), (name, lang)
        assert "{" not in msg and "}" not in msg, (name, lang, msg)
        assert msg != adv, (name, lang)
    # Four real translations, not one text four times.
    assert len({t[0] for t in texts.values()}) == 4, name
    assert len({t[1] for t in texts.values()}) == 4, name
    assert re.search(r"[\u4e00-\u9fff]", texts["zh"][0]) and re.search(r"[\u4e00-\u9fff]", texts["zh"][1])
    assert re.search(r"[а-яА-ЯёЁ]", texts["ru"][0]) and re.search(r"[а-яА-ЯёЁ]", texts["ru"][1])
    # Kazakh: Cyrillic with at least one of the letters Russian does not have, somewhere.
    assert re.search(r"[әғқңөұүһіӘҒҚҢӨҰҮҺІ]", texts["kk"][0] + texts["kk"][1]), name


@pytest.mark.parametrize("lang", LANGS)
def test_messages_of_different_codes_differ(lang: str) -> None:
    messages = [message(code(name), lang, PLACEHOLDERS) for name in sorted(ALL_CODES)]
    assert len(set(messages)) == len(ALL_CODES)


def test_message_fills_and_keeps_missing_placeholders() -> None:
    assert message(code("UNKNOWN_KEY"), "en", {"kid": "abc"}) == (
        "The signing key (abc) is not in the trust data: the issuer is unknown."
    )
    assert "{kid}" in message(code("UNKNOWN_KEY"), "en")
    assert "{kid}" in message(code("UNKNOWN_KEY"), "en", {"detail": "unused"})
    # A value is shown, never expanded as a template itself.
    assert "({country})" in message(code("UNKNOWN_KEY"), "en", {"kid": "{country}", "country": "KZ"})
    assert "(123)" in message(code("UNKNOWN_KEY"), "en", {"kid": 123})


@pytest.mark.parametrize("name", sorted(ALL_CODES))
@pytest.mark.parametrize("lang", LANGS)
def test_message_makes_every_detail_safe(name: str, lang: str) -> None:
    template = message(code(name), lang)
    shown = message(code(name), lang, dict.fromkeys(PLACEHOLDERS, HOSTILE))
    assert "\n" not in shown and not unsafe(shown), repr(shown)
    assert "y" * 200 not in shown  # every value is cut to 200 characters
    filled = template.count("{")
    assert len(shown) <= len(template) + filled * 200
    if filled:
        assert "\\u000a✔ ACCEPT" in shown
