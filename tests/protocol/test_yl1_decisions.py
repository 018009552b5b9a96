"""Exact decisions of protocol/yl1.py: the documented bounds at and one past them, and the
reason codes of damaged envelopes (issue 8, mutation testing; docs/testing.md)."""

from __future__ import annotations

import pytest

from protocol.errors import InputTooLargeError, UnsupportedFormatError, YiluError
from protocol.jws import assemble_compact
from protocol.reasons import ReasonCode
from protocol.yl1 import decode_parts, encode

# -- at most 4,296 characters, prefix included (docs/formats.md, "YL1 envelope", step 1) ---------


def test_yl1_text_of_exactly_4296_characters_passes_the_size_check() -> None:
    text = "YL1:" + "0" * 4292
    assert len(text) == 4296
    with pytest.raises(YiluError) as info:
        decode_parts(text)  # refused later: no valid envelope, but not for its size
    assert not isinstance(info.value, InputTooLargeError)


def test_yl1_text_of_4297_characters_is_too_large_and_malformed() -> None:
    with pytest.raises(InputTooLargeError) as info:
        decode_parts("YL1:" + "0" * 4293)
    assert info.value.code is ReasonCode.MALFORMED


def test_text_without_the_prefix_is_unsupported() -> None:
    with pytest.raises(UnsupportedFormatError) as info:
        decode_parts("YL2:000")
    assert info.value.code is ReasonCode.UNSUPPORTED_FORMAT


# -- inflating at most 65,536 bytes (docs/formats.md, "YL1 envelope", step 6) --------------------

HEADER = b'{"alg":"EdDSA","kid":"k","typ":"vc+jwt"}'


def _envelope(inflated_size: int) -> str:
    """A small ``YL1:`` text whose header and payload inflate to ``inflated_size`` bytes."""
    return encode(assemble_compact(HEADER, b"0" * (inflated_size - len(HEADER)), bytes(range(64))))


def test_yl1_data_inflating_to_exactly_65536_bytes_is_read() -> None:
    header, payload, signature = decode_parts(_envelope(65536))
    assert (header, len(payload), signature) == (HEADER, 65536 - len(HEADER), bytes(range(64)))


def test_yl1_data_inflating_to_65537_bytes_is_too_large_and_malformed() -> None:
    text = _envelope(65537)
    assert len(text) < 300  # a small code: a decompression bomb
    with pytest.raises(InputTooLargeError) as info:
        decode_parts(text)
    assert info.value.code is ReasonCode.MALFORMED
