"""Exact decisions of protocol/encoding.py: the documented time range at its very ends, and
the bounded parse cache (issue 8, mutation testing; docs/testing.md)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from protocol import encoding as enc
from protocol.encoding import parse_time
from protocol.errors import MalformedInputError

# -- the time range: 0001-01-02T00:00:00Z to 9999-12-30T23:59:59Z (docs/formats.md, "Conventions")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0001-01-02T00:00:00Z", datetime(1, 1, 2, tzinfo=UTC)),
        ("0001-01-02", datetime(1, 1, 2, tzinfo=UTC)),
        ("0001-01-02T01:00:00+01:00", datetime(1, 1, 2, tzinfo=UTC)),
        ("9999-12-30T23:59:59Z", datetime(9999, 12, 30, 23, 59, 59, tzinfo=UTC)),
        ("9999-12-30T23:59:59.000000000Z", datetime(9999, 12, 30, 23, 59, 59, tzinfo=UTC)),
        ("9999-12-31T00:59:59+01:00", datetime(9999, 12, 30, 23, 59, 59, tzinfo=UTC)),
    ],
)
def test_the_first_and_last_supported_instants_are_read(text: str, expected: datetime) -> None:
    enc._PARSED_TIMES.clear()
    assert parse_time(text, "t") == expected
    assert parse_time(text, "t") == expected  # answered from the cache: the same


@pytest.mark.parametrize(
    "text",
    [
        "0001-01-01T23:59:59Z",
        "0001-01-01",
        "0001-01-02T00:00:00+00:01",
        "9999-12-31T00:00:00Z",
        "9999-12-31",
        "9999-12-30T23:59:59-00:01",
        "9999-12-30T23:59:59.000001Z",  # the range ends at a whole second
    ],
)
def test_one_second_outside_the_supported_range_is_malformed(text: str) -> None:
    enc._PARSED_TIMES.clear()
    for _ in range(2):  # errors are never cached
        with pytest.raises(MalformedInputError, match="outside the supported range"):
            parse_time(text, "t")


def test_the_range_constants_are_the_documented_ones() -> None:
    assert datetime(1, 1, 2, tzinfo=UTC) == enc.MIN_TIME
    assert datetime(9999, 12, 30, 23, 59, 59, tzinfo=UTC) == enc.MAX_TIME


# -- the parse cache stays bounded (docs/formats.md, "Conventions", parse caches) ----------------


def test_the_time_cache_never_holds_more_than_1024_texts() -> None:
    enc._PARSED_TIMES.clear()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(1100):
        text = enc.format_time(start + timedelta(seconds=i))
        assert parse_time(text, "t") == start + timedelta(seconds=i)
        assert len(enc._PARSED_TIMES) <= 1024
    assert enc._PARSED_TIMES_SIZE == 1024


# -- the fast path answers exactly the form Yilu writes, and nothing else --------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-27T09:00:00Z", datetime(2026, 11, 27, 9, tzinfo=UTC)),
        ("0001-01-02T00:00:00Z", datetime(1, 1, 2, tzinfo=UTC)),
        ("9999-12-30T23:59:59Z", datetime(9999, 12, 30, 23, 59, 59, tzinfo=UTC)),
        ("2024-02-29T23:59:59Z", datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC)),
    ],
)
def test_the_z_form_takes_the_fast_path(text: str, expected: datetime) -> None:
    fast = enc._parse_utc_z(text)
    assert fast == expected and fast is not None and fast.tzinfo is UTC


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-27t09:00:00Z",
        "2026-11-27T09:00:00z",
        "2026-11-27T09:00:00+00:00",
        "2026-11-27T09:00:00.0Z",
        "2026-11-27",
        "2026-11-27T09:00:00Z\n",
        "2023-02-29T00:00:00Z",
        "0001-01-01T23:59:59Z",
        "9999-12-31T00:00:00Z",
    ],
)
def test_every_other_text_is_left_to_the_general_path(text: str) -> None:
    assert enc._parse_utc_z(text) is None


# -- base64url refusals say what is wrong (the detail of a MALFORMED reason) ----------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("e30!", "not canonical unpadded base64url"),  # a foreign character, length 4
        ("e3+0", "not canonical unpadded base64url"),  # the standard alphabet's '+'
        ("e3/0", "not canonical unpadded base64url"),
        ("e30=", "not canonical unpadded base64url"),  # padding
        ("e 30", "not canonical unpadded base64url"),
        ("é30", "not canonical unpadded base64url"),
        ("AAAAA", "not canonical unpadded base64url"),  # impossible length
        ("e31", "not canonical base64url (non-zero padding bits)"),
        ("AB", "not canonical base64url (non-zero padding bits)"),
    ],
)
def test_b64url_refusals_name_their_cause(text: str, message: str) -> None:
    with pytest.raises(MalformedInputError) as info:
        enc.b64url_decode(text)
    assert str(info.value) == message
    with pytest.raises(MalformedInputError) as as_bytes:
        enc.b64url_decode(text.encode("utf-8"))
    assert str(as_bytes.value) == message


@pytest.mark.parametrize("text", ["2026-11-27T09:00:00Z", "2026-11-27T10:00:00+01:00", "2026-11-27"])
def test_a_time_text_parsed_once_is_answered_from_the_cache(text: str) -> None:
    """docs/formats.md, "Conventions", parse caches: the same text gives the very same object."""
    enc._PARSED_TIMES.clear()
    first = parse_time(text, "t")
    assert {text: first} == enc._PARSED_TIMES
    assert parse_time(text, "t") is first
    assert first == datetime(2026, 11, 27, 9 if "T" in text else 0, tzinfo=UTC)


def test_a_bare_date_is_midnight_utc_whatever_the_machines_time_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Asia/Almaty")
    time.tzset()
    try:
        enc._PARSED_TIMES.clear()
        assert parse_time("2027-05-20", "t") == datetime(2027, 5, 20, tzinfo=UTC)
        assert enc._parse_time_general("2027-05-20", "t") == datetime(2027, 5, 20, tzinfo=UTC)
    finally:
        monkeypatch.undo()
        time.tzset()


# -- shift saturates at the ends of the calendar (docs/formats.md, "Conventions", time range) ------


def test_shift_adds_and_saturates_at_the_ends_of_the_calendar() -> None:
    t = datetime(2026, 11, 27, 9, tzinfo=UTC)
    assert enc.shift(t, timedelta(hours=1)) == datetime(2026, 11, 27, 10, tzinfo=UTC)
    assert enc.shift(t, timedelta(hours=-1)) == datetime(2026, 11, 27, 8, tzinfo=UTC)
    late, early = datetime(9999, 12, 31, 23, 30, tzinfo=UTC), datetime(1, 1, 1, 0, 30, tzinfo=UTC)
    assert enc.shift(late, timedelta(hours=1)) == datetime.max.replace(tzinfo=UTC)
    assert enc.shift(late, timedelta(days=3650)) == datetime.max.replace(tzinfo=UTC)
    assert enc.shift(early, timedelta(hours=-1)) == datetime.min.replace(tzinfo=UTC)
    assert enc.shift(late, timedelta(0)) == late
