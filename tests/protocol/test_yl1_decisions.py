"""Exact decisions of protocol/yl1.py: the documented bounds at and one past them, and the
reason codes of damaged envelopes (issue 8, mutation testing; docs/testing.md)."""

from __future__ import annotations

import zlib

import pytest

from protocol.encoding import b45_decode, b45_encode
from protocol.errors import InputTooLargeError, MalformedInputError, UnsupportedFormatError, YiluError
from protocol.jws import assemble_compact
from protocol.reasons import ReasonCode
from protocol.yl1 import decode_parts, dictionary, encode

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
    # Crafted by hand: yl1.encode refuses to write what decode would refuse.
    n, length = len(HEADER), bytearray()
    while True:
        length.append((n & 0x7F) | (0x80 if n >> 7 else 0))
        n >>= 7
        if not n:
            break
    return _craft(HEADER + b"0" * (inflated_size - len(HEADER)), bytes(length), bytes(range(64)))


def test_yl1_data_inflating_to_exactly_65536_bytes_is_read() -> None:
    header, payload, signature = decode_parts(_envelope(65536))
    assert (header, len(payload), signature) == (HEADER, 65536 - len(HEADER), bytes(range(64)))


def test_yl1_data_inflating_to_65537_bytes_is_too_large_and_malformed() -> None:
    text = _envelope(65537)
    assert len(text) < 300  # a small code: a decompression bomb
    with pytest.raises(InputTooLargeError) as info:
        decode_parts(text)
    assert info.value.code is ReasonCode.MALFORMED


# -- the header length: LEB128, at most 3 bytes, 0 < length < inflated (docs/formats.md, "YL1") --


def _craft(body: bytes, length_bytes: bytes, signature: bytes = bytes(range(1, 65))) -> str:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15, 9, zdict=dictionary(1))
    deflated = compressor.compress(body) + compressor.flush()
    return "YL1:" + b45_encode(b"\x01" + length_bytes + deflated + signature)


@pytest.mark.parametrize(
    ("length", "wire"),
    [(1, b"\x01"), (50, b"\x32"), (127, b"\x7f"), (128, b"\x80\x01"), (300, b"\xac\x02"),
     (16383, b"\xff\x7f"), (16384, b"\x80\x80\x01"), (65533, b"\xfd\xff\x03")],
)  # fmt: skip
def test_the_header_length_is_unsigned_leb128(length: int, wire: bytes) -> None:
    header = b"h" * length
    text = encode(assemble_compact(header, b"{}", bytes(64)))
    assert b45_decode(text[4:])[1 : 1 + len(wire)] == wire
    assert decode_parts(text) == (header, b"{}", bytes(64))
    assert decode_parts(_craft(header + b"{}", wire)) == (header, b"{}", bytes(range(1, 65)))


def test_a_header_length_in_three_bytes_is_read_and_in_four_refused() -> None:
    body = b'{"alg":"EdDSA"}{}'
    padded3 = b"\x8f\x80\x00"  # 15 with two padding groups: still 3 bytes
    assert decode_parts(_craft(body, padded3))[:2] == (b'{"alg":"EdDSA"}', b"{}")
    with pytest.raises(MalformedInputError, match="header length is truncated or too long") as info:
        decode_parts(_craft(body, b"\x8f\x80\x80\x00"))  # 15 in four bytes
    assert info.value.code is ReasonCode.MALFORMED


def test_a_one_byte_header_is_the_smallest_accepted() -> None:
    assert decode_parts(_craft(b"ab", b"\x01")) == (b"a", b"b", bytes(range(1, 65)))
    with pytest.raises(MalformedInputError, match="out of range"):
        decode_parts(_craft(b"ab", b"\x00"))
    with pytest.raises(MalformedInputError, match="out of range"):
        decode_parts(_craft(b"ab", b"\x02"))


# -- steps 3 and 6: too short, and truncated DEFLATE data (docs/formats.md, "YL1 envelope") ------


def test_three_bytes_are_enough_to_reach_the_dictionary_version() -> None:
    with pytest.raises(UnsupportedFormatError) as unknown:
        decode_parts("YL1:" + b45_encode(b"\x09\x00\x00"))  # 3 bytes: version 9 is read, unknown
    assert unknown.value.code is ReasonCode.UNSUPPORTED_FORMAT
    with pytest.raises(MalformedInputError, match="too short") as short:
        decode_parts("YL1:" + b45_encode(b"\x09\x00"))  # 2 bytes: refused before
    assert short.value.code is ReasonCode.MALFORMED


def test_a_code_cut_inside_its_deflate_data_is_reported_as_truncated() -> None:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15, 9, zdict=dictionary(1))
    deflated = compressor.compress(b'{"alg":"EdDSA"}{"a":"' + b"x" * 200 + b'"}') + compressor.flush()
    for cut in (1, 2, len(deflated) // 2):
        with pytest.raises(MalformedInputError, match="YL1 data is truncated") as info:
            decode_parts("YL1:" + b45_encode(b"\x01\x0f" + deflated[:-cut]))
        assert info.value.code is ReasonCode.MALFORMED


@pytest.mark.parametrize(
    ("limit", "ecc"), [("MAX_ISSUED_CHARS", "ERROR_CORRECT_M"), ("MAX_TEXT_CHARS", "ERROR_CORRECT_L")]
)
def test_text_limits_are_what_a_version_40_qr_code_holds(limit: str, ecc: str) -> None:
    """docs/formats.md, "QR": an issuer writes at most what version 40 holds at ECC M (3,391
    characters), a verifier reads at most what it holds at ECC L (4,296): measured with a real
    encoder, one character more needs a version 41, which does not exist."""
    import qrcode
    from qrcode import util

    from protocol import yl1

    chars = getattr(yl1, limit)
    assert chars == {"MAX_ISSUED_CHARS": 3391, "MAX_TEXT_CHARS": 4296}[limit]

    def version(n: int) -> int:
        code = qrcode.QRCode(error_correction=getattr(qrcode.constants, ecc))
        code.add_data(util.QRData(yl1.PREFIX + "A" * (n - len(yl1.PREFIX)), mode=util.MODE_ALPHA_NUM))
        code.make(fit=True)
        return int(code.version)

    assert version(chars) == 40
    with pytest.raises(ValueError, match="41"):
        version(chars + 1)
