"""Lab ids and name constraints (protocol/names.py): the canonical form, patterns, overlaps.

Every expected value is written out here; nothing is derived from the code under test.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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

LABEL_63 = "a" * 63
LABEL_64 = "a" * 64

# -- lab ids ------------------------------------------------------------------------------------

GOOD_IDS = [
    "https://qdtc.example.cn",
    "https://a.b",
    "https://xn--fiqs8s.example.cn",
    "https://lab-1.example.kz",
    "https://0.example.ru",
    f"https://{LABEL_63}.example.cn",
    "https://reg.example.kz/labs",
    "https://reg.example.kz/labs/l1",
    "https://reg.example.kz/A.b_c~d-e",
    "https://reg.example.kz/..x",  # a segment that only starts with dots is a name
    "https://reg.example.kz/...",
    "https://a.b/" + "x" * 188,  # exactly 200 characters
]

BAD_IDS = [
    ("uppercase host", "https://QDTC.example.cn"),
    ("uppercase host label", "https://qdtc.Example.cn"),
    ("port", "https://qdtc.example.cn:443"),
    ("port and path", "https://qdtc.example.cn:8443/labs"),
    ("userinfo", "https://user@qdtc.example.cn"),
    ("userinfo with password", "https://user:pw@qdtc.example.cn"),
    ("query", "https://qdtc.example.cn?x=1"),
    ("query after path", "https://qdtc.example.cn/labs?x"),
    ("fragment", "https://qdtc.example.cn#top"),
    ("trailing slash", "https://qdtc.example.cn/"),
    ("trailing slash after path", "https://qdtc.example.cn/labs/"),
    ("empty segment", "https://qdtc.example.cn//labs"),
    ("dot segment", "https://qdtc.example.cn/./labs"),
    ("dot-dot segment", "https://qdtc.example.cn/labs/../x"),
    ("final dot segment", "https://qdtc.example.cn/."),
    ("final dot-dot segment", "https://qdtc.example.cn/.."),
    ("percent-encoding", "https://qdtc.example.cn/l%61bs"),
    ("percent-encoded host", "https://qdtc%2eexample.cn"),
    ("single-label host", "https://localhost"),
    ("single-label host with path", "https://cn/labs"),
    ("label starting with '-'", "https://-qdtc.example.cn"),
    ("label ending with '-'", "https://qdtc-.example.cn"),
    ("64-character label", f"https://{LABEL_64}.example.cn"),
    ("over 200 characters", "https://a.b/" + "x" * 189),
    ("http", "http://qdtc.example.cn"),
    ("no scheme", "qdtc.example.cn"),
    ("uppercase scheme", "HTTPS://qdtc.example.cn"),
    ("trailing dot", "https://qdtc.example.cn."),
    ("empty label", "https://qdtc..example.cn"),
    ("wildcard", "https://*.example.cn"),
    ("space", "https://qdtc.example.cn/a b"),
    ("newline", "https://qdtc.example.cn\n"),
    ("non-ASCII host", "https://青岛.example.cn"),
    ("fullwidth letter", "https://ｑdtc.example.cn"),
    ("empty", ""),
    ("scheme only", "https://"),
    ("IPv4 address", "https://1.2.3.4"),
    ("numeric top-level label", "https://lab.example.123"),
    ("top-level label starting with a digit", "https://lab.example.1cn"),
]

NON_STRINGS = [None, 5, b"https://qdtc.example.cn", ["https://qdtc.example.cn"], object()]


@pytest.mark.parametrize("value", GOOD_IDS)
def test_canonical_lab_ids_are_accepted(value: str) -> None:
    assert is_lab_id(value) is True
    assert check_lab_id(value) == value


@pytest.mark.parametrize(("why", "value"), BAD_IDS, ids=[why for why, _ in BAD_IDS])
def test_non_canonical_lab_ids_are_refused(why: str, value: str) -> None:
    assert is_lab_id(value) is False, why
    with pytest.raises(MalformedInputError, match="is not valid: use https://") as info:
        check_lab_id(value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("value", NON_STRINGS, ids=lambda v: type(v).__name__)
def test_non_strings_are_not_lab_ids(value: object) -> None:
    assert is_lab_id(value) is False
    with pytest.raises(MalformedInputError):
        check_lab_id(value)


def test_200_character_limit_is_exact() -> None:
    at_limit = "https://a.b/" + "x" * 188
    assert len(at_limit) == 200 and is_lab_id(at_limit)
    assert not is_lab_id(at_limit + "x")


def test_check_lab_id_names_what_it_checked_and_bounds_the_value() -> None:
    with pytest.raises(MalformedInputError) as info:
        check_lab_id("https://EVIL.example.cn/" + "x" * 500, "the issuer")
    text = str(info.value)
    assert text.startswith("the issuer ")
    assert "x" * 100 not in text  # the value shown is cut
    with pytest.raises(MalformedInputError) as info:
        check_lab_id("https://a.b\n✔ ACCEPT")
    assert "\n" not in str(info.value)


# -- patterns -----------------------------------------------------------------------------------


def test_pattern_parsing() -> None:
    wild = NamePattern("https://*.example.cn")
    assert (wild.wildcard, wild.host, wild.path, wild.text) == (
        True,
        "example.cn",
        "",
        "https://*.example.cn",
    )
    exact = NamePattern("https://reg.example.kz/labs/kz")
    assert (exact.wildcard, exact.host, exact.path) == (False, "reg.example.kz", "/labs/kz")
    both = NamePattern("https://*.example.ru/labs")
    assert (both.wildcard, both.host, both.path) == (True, "example.ru", "/labs")


def test_pattern_equality_and_hash_follow_the_text() -> None:
    a, b = NamePattern("https://*.example.cn"), NamePattern("https://*.example.cn")
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert a != NamePattern("https://example.cn")
    assert a != "https://*.example.cn"


@pytest.mark.parametrize(
    "text",
    [
        "https://*.cn",  # the base of a wildcard must itself have two labels
        "https://*",
        "https://*.",
        "https://a.*.example.cn",
        "https://*example.cn",
        "https://**.example.cn",
        "https://*.*.example.cn",
        "https://*.example.cn/",
        "https://*.example.cn/*",
        "https://example.cn/labs/",
        "https://*.Example.cn",
        "https://*.example.cn:443",
        "https://*.example.cn?x",
        "http://*.example.cn",
        "*.example.cn",
        "https://*.example.cn/../x",
        "https://*.example.cn/%2e",
        "",
        "https://*." + "a" * 200 + ".cn",
    ],
)
def test_bad_patterns_are_refused(text: str) -> None:
    with pytest.raises(MalformedInputError, match="pattern"):
        NamePattern(text)


def test_parse_patterns_names_the_list_and_index() -> None:
    parsed = parse_patterns(["https://*.example.cn", "https://reg.example.kz/labs"], "permittedLabIds")
    assert [p.text for p in parsed] == ["https://*.example.cn", "https://reg.example.kz/labs"]
    assert parse_patterns([], "permittedLabIds") == ()
    with pytest.raises(MalformedInputError, match=r"^permittedLabIds\[1\]: "):
        parse_patterns(["https://*.example.cn", "https://*.cn"], "permittedLabIds")
    with pytest.raises(MalformedInputError, match=r"^permittedLabIds\[0\] must be a string"):
        parse_patterns([5], "permittedLabIds")


# -- matches ------------------------------------------------------------------------------------

MATCHES = [
    # wildcard: proper subdomains only, at any depth, never the base host
    ("https://*.example.cn", "https://qdtc.example.cn", True),
    ("https://*.example.cn", "https://a.b.example.cn", True),
    ("https://*.example.cn", "https://qdtc.example.cn/labs/x", True),
    ("https://*.example.cn", "https://example.cn", False),
    ("https://*.example.cn", "https://badexample.cn", False),
    ("https://*.example.cn", "https://qdtc.example.cn.evil.kz", False),
    ("https://*.example.cn", "https://qdtc.example.kz", False),
    # exact host
    ("https://example.cn", "https://example.cn", True),
    ("https://example.cn", "https://example.cn/any/path", True),
    ("https://example.cn", "https://qdtc.example.cn", False),
    # path prefix on a segment boundary
    ("https://reg.example.kz/labs", "https://reg.example.kz/labs", True),
    ("https://reg.example.kz/labs", "https://reg.example.kz/labs/x", True),
    ("https://reg.example.kz/labs", "https://reg.example.kz/labs/x/y", True),
    ("https://reg.example.kz/labs", "https://reg.example.kz/labs2", False),
    ("https://reg.example.kz/labs", "https://reg.example.kz/lab", False),
    ("https://reg.example.kz/labs", "https://reg.example.kz", False),
    ("https://reg.example.kz/labs", "https://reg.example.kz/other/labs", False),
    ("https://reg.example.kz/labs", "https://other.example.kz/labs/x", False),
    ("https://*.example.kz/labs", "https://a.example.kz/labs/x", True),
    ("https://*.example.kz/labs", "https://a.example.kz/labsx", False),
    ("https://*.example.kz/labs", "https://example.kz/labs/x", False),
    # non-canonical ids never match
    ("https://*.example.cn", "https://QDTC.example.cn", False),
    ("https://*.example.cn", "https://qdtc.example.cn/", False),
    ("https://*.example.cn", "https://qdtc.example.cn:443", False),
    ("https://reg.example.kz/labs", "https://reg.example.kz/labs/../x", False),
]


@pytest.mark.parametrize(("pattern", "lab_id", "expected"), MATCHES)
def test_matches(pattern: str, lab_id: str, expected: bool) -> None:
    assert NamePattern(pattern).matches(lab_id) is expected


def test_name_index_with_several_patterns_of_one_owner() -> None:
    patterns = (NamePattern("https://*.example.cn"), NamePattern("https://reg.example.kz/cn"))
    index = NameIndex([("owner", patterns)])
    assert index.owners("https://qdtc.example.cn") == ["owner"]
    assert index.owners("https://reg.example.kz/cn/l1") == ["owner"]
    assert index.owners("https://reg.example.kz/kz/l1") == []
    assert NameIndex([("owner", ())]).owners("https://qdtc.example.cn") == []


# -- overlaps -----------------------------------------------------------------------------------

OVERLAPS = [
    # exact vs wildcard
    ("https://*.example.cn", "https://qdtc.example.cn", True),
    ("https://*.example.cn", "https://a.b.example.cn", True),
    ("https://*.example.cn", "https://example.cn", False),
    ("https://*.example.cn", "https://example.kz", False),
    ("https://*.example.cn", "https://xexample.cn", False),
    # exact vs exact
    ("https://qdtc.example.cn", "https://qdtc.example.cn", True),
    ("https://qdtc.example.cn", "https://sdmt.example.cn", False),
    # nested wildcards
    ("https://*.example.cn", "https://*.example.cn", True),
    ("https://*.example.cn", "https://*.labs.example.cn", True),
    ("https://*.example.cn", "https://*.example.kz", False),
    ("https://*.example.cn", "https://*.xample.cn", False),
    ("https://*.ample.cn", "https://*.example.cn", False),
    # paths on the same host
    ("https://reg.example.kz/cn", "https://reg.example.kz/kz", False),
    ("https://reg.example.kz/labs", "https://reg.example.kz/labs2", False),
    ("https://reg.example.kz/labs", "https://reg.example.kz/labs/x", True),
    ("https://reg.example.kz", "https://reg.example.kz/labs", True),
    ("https://*.example.kz/cn", "https://*.example.kz/kz", False),
    ("https://*.example.kz/cn", "https://a.example.kz/kz", False),
    ("https://*.example.kz/cn", "https://a.example.kz/cn/x", True),
    ("https://*.example.kz", "https://reg.example.kz/cn", True),
    ("https://*.example.kz/cn", "https://example.kz/cn", False),
]


@pytest.mark.parametrize(("a", "b", "expected"), OVERLAPS)
def test_overlaps_is_symmetric(a: str, b: str, expected: bool) -> None:
    p, q = NamePattern(a), NamePattern(b)
    assert p.overlaps(q) is expected
    assert q.overlaps(p) is expected


# -- is_under -----------------------------------------------------------------------------------

UNDER = [
    ("https://qdtc.example.cn/status/revocation", "https://qdtc.example.cn", True),
    ("https://qdtc.example.cn/x", "https://qdtc.example.cn", True),
    ("https://reg.example.kz/labs/l1/status/1", "https://reg.example.kz/labs/l1", True),
    ("https://qdtc.example.cn", "https://qdtc.example.cn", False),  # the id itself is not under it
    ("https://qdtc.example.cn/", "https://qdtc.example.cn", False),
    ("https://qdtc.example.cn.evil.kz/status", "https://qdtc.example.cn", False),
    ("https://qdtc.example.cnx/status", "https://qdtc.example.cn", False),
    ("https://reg.example.kz/labs/l10/status", "https://reg.example.kz/labs/l1", False),
    ("https://sdmt.example.cn/status/revocation", "https://qdtc.example.cn", False),
    ("https://qdtc.example.cn/status/../../evil", "https://qdtc.example.cn", False),
    ("https://qdtc.example.cn/status?x=1", "https://qdtc.example.cn", False),
    ("https://qdtc.example.cn/status#f", "https://qdtc.example.cn", False),
    ("https://qdtc.example.cn/st%61tus", "https://qdtc.example.cn", False),
    ("https://QDTC.example.cn/status", "https://QDTC.example.cn", False),
]


@pytest.mark.parametrize(("url", "lab_id", "expected"), UNDER)
def test_is_under(url: str, lab_id: str, expected: bool) -> None:
    assert is_under(url, lab_id) is expected


# -- property: two patterns that match one id overlap, and overlap has a witness ----------------

LABELS = st.sampled_from(["a", "b", "cn", "example", "x-1"])
SEGMENTS = st.sampled_from(["labs", "labs2", "x", "a.b"])
HOSTS = st.lists(LABELS, min_size=2, max_size=4).map(".".join)
PATHS = st.lists(SEGMENTS, max_size=3).map(lambda segs: "".join("/" + s for s in segs))
LAB_IDS = st.builds(lambda h, p: f"https://{h}{p}", HOSTS, PATHS)
PATTERNS = st.builds(
    lambda wild, h, p: NamePattern(f"https://{'*.' if wild else ''}{h}{p}"), st.booleans(), HOSTS, PATHS
)


def _witness(p: NamePattern, q: NamePattern) -> str:
    """A lab id under both overlapping patterns: the narrower host and the longer path."""
    if not p.wildcard:
        host = p.host
    elif not q.wildcard:
        host = q.host
    else:
        host = "w." + max(p.host, q.host, key=len)
    return f"https://{host}{max(p.path, q.path, key=len)}"


@settings(max_examples=400, deadline=None, derandomize=True)
@given(LAB_IDS, PATTERNS, PATTERNS)
def test_two_patterns_matching_one_id_overlap(lab_id: str, p: NamePattern, q: NamePattern) -> None:
    assert is_lab_id(lab_id)
    if p.matches(lab_id) and q.matches(lab_id):
        assert p.overlaps(q) and q.overlaps(p)
    assert p.overlaps(q) == q.overlaps(p)
    if p.overlaps(q):
        witness = _witness(p, q)
        assert p.matches(witness) and q.matches(witness), (p, q, witness)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(LAB_IDS, PATTERNS)
def test_status_urls_of_a_lab_stay_in_its_pattern(lab_id: str, p: NamePattern) -> None:
    url = lab_id + "/status/revocation"
    assert is_under(url, lab_id)
    assert not is_under(lab_id, url)
    if p.matches(lab_id):
        assert p.matches(url)


def test_name_index_finds_every_owner_once_and_agrees_with_the_patterns() -> None:
    """The index gives exactly the owners whose patterns match, each once, in admission order."""
    owned = [
        ("cn", parse_patterns(["https://*.example.cn", "https://cnas.example.cn/labs"], "cn")),
        ("kz", parse_patterns(["https://qdtc.example.cn", "https://reg.example.kz"], "kz")),
        ("deep", parse_patterns(["https://*.a.example.cn"], "deep")),
    ]
    index = NameIndex(owned)
    for lab_id, expected in [
        ("https://qdtc.example.cn", ["cn", "kz"]),
        ("https://x.a.example.cn", ["cn", "deep"]),
        ("https://a.example.cn", ["cn"]),
        ("https://example.cn", []),
        ("https://cnas.example.cn/labs/l1", ["cn"]),
        ("https://reg.example.kz/any/path", ["kz"]),
        ("https://other.example.kz", []),
        ("https://QDTC.example.cn", []),
    ]:
        assert index.owners(lab_id) == expected, lab_id
        assert [o for o, ps in owned if any(p.matches(lab_id) for p in ps)] == expected, lab_id


@pytest.mark.parametrize(
    "url",
    [
        "https://cnas.example.cn/yilu",
        "https://cnas.example.cn",
        "http://127.0.0.1:8710",
        "http://localhost/x",
        "http://[::1]:8710/yilu",
    ],
)
def test_publication_urls_accepted(url: str) -> None:
    assert check_publication_url(url) == url


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://cnas.example.cn/yilu", "must be an https:// URL"),
        ("http://10.0.0.1/yilu", "must be an https:// URL"),
        ("cnas.example.cn", "must be an https:// URL"),
        ("ftp://cnas.example.cn", "must be an https:// URL"),
        ("https:///nohost", "must be an https:// URL"),
        ("https://cnas.example.cn/a b", "without spaces"),
        ("https://cnas.example.cn:99999/", "is not a URL"),
        ("https://x.example/" + "a" * 400, "at most 400"),
    ],
)
def test_publication_urls_refused(url: str, why: str) -> None:
    with pytest.raises(MalformedInputError, match=why):
        check_publication_url(url)
