"""Strict base64url, base45 (RFC 9285), compact JSON and RFC 3339 times."""

from __future__ import annotations

import base64
import json
import random
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given as _given
from hypothesis import strategies as _st

from propkit import fast as _fast
from protocol import encoding as _enc
from protocol.encoding import (
    B45_ALPHABET,
    b45_decode,
    b45_encode,
    b64url_decode,
    b64url_encode,
    dumps_compact,
    format_time,
    loads_json_object,
    parse_time,
)
from protocol.errors import MalformedInputError

# ---------------------------------------------------------------- base64url


@pytest.mark.parametrize(
    "data",
    [b"", b"\x00", b"\xff", b"ab", b"abc", b"\xfb\xff\xfe", bytes(range(256)), "崂山绿茶".encode()],
)
def test_b64url_round_trip(data: bytes) -> None:
    text = b64url_encode(data)
    assert "=" not in text
    assert set(text) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert b64url_decode(text) == data
    assert b64url_decode(text.encode("ascii")) == data


def test_b64url_matches_the_standard_library_alphabet() -> None:
    # 0xfb 0xff uses both '-' and '_' in base64url where base64 uses '+' and '/'.
    assert b64url_encode(b"\xfb\xff\xbf") == "-_-_"
    assert base64.b64encode(b"\xfb\xff\xbf") == b"+/+/"
    assert b64url_decode("-_-_") == b"\xfb\xff\xbf"


def test_b64url_round_trip_random_lengths() -> None:
    rng = random.Random(7515)
    for length in range(70):
        data = rng.randbytes(length)
        assert b64url_decode(b64url_encode(data)) == data


@pytest.mark.parametrize("padded", ["YQ==", "YWI=", "YQ=", "YQ", "YWI"])
def test_b64url_padding_rejected_but_unpadded_accepted(padded: str) -> None:
    if "=" in padded:
        with pytest.raises(MalformedInputError):
            b64url_decode(padded)
    else:
        assert b64url_decode(padded) in (b"a", b"ab")


@pytest.mark.parametrize(
    ("canonical", "variant"),
    [
        ("YQ", "YR"),  # 'a': 4 unused bits; R sets one of them
        ("YQ", "YZ"),
        ("YQ", "Yf"),
        ("YWI", "YWJ"),  # 'ab': 2 unused bits
        ("YWI", "YWL"),
        ("AA", "AB"),
        ("AAA", "AAB"),
    ],
)
def test_b64url_non_zero_padding_bits_rejected(canonical: str, variant: str) -> None:
    # the lenient stdlib decoder maps both to the same bytes: only the strict one notices
    assert base64.urlsafe_b64decode(variant + "=" * (-len(variant) % 4)) == b64url_decode(canonical)
    with pytest.raises(MalformedInputError, match="padding bits"):
        b64url_decode(variant)


def test_b64url_changed_padding_bits_of_a_signature_rejected() -> None:
    sig = bytes(range(64))  # 64 bytes -> 86 chars, the last carrying 2 unused bits
    text = b64url_encode(sig)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(text[-1])
    variants = [text[:-1] + alphabet[(last & ~0b11) | low] for low in range(4)]
    assert text in variants
    for variant in variants:
        if variant == text:
            assert b64url_decode(variant) == sig
        else:
            with pytest.raises(MalformedInputError):
                b64url_decode(variant)


@pytest.mark.parametrize(
    "bad",
    ["YW+i", "YW/i", "YW i", "YW\ni", "YW.i", "YWΩi", "Y", "YWJjZ", "YWJjZGVmZ", "  ", "YQ\x00"],
)
def test_b64url_invalid_characters_and_lengths_rejected(bad: str) -> None:
    with pytest.raises(MalformedInputError):
        b64url_decode(bad)


def test_b64url_invalid_bytes_input_rejected() -> None:
    with pytest.raises(MalformedInputError):
        b64url_decode(b"YW\xffi")


# ---------------------------------------------------------------- base45 (RFC 9285)

RFC9285_VECTORS = [
    (b"AB", "BB8"),
    (b"Hello!!", "%69 VD92EX0"),
    (b"base-45", "UJCLQE7W581"),
    (b"ietf!", "QED8WEX0"),
]


@pytest.mark.parametrize(("data", "text"), RFC9285_VECTORS)
def test_b45_rfc9285_vectors(data: bytes, text: str) -> None:
    assert b45_encode(data) == text
    assert b45_decode(text) == data


def test_b45_alphabet_is_the_qr_alphanumeric_set() -> None:
    assert B45_ALPHABET == "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
    assert len(set(B45_ALPHABET)) == 45


