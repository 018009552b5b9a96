"""Exact decisions of protocol/jws.py: documented limits at and one past their bound, reason
codes, and the bounded header caches (issue 8, mutation testing; docs/testing.md)."""

from __future__ import annotations

import json

import pytest

from protocol import jws as jws_module
from protocol.encoding import b64url_decode, b64url_encode, dumps_compact
from protocol.errors import InputTooLargeError, MalformedInputError, SignatureError, UnsupportedFormatError
from protocol.jws import (
    encode_header,
    from_parts,
    parse_compact,
    parse_general,
    sign_compact,
    sign_general,
    verify_raw,
)
from protocol.keys import SigningKey
from protocol.reasons import ReasonCode

ROTATION_TYP = ROT = "yilu-root-rotation+json"
ROT_B = ROT.encode()
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


# -- the general JWS JSON Serialization, member by member (docs/formats.md, "Root rotation") -----

GOOD_KEY = SigningKey.generate()


def _general(**changes: object) -> str:
    """A general JWS signed by ``GOOD_KEY``, with top-level members replaced or removed (None)."""
    obj = json.loads(sign_general(b'{"v":2}', [(GOOD_KEY, GOOD_KEY.public.kid)], typ=ROTATION_TYP))
    for name, value in changes.items():
        if value is None:
            del obj[name]
        else:
            obj[name] = value
    return json.dumps(obj)


def _entry(
    protected: bytes | None = None, signature: bytes | None = None, **extra: object
) -> dict[str, object]:
    """One signature entry over the payload of :func:`_general`, with chosen parts."""
    payload = b64url_encode(b'{"v":2}')
    header = protected if protected is not None else encode_header(
        alg="EdDSA", kid=GOOD_KEY.public.kid, typ=ROTATION_TYP
    )
    encoded = b64url_encode(header)
    if signature is None:
        signature = GOOD_KEY.sign(f"{encoded}.{payload}".encode())
    return {"protected": encoded, "signature": b64url_encode(signature), **extra}


def test_a_general_jws_is_split_into_compact_equivalents_that_verify() -> None:
    text = _general()
    parsed = parse_general(text, expected_typ=ROTATION_TYP)
    assert parsed.payload_bytes == b'{"v":2}' and parsed.payload_json() == {"v": 2}
    (sig,) = parsed.signatures
    entry = json.loads(text)["signatures"][0]
    assert sig.compact == f"{entry['protected']}.{json.loads(text)['payload']}.{entry['signature']}"
    assert sig.header == {"alg": "EdDSA", "kid": GOOD_KEY.public.kid, "typ": ROTATION_TYP}
    assert sig.payload_bytes == b'{"v":2}'
    assert verify_raw(sig, GOOD_KEY.public)
    assert not verify_raw(sig, SigningKey.generate().public)


def test_sign_general_writes_compact_json_with_yilus_headers() -> None:
    text = sign_general(b"{}", [(GOOD_KEY, "kid-1")], typ=ROTATION_TYP)
    protected = b64url_encode(encode_header(alg="EdDSA", kid="kid-1", typ=ROTATION_TYP))
    signature = b64url_encode(GOOD_KEY.sign(f"{protected}.e30".encode()))
    entry = f'{{"protected":"{protected}","signature":"{signature}"}}'
    assert text == f'{{"payload":"e30","signatures":[{entry}]}}'


def test_sign_general_refuses_no_signer_and_a_disallowed_algorithm() -> None:
    with pytest.raises(MalformedInputError, match="1 to 16 signatures"):
        sign_general(b"{}", [], typ=ROTATION_TYP)

    class HS256:
        alg = "HS256"

        def sign(self, signing_input: bytes) -> bytes:
            return bytes(64)

    with pytest.raises(UnsupportedFormatError, match="refusing to sign"):
        sign_general(b"{}", [(GOOD_KEY, "a"), (HS256(), "b")], typ=ROTATION_TYP)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"payload":"e30","signatures":[]}', "1 to 16 signatures"),
        ("[]", "not a JSON object"),
        ('{"payload":"e30"}', "exactly the members payload and signatures"),
        ('{"payload":"e30","signatures":[],"header":{}}', "exactly the members payload and signatures"),
        ('{"payload":1,"signatures":[]}', "payload is a string"),
        ('{"payload":"e30","signatures":{}}', "payload is a string"),
        ('{"payload":"e30=","signatures":[{}]}', "base64url"),
        ('{"payload":"e30","signatures":["x"]}', "exactly the members protected and signature"),
        ('{"payload":"e30","signatures":[{"protected":"e30"}]}', "exactly the members protected"),
        ('{"payload":"e30","signatures":[{"protected":1,"signature":"AA"}]}', "are strings"),
        ('{"payload":"e30","signatures":[{"protected":"e30","signature":1}]}', "are strings"),
        ('{"payload":"e30","signatures":[{"protected":"W10","signature":"AA"}]}', "not a JSON object"),
    ],
)
def test_a_malformed_general_jws_is_refused(text: str, message: str) -> None:
    with pytest.raises(MalformedInputError, match=message):
        parse_general(text, expected_typ=ROTATION_TYP)


