"""Property tests (hypothesis) for the protocol parsers: times, base64url and base45, YL1
and compact JWS.

Every decoder either returns a well-formed value or raises one of Yilu's own errors
(docs/architecture.md, "Errors"); every encoding round-trips, and the canonical ones (times
as Yilu writes them, base64url, base45) give one text per value, so a changed text is
refused or means something else; a changed certificate never verifies. Runs are
derandomized so CI is deterministic.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import event, example, given
from hypothesis import strategies as st

from propkit import char_mutations, fast
from protocol import yl1
from protocol.encoding import (
    B45_ALPHABET,
    b45_decode,
    b45_encode,
    b64url_decode,
    b64url_encode,
    dumps_compact,
    format_time,
    parse_time,
)
from protocol.errors import InputError, InputTooLargeError, MalformedInputError, SignatureError
from protocol.jws import ParsedJWS, assemble_compact, parse_compact, verify_with_any
from protocol.keys import VerifyKey
from testkit import NOW, World
from verifier import Verifier, load_bundle

B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
FORMAT_TIME_SHAPE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z", re.ASCII)


@st.composite
def byte_mutations(draw: st.DrawFn, data: bytes, max_ops: int = 4) -> bytes:
    """``data`` with bit flips, byte changes, insertions, deletions, truncation or extension.

    Positions favour the start (version byte, varint) and the end (signature) as well
    as anywhere in between (the DEFLATE stream).
    """
    buf = bytearray(data)
    for _ in range(draw(st.integers(1, max_ops))):
        n = len(buf)
        op = draw(st.sampled_from(("flip", "set", "ins", "del", "truncate", "extend")))
        if op == "extend" or n == 0:
            buf += draw(st.binary(min_size=1, max_size=80))
            continue
        pos = draw(
            st.one_of(
                st.integers(0, min(4, n - 1)), st.integers(0, n - 1), st.integers(max(0, n - 70), n - 1)
            )
        )
        if op == "flip":
            buf[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "set":
            buf[pos] = draw(st.integers(0, 255))
        elif op == "ins":
            buf[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        elif op == "del":
            del buf[pos : pos + draw(st.integers(1, 8))]
        else:
            del buf[pos:]
    return bytes(buf)


# ------------------------------------------------------------------ 1. time parsing


RFC3339_SHAPE = r"\A\d{4}-\d{2}-\d{2}([Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2}))?\Z"


def assert_aware_utc(value: object) -> None:
    assert isinstance(value, datetime)
    assert value.tzinfo is not None
    assert value.utcoffset() == timedelta(0)


@given(
    st.one_of(
        st.text(),
        st.text(alphabet="0123456789-:.+TtZz ", max_size=40),
        # The shape parse_time's own pattern admits, with ASCII digits and with any
        # Unicode digit for \d (which that pattern must refuse).
        st.from_regex(RFC3339_SHAPE.replace(r"\d", "[0-9]")),
        st.from_regex(RFC3339_SHAPE),
        st.none(),
        st.integers(),
        st.floats(),
    )
)
@fast(600)
def test_parse_time_on_arbitrary_input_returns_utc_or_raises_malformed(value: object) -> None:
    try:
        parsed = parse_time(value, "t")
    except MalformedInputError:
        event("refused")
        return
    event("parsed")
    assert_aware_utc(parsed)


#: ``expected`` for inputs whose outcome the property leaves open (leap second 60).
EITHER = object()


@dataclass(frozen=True)
class TimeCase:
    text: str
    #: the UTC instant it denotes, None if it must be refused, EITHER if both are fine
    expected: Any


def _expected_instant(
    y: int, mo: int, d: int, h: int, mi: int, s: int, us: int, offset_minutes: int
) -> datetime | None:
    """What an RFC 3339 date-time denotes, computed independently of parse_time."""
    if h > 23:  # RFC 3339 time-hour is 00-23
        return None
    try:
        local = datetime(y, mo, d, h, mi, s, us)
    except ValueError:  # 02-30, month 13, year 0, ...
        return None
    try:
        utc = local - timedelta(minutes=offset_minutes)
    except OverflowError:  # pushed before 0001-01-01 or after 9999-12-31
        return None
    return in_range(utc.replace(tzinfo=UTC))


#: The instants Yilu accepts (docs/formats.md, "Conventions"), written out here rather than
#: imported, so that a change of the documented range fails this test.
FIRST = datetime(1, 1, 2, tzinfo=UTC)
LAST = datetime(9999, 12, 30, 23, 59, 59, tzinfo=UTC)


def in_range(instant: datetime) -> datetime | None:
    """``instant`` if Yilu accepts it; outside the range it must be refused."""
    return instant if FIRST <= instant <= LAST else None


@st.composite
def rfc3339_cases(draw: st.DrawFn, years: st.SearchStrategy[int]) -> TimeCase:
    y = draw(years)
    if draw(st.integers(0, 3)) == 0:  # the first and last day of a year, where offsets can overflow
        mo, d = draw(st.sampled_from(((1, 1), (12, 31))))
    else:
        mo = draw(st.integers(0, 13))  # 00 and 13 are invalid
        d = draw(st.integers(0, 32))  # so are day 00, 32 and e.g. 02-30
    date = f"{y:04d}-{mo:02d}-{d:02d}"
    if draw(st.integers(0, 5)) == 0:  # a bare date: midnight UTC
        try:
            return TimeCase(date, in_range(datetime(y, mo, d, tzinfo=UTC)))
        except ValueError:
            return TimeCase(date, None)
    h = draw(st.integers(0, 24))
    mi = draw(st.integers(0, 59))
    s = draw(st.integers(0, 60))
    frac = draw(st.text(alphabet="0123456789", min_size=1, max_size=9) | st.just(""))
    sep = draw(st.sampled_from("Tt"))
    zone = draw(st.sampled_from(("Z", "z", "numeric", "numeric")))
    if zone == "numeric":
        sign = draw(st.sampled_from("+-"))
        magnitude = draw(st.integers(0, 23 * 60 + 59) | st.sampled_from((0, 1, 23 * 60 + 59)))
        zone = f"{sign}{magnitude // 60:02d}:{magnitude % 60:02d}"
        offset = magnitude if sign == "+" else -magnitude
    else:
        offset = 0
    text = f"{date}{sep}{h:02d}:{mi:02d}:{s:02d}{'.' + frac if frac else ''}{zone}"
    us = int(frac[:6].ljust(6, "0")) if frac else 0
    if s == 60:  # RFC 3339 allows a leap second; refusing it is acceptable too
        return TimeCase(text, EITHER)
    return TimeCase(text, _expected_instant(y, mo, d, h, mi, s, us, offset))


def check_time_case(case: TimeCase) -> None:
    """Returns the right UTC instant, or raises MalformedInputError; nothing else escapes."""
    try:
        parsed = parse_time(case.text, "t")
    except MalformedInputError:
        event("refused")
        assert not isinstance(case.expected, datetime), f"{case.text!r} is valid: {case.expected}"
        return
    event("parsed")
    assert_aware_utc(parsed)
    assert case.expected is not None, f"{case.text!r} must be refused, got {parsed}"
    if isinstance(case.expected, datetime):
        # 7-9 fraction digits: truncating or rounding to microseconds are both fine.
        assert abs(parsed - case.expected) <= timedelta(microseconds=1), (case.text, parsed)


ALL_YEARS = st.integers(0, 9999) | st.sampled_from((0, 1, 9999))


@given(rfc3339_cases(ALL_YEARS))
@example(TimeCase("9999-12-31T23:59:59-05:00", None))
@example(TimeCase("0001-01-01T00:00:00+00:01", None))
@fast(1500)
def test_parse_time_rfc3339_over_the_whole_range(case: TimeCase) -> None:
    check_time_case(case)


def whole_seconds_utc() -> st.SearchStrategy[datetime]:
    """Instants of the supported range with whole seconds, its two ends included."""
    return st.datetimes(
        min_value=FIRST.replace(tzinfo=None), max_value=LAST.replace(tzinfo=None), timezones=st.just(UTC)
    ).map(lambda t: t.replace(microsecond=0)) | st.sampled_from((FIRST, LAST))


@given(whole_seconds_utc())
@example(datetime(999, 12, 31, 23, 59, 59, tzinfo=UTC))
@fast(800)
def test_format_time_round_trips_over_the_whole_range(t: datetime) -> None:
    text = format_time(t)
    assert FORMAT_TIME_SHAPE.fullmatch(text), text  # four-digit year, always
    assert parse_time(text, "t") == t


@st.composite
def aware_datetimes(draw: st.DrawFn) -> datetime:
    """Any instant of the supported range, to the microsecond, in any whole-minute UTC offset
    (RFC 3339 offsets are whole minutes), with leap days and the last second of a day likely."""
    instant = draw(
        st.datetimes(FIRST.replace(tzinfo=None), LAST.replace(tzinfo=None), timezones=st.just(UTC))
        | st.sampled_from((FIRST, LAST))
        | st.builds(
            lambda y, us: datetime(y, 2, 29, 23, 59, 59, us, tzinfo=UTC),
            st.sampled_from((4, 400, 1600, 2000, 2024, 2028, 9996)),
            st.sampled_from((0, 999_999)),
        ),
        label="instant",
    )
    offset = timedelta(minutes=draw(st.integers(-(24 * 60 - 1), 24 * 60 - 1) | st.just(0), label="offset"))
    return instant.astimezone(timezone(offset))


@given(aware_datetimes())
@example(datetime(2024, 2, 29, 23, 59, 59, 999_999, tzinfo=timezone(timedelta(hours=14))))
@example(datetime(9999, 12, 31, 0, 59, 59, tzinfo=timezone(timedelta(hours=1))))  # LAST
@example(datetime(1, 1, 1, 23, 0, tzinfo=timezone(timedelta(hours=-1))))  # FIRST
@fast(200)
def test_format_time_round_trips_any_aware_datetime_to_the_second(t: datetime) -> None:
    """format_time writes whole seconds in UTC: reading it back gives the instant less its
    fraction (docs/formats.md, "Conventions"), whatever the offset it was given in."""
    text = format_time(t)
    assert FORMAT_TIME_SHAPE.fullmatch(text), text
    expected = t.astimezone(UTC).replace(microsecond=0)
    event("leap day" if (expected.month, expected.day) == (2, 29) else "other day")
    assert parse_time(text, "t") == expected
    assert format_time(expected) == text


JUST_OUTSIDE = (FIRST - timedelta(seconds=1), LAST + timedelta(seconds=1))


@given(st.datetimes(timezones=st.just(UTC)) | st.sampled_from(JUST_OUTSIDE))
@fast(100)
def test_format_time_outside_the_range_is_refused_when_read(t: datetime) -> None:
    """A time outside the supported range can be written, never read back."""
    text = format_time(t)
    if in_range(t) is not None:
        event("in range")
        assert parse_time(text, "t") == t.replace(microsecond=0)
        return
    event("out of range")
    with pytest.raises(MalformedInputError):
        parse_time(text, "t")


TIME_CHARS = "0123456789-:.+TtZz "


@given(
    st.one_of(
        rfc3339_cases(ALL_YEARS).map(lambda c: c.text),
        whole_seconds_utc().map(format_time),
        whole_seconds_utc().map(format_time).flatmap(lambda t: char_mutations(t, TIME_CHARS)),
        st.text(alphabet=TIME_CHARS, max_size=30),
    )
)
@example("2024-02-29T23:59:59.999999999+14:00")
@example("2026-11-27t09:00:00z")
@example("2026-11-27")
@fast(300)
def test_any_time_that_parses_reformats_canonically(text: str) -> None:
    """Whatever form a time is read in, format_time writes it in the one canonical form,
    which reads back as the same whole second, and a canonical text is its own form."""
    try:
        parsed = parse_time(text, "t")
    except MalformedInputError:
        event("refused")
        return
    canonical = format_time(parsed)
    event("canonical" if canonical == text else "another form")
    assert parse_time(canonical, "t") == parsed.replace(microsecond=0)
    assert format_time(parse_time(canonical, "t")) == canonical
    if FORMAT_TIME_SHAPE.fullmatch(text):
        assert canonical == text


@given(whole_seconds_utc(), st.data())
@fast(200)
def test_a_changed_canonical_time_is_refused_or_names_another_instant(
    t: datetime, data: st.DataObject
) -> None:
    """Two canonical texts never name the same instant: a change of a time Yilu wrote is
    refused or read as another instant, unless it only changed the form (``t``, ``z``,
    ``+00:00``, a fraction of zeros), which says the same thing."""
    text = format_time(t)
    if data.draw(st.booleans(), label="one digit"):
        pos = data.draw(st.sampled_from([i for i, c in enumerate(text) if c.isdigit()]), label="position")
        mutated = text[:pos] + data.draw(st.sampled_from("0123456789"), label="digit") + text[pos + 1 :]
    else:
        mutated = data.draw(char_mutations(text, TIME_CHARS), label="mutated")
    try:
        parsed = parse_time(mutated, "t")
    except MalformedInputError:
        event("refused")
        return
    if parsed == t:
        event("same instant, another form" if mutated != text else "unchanged")
        assert mutated == text or not FORMAT_TIME_SHAPE.fullmatch(mutated), mutated
    else:
        event("another instant")


# ------------------------------------------------------------------ 1b. byte encodings


@given(st.binary(max_size=300), st.data())
@fast(200)
def test_b64url_round_trips_and_any_changed_character_changes_the_bytes(
    data: bytes, draw: st.DataObject
) -> None:
    text = b64url_encode(data)
    assert b64url_decode(text) == data == b64url_decode(text.encode("ascii"))
    if not text:
        return
    pos = draw.draw(st.integers(0, len(text) - 1), label="position")
    char = draw.draw(st.sampled_from(B64URL + "=+/ .").filter(lambda c: c != text[pos]), label="char")
    try:
        changed = b64url_decode(text[:pos] + char + text[pos + 1 :])
    except MalformedInputError:
        event("refused")
        return
    event("other bytes")
    assert changed != data


@given(
    st.text(alphabet=B64URL + "=+/.", max_size=60)
    | st.text(max_size=20)
    | st.binary(max_size=40)
    | st.binary(max_size=40).map(b64url_encode).flatmap(lambda t: char_mutations(t, B64URL, max_ops=1))
)
@fast(250)
def test_b64url_decode_is_canonical(text: str | bytes) -> None:
    """One byte string, one text: what decodes is exactly what encoding its bytes gives."""
    try:
        data = b64url_decode(text)
    except MalformedInputError:
        event("refused")
        return
    event("decoded")
    assert b64url_encode(data) == (text if isinstance(text, str) else text.decode("ascii"))


@given(
    st.binary(max_size=3200)
    | st.binary(min_size=2, max_size=80).map(lambda b: b * 40)
    | st.sampled_from((b"", b"\x00", b"\xff", b"\xff\xff", b"\xff" * 3001))
)
@fast(120)
def test_b45_round_trips_up_to_the_largest_code(data: bytes) -> None:
    """Up to 3,200 bytes, more than the largest code a verifier reads (4,296 characters):
    the fast lane path (all triples as one big integer) for any number of lanes."""
    event("odd length" if len(data) % 2 else "even length")
    text = b45_encode(data)
    assert len(text) == 3 * (len(data) // 2) + 2 * (len(data) % 2)
    assert b45_decode(text) == data


@given(st.text(alphabet=B45_ALPHABET, max_size=4500) | st.text(alphabet=B45_ALPHABET + "a:é", max_size=60))
@example("FGW")  # 65535, the largest triple
@example("GGW")  # 65536
@example("U4")  # 255, the largest final pair
@example("FGW" * 1500)
@fast(200)
def test_b45_decode_is_canonical(text: str) -> None:
    """Base45 is a bijection: any text that decodes is exactly the encoding of its bytes,
    so a changed character never decodes to the same bytes."""
    try:
        data = b45_decode(text)
    except MalformedInputError:
        event("refused")
        return
    event("decoded")
    assert b45_encode(data) == text


# ------------------------------------------------------------------ shared federation


@dataclass(frozen=True)
class Env:
    world: World
    tokens: dict[str, str]  # lab name -> compact VC-JWT
    keys: dict[str, VerifyKey]  # lab name -> its public key
    token: str  # the cn-food certificate
    text: str  # its YL1 text
    raw: bytes  # the base45-decoded YL1 bytes
    verifier: Verifier


@pytest.fixture(scope="module")
def env() -> Env:
    """One World per module: key generation and signing are the slow part."""
    world = World()
    tokens = {lab: world.issue(lab) for lab in ("cn-food", "cn-metals")}
    keys = {lab: world.labs[lab].key.public for lab in tokens}
    token = tokens["cn-food"]
    text = yl1.encode(token)
    snapshot = load_bundle(world.bundle(), pinned_roots=[world.root.public])
    return Env(world, tokens, keys, token, text, b45_decode(text[4:]), Verifier(snapshot, country="CN"))


def test_baseline_the_genuine_certificate_is_accepted(env: Env) -> None:
    """Without this, 'never accepted unless unchanged' below could pass vacuously."""
    assert yl1.decode(env.text) == env.token
    assert env.verifier.verify(env.text, at=NOW).accepted
    assert env.verifier.verify(env.token, at=NOW).accepted
    for lab, token in env.tokens.items():
        verify_with_any(parse_compact(token), [env.keys[lab]])


# ------------------------------------------------------------------ 2. YL1 decoding


def check_yl1(env: Env, text: str) -> None:
    """decode returns a str or raises an InputError; only the original ever verifies."""
    refused: InputError | None = None
    try:
        decoded = yl1.decode(text)
    except InputError as exc:
        event(f"decode refused: {type(exc).__name__}")
        decoded, refused = None, exc
    else:
        event("decoded" + (" (unchanged)" if decoded == env.token else ""))
        assert isinstance(decoded, str)
        result = env.verifier.verify(decoded, at=NOW)  # must not raise
        assert result.reasons
        assert not result.accepted or decoded == env.token, (text, decoded)
    result = env.verifier.verify(text, at=NOW)  # the verifier's own path, must not raise
    assert result.reasons
    assert not result.accepted or decoded == env.token, text
    if refused is not None and text.startswith(yl1.PREFIX) and text == text.strip():
        # YL1 text that does not decode is one reason, the decoder's, however it is broken.
        assert result.codes == (refused.code,), (text, refused)


@given(st.one_of(st.text(), st.text().map(lambda t: yl1.PREFIX + t)))
@fast(300)
def test_yl1_decode_arbitrary_text(env: Env, text: str) -> None:
    check_yl1(env, text)


@given(st.text(alphabet=B45_ALPHABET, max_size=400))
@fast(400)
def test_yl1_decode_arbitrary_base45(env: Env, body: str) -> None:
    check_yl1(env, yl1.PREFIX + body)


@given(st.data())
@fast(500)
def test_yl1_decode_mutated_text(env: Env, data: st.DataObject) -> None:
    mutated = data.draw(char_mutations(env.text, B45_ALPHABET + "abcxyz_-.="), label="mutated")
    check_yl1(env, mutated)


@given(st.data())
@fast(500)
def test_yl1_decode_mutated_bytes(env: Env, data: st.DataObject) -> None:
    raw = data.draw(byte_mutations(env.raw), label="raw")
    check_yl1(env, yl1.PREFIX + b45_encode(raw))


def yl1_parts() -> st.SearchStrategy[tuple[bytes, bytes, bytes]]:
    """(header, payload, signature) of any JWS-like shape: JSON or any bytes, repetitive
    payloads that compress far, and signatures of 64 bytes or of another length."""
    header = st.just(b'{"alg":"EdDSA","kid":"k","typ":"vc+jwt"}') | st.binary(max_size=60)
    payload = (
        st.binary(max_size=1500)
        | st.dictionaries(st.text(max_size=8), st.text(max_size=40), max_size=8).map(dumps_compact)
        | st.tuples(st.binary(min_size=1, max_size=9), st.integers(1, 9000)).map(lambda p: p[0] * p[1])
    )
    signature = st.binary(min_size=64, max_size=64) | st.binary(max_size=70)
    return st.tuples(header, payload, signature)


@given(yl1_parts())
@example((b"{}", b"a" * 70_000, bytes(64)))  # 235 characters that every decoder refused
@example((b"{}", b"a" * (yl1.MAX_INFLATED - 2), bytes(64)))  # the largest that fits
@example((b"", b"{}", bytes(64)))
@example((b"{}", b"", bytes(64)))
@example((b"{}", b"{}", bytes(63)))
@fast(200)
def test_yl1_round_trips_any_jws_it_accepts(parts: tuple[bytes, bytes, bytes]) -> None:
    """encode refuses exactly what decode would refuse (docs/formats.md, "YL1 envelope");
    what it accepts decodes to the same JWS byte for byte, unless the text is longer than
    any QR code holds (which the issuer refuses first: MAX_ISSUED_CHARS)."""
    header, payload, signature = parts
    token = assemble_compact(header, payload, signature)
    sized = len(header) > 0 and len(payload) > 0 and len(header + payload) <= yl1.MAX_INFLATED
    decodable = sized and len(signature) == yl1.SIGNATURE_BYTES
    try:
        text = yl1.encode(token)
    except InputError as exc:
        event(f"encode refused: {type(exc).__name__}")
        refused = True
    else:
        refused = False
    assert refused is not decodable, token[:80]
    if refused:
        return
    assert text.startswith(yl1.PREFIX) and set(text[4:]) <= set(B45_ALPHABET)
    if len(text) > yl1.MAX_TEXT_CHARS:
        event("longer than any QR code")
        with pytest.raises(InputTooLargeError):
            yl1.decode(text)
        return
    event("round trip")
    assert yl1.decode(text) == token
    assert yl1.decode_parts(text) == parts


@given(st.data())
@fast(200)
def test_yl1_one_changed_character_never_verifies_as_another_certificate(
    env: Env, data: st.DataObject
) -> None:
    """One character of the genuine code replaced by another of the alphabet: refused with
    a Yilu error, or decoded to another JWS that does not verify, or (YL1 text is not
    canonical, docs/formats.md: a padding bit of the last DEFLATE byte) to the very same JWS."""
    pos = data.draw(st.integers(len(yl1.PREFIX), len(env.text) - 1), label="position")
    char = data.draw(st.sampled_from(B45_ALPHABET).filter(lambda c: c != env.text[pos]), label="char")
    mutated = env.text[:pos] + char + env.text[pos + 1 :]
    with contextlib.suppress(MalformedInputError):  # a triple or final pair out of range
        assert b45_decode(mutated[4:]) != env.raw  # base45 itself is canonical
    check_yl1(env, mutated)


def test_yl1_text_is_not_canonical_but_the_jws_is() -> None:
    """The documented exception above, pinned: the bits after the end of the last DEFLATE
    block are not read, so setting them changes the text and not the JWS."""
    token = assemble_compact(b'{"alg":"EdDSA"}', b'{"a":1}', bytes(range(64)))
    raw = bytearray(b45_decode(yl1.encode(token)[4:]))
    last = len(raw) - yl1.SIGNATURE_BYTES - 1  # the last byte of the DEFLATE stream
    variants = {bit: yl1.PREFIX + b45_encode(set_bit(raw, last, bit)) for bit in range(8)}
    padded = [bit for bit, text in variants.items() if decodes_to(text) == token]
    assert padded and len(padded) < 8  # some bits of that byte are padding, not all
    assert variants[padded[-1]] != yl1.encode(token)


def decodes_to(text: str) -> str | None:
    try:
        return yl1.decode(text)
    except InputError:
        return None


def set_bit(raw: bytearray, pos: int, bit: int) -> bytes:
    out = bytearray(raw)
    out[pos] ^= 1 << bit
    return bytes(out)


# ------------------------------------------------------------------ 3. compact JWS


def check_compact(env: Env, lab: str, token: str) -> None:
    """parse_compact raises only InputErrors; a changed token that parses never verifies."""
    try:
        parsed: ParsedJWS = parse_compact(token)
    except InputError as exc:
        event(f"parse refused: {type(exc).__name__}")
        return
    event("parsed" + (" (unchanged)" if token == env.tokens[lab] else ""))
    assert parsed.compact == token
    if token == env.tokens[lab]:
        verify_with_any(parsed, [env.keys[lab]])
        return
    with pytest.raises(SignatureError):
        verify_with_any(parsed, [env.keys[lab]])


JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20))
#: Three canonical base64url parts whose header is a JSON object close to a real one, so
#: that the alg allow-list, crit, kid and typ checks are reached.
RANDOM_TOKENS = st.tuples(
    st.fixed_dictionaries(
        {"alg": st.sampled_from(("EdDSA", "ES256", "none", "HS256", "RS256")) | JSON_SCALARS},
        optional={"kid": JSON_SCALARS, "typ": st.just("vc+jwt") | JSON_SCALARS, "crit": JSON_SCALARS},
    ).map(dumps_compact)
    | st.binary(max_size=40),
    st.binary(max_size=60),
    st.binary(max_size=70),
).map(lambda parts: ".".join(b64url_encode(p) for p in parts))


@given(st.one_of(st.text(), st.text(alphabet=B64URL + ".", max_size=300), RANDOM_TOKENS))
@fast(400)
def test_parse_compact_arbitrary_text(env: Env, token: str) -> None:
    check_compact(env, "cn-food", token)


@given(st.sampled_from(("cn-food", "cn-metals")), st.data())
@fast(400)
def test_parse_compact_mutated_text(env: Env, lab: str, data: st.DataObject) -> None:
    mutated = data.draw(char_mutations(env.tokens[lab], B64URL + ".="), label="mutated")
    check_compact(env, lab, mutated)


@given(st.sampled_from(("cn-food", "cn-metals")), st.sampled_from((0, 1, 2)), st.data())
@fast(400)
def test_parse_compact_mutated_parts(env: Env, lab: str, part: int, data: st.DataObject) -> None:
    """Mutate the decoded header, payload or signature bytes and re-encode canonically,
    so that most results still parse and reach the signature check."""
    parts = [b64url_decode(p) for p in env.tokens[lab].split(".")]
    parts[part] = data.draw(byte_mutations(parts[part]), label="part")
    check_compact(env, lab, assemble_compact(*parts))