def test_b45_round_trip_random() -> None:
    rng = random.Random(9285)
    for length in [*range(20), 255, 256, 1000]:
        data = rng.randbytes(length)
        text = b45_encode(data)
        assert len(text) == 3 * (length // 2) + 2 * (length % 2)
        assert set(text) <= set(B45_ALPHABET)
        assert b45_decode(text) == data


def test_b45_edge_values() -> None:
    assert b45_encode(b"\xff\xff") == "FGW"
    assert b45_decode("FGW") == b"\xff\xff"
    assert b45_encode(b"\x00\x00") == "000"
    assert b45_encode(b"\xff") == "U5"
    assert b45_decode("U5") == b"\xff"
    assert b45_decode("") == b""


@pytest.mark.parametrize(
    "bad",
    [
        "GGW",  # 16 + 16*45 + 32*2025 = 65536 > 0xFFFF
        ":::",  # 44 + 44*45 + 44*2025 = 91124
        "V5",  # 31 + 5*45 = 256 > 0xFF
        "::",
        "BB8GGW",
    ],
)
def test_b45_out_of_range_rejected(bad: str) -> None:
    with pytest.raises(MalformedInputError, match="out of range"):
        b45_decode(bad)


@pytest.mark.parametrize("bad", ["A", "BB8A", "QED8WEX0AB", "%69 VD92EX0AB"])
def test_b45_impossible_length_rejected(bad: str) -> None:
    with pytest.raises(MalformedInputError, match="length"):
        b45_decode(bad)


@pytest.mark.parametrize("bad", ["bb8", "BB#", "B_8", "BB8é0", "\x00\x00", "BB8\n0", "ab"])
def test_b45_invalid_characters_rejected(bad: str) -> None:
    with pytest.raises(MalformedInputError, match="alphabet"):
        b45_decode(bad)


# ---------------------------------------------------------------- JSON


def test_dumps_compact_is_compact_utf8_and_keeps_order() -> None:
    obj = {"z": 1, "a": ["崂山", "Чай"], "m": {"y": None, "b": True}}
    out = dumps_compact(obj)
    assert out == '{"z":1,"a":["崂山","Чай"],"m":{"y":null,"b":true}}'.encode()
    assert json.loads(out) == obj


def test_dumps_compact_refuses_nan() -> None:
    with pytest.raises(ValueError, match="JSON"):
        dumps_compact({"x": float("nan")})


def test_loads_json_object() -> None:
    assert loads_json_object(b'{"a":1}', "thing") == {"a": 1}
    for bad in (b"[1]", b'"s"', b"1", b"null"):
        with pytest.raises(MalformedInputError, match="thing is not a JSON object"):
            loads_json_object(bad, "thing")
    for bad in (b"{", b"\xff\xfe", b"", b"{'a':1}", b"[" * 100_000):
        with pytest.raises(MalformedInputError, match="thing"):
            loads_json_object(bad, "thing")


# ---------------------------------------------------------------- times


def test_format_time_is_utc_z_whole_seconds() -> None:
    t = datetime(2026, 11, 27, 9, 30, 15, 999_999, tzinfo=UTC)
    assert format_time(t) == "2026-11-27T09:30:15Z"


def test_format_time_normalises_offsets() -> None:
    beijing = timezone(timedelta(hours=8))
    assert format_time(datetime(2026, 11, 27, 8, 0, tzinfo=beijing)) == "2026-11-27T00:00:00Z"
    almaty = timezone(timedelta(hours=5))
    assert format_time(datetime(2027, 1, 1, 3, 0, tzinfo=almaty)) == "2026-12-31T22:00:00Z"


def test_format_time_rejects_naive() -> None:
    with pytest.raises(ValueError, match="naive"):
        format_time(datetime(2026, 11, 27, 9, 0))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-27T09:00:00Z", datetime(2026, 11, 27, 9, tzinfo=UTC)),
        ("2026-11-27T09:00:00z", datetime(2026, 11, 27, 9, tzinfo=UTC)),
        ("2026-11-27T09:00:00+00:00", datetime(2026, 11, 27, 9, tzinfo=UTC)),
        ("2026-11-27T17:00:00+08:00", datetime(2026, 11, 27, 9, tzinfo=UTC)),
        ("2026-11-27T06:00:00-03:00", datetime(2026, 11, 27, 9, tzinfo=UTC)),
        ("2026-11-27T09:00:00.5Z", datetime(2026, 11, 27, 9, 0, 0, 500_000, tzinfo=UTC)),
        ("2027-05-20", datetime(2027, 5, 20, tzinfo=UTC)),
    ],
)
def test_parse_time(text: str, expected: datetime) -> None:
    parsed = parse_time(text, "when")
    assert parsed == expected
    assert parsed.utcoffset() == timedelta(0)
    assert parsed.tzinfo is UTC


