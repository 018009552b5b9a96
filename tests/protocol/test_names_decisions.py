"""Each decision of protocol/names.py pinned by a case that only it gets right.

Limits come from docs/formats.md ("Lab ids and name constraints": 200 characters in all;
"Federation list": a publication URL of at most 400 characters), never from the code.
"""

from __future__ import annotations

import pytest

from protocol.errors import MalformedInputError
from protocol.names import (
    NameIndex,
    NamePattern,
    check_lab_id,
    check_publication_url,
    is_lab_id,
    is_under,
    parse_patterns,
)

# -- lab ids -------------------------------------------------------------------------------------


def test_a_lab_id_with_a_long_host_is_judged_by_its_total_length() -> None:
    # The host may not exceed DNS's 253 characters, but the 200-character limit on the whole
    # id already keeps it to 192: a host of 192 is fine, 193 (201 in all) is not.
    host = ".".join(["a" * 63, "b" * 63, "c" * 61, "de"])  # 192 characters
    assert len(host) == 192
    assert is_lab_id(f"https://{host}")
    assert not is_lab_id(f"https://{host}x")


def test_is_lab_id_answers_a_bool_for_every_value() -> None:
    assert is_lab_id("https://qdtc.example.cn") is True
    assert is_lab_id("https://QDTC.example.cn") is False
    assert is_lab_id(None) is False
    assert is_lab_id(42) is False
    # Not canonical but short: each part of the conjunction must hold, not just one.
    assert is_lab_id("x") is False


def test_check_lab_id_returns_the_id_and_refuses_others_showing_80_characters() -> None:
    assert check_lab_id("https://qdtc.example.cn") == "https://qdtc.example.cn"
    bad = "https://" + "Q" * 72 + "ZYXW" + "v" * 40  # the first 80 characters end in "Z"
    with pytest.raises(MalformedInputError) as caught:
        check_lab_id(bad, "registry id")
    text = str(caught.value)
    assert text.startswith(f"registry id {bad[:80]!r} is not valid")
    assert bad[:81] not in text
    with pytest.raises(MalformedInputError, match=r"^lab id 7 is not valid"):
        check_lab_id(7)


# -- patterns ------------------------------------------------------------------------------------


def test_a_pattern_of_exactly_200_characters_is_accepted_and_201_refused() -> None:
    text = "https://*.reg.kz/" + "p" * 183
    assert len(text) == 200
    assert NamePattern(text).path == "/" + "p" * 183
    with pytest.raises(MalformedInputError, match="is not https://"):
        NamePattern(text + "p")


def test_a_pattern_is_parsed_into_wildcard_host_and_path() -> None:
    wild = NamePattern("https://*.cnas.cn/labs")
    assert (wild.wildcard, wild.host, wild.path, wild.text) == (True, "cnas.cn", "/labs", "https://*.cnas.cn/labs")
    exact = NamePattern("https://cnas.cn")
    assert (exact.wildcard, exact.host, exact.path) == (False, "cnas.cn", "")
    with pytest.raises(MalformedInputError):
        NamePattern("https://cnas.cn/")


def test_pattern_repr_equality_and_hash() -> None:
    a, a2, b = NamePattern("https://*.a.cn"), NamePattern("https://*.a.cn"), NamePattern("https://a.cn")
    assert repr(a) == "NamePattern('https://*.a.cn')"
    assert a == a2
    assert a != b
    assert a != "https://*.a.cn"
    assert hash(a) == hash(a2) == hash("https://*.a.cn")
    assert {a, a2, b} == {a, b}


@pytest.mark.parametrize(
    ("pattern", "lab_id", "expected"),
    [
        ("https://*.cnas.cn", "https://l1.cnas.cn", True),
        ("https://*.cnas.cn", "https://a.l1.cnas.cn/x", True),
        ("https://*.cnas.cn", "https://cnas.cn", False),
        ("https://*.cnas.cn", "https://xcnas.cn", False),
        ("https://cnas.cn", "https://cnas.cn", True),
        ("https://cnas.cn", "https://cnas.cn/labs/l1", True),
        ("https://cnas.cn", "https://l1.cnas.cn", False),
        ("https://reg.kz/labs", "https://reg.kz/labs", True),
        ("https://reg.kz/labs", "https://reg.kz/labs/l1", True),
        ("https://reg.kz/labs", "https://reg.kz/labs2", False),
        ("https://reg.kz/labs", "https://reg.kz", False),
        ("https://reg.kz/labs", "https://other.kz/labs", False),
        ("https://*.reg.kz/labs", "https://x.reg.kz/other", False),
        # Not canonical: never matched, whatever the pattern.
        ("https://*.cnas.cn", "https://l1.cnas.cn/", False),
        ("https://cnas.cn", "https://cnas.cn/labs/", False),
        ("https://cnas.cn", "https://cnas.cn:443", False),
    ],
)
def test_pattern_matches(pattern: str, lab_id: str, expected: bool) -> None:
    assert NamePattern(pattern).matches(lab_id) is expected


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        # both wildcards
        ("https://*.org.cn", "https://*.cnas.org.cn", True),
        ("https://*.cnas.org.cn", "https://*.org.cn", True),
        ("https://*.cnas.cn", "https://*.cnas.cn", True),
        ("https://*.cnas.cn", "https://*.cnca.cn", False),
        ("https://*.cnas.cn", "https://*.xcnas.cn", False),
        # one wildcard
        ("https://*.cnas.cn", "https://l1.cnas.cn", True),
        ("https://l1.cnas.cn", "https://*.cnas.cn", True),
        ("https://*.cnas.cn", "https://cnas.cn", False),
        ("https://cnas.cn", "https://*.cnas.cn", False),
        # exact hosts
        ("https://cnas.cn", "https://cnas.cn", True),
        ("https://cnas.cn", "https://cnca.cn", False),
        # paths, either way round
        ("https://reg.kz/labs", "https://reg.kz/labs/l1", True),
        ("https://reg.kz/labs/l1", "https://reg.kz/labs", True),
        ("https://reg.kz/labs", "https://reg.kz/other", False),
        ("https://reg.kz/labs", "https://reg.kz/labs2", False),
        ("https://reg.kz", "https://reg.kz/labs", True),
        ("https://*.reg.kz/a", "https://*.reg.kz/b", False),
        ("https://*.reg.kz/a", "https://x.reg.kz/b", False),
        ("https://cnas.cn/a", "https://cnca.cn/a", False),
    ],
)
def test_pattern_overlaps(a: str, b: str, expected: bool) -> None:
    assert NamePattern(a).overlaps(NamePattern(b)) is expected


