"""Byte encodings: strict base64url (RFC 7515 §2), base45 (RFC 9285), compact JSON.

Every decoder here raises :class:`MalformedInputError`; nothing lower-level leaks.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, Final

from protocol.errors import MalformedInputError

_B64URL_ALPHABET: Final = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def b64url_encode(data: bytes) -> str:
    """Unpadded base64url, as JWS uses it."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str | bytes) -> bytes:
    """Decode unpadded base64url, rejecting anything non-canonical.

    Padding, characters outside the alphabet, impossible lengths and non-zero unused
    bits are all refused, so that one byte string has exactly one encoding (DESIGN.md,
    "Facts measured": a hand-written JWS check must reject changed padding bits).
    """
    raw = text.encode("ascii", "replace") if isinstance(text, str) else bytes(text)
    # translate() deletes the alphabet in C: anything left over is a foreign character.
    if len(raw) % 4 == 1 or raw.translate(None, _B64URL_ALPHABET):
        raise MalformedInputError("not canonical unpadded base64url")
    try:
        data = base64.urlsafe_b64decode(raw + b"=" * (-len(raw) % 4))
    except (binascii.Error, ValueError) as exc:
        raise MalformedInputError("not canonical unpadded base64url") from exc
    if base64.urlsafe_b64encode(data).rstrip(b"=") != raw:
        raise MalformedInputError("not canonical base64url (non-zero padding bits)")
    return data


B45_ALPHABET: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
#: Byte -> base45 digit value; 255 for every byte outside the alphabet (one
#: ``bytes.translate`` turns a whole text into digits, at C speed).
_B45_DIGIT: Final = bytes(B45_ALPHABET.find(chr(i)) if chr(i) in B45_ALPHABET else 255 for i in range(256))
_INVALID: Final = 255


def b45_encode(data: bytes) -> str:
    """Base45 per RFC 9285: every 2 bytes become 3 characters of the QR alphanumeric set."""
    alphabet = B45_ALPHABET
    out: list[str] = []
    append = out.append
    for i in range(0, len(data) - 1, 2):
        n = (data[i] << 8) | data[i + 1]
        n, c = divmod(n, 45)
        e, d = divmod(n, 45)
        append(alphabet[c] + alphabet[d] + alphabet[e])
    if len(data) % 2:
        d, c = divmod(data[-1], 45)
        append(alphabet[c] + alphabet[d])
    return "".join(out)


@lru_cache(maxsize=64)
def _b45_lane_mask(k: int) -> int:
    """An integer with 0xFF in the low byte of each of ``k`` 24-bit lanes."""
    return int.from_bytes(b"\xff\x00\x00" * k, "little")


def _b45_triples(digits: bytes) -> bytes:
    """Big-endian 16-bit values of the whole digit triples, computed as big integers.

    The digits read as one little-endian integer are 24-bit lanes ``c + 256*d + 65536*e``;
    masks and shifts pick each lane's c, d and e, and one ``C + 45*D + 2025*E`` computes
    every value at C speed (at most 91,124: no lane overflows). A value above 65535 sets
    the third byte of its lane: MalformedInputError (DESIGN.md, "Performance budget").
    """
    k = len(digits) // 3
    whole = int.from_bytes(digits[: 3 * k], "little")
    mask = _b45_lane_mask(k)
    values = (whole & mask) + 45 * ((whole >> 8) & mask) + 2025 * ((whole >> 16) & mask)
    packed = values.to_bytes(3 * k, "little")
    if packed[2::3].count(0) != k:
        raise MalformedInputError("base45 triple out of range")
    out = bytearray(2 * k)
    out[0::2] = packed[1::3]
    out[1::2] = packed[0::3]
    return bytes(out)


def b45_decode(text: str) -> bytes:
    """Decode base45, refusing invalid characters, lengths and out-of-range triples.

    One ``translate`` to digit values and big-integer arithmetic over all triples at
    once: a certificate's 740 characters cost a few microseconds, not ~140 (DESIGN.md,
    "Performance budget"). Errors are those of a left-to-right decoder: the first
    problem wins.
    """
    if len(text) % 3 == 1:
        raise MalformedInputError("base45 text has an impossible length")
    # Non-ASCII characters become "?", which is outside the alphabet too.
    digits = text.encode("ascii", "replace").translate(_B45_DIGIT)
    bad = digits.find(_INVALID)
    if bad >= 0:
        _b45_triples(digits[: bad - bad % 3])  # an earlier bad triple is reported first
        raise MalformedInputError("character outside the base45 alphabet")
    out = _b45_triples(digits)
    if len(digits) % 3:
        n = digits[-2] + 45 * digits[-1]
        if n > 0xFF:
            raise MalformedInputError("base45 pair out of range")
        out += bytes((n,))
    return out