def test_parse_time_round_trips_format_time() -> None:
    t = datetime(2026, 2, 28, 23, 59, 59, tzinfo=UTC)
    assert parse_time(format_time(t), "t") == t


@pytest.mark.parametrize(
    "bad",
    ["2026-11-27T09:00:00", "2026-11-27 09:00:00", "2026-11-27T09:00"],
)
def test_parse_time_rejects_naive(bad: str) -> None:
    with pytest.raises(MalformedInputError, match="time zone"):
        parse_time(bad, "validFrom")


@pytest.mark.parametrize(
    "bad", ["", "yesterday", "2026-13-01T00:00:00Z", "2026-02-30", "2026-11-27T25:00:00Z", "Z", None, 1, []]
)
def test_parse_time_rejects_garbage_naming_the_field(bad: object) -> None:
    with pytest.raises(MalformedInputError, match="validUntil"):
        parse_time(bad, "validUntil")


@pytest.mark.parametrize("lenient", ["2027-W20-1", "20270520T000000Z", "2027-05-20T00:00Z"])
def test_parse_time_rejects_non_rfc3339_iso8601_forms(lenient: str) -> None:
    with pytest.raises(MalformedInputError):
        parse_time(lenient, "validUntil")


# -- parse_time's cache and fast path agree with the general parser ------------------------


def _general(value: str) -> datetime | str:
    try:
        return _enc._parse_time_general(value, "t")
    except MalformedInputError as exc:
        return f"error: {exc}"


def _hot(value: str) -> datetime | str:
    try:
        return _enc.parse_time(value, "t")
    except MalformedInputError as exc:
        return f"error: {exc}"


@_fast(300)
@_given(
    when=_st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)),
    offset_minutes=_st.sampled_from([0, 0, 0, 60, -300, 330, 840, -720]),
    form=_st.sampled_from(["Z", "z", "t", "+00:00", "offset", "frac"]),
)
def test_parse_time_fast_path_and_cache_agree_with_the_general_path(
    when: datetime, offset_minutes: int, form: str
) -> None:
    """Leap days, the calendar's ends, offsets, fractions: the same datetime (with the same
    tzinfo) or the same error, on a cold cache and on a warm one."""
    base = when.strftime("%m-%dT%H:%M:%S")
    base = f"{when.year:04d}-{base}"
    sign = "-" if offset_minutes < 0 else "+"
    hours, minutes = divmod(abs(offset_minutes), 60)
    text = {
        "Z": base + "Z",
        "z": base + "z",
        "t": base.replace("T", "t") + "Z",
        "+00:00": base + "+00:00",
        "offset": f"{base}{sign}{hours:02d}:{minutes:02d}",
        "frac": base + ".5Z",
    }[form]
    _enc._PARSED_TIMES.clear()
    expected = _general(text)
    assert _hot(text) == expected  # cold
    assert _hot(text) == expected  # cached
    if isinstance(expected, datetime):
        hot = _enc.parse_time(text, "t")
        assert hot.tzinfo is expected.tzinfo is UTC
    fast_value = _enc._parse_utc_z(text)
    assert fast_value is None or fast_value == expected


@pytest.mark.parametrize(
    "text",
    [
        "2024-02-29T12:00:00Z",  # leap day
        "2023-02-29T12:00:00Z",  # not a leap year
        "2100-02-29T00:00:00Z",  # not a leap year (century)
        "2000-02-29T00:00:00Z",  # leap year (400)
        "2026-11-27T23:59:60Z",  # leap second: refused, as the general path refuses it
        "2026-13-01T00:00:00Z",
        "0001-01-01T00:00:00Z",  # before MIN_TIME
        "0001-01-02T00:00:00Z",
        "9999-12-30T23:59:59Z",
        "9999-12-31T00:00:00Z",  # after MAX_TIME
        "2026-11-27T22:00:07",
        "2026-11-27T22:00:07ZZ",
        "２026-11-27T22:00:07Z",  # a non-ASCII digit
        "2026-11-27",
    ],
)
def test_parse_time_edges_agree(text: str) -> None:
    _enc._PARSED_TIMES.clear()
    expected = _general(text)
    assert _hot(text) == expected and _hot(text) == expected