def test_parse_patterns_keeps_every_pattern_in_order_and_names_the_bad_one() -> None:
    parsed = parse_patterns(["https://*.a.cn", "https://b.cn/x"], "permittedLabIds")
    assert parsed == (NamePattern("https://*.a.cn"), NamePattern("https://b.cn/x"))
    assert parse_patterns([], "permittedLabIds") == ()
    with pytest.raises(MalformedInputError, match=r"^permittedLabIds\[1\] must be a string$"):
        parse_patterns(["https://a.cn", 5], "permittedLabIds")
    with pytest.raises(MalformedInputError, match=r"^permittedLabIds\[0\]: lab id pattern"):
        parse_patterns(["https://a.cn/"], "permittedLabIds")


def test_is_under_requires_a_canonical_url_below_the_lab() -> None:
    assert is_under("https://a.cn/lab/status/1", "https://a.cn/lab") is True
    assert is_under("https://a.cn/lab", "https://a.cn/lab") is False
    assert is_under("https://a.cn/lab2/status", "https://a.cn/lab") is False
    assert is_under("https://a.cn/lab/status/", "https://a.cn/lab") is False  # not canonical


# -- the index -----------------------------------------------------------------------------------


def test_name_index_finds_owners_by_host_and_parent_domains_in_the_order_given() -> None:
    index: NameIndex[str] = NameIndex(
        [
            ("wild-parent", [NamePattern("https://*.cnas.org.cn")]),
            ("exact", [NamePattern("https://l1.cnas.org.cn")]),
            ("wild-grandparent", [NamePattern("https://*.org.cn"), NamePattern("https://*.x.org.cn")]),
            ("path", [NamePattern("https://l1.cnas.org.cn/labs")]),
            ("nobody", [NamePattern("https://*.reg.kz")]),
        ]
    )
    # hosts under org.cn: "wild-parent" and "exact" are about cnas.org.cn
    assert index.owners("https://l1.cnas.org.cn") == ["wild-parent", "exact", "wild-grandparent"]
    assert index.owners("https://l1.cnas.org.cn/labs/a") == [
        "wild-parent",
        "exact",
        "wild-grandparent",
        "path",
    ]
    assert index.owners("https://a.l1.cnas.org.cn") == ["wild-parent", "wild-grandparent"]
    assert index.owners("https://cnas.org.cn") == ["wild-grandparent"]
    assert index.owners("https://org.reg.kz") == ["nobody"]
    assert index.owners("https://l1.cnas.org.cn/") == []
    assert index.owners("https://cnas.org") == []


def test_name_index_lists_an_owner_once() -> None:
    index: NameIndex[str] = NameIndex([("a", [NamePattern("https://*.a.cn"), NamePattern("https://x.a.cn")])])
    assert index.owners("https://x.a.cn") == ["a"]


# -- publication URLs ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://cnas.example.cn/yilu",
        "https://cnas.example.cn:8443/yilu/",
        "http://127.0.0.1:8710/",
        "http://localhost/x",
        "http://[::1]:8710/",
        "https://a.b/" + "x" * 388,  # exactly 400 characters
    ],
)
def test_publication_url_accepted(url: str) -> None:
    assert check_publication_url(url) == url


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://a.b/" + "x" * 389, "at most 400 characters"),
        ("https://cnas.example.cn/a b", "without spaces"),
        ("https://cnas.example.cn/a\tb", "without spaces"),
        (5, "at most 400 characters"),
        (None, "at most 400 characters"),
        ("https://cnas.example.cn:99999/", "is not a URL"),
        ("https://[::1/", "is not a URL"),
        ("http://cnas.example.cn/yilu/", "must be an https:// URL"),
        ("ftp://cnas.example.cn/", "must be an https:// URL"),
        ("ftp://localhost/", "must be an https:// URL"),
        ("https:///no-host", "must be an https:// URL"),
        ("localhost/x", "must be an https:// URL"),
    ],
)
def test_publication_url_refused(url: object, message: str) -> None:
    with pytest.raises(MalformedInputError, match=message):
        check_publication_url(url, "publication URL")
