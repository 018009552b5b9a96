"""Property tests (hypothesis) for the Bitstring Status List codec (protocol/status_list.py).

Round trips for any set of bits at any length, including index 0, the last index and the
byte boundaries; a flipped bit reads back as exactly that bit; and any changed, truncated
or oversized ``encodedList`` is refused with Yilu's own errors, or decodes to the very bits
it held (the gzip header's mtime, XFL and OS bytes are outside its CRC: Bitstring Status
List v1.0 §3.2 only asks for the bits). Derandomized: same examples on every run.
"""

from __future__ import annotations

import gzip
import random
import zlib
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from hypothesis import event, example, given
from hypothesis import strategies as st

import protocol.status_list as status_module
from propkit import change_a_member, char_mutations, fast, json_values, parsed_or_refused
from protocol.encoding import b64url_decode, b64url_encode
from protocol.errors import InputError, InputTooLargeError, MalformedInputError
from protocol.status_list import MIN_BITS, Bitstring, SparseBits, StatusList, set_bits
from protocol.vocabulary import STATUS_PURPOSES

#: (size in bits, the indices of the set bits)
Case = tuple[int, frozenset[int]]
B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


@st.composite
def bit_sets(draw: st.DrawFn, max_bytes: int = 96) -> Case:
    """(size in bits, set indices): sizes from one byte to ``max_bytes`` and the spec's
    16 KiB; indices favour 0, the last index and the bits either side of a byte boundary."""
    size = 8 * draw(st.integers(1, max_bytes) | st.just(MIN_BITS // 8) | st.just(1), label="bytes")
    edges = {0, 7, 8, size // 2, size - 9, size - 8, size - 1}
    boundaries = st.sampled_from(sorted(i for i in edges if 0 <= i < size))
    indices = draw(st.frozensets(st.integers(0, size - 1) | boundaries, max_size=24), label="indices")
    return size, indices


def bitstring(size: int, indices: frozenset[int]) -> Bitstring:
    bits = Bitstring(size)
    for i in indices:
        bits.set(i, True)
    return bits


def coverage(size: int, indices: frozenset[int]) -> None:
    event("empty" if not indices else "index 0 set" if 0 in indices else "index 0 clear")
    event("last index set" if size - 1 in indices else "last index clear")
    event("spec size" if size == MIN_BITS else "small size")


# ------------------------------------------------------------------ round trips


@given(bit_sets())
@example((8, frozenset()))
@example((8, frozenset(range(8))))
@example((MIN_BITS, frozenset({0, MIN_BITS - 1})))
@fast(100)
def test_encode_decode_round_trips_any_bits_at_any_length(case: Case) -> None:
    size, indices = case
    coverage(size, indices)
    bits = bitstring(size, indices)
    encoded = bits.encode()
    assert encoded.startswith("u")
    again = Bitstring.decode(encoded)
    assert len(again) == size
    assert again.set_indices() == tuple(sorted(indices))
    for i in {0, size - 1, *indices, *(j + 1 for j in indices if j + 1 < size)}:
        assert again.get(i) is (i in indices), i
    assert again.encode() == encoded  # reproducible (mtime 0): one list, one text


@given(st.binary(max_size=300))
@example(b"")
@example(b"\x00" * 40 + b"\x01")
@example(b"\xff")
@fast(150)
def test_set_bits_agrees_with_reading_every_bit(data: bytes) -> None:
    """The memchr fast path of set_bits against the definition (index 0 = first byte's high bit)."""
    expected = tuple(i for i in range(8 * len(data)) if data[i // 8] & (0x80 >> (i % 8)))
    assert set_bits(data) == expected
    if data:
        assert Bitstring(data=data).set_indices() == expected


@given(bit_sets(max_bytes=64))
@fast(50)
def test_a_verifiers_sparse_copy_encodes_and_reads_as_the_full_list(case: Case) -> None:
    """SparseBits (what a verifier keeps) and Bitstring (what a lab signs) are the same list."""
    size, indices = case
    full, sparse = bitstring(size, indices), SparseBits(size, indices)
    assert sparse.encode() == full.encode()
    assert sparse.set_indices() == full.set_indices()
    assert len(sparse) == len(full) == size
    for i in {0, size - 1, *indices}:
        assert sparse.get(i) is full.get(i)
    with pytest.raises(IndexError):
        sparse.get(size)


@given(bit_sets(), st.data())
@fast(80)
def test_a_flipped_bit_reads_back_as_exactly_that_bit(case: Case, data: st.DataObject) -> None:
    size, indices = case
    flip = data.draw(st.integers(0, size - 1) | st.sampled_from((0, size - 1)), label="flip")
    event("set -> clear" if flip in indices else "clear -> set")
    before = bitstring(size, indices)
    after = bitstring(size, indices)
    after.set(flip, flip not in indices)
    assert after.encode() != before.encode()
    decoded = Bitstring.decode(after.encode())
    assert set(decoded.set_indices()) ^ indices == {flip}
    assert decoded.get(flip) is (flip not in indices)


# ------------------------------------------------------------------ changed lists


def check_decode(encoded: str, original: tuple[int, ...] | None) -> None:
    """A changed encodedList raises an InputError, or holds exactly the original bits."""
    try:
        bits = Bitstring.decode(encoded)
    except InputError as exc:
        event(f"refused: {type(exc).__name__}")
        return
    event("decoded (gzip header bytes outside the CRC)")
    assert original is not None, encoded[:60]
    assert bits.set_indices() == original


@given(bit_sets(max_bytes=64), st.data())
@fast(120)
def test_a_changed_encoded_list_is_refused_or_holds_the_same_bits(
    case: Case, data: st.DataObject
) -> None:
    size, indices = case
    encoded = bitstring(size, indices).encode()
    mutated = data.draw(char_mutations(encoded, B64URL + "u="), label="mutated")
    check_decode(mutated, tuple(sorted(indices)))


@given(bit_sets(max_bytes=64), st.data())
@fast(120)
def test_changed_gzip_bytes_are_refused_or_hold_the_same_bits(
    case: Case, data: st.DataObject
) -> None:
    """Byte changes re-encoded as canonical base64url, so they reach the gzip reader."""
    size, indices = case
    packed = bytearray(b64url_decode(bitstring(size, indices).encode()[1:]))
    pos = data.draw(st.integers(0, len(packed) - 1), label="position")
    event("gzip header" if pos < 10 else "gzip trailer" if pos >= len(packed) - 8 else "deflate data")
    packed[pos] ^= data.draw(st.integers(1, 255), label="xor")
    check_decode("u" + b64url_encode(bytes(packed)), tuple(sorted(indices)))


@given(bit_sets(max_bytes=64), st.data())
@fast(60)
def test_a_truncated_or_extended_encoded_list_is_refused(case: Case, data: st.DataObject) -> None:
    size, indices = case
    encoded = bitstring(size, indices).encode()
    if data.draw(st.booleans(), label="truncate"):
        changed = encoded[: data.draw(st.integers(0, len(encoded) - 1), label="cut")]
    else:
        # Bytes after the gzip member: another member, or anything (never read as bits).
        packed = b64url_decode(encoded[1:])
        tail = data.draw(st.binary(min_size=1, max_size=30) | st.just(gzip.compress(b"\xff", mtime=0)))
        changed = "u" + b64url_encode(packed + tail)
    with pytest.raises(MalformedInputError):
        Bitstring.decode(changed)


@given(st.text(max_size=80) | st.text(alphabet=B64URL, max_size=80).map(lambda t: "u" + t))
@example("u")
@example("uH4sIAAAAAAAAAwMAAAAAAAAAAAA")  # gzip of no bytes: no list at all
@fast(150)
def test_arbitrary_text_is_refused_with_yilus_errors(text: str) -> None:
    try:
        Bitstring.decode(text)
    except InputError as exc:
        event(f"refused: {type(exc).__name__}")
        return
    assert text.startswith("uH4sI"), text  # only a gzip member (1f 8b 08) can decode


# ------------------------------------------------------------------ decompression bound


@given(st.integers(1, 96), st.sampled_from(("zeros", "ones", "random")), st.integers(0, 2**32))
@example(64, "zeros", 0)
@example(65, "zeros", 0)
@fast(80)
def test_inflation_is_bounded_exactly(size: int, content: str, seed: int) -> None:
    """With the bound lowered to 64 bytes: a list of up to 64 bytes decodes, one of 65 or
    more is InputTooLargeError however well it compresses (tests/protocol/test_status_list.py
    pins the real bound, 2 MiB, at its two sides)."""
    limit = 64
    data = {
        "zeros": bytes(size),
        "ones": b"\xff" * size,
        "random": random.Random(seed).randbytes(size),
    }[content]
    encoded = "u" + b64url_encode(gzip.compress(data, mtime=0))
    with mock.patch.object(status_module, "MAX_BITS", 8 * limit):
        if size <= limit:
            event("within the bound")
            assert Bitstring.decode(encoded).set_indices() == set_bits(data)
        else:
            event("beyond the bound")
            with pytest.raises(InputTooLargeError):
                Bitstring.decode(encoded)


# ------------------------------------------------------------------ the credential


T_MIN = datetime(2000, 1, 1)
T_MAX = datetime(2100, 1, 1)
SECONDS = st.datetimes(T_MIN, T_MAX, timezones=st.just(UTC)).map(lambda t: t.replace(microsecond=0))


@st.composite
def status_lists(draw: st.DrawFn) -> StatusList:
    size, indices = draw(bit_sets(max_bytes=32))
    order = draw(st.permutations(STATUS_PURPOSES))
    purposes = order[: draw(st.integers(1, len(order)))]
    lab = "https://" + draw(st.from_regex(r"[a-z][a-z0-9-]{0,20}\.example\.[a-z]{2}", fullmatch=True))
    valid_from = draw(SECONDS)
    until = draw(st.none() | st.integers(0, 10**8).map(lambda s: valid_from + timedelta(seconds=s)))
    return StatusList(f"{lab}/status", lab, tuple(purposes), bitstring(size, indices), valid_from, until)


@given(status_lists())
@fast(50)
def test_credential_round_trips(sl: StatusList) -> None:
    event(f"{len(sl.purposes)} purpose(s)")
    cred = sl.to_credential()
    again = StatusList.from_credential(cred)
    assert again.to_credential() == cred
    assert (again.url, again.issuer, again.purposes) == (sl.url, sl.issuer, sl.purposes)
    assert (again.valid_from, again.valid_until) == (sl.valid_from, sl.valid_until)
    assert again.bits.set_indices() == sl.bits.set_indices()
    assert again.revoked_indices() == sl.revoked_indices()
    assert again.suspended_indices() == sl.suspended_indices()


@given(status_lists(), st.data())
@fast(100)
def test_a_changed_credential_member_is_refused_with_yilus_errors(
    sl: StatusList, data: st.DataObject
) -> None:
    """Any member of the credential or its subject replaced by any JSON value, or removed:
    a StatusList or a MalformedInputError, never a KeyError, TypeError or zlib.error."""
    cred = sl.to_credential()
    target = cred if data.draw(st.booleans(), label="top level") else cred["credentialSubject"]
    member = change_a_member(data, target, json_values())
    parsed_or_refused(lambda: StatusList.from_credential(cred), member)


def test_zlib_errors_do_not_escape() -> None:
    """Control for the properties above: a deflate stream with a bad block type is a
    zlib.error inside, a MalformedInputError outside."""
    header = gzip.compress(b"", mtime=0)[:10]
    with pytest.raises(zlib.error):
        zlib.decompressobj(wbits=31).decompress(header + b"\xff\xff")
    with pytest.raises(MalformedInputError):
        Bitstring.decode("u" + b64url_encode(header + b"\xff\xff"))