def test_a_non_ascii_general_jws_is_refused() -> None:
    with pytest.raises(MalformedInputError, match="ASCII"):
        parse_general(_general()[:-1] + ' , "é":1}', expected_typ=ROTATION_TYP)


def test_an_unprotected_header_in_a_signature_is_refused() -> None:
    with pytest.raises(MalformedInputError, match="exactly the members protected and signature"):
        parse_general(_general(signatures=[_entry(header={"kid": "x"})]), expected_typ=ROTATION_TYP)


@pytest.mark.parametrize(
    ("protected", "error", "code"),
    [
        (encode_header(alg="HS256", kid="k", typ=ROT), UnsupportedFormatError, ReasonCode.UNSUPPORTED_ALG),
        (encode_header(alg="EdDSA", kid="k", typ="x"), UnsupportedFormatError, ReasonCode.UNSUPPORTED_FORMAT),
        (b'{"alg":"EdDSA","typ":"%s"}' % ROT_B, MalformedInputError, None),
        (b'{"alg":"EdDSA","kid":1,"typ":"%s"}' % ROT_B, MalformedInputError, ReasonCode.MALFORMED),
        (b'{"alg":"EdDSA","typ":"%s","kid":"k"}' % ROT_B, MalformedInputError, None),
        (b'{"alg":"EdDSA","kid":"k","typ":"%s","x5c":[]}' % ROT_B, MalformedInputError, None),
        (b'{"alg":"EdDSA", "kid":"k","typ":"%s"}' % ROT_B, MalformedInputError, None),
    ],
)
def test_a_protected_header_other_than_yilus_is_refused(
    protected: bytes, error: type[Exception], code: ReasonCode | None
) -> None:
    with pytest.raises(error) as info:
        parse_general(_general(signatures=[_entry(protected)]), expected_typ=ROTATION_TYP)
    assert type(info.value) is error
    assert getattr(info.value, "code", None) is code


@pytest.mark.parametrize("length", [0, 63, 65])
def test_a_signature_of_other_than_64_bytes_is_refused(length: int) -> None:
    with pytest.raises(MalformedInputError, match="a signature is 64 bytes"):
        parse_general(_general(signatures=[_entry(signature=bytes(length))]), expected_typ=ROTATION_TYP)


def test_every_signature_is_checked_not_only_the_first() -> None:
    good = _entry()
    with pytest.raises(MalformedInputError, match="a signature is 64 bytes"):
        parse_general(_general(signatures=[good, _entry(signature=bytes(63))]), expected_typ=ROTATION_TYP)
    parsed = parse_general(_general(signatures=[good, good]), expected_typ=ROTATION_TYP)
    assert len(parsed.signatures) == 2


# -- compact JWS: shape, lazy payload, rebuilt parts, candidate keys ------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("eyJh.eyJi.c2ln", True),
        ("a-_.b.c", True),
        ("..", True),
        ("eyJh.eyJi", False),
        ("eyJh.eyJi.c2ln.x", False),
        ("eyJh.eyJi.c2ln=", False),
        ("eyJh.eyJi.c2 l", False),
        ("YL1:ABC", False),
    ],
)
def test_looks_like_compact(text: str, expected: bool) -> None:
    assert jws_module.looks_like_compact(text) is expected


def test_a_payload_left_encoded_is_decoded_on_first_use() -> None:
    token = sign_compact(b'{"a":1}', GOOD_KEY, kid="k", typ="vc+jwt")
    parsed = parse_compact(token, decode_payload=False)
    assert parsed.payload_bytes == b'{"a":1}' and parsed.payload_json() == {"a": 1}
    assert parsed.signing_input == token[: token.rindex(".")].encode()
    head, _, sig = token.split(".")
    bad = parse_compact(f"{head}.e31.{sig}", decode_payload=False)  # non-zero unused bits
    with pytest.raises(MalformedInputError, match="JWS payload") as info:
        _ = bad.payload_bytes
    assert info.value.code is ReasonCode.MALFORMED


