"""Exact decisions of protocol/status_list.py: the documented decoding bound at and one past
it (issue 8, mutation testing; docs/testing.md)."""

from __future__ import annotations

import gzip

import pytest

from protocol import status_list as sl
from protocol.encoding import b64url_decode, b64url_encode
from protocol.errors import InputTooLargeError, MalformedInputError
from protocol.status_list import Bitstring, StatusList

# -- decoding inflates at most 2^24 bits, 2 MiB (docs/formats.md, "Status lists") ----------------


def _encoded(data: bytes) -> str:
    return "u" + b64url_encode(gzip.compress(data, mtime=0))


def test_a_list_of_exactly_2_pow_24_bits_decodes() -> None:
    data = bytes(2**21 - 1) + b"\x01"
    bits = Bitstring.decode(_encoded(data))
    assert len(bits) == 2**24
    assert bits.set_indices() == (2**24 - 1,)


def test_a_list_one_byte_over_2_pow_24_bits_is_too_large() -> None:
    with pytest.raises(InputTooLargeError):
        Bitstring.decode(_encoded(bytes(2**21 + 1)))


def test_the_nonzero_table_marks_exactly_the_nonzero_bytes() -> None:
    """``set_bits`` jumps from one marked byte to the next: a zero byte is never visited."""
    assert bytes([0]) + bytes([1]) * 255 == sl._MARK_NONZERO


# -- a verifier's read-only copy (SparseBits) answers as the full bitstring does ------------------


def test_sparse_bits_answer_as_the_full_bitstring() -> None:
    full = Bitstring(64)
    for index in (0, 9, 62, 63):
        full.set(index, True)
    sparse = sl.SparseBits(64, [63, 9, 0, 62, 9])
    assert len(sparse) == 64
    assert sparse.set_indices() == full.set_indices() == (0, 9, 62, 63)
    assert sparse.encode() == full.encode()
    assert [sparse.get(i) for i in range(64)] == [full.get(i) for i in range(64)]
    for bad in (-1, 64):
        with pytest.raises(IndexError):
            sparse.get(bad)
    with pytest.raises(TypeError, match="read-only"):
        sparse.set(1, True)


def test_set_bits_finds_every_set_bit_in_order() -> None:
    assert sl.set_bits(b"") == ()
    assert sl.set_bits(bytes(5)) == ()
    assert sl.set_bits(b"\x00\xff\x00\x01\x80") == (*range(8, 16), 31, 32)


def test_an_empty_gzip_member_is_a_truncated_list() -> None:
    with pytest.raises(MalformedInputError, match="truncated"):
        Bitstring.decode(_encoded(b""))
    with pytest.raises(MalformedInputError, match="truncated"):
        Bitstring.decode(_encoded(bytes(16))[:-4])


def test_encoded_list_is_gzip_level_9_with_mtime_0() -> None:
    """docs/formats.md, "Status lists", encodedList: reproducible, an empty list 69 characters."""
    encoded = Bitstring().encode()
    assert len(encoded) == 69
    packed = b64url_decode(encoded[1:])
    assert packed[4:8] == bytes(4)  # MTIME
    assert packed[8] == 2  # XFL: maximum compression
    assert packed == gzip.compress(bytes(16 * 1024), compresslevel=9, mtime=0)


def test_an_unknown_purpose_is_named_in_at_most_40_characters() -> None:
    subject = {"type": "BitstringStatusList", "statusPurpose": ["revocation", "p" * 100], "encodedList": "u"}
    cred = {"type": [sl.STATUS_LIST_TYPE], "credentialSubject": subject}
    with pytest.raises(MalformedInputError) as info:
        StatusList.from_credential(cred)
    assert str(info.value) == f"unsupported statusPurpose {'p' * 40!r}"
    subject["statusPurpose"] = 7
    with pytest.raises(MalformedInputError) as not_text:
        StatusList.from_credential(cred)
    assert str(not_text.value) == "unsupported statusPurpose 'int'"