def dumps_compact(obj: Any) -> bytes:
    """Compact UTF-8 JSON: no spaces, non-ASCII kept as UTF-8, key order preserved.

    Key order is part of the wire bytes (docs/formats.md, "Credential"): the issuer
    orders keys as the schema lists them so that the preset dictionary matches.
    """
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def loads_json_object(data: bytes, what: str) -> dict[str, Any]:
    """Parse ``data`` as a JSON object, or raise :class:`MalformedInputError`."""
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise MalformedInputError(f"{what} is not valid UTF-8 JSON") from exc
    if not isinstance(value, dict):
        raise MalformedInputError(f"{what} is not a JSON object")
    return value


#: The instants Yilu represents: every time it reads or computes lies in this range, so that
#: adding a clock skew or a list's validity can never overflow (docs/formats.md, "Conventions").
MIN_TIME: Final = datetime(1, 1, 2, tzinfo=UTC)
MAX_TIME: Final = datetime(9999, 12, 30, 23, 59, 59, tzinfo=UTC)


def format_time(value: datetime) -> str:
    """RFC 3339 in UTC with a ``Z`` and whole seconds, the only form Yilu writes.

    The year is always four digits (``strftime("%Y")`` drops leading zeros on some C
    libraries, which would write a time Yilu itself could not read back).
    """
    if value.tzinfo is None:
        raise ValueError("naive datetime: Yilu only handles aware UTC times")
    t = value if value.tzinfo is UTC else value.astimezone(UTC)
    return f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}Z"


_RFC3339: Final = re.compile(
    r"\d{4}-\d{2}-\d{2}([Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2}))?", re.ASCII
)


#: The one form Yilu writes (:func:`format_time`): parsed without the general path.
_UTC_Z: Final = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", re.ASCII)
#: Times already parsed, by their exact text (a verifier meets the same few validUntil
#: and list times again and again). Bounded; only successful parses are kept.
_PARSED_TIMES: dict[str, datetime] = {}
_PARSED_TIMES_SIZE: Final = 1024


def _parse_utc_z(value: str) -> datetime | None:
    """``YYYY-MM-DDTHH:MM:SSZ`` as an aware UTC datetime, or None for anything else (then
    :func:`parse_time`'s general path decides, and words any error)."""
    if len(value) != 20 or not _UTC_Z.fullmatch(value):
        return None
    try:
        parsed = datetime(
            int(value[0:4]),
            int(value[5:7]),
            int(value[8:10]),
            int(value[11:13]),
            int(value[14:16]),
            int(value[17:19]),
            tzinfo=UTC,
        )
    except ValueError:
        return None
    return parsed if MIN_TIME <= parsed <= MAX_TIME else None


def parse_time(value: object, what: str) -> datetime:
    """Parse an RFC 3339 date-time (or a plain full-date, as midnight UTC); nothing else.

    Only instants between :data:`MIN_TIME` and :data:`MAX_TIME` are accepted; every other
    input, including one whose offset moves it outside the calendar, is a
    :class:`MalformedInputError` and never an ``OverflowError``.

    The hot path of a scan (docs/verifying.md, "Verification order", step 4; DESIGN.md,
    "Performance budget"): a text parsed before is answered from a small cache keyed by
    the exact text, and the ``Z`` form Yilu writes skips the general parser. Both give
    what the general path gives (tests/protocol/test_encoding.py).
    """
    if type(value) is str:
        known = _PARSED_TIMES.get(value)
        if known is not None:
            return known
        fast = _parse_utc_z(value)
        if fast is None:
            fast = _parse_time_general(value, what)
        if len(_PARSED_TIMES) >= _PARSED_TIMES_SIZE:
            _PARSED_TIMES.clear()
        _PARSED_TIMES[value] = fast
        return fast
    return _parse_time_general(value, what)


def _parse_time_general(value: object, what: str) -> datetime:
    """:func:`parse_time` without its cache or fast path: every RFC 3339 form."""
    if not isinstance(value, str) or not value:
        raise MalformedInputError(f"{what} is not a date-time string")
    if not _RFC3339.fullmatch(value):
        raise MalformedInputError(f"{what} is not an RFC 3339 date-time with a time zone: {value[:40]!r}")
    text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    try:
        parsed = datetime.fromisoformat(text)
        if parsed.tzinfo is None:  # a bare date such as "2027-05-20": _RFC3339 gives a time a zone
            parsed = parsed.replace(tzinfo=UTC)
        utc = parsed.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise MalformedInputError(f"{what} is not an RFC 3339 date-time: {value!r}") from exc
    if not MIN_TIME <= utc <= MAX_TIME:
        raise MalformedInputError(
            f"{what} is outside the supported range {format_time(MIN_TIME)} to {format_time(MAX_TIME)}"
        )
    return utc


def shift(value: datetime, delta: timedelta) -> datetime:
    """``value + delta``, saturating at the ends of the calendar instead of overflowing."""
    try:
        return value + delta
    except OverflowError:
        return datetime.max.replace(tzinfo=UTC) if delta > timedelta(0) else datetime.min.replace(tzinfo=UTC)
