"""Each decision of protocol/vocabulary.py pinned: countries and their hints, language tags,
lab names (docs/formats.md, "Trust list": one line of at most 300 characters), scopes."""

from __future__ import annotations

import pytest

from protocol.errors import MalformedInputError
from protocol.vocabulary import check_country, check_language_tag, check_names, check_scope

#: What people type instead of the code, and the code the refusal suggests (written out
#: here from the countries' names, not copied from the module).
HINTS = [
    ("China", "CN"),
    ("PRC", "CN"),
    ("Zhongguo", "CN"),
    ("中国", "CN"),
    ("Kazakhstan", "KZ"),
    ("Qazaqstan", "KZ"),
    ("Kyrgyzstan", "KG"),
    ("Russia", "RU"),
    ("Russian Federation", "RU"),
    ("Россия", "RU"),
    ("Uzbekistan", "UZ"),
    ("Tajikistan", "TJ"),
    ("Turkmenistan", "TM"),
    ("Mongolia", "MN"),
    ("Pakistan", "PK"),
    ("Iran", "IR"),
    ("Turkey", "TR"),
    ("Turkiye", "TR"),
    ("Georgia", "GE"),
    ("Azerbaijan", "AZ"),
    ("Belarus", "BY"),
    ("Poland", "PL"),
    ("Germany", "DE"),
    ("Hong Kong", "HK"),
    ("United Kingdom", "GB"),
    ("England", "GB"),
    ("USA", "US"),
    ("United States", "US"),
]


@pytest.mark.parametrize(("typed", "code"), HINTS)
def test_a_country_name_gets_its_code_suggested(typed: str, code: str) -> None:
    with pytest.raises(MalformedInputError) as caught:
        check_country(f" {typed} ", "--country")
    assert str(caught.value) == (
        f"--country {f' {typed} '!r} is not an ISO 3166-1 alpha-2 country code: did you mean {code}?"
    )


def test_uk_is_a_two_letter_string_that_is_not_a_code_and_gets_gb() -> None:
    with pytest.raises(MalformedInputError, match=r"did you mean GB\?$"):
        check_country("uk")


def test_check_country_returns_the_upper_case_code_and_refuses_unknown_codes() -> None:
    assert check_country(" kz ") == "KZ"
    assert check_country("CN") == "CN"
    with pytest.raises(MalformedInputError, match=r"^country 'XX' .*: use two letters such as CN, KZ, RU"):
        check_country("XX")


@pytest.mark.parametrize(
    "tag", ["en", "zh", "kk", "zh-Hans", "zh-CN", "kk-Cyrl-KZ", "es-419", "sl-rozaj", "de-CH-1996"]
)
def test_language_tags_accepted(tag: str) -> None:
    assert check_language_tag(tag) == tag


@pytest.mark.parametrize(
    "tag", ["", "e", "EN", "english", "zh_CN", "zh-", "zh-hans-", "de-CH-abcd", "de-CH-199", 5, None]
)
def test_language_tags_refused(tag: object) -> None:
    with pytest.raises(MalformedInputError, match="is not a BCP 47 language tag"):
        check_language_tag(tag)  # type: ignore[arg-type]


def test_a_refused_language_tag_is_shown_cut_to_20_characters() -> None:
    tag = "x" * 19 + "YZ" + "w" * 10
    with pytest.raises(MalformedInputError) as caught:
        check_language_tag(tag)
    assert str(caught.value).startswith(f"name language {tag[:20]!r} is not")


def test_check_names_strips_each_name_and_keeps_every_language() -> None:
    names = {"en": " Qingdao Lab ", "zh": "青岛实验室"}
    assert check_names(names) == {"en": "Qingdao Lab", "zh": "青岛实验室"}


def test_a_name_of_300_characters_is_accepted_and_301_refused() -> None:
    assert check_names({"en": "n" * 300}) == {"en": "n" * 300}
    with pytest.raises(MalformedInputError, match="one line of at most 300 characters"):
        check_names({"en": "n" * 301})


@pytest.mark.parametrize(
    ("names", "message"),
    [
        ({}, "at least one name"),
        (None, "at least one name"),
        (["en", "Lab"], "at least one name"),
        ({"english": "Lab"}, "is not a BCP 47 language tag"),
        ({"en": ""}, "the en name is empty"),
        ({"en": "   "}, "the en name is empty"),
        ({"en": 5}, "the en name is empty"),
        ({"en": "Lab\nLine 2"}, "one line"),
        ({"en": "Lab\rx"}, "one line"),
        ({"en": "Lab\tx"}, "one line"),
        ({"en": "Lab", "zh": ""}, "the zh name is empty"),
    ],
)
def test_names_refused(names: object, message: str) -> None:
    with pytest.raises(MalformedInputError, match=message):
        check_names(names)  # type: ignore[arg-type]


def test_check_scope() -> None:
    assert check_scope("food") == "food"
    assert check_scope("textiles") == "textiles"
    with pytest.raises(MalformedInputError, match=r"^unknown scope 'fish': use one of food, agricultural,"):
        check_scope("fish")
