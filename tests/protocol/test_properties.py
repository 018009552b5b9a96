"""Property tests (hypothesis) for the protocol parsers: times, YL1 and compact JWS.

Every decoder either returns a well-formed value or raises one of Yilu's own errors
(docs/architecture.md, "Errors"); a changed certificate never verifies. Runs are
derandomized so CI is deterministic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
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
from protocol.errors import InputError, MalformedInputError, SignatureError
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