def test_a_jws_from_parts_is_the_compact_jws_byte_for_byte() -> None:
    token = sign_compact(b'{"a":1}', GOOD_KEY, kid="k", typ="vc+jwt")
    head, payload, sig = (b64url_decode(p) for p in token.split("."))
    rebuilt = from_parts(head, payload, sig)
    assert rebuilt.compact == token
    assert rebuilt.signing_input == token[: token.rindex(".")].encode()
    assert rebuilt.header == {"alg": "EdDSA", "kid": "k", "typ": "vc+jwt"}
    assert (rebuilt.kid, rebuilt.alg) == ("k", "EdDSA")
    jws_module.verify_signature(rebuilt, GOOD_KEY.public)
    again = from_parts(head, payload, sig)  # from the header cache: the same
    assert again.compact == token and again.header == rebuilt.header


def test_from_parts_refuses_what_parse_compact_refuses() -> None:
    with pytest.raises(MalformedInputError) as info:
        from_parts(b"[1]", b"{}", bytes(64))
    assert info.value.code is ReasonCode.MALFORMED
    with pytest.raises(UnsupportedFormatError) as unsupported:
        from_parts(b'{"alg":"none"}', b"{}", b"")
    assert unsupported.value.code is ReasonCode.UNSUPPORTED_ALG


def test_verify_with_any_raises_the_last_candidates_reason() -> None:
    token = sign_compact(b"{}", GOOD_KEY, kid="k", typ="vc+jwt")
    parsed = parse_compact(token)
    other_ed, es = SigningKey.generate().public, SigningKey.generate("ES256").public
    with pytest.raises(SignatureError) as last_bad_signature:
        jws_module.verify_with_any(parsed, [es, other_ed])
    assert last_bad_signature.value.codes == (ReasonCode.SIGNATURE_INVALID,)
    with pytest.raises(SignatureError) as last_wrong_alg:
        jws_module.verify_with_any(parsed, [other_ed, es])
    assert last_wrong_alg.value.codes == (ReasonCode.UNSUPPORTED_ALG,)
    with pytest.raises(SignatureError) as none:
        jws_module.verify_with_any(parsed, [])
    assert none.value.codes == (ReasonCode.UNKNOWN_KEY,)
    assert jws_module.verify_with_any(parsed, [es, other_ed, GOOD_KEY.public, es]) is not None
    assert jws_module.verify_with_any(parsed, [es, GOOD_KEY.public]).kid == GOOD_KEY.public.kid


def test_verify_raw_needs_the_keys_own_algorithm_and_a_valid_signature() -> None:
    parsed = parse_compact(sign_compact(b"{}", GOOD_KEY, kid="k", typ="vc+jwt"))
    assert verify_raw(parsed, GOOD_KEY.public) is True
    assert verify_raw(parsed, SigningKey.generate("ES256").public) is False
    assert verify_raw(parsed, SigningKey.generate().public) is False


def test_parse_compact_decodes_the_payload_by_default() -> None:
    head, _, sig = sign_compact(b"{}", GOOD_KEY, kid="k", typ="vc+jwt").split(".")
    with pytest.raises(MalformedInputError, match="not canonical base64url") as info:
        parse_compact(f"{head}.e31.{sig}")  # non-zero unused bits in the payload
    assert info.value.code is ReasonCode.MALFORMED


@pytest.mark.parametrize("decode_payload", [True, False])
def test_a_non_ascii_token_is_malformed_before_anything_is_decoded(decode_payload: bool) -> None:
    head, _, sig = sign_compact(b"{}", GOOD_KEY, kid="k", typ="vc+jwt").split(".")
    with pytest.raises(MalformedInputError) as info:
        parse_compact(f"{head}.e30é.{sig}", decode_payload=decode_payload)
    assert str(info.value) == "a compact JWS is ASCII text"
    assert info.value.code is ReasonCode.MALFORMED


def test_header_bytes_that_passed_once_pass_again_on_their_bytes_alone() -> None:
    """check_yilu_header depends on the header bytes only (docs/formats.md, "Conventions",
    parse caches): bytes that passed are not read again, whatever header object rides along."""
    header = encode_header(alg="EdDSA", kid="remembered", typ="vc+jwt")
    jws_module.check_yilu_header(from_parts(header, b"{}", bytes(64)))
    assert header in jws_module._YILU_HEADERS
    odd = jws_module.ParsedJWS(None, header, b"{}", bytes(64), {"alg": "EdDSA"})
    jws_module.check_yilu_header(odd)  # the same bytes: remembered
    other = jws_module.ParsedJWS(None, header + b" ", b"{}", bytes(64), {"alg": "EdDSA"})
    with pytest.raises(SignatureError):
        jws_module.check_yilu_header(other)
