"""Exact decisions of protocol/status_list.py: the documented decoding bound at and one past
it (issue 8, mutation testing; docs/testing.md)."""

from __future__ import annotations

import gzip

import pytest

from protocol import status_list as sl
from protocol.encoding import b64url_encode
from protocol.errors import InputTooLargeError
from protocol.status_list import Bitstring

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
