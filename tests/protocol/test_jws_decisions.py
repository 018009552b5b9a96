"""Exact decisions of protocol/jws.py: documented limits at and one past their bound, reason
codes, and the bounded header caches (issue 8, mutation testing; docs/testing.md)."""

from __future__ import annotations

import pytest

from protocol import jws as jws_module
from protocol.encoding import b64url_encode, dumps_compact
from protocol.errors import InputTooLargeError, MalformedInputError, SignatureError
from protocol.jws import (
    encode_header,
    from_parts,
    parse_compact,
    parse_general,
    sign_general,
)
from protocol.keys import SigningKey

ROTATION_TYP = "yilu-root-rotation+json"
MIB = 1024 * 1024


# -- compact JWS: at most 64 MiB of text (docs/formats.md, "JWS", "Parsing") -------------------------


def test_compact_jws_of_exactly_64_mib_passes_the_size_check() -> None:
    token = "a" * (64 * MIB)  # one part only: refused as malformed, after the size check
    with pytest.raises(MalformedInputError) as info:
        parse_compact(token)
    assert not isinstance(info.value, InputTooLargeError)


def test_compact_jws_one_character_over_64_mib_is_too_large() -> None:
    with pytest.raises(InputTooLargeError):
        parse_compact("a" * (64 * MIB + 1))


# -- general JWS: at most 16 KiB, 1 to 16 signatures (docs/formats.md, "Root rotation") ----------


def _general_of_length(length: int) -> str:
    """A valid general JWS JSON text (one signature) padded to exactly ``length`` characters
    with JSON whitespace, which the parser ignores."""
    key = SigningKey.generate()
    text = sign_general(b"{}", [(key, key.public.kid)], typ=ROTATION_TYP)
    assert len(text) < length
    return text + " " * (length - len(text))


def test_general_jws_of_exactly_16_kib_is_parsed() -> None:
    parsed = parse_general(_general_of_length(16 * 1024), expected_typ=ROTATION_TYP)
    assert parsed.payload_bytes == b"{}"


def test_general_jws_one_character_over_16_kib_is_too_large() -> None:
    with pytest.raises(InputTooLargeError):
        parse_general(_general_of_length(16 * 1024 + 1), expected_typ=ROTATION_TYP)


@pytest.fixture(scope="module")
def signers() -> list[tuple[SigningKey, str]]:
    keys = [SigningKey.generate() for _ in range(17)]
    return [(k, k.public.kid) for k in keys]


def test_general_jws_with_16_signatures_is_signed_and_parsed(signers: list[tuple[SigningKey, str]]) -> None:
    text = sign_general(b"{}", signers[:16], typ=ROTATION_TYP)
    parsed = parse_general(text, expected_typ=ROTATION_TYP)
    assert [s.kid for s in parsed.signatures] == [kid for _, kid in signers[:16]]


def test_general_jws_with_17_signatures_is_refused(signers: list[tuple[SigningKey, str]]) -> None:
    with pytest.raises(MalformedInputError, match="1 to 16 signatures"):
        sign_general(b"{}", signers, typ=ROTATION_TYP)
    one = sign_general(b"{}", signers[:1], typ=ROTATION_TYP)
    entry = one[one.index("[") + 1 : one.rindex("]")]
    seventeen = one[: one.index("[") + 1] + ",".join([entry] * 17) + "]}"
    with pytest.raises(MalformedInputError, match="1 to 16 signatures"):
        parse_general(seventeen, expected_typ=ROTATION_TYP)
    sixteen = one[: one.index("[") + 1] + ",".join([entry] * 16) + "]}"
    assert len(parse_general(sixteen, expected_typ=ROTATION_TYP).signatures) == 16


# -- the header caches stay bounded (docs/formats.md, "Conventions", parse caches) ---------------------------


def test_parsed_header_cache_never_holds_more_than_1024_headers() -> None:
    for i in range(1100):
        header = encode_header(alg="EdDSA", kid=f"k{i}", typ="vc+jwt")
        from_parts(header, b"{}", bytes(64))
        assert len(jws_module._PARSED_HEADERS) <= 1024
    assert jws_module.HEADER_CACHE_SIZE == 1024


def test_yilu_header_cache_never_holds_more_than_1024_headers() -> None:
    for i in range(1100):
        header = encode_header(alg="EdDSA", kid=f"y{i}", typ="vc+jwt")
        jws_module.check_yilu_header(from_parts(header, dumps_compact({}), bytes(64)))
        assert len(jws_module._YILU_HEADERS) <= 1024


def test_a_cached_header_is_still_refused_when_not_yilus() -> None:
    odd = b'{"alg":"EdDSA","typ":"vc+jwt","kid":"k"}'  # another order: parses, not Yilu's
    token = ".".join((b64url_encode(odd), b64url_encode(b"{}"), b64url_encode(bytes(64))))
    parsed = parse_compact(token)
    for _ in range(2):
        with pytest.raises(SignatureError, match="not exactly"):
            jws_module.check_yilu_header(parsed)
