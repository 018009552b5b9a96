"""Compact JWS: strict parsing, the alg allow-list, kid-as-hint and interop with jwcrypto."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from jwcrypto import jwk as jwc_jwk
from jwcrypto import jws as jwc_jws

from protocol import jws as jws_module
from protocol.encoding import b64url_decode, b64url_encode, dumps_compact
from protocol.errors import (
    InputTooLargeError,
    MalformedInputError,
    SignatureError,
    UnsupportedFormatError,
    YiluError,
)
from protocol.jws import (
    TYP_VC,
    ParsedJWS,
    assemble_compact,
    encode_header,
    from_parts,
    parse_compact,
    sign_compact,
    verify_raw,
    verify_signature,
    verify_with_any,
)
from protocol.keys import SigningKey, VerifyKey
from protocol.reasons import ReasonCode

PAYLOAD = dumps_compact({"id": "urn:test", "name": "崂山绿茶", "n": 1})


def token_with_header(
    header: dict[str, object], payload: bytes = PAYLOAD, signature: bytes = bytes(64)
) -> str:
    return ".".join(
        (b64url_encode(json.dumps(header).encode()), b64url_encode(payload), b64url_encode(signature))
    )


def resign(key: SigningKey, header: dict[str, object], payload: bytes = PAYLOAD) -> str:
    """A properly signed token with an arbitrary header (to get past the signature check)."""
    signing_input = f"{b64url_encode(json.dumps(header).encode())}.{b64url_encode(payload)}"
    return f"{signing_input}.{b64url_encode(key.sign(signing_input.encode()))}"


def hs256_forgery(secret: bytes, claims: dict[str, object], kid: str) -> str:
    """An HS256 token under ``secret``, made by hand as any JWT library would make it."""
    head = b64url_encode(dumps_compact({"alg": "HS256", "kid": kid, "typ": "vc+jwt"}))
    signing_input = f"{head}.{b64url_encode(dumps_compact(claims))}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url_encode(mac)}"


def tamper_payload(token: str) -> str:
    head, payload, sig = token.split(".")
    claims = json.loads(b64url_decode(payload))
    claims["n"] = claims.get("n", 0) + 1
    return f"{head}.{b64url_encode(dumps_compact(claims))}.{sig}"


@pytest.mark.parametrize("alg", ["EdDSA", "ES256"])
def test_sign_parse_verify_round_trip(keys: dict[str, SigningKey], alg: str) -> None:
    key = keys[alg]
    token = sign_compact(PAYLOAD, key, kid=key.public.kid, typ=TYP_VC)
    head, _, _ = token.split(".")
    assert b64url_decode(head) == f'{{"alg":"{alg}","kid":"{key.public.kid}","typ":"vc+jwt"}}'.encode()
    assert encode_header(alg=alg, kid=key.public.kid, typ=TYP_VC) == b64url_decode(head)
    parsed = parse_compact(token, expected_typ=TYP_VC)
    assert parsed.compact == token
    assert parsed.alg == alg
    assert parsed.kid == key.public.kid
    assert parsed.payload_bytes == PAYLOAD
    assert parsed.payload_json() == {"id": "urn:test", "name": "崂山绿茶", "n": 1}
    assert parsed.signing_input == token.rsplit(".", 1)[0].encode()
    assert len(parsed.signature) == 64
    assert assemble_compact(parsed.header_bytes, parsed.payload_bytes, parsed.signature) == token
    verify_signature(parsed, key.public)  # does not raise


@pytest.mark.parametrize("alg", ["EdDSA", "ES256"])
def test_tampered_payload_fails(keys: dict[str, SigningKey], alg: str) -> None:
    key = keys[alg]
    token = sign_compact(PAYLOAD, key, kid=key.public.kid, typ=TYP_VC)
    parsed = parse_compact(tamper_payload(token))
    with pytest.raises(SignatureError) as info:
        verify_signature(parsed, key.public)
    assert info.value.codes == (ReasonCode.SIGNATURE_INVALID,)


@pytest.mark.parametrize("alg", ["EdDSA", "ES256"])
def test_tampered_signature_and_header_fail(keys: dict[str, SigningKey], alg: str) -> None:
    key = keys[alg]
    token = sign_compact(PAYLOAD, key, kid=key.public.kid, typ=TYP_VC)
    head, payload, sig = token.split(".")
    raw = bytearray(b64url_decode(sig))
    raw[10] ^= 0x01
    bad_sig = f"{head}.{payload}.{b64url_encode(bytes(raw))}"
    other_head = b64url_encode(encode_header(alg=alg, kid="someoneElse", typ=TYP_VC))
    bad_head = f"{other_head}.{payload}.{sig}"
    for bad in (bad_sig, bad_head):
        with pytest.raises(SignatureError) as info:
            verify_signature(parse_compact(bad), key.public)
        assert info.value.codes == (ReasonCode.SIGNATURE_INVALID,)


def test_wrong_key_of_same_alg_fails(ed_key: SigningKey) -> None:
    token = sign_compact(PAYLOAD, ed_key, kid=ed_key.public.kid, typ=TYP_VC)
    with pytest.raises(SignatureError) as info:
        verify_signature(parse_compact(token), SigningKey.generate().public)
    assert info.value.codes == (ReasonCode.SIGNATURE_INVALID,)


# ---------------------------------------------------------------- the algorithm allow-list


@pytest.mark.parametrize(
    "alg",
    ["none", "None", "NONE", "HS256", "RS256", "PS256", "ES384", "ES256K", "Ed25519", "eddsa", "", None, 1],
)
def test_disallowed_alg_rejected_before_any_crypto(alg: object) -> None:
    token = token_with_header({"alg": alg, "typ": "vc+jwt"})
    with pytest.raises(UnsupportedFormatError) as info:
        parse_compact(token)
    assert info.value.code == ReasonCode.UNSUPPORTED_ALG


def test_missing_alg_rejected() -> None:
    with pytest.raises(UnsupportedFormatError) as info:
        parse_compact(token_with_header({"typ": "vc+jwt"}))
    assert info.value.code == ReasonCode.UNSUPPORTED_ALG


def test_alg_none_with_empty_signature_rejected() -> None:
    none_header = b64url_encode(b'{"alg":"none"}')
    token = f"{none_header}.{b64url_encode(PAYLOAD)}."
    with pytest.raises(UnsupportedFormatError) as info:
        parse_compact(token)
    assert info.value.code == ReasonCode.UNSUPPORTED_ALG


def test_hs256_key_confusion_attack_rejected(ed_key: SigningKey) -> None:
    """The classic attack: HMAC-sign with the lab's *public* key bytes as the secret."""
    public_raw = b64url_decode(ed_key.public.jwk["x"])
    claims = {"iss": "https://qdtc.example.cn", "forged": True}
    forged = hs256_forgery(public_raw, claims, ed_key.public.kid)
    # the forgery is a genuine HS256 token under that "secret" (RFC 7518, 3.2): the attack is real ...
    head, payload, sig = forged.split(".")
    mac = hmac.new(public_raw, f"{head}.{payload}".encode(), hashlib.sha256).digest()
    assert b64url_decode(sig) == mac and json.loads(b64url_decode(payload)) == claims
    # ... and Yilu refuses it before any key is consulted
    with pytest.raises(UnsupportedFormatError) as info:
        parse_compact(forged, expected_typ=TYP_VC)
    assert info.value.code == ReasonCode.UNSUPPORTED_ALG
    # defence in depth: even handed to verify_signature directly, the alg must be the key's
    smuggled = ParsedJWS(
        forged, b64url_decode(head), b64url_decode(payload), mac, json.loads(b64url_decode(head))
    )
    with pytest.raises(SignatureError) as err:
        verify_signature(smuggled, ed_key.public)
    assert err.value.codes == (ReasonCode.UNSUPPORTED_ALG,)


def test_hs256_with_jwk_x_string_as_secret_rejected(ed_key: SigningKey) -> None:
    forged = hs256_forgery(ed_key.public.jwk["x"].encode(), {"forged": True}, ed_key.public.kid)
    with pytest.raises(UnsupportedFormatError) as info:
        parse_compact(forged)
    assert info.value.code == ReasonCode.UNSUPPORTED_ALG


def test_rs256_rejected() -> None:
    token = token_with_header({"alg": "RS256", "kid": "abc", "typ": "vc+jwt"}, signature=bytes(256))
    with pytest.raises(UnsupportedFormatError) as info:
        parse_compact(token)
    assert info.value.code == ReasonCode.UNSUPPORTED_ALG


def test_header_alg_must_match_the_key(ed_key: SigningKey, es_key: SigningKey) -> None:
    # a token claiming EdDSA checked against an ES256 key, and vice versa
    ed_token = parse_compact(sign_compact(PAYLOAD, ed_key, kid="k", typ=TYP_VC))
    es_token = parse_compact(sign_compact(PAYLOAD, es_key, kid="k", typ=TYP_VC))
    for parsed, key in ((ed_token, es_key.public), (es_token, ed_key.public)):
        with pytest.raises(SignatureError) as info:
            verify_signature(parsed, key)
        assert info.value.codes == (ReasonCode.UNSUPPORTED_ALG,)
    # an ES256 signature relabelled as EdDSA does not verify with the ES256 key either
    relabelled = ".".join(
        (b64url_encode(encode_header(alg="EdDSA", kid="k", typ=TYP_VC)), *es_token.compact.split(".")[1:])
    )
    with pytest.raises(SignatureError) as info:
        verify_signature(parse_compact(relabelled), es_key.public)
    assert info.value.codes == (ReasonCode.UNSUPPORTED_ALG,)


@dataclass(frozen=True)
class _FakeSigner:
    alg: str

    def sign(self, signing_input: bytes) -> bytes:
        return hmac.new(b"k", signing_input, hashlib.sha256).digest()


@pytest.mark.parametrize("alg", ["HS256", "none", "RS256", "ES384"])
def test_sign_compact_refuses_other_algs(alg: str) -> None:
    with pytest.raises(UnsupportedFormatError):
        sign_compact(PAYLOAD, _FakeSigner(alg), kid="k", typ=TYP_VC)


# ---------------------------------------------------------------- header rules


@pytest.mark.parametrize("crit", [["exp"], [], ["b64"], "b64"])
def test_crit_header_rejected(ed_key: SigningKey, crit: object) -> None:
    token = resign(
        ed_key, {"alg": "EdDSA", "kid": ed_key.public.kid, "typ": "vc+jwt", "crit": crit, "exp": 1}
    )
    with pytest.raises(UnsupportedFormatError) as info:
        parse_compact(token)
    assert info.value.code == ReasonCode.UNSUPPORTED_FORMAT


def test_typ_checked_when_expected(ed_key: SigningKey) -> None:
    good = sign_compact(PAYLOAD, ed_key, kid="k", typ=TYP_VC)
    assert parse_compact(good, expected_typ="vc+jwt").header["typ"] == "vc+jwt"
    for typ in ("JWT", "vc+ld+jwt", "VC+JWT", "yilu-trust-list+jwt"):
        token = sign_compact(PAYLOAD, ed_key, kid="k", typ=typ)
        parse_compact(token)  # no expectation: fine
        with pytest.raises(UnsupportedFormatError) as info:
            parse_compact(token, expected_typ=TYP_VC)
        assert info.value.code == ReasonCode.UNSUPPORTED_FORMAT
    untyped = resign(ed_key, {"alg": "EdDSA", "kid": "k"})
    with pytest.raises(UnsupportedFormatError) as info:
        parse_compact(untyped, expected_typ=TYP_VC)
    assert info.value.code == ReasonCode.UNSUPPORTED_FORMAT


@pytest.mark.parametrize("kid", [1, None, ["a"], {"a": 1}, True])
def test_non_string_kid_rejected(kid: object) -> None:
    with pytest.raises(MalformedInputError) as info:
        parse_compact(token_with_header({"alg": "EdDSA", "kid": kid}))
    assert info.value.code == ReasonCode.MALFORMED


def test_missing_kid_is_empty_hint_but_no_yilu_header(ed_key: SigningKey) -> None:
    """Parsing reads a missing kid as the empty hint; the signature check then refuses
    the header, which is not the one Yilu writes (docs/formats.md, "JWS")."""
    parsed = parse_compact(resign(ed_key, {"alg": "EdDSA"}))
    assert parsed.kid == ""
    with pytest.raises(SignatureError) as info:
        verify_signature(parsed, ed_key.public)
    assert info.value.codes == (ReasonCode.MALFORMED,)


@pytest.mark.parametrize(
    "header",
    [
        b'{"alg":"EdDSA","kid":"k","typ":"vc+jwt","x":1}',  # an extra member
        b'{"alg":"EdDSA","typ":"vc+jwt","kid":"k"}',  # another order
        b'{"alg": "EdDSA","kid":"k","typ":"vc+jwt"}',  # a space
        b'{"alg":"EdDSA","kid":"k","kid":"k","typ":"vc+jwt"}',  # a duplicate
        rb'{"alg":"EdDSA","kid":"\u006b","typ":"vc+jwt"}',  # an escape
        b'{"alg":"EdDSA","kid":"k","typ":"vc+jwt","b64":true}',  # RFC 7797
    ],
)
def test_only_the_exact_yilu_header_verifies(ed_key: SigningKey, header: bytes) -> None:
    """A correctly signed token whose header is anything but ``encode_header``'s bytes (lenient
    JWS libraries accept many of these; which ones is their business, not this test's)."""
    signing_input = f"{b64url_encode(header)}.{b64url_encode(PAYLOAD)}"
    token = f"{signing_input}.{b64url_encode(ed_key.sign(signing_input.encode()))}"
    assert ed_key.public.verify(b64url_decode(token.split(".")[2]), signing_input.encode())  # genuine
    with pytest.raises(SignatureError) as info:
        verify_signature(parse_compact(token), ed_key.public)
    assert info.value.codes == (ReasonCode.MALFORMED,)


def test_header_jwk_is_ignored(ed_key: SigningKey) -> None:
    """An attacker's embedded key (``jwk`` header) must not make its own signature valid."""
    attacker = SigningKey.generate()
    token = resign(
        attacker,
        {"alg": "EdDSA", "kid": ed_key.public.kid, "typ": "vc+jwt", "jwk": dict(attacker.public.jwk)},
    )
    with pytest.raises(SignatureError) as info:
        verify_signature(parse_compact(token), ed_key.public)
    assert info.value.codes == (ReasonCode.MALFORMED,)  # not the header Yilu writes


# ---------------------------------------------------------------- malformed input


def _valid(ed_key: SigningKey) -> str:
    return sign_compact(PAYLOAD, ed_key, kid=ed_key.public.kid, typ=TYP_VC)


def _with_changed_padding_bits(part: str) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    assert len(part) % 4 in (2, 3)
    return part[:-1] + alphabet[alphabet.index(part[-1]) | 1]


def test_non_canonical_signature_encoding_rejected(ed_key: SigningKey) -> None:
    head, payload, sig = _valid(ed_key).split(".")
    assert len(sig) == 86  # 64 bytes: the last character carries 2 unused bits
    variant = _with_changed_padding_bits(sig)
    assert variant != sig
    with pytest.raises(MalformedInputError) as info:
        parse_compact(f"{head}.{payload}.{variant}")
    assert info.value.code == ReasonCode.MALFORMED
    with pytest.raises(MalformedInputError) as info:
        parse_compact(f"{head}.{payload}.{sig}==")
    assert info.value.code == ReasonCode.MALFORMED


def test_non_canonical_header_and_payload_encoding_rejected(ed_key: SigningKey) -> None:
    # header and payload lengths that are not multiples of 3 leave unused bits
    token = resign(ed_key, {"alg": "EdDSA", "kid": "k1"}, payload=b'{"a":1}')
    head, payload, sig = token.split(".")
    assert len(head) % 4 in (2, 3)
    assert len(payload) % 4 in (2, 3)
    parse_compact(token)
    for bad in (
        f"{_with_changed_padding_bits(head)}.{payload}.{sig}",
        f"{head}.{_with_changed_padding_bits(payload)}.{sig}",
        f"{head}=.{payload}.{sig}",
    ):
        with pytest.raises(MalformedInputError) as info:
            parse_compact(bad)
        assert info.value.code == ReasonCode.MALFORMED, bad


@pytest.mark.parametrize(
    "bad",
    [
        "",
        ".",
        "..",
        "a.b",
        "a.b.c.d",
        "eyJhbGciOiJFZERTQSJ9.e30",
        "eyJhbGciOiJFZERTQSJ9.e30.AAAA.AAAA",  # JWE-like five parts
        "eyJhbGciOiJFZERTQSJ9 .e30.AAAA",
        "eyJhbGciOiJFZERTQSJ9.e+0.AAAA",
        '{"payload":"e30","signatures":[]}',  # JSON serialization
        f"{b64url_encode(b'[1,2]')}.e30.AAAA",  # header not an object
        f"{b64url_encode(b'not json')}.e30.AAAA",
        f"{b64url_encode(bytes([0xFF, 0xFE]))}.e30.AAAA",
    ],
)
def test_malformed_tokens(bad: str) -> None:
    with pytest.raises(MalformedInputError) as info:
        parse_compact(bad)
    assert info.value.code == ReasonCode.MALFORMED


def test_too_long_token_rejected(ed_key: SigningKey) -> None:
    token = _valid(ed_key)
    assert parse_compact(token, max_chars=len(token)).compact == token
    with pytest.raises(InputTooLargeError) as info:
        parse_compact(token, max_chars=len(token) - 1)
    assert info.value.code == ReasonCode.MALFORMED


def test_payload_json_must_be_an_object(ed_key: SigningKey) -> None:
    for payload in (b"[1]", b"not json", b"\xff"):
        parsed = parse_compact(sign_compact(payload, ed_key, kid="k", typ=TYP_VC))
        verify_signature(parsed, ed_key.public)  # signature is fine ...
        with pytest.raises(MalformedInputError):
            parsed.payload_json()  # ... the payload is not a credential


# ---------------------------------------------------------------- a kid is a hint


def _same_kid(key: SigningKey, kid: str) -> VerifyKey:
    pub = key.public
    return VerifyKey(alg=pub.alg, kid=kid, jwk=pub.jwk, key=pub.key)


def test_verify_with_any_finds_the_right_key_among_same_kid(ed_key: SigningKey) -> None:
    shared = ed_key.public.kid
    decoys = [_same_kid(SigningKey.generate(), shared) for _ in range(3)]
    es_decoy = _same_kid(SigningKey.generate("ES256"), shared)
    right = ed_key.public
    parsed = parse_compact(_valid(ed_key))
    for candidates in ([*decoys, right], [right, *decoys], [decoys[0], es_decoy, right, decoys[1]]):
        assert verify_with_any(parsed, candidates) is right


def test_verify_with_any_fails_when_no_candidate_verifies(ed_key: SigningKey) -> None:
    parsed = parse_compact(_valid(ed_key))
    with pytest.raises(SignatureError) as info:
        verify_with_any(parsed, [SigningKey.generate().public, SigningKey.generate().public])
    assert info.value.codes == (ReasonCode.SIGNATURE_INVALID,)
    with pytest.raises(SignatureError) as info:
        verify_with_any(parsed, [])
    assert info.value.codes == (ReasonCode.UNKNOWN_KEY,)
    with pytest.raises(SignatureError) as info:
        verify_with_any(parse_compact(tamper_payload(_valid(ed_key))), [ed_key.public])
    assert info.value.codes == (ReasonCode.SIGNATURE_INVALID,)


# ---------------------------------------------------------------- RFC 8037 and interop


def test_rfc8037_a4_example_verifies() -> None:
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
    token = (
        "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc."
        "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
    )
    parsed = parse_compact(token)
    assert parsed.payload_bytes == b"Example of Ed25519 signing"
    assert verify_raw(parsed, VerifyKey.from_jwk(jwk))
    # its header {"alg":"EdDSA"} is not one Yilu writes: the certificate check refuses it
    with pytest.raises(SignatureError) as info:
        verify_signature(parsed, VerifyKey.from_jwk(jwk))
    assert info.value.codes == (ReasonCode.MALFORMED,)
    private = ed25519.Ed25519PrivateKey.from_private_bytes(
        b64url_decode("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A")
    )
    assert SigningKey("EdDSA", private).sign(parsed.signing_input) == parsed.signature


def _jwcrypto_verify(token: str, public_jwk: dict[str, str]) -> bytes:
    key = jwc_jwk.JWK(**public_jwk)
    assert not key.has_private
    obj = jwc_jws.JWS()
    obj.deserialize(token)
    obj.verify(key)
    payload: bytes = obj.payload
    return payload


@pytest.mark.parametrize("alg", ["EdDSA", "ES256"])
def test_vc_jwt_verifies_with_jwcrypto(
    keys: dict[str, SigningKey], reference_vc: Callable[..., str], alg: str
) -> None:
    token = reference_vc("green-tea-8", alg)
    public_jwk = dict(keys[alg].public.jwk)
    assert "d" not in public_jwk
    payload = _jwcrypto_verify(token, public_jwk)
    assert payload == parse_compact(token).payload_bytes
    assert json.loads(payload)["type"] == ["VerifiableCredential", "TestCertificateCredential"]


@pytest.mark.parametrize("alg", ["EdDSA", "ES256"])
def test_tampered_vc_jwt_fails_in_jwcrypto(
    keys: dict[str, SigningKey], reference_vc: Callable[..., str], alg: str
) -> None:
    token = reference_vc("green-tea-8", alg)
    head, payload, sig = token.split(".")
    claims = json.loads(b64url_decode(payload))
    claims["credentialSubject"]["conclusion"] = (
        "fail" if claims["credentialSubject"]["conclusion"] == "pass" else "pass"
    )
    tampered = f"{head}.{b64url_encode(dumps_compact(claims))}.{sig}"
    with pytest.raises(jwc_jws.InvalidJWSSignature):
        _jwcrypto_verify(tampered, dict(keys[alg].public.jwk))
    with pytest.raises(jwc_jws.InvalidJWSSignature):
        _jwcrypto_verify(token, dict(SigningKey.generate(alg).public.jwk))  # type: ignore[arg-type]
    # and Yilu agrees
    with pytest.raises(YiluError):
        verify_signature(parse_compact(tampered), keys[alg].public)


@pytest.mark.parametrize("alg", ["EdDSA", "ES256"])
def test_jwcrypto_signed_token_verifies_in_yilu(alg: str) -> None:
    """The other direction: a standard library's JWS (with Yilu's header) verifies here."""
    key = (
        jwc_jwk.JWK.generate(kty="OKP", crv="Ed25519")
        if alg == "EdDSA"
        else jwc_jwk.JWK.generate(kty="EC", crv="P-256")
    )
    public = VerifyKey.from_jwk(key.export_public(as_dict=True))
    obj = jwc_jws.JWS(PAYLOAD)
    # Yilu's header bytes exactly (compact JSON): other spellings are refused (docs/formats.md, "JWS")
    protected = encode_header(alg=alg, kid=public.kid, typ=TYP_VC).decode()
    obj.add_signature(key, alg=None, protected=protected)
    token = obj.serialize(compact=True)
    parsed = parse_compact(token, expected_typ=TYP_VC)
    verify_signature(parsed, public)
    assert parsed.payload_bytes == PAYLOAD


# ---------------------------------------------------------------- header caches


@pytest.mark.parametrize(
    "near_miss",
    [
        b'{"alg":"EdDSA","kid":"KID","typ":"vc+jwt","x":1}',
        b'{"alg":"EdDSA","typ":"vc+jwt","kid":"KID"}',
        b'{"alg": "EdDSA","kid":"KID","typ":"vc+jwt"}',
        b'{"alg":"EdDSA","kid":"KID","typ":"vc+jwt"} ',
        b'{"alg":"EdDSA","kid":"KID","kid":"KID","typ":"vc+jwt"}',
        b'{"alg":"EdDSA","kid":"KID","typ":"vc\\u002bjwt"}',  # an escape of the same typ
        b'{"alg":"EdDSA","kid":"KIDx","typ":"vc+jwt","b64":true}',
    ],
)
def test_cached_headers_refuse_near_misses(ed_key: SigningKey, near_miss: bytes) -> None:
    """Once the genuine header is cached (parsed, and found to be Yilu's), a header that
    differs from it in any byte is parsed and checked afresh, and still refused
    (docs/verifying.md, "Verification order", step 3)."""
    kid = ed_key.public.kid
    genuine = encode_header(alg="EdDSA", kid=kid, typ=TYP_VC)
    payload = b'{"a":1}'

    def signed(header: bytes) -> ParsedJWS:
        unsigned = from_parts(header, payload, b"\0" * 64)
        return from_parts(header, payload, ed_key.sign(unsigned.signing_input))

    for _ in range(2):  # the second time from the caches
        verify_signature(signed(genuine), ed_key.public)
    assert genuine in jws_module._PARSED_HEADERS and genuine in jws_module._YILU_HEADERS
    miss = near_miss.replace(b"KID", kid.encode())
    for _ in range(2):
        with pytest.raises(SignatureError) as info:
            verify_signature(signed(miss), ed_key.public)
        assert info.value.codes == (ReasonCode.MALFORMED,)
    assert miss not in jws_module._YILU_HEADERS


def test_cached_header_is_a_fresh_dict_each_time(ed_key: SigningKey) -> None:
    """Changing one parsed header changes neither the cache nor the next parse."""
    header = encode_header(alg="EdDSA", kid=ed_key.public.kid, typ=TYP_VC)
    first = from_parts(header, b"{}", b"\0" * 64)
    first.header["alg"] = "none"
    second = from_parts(header, b"{}", b"\0" * 64)
    assert second.header == json.loads(header) and second.header is not first.header


def test_header_errors_are_never_cached() -> None:
    bad = b'{"alg":"HS256","kid":"k","typ":"vc+jwt"}'
    for _ in range(2):
        with pytest.raises(UnsupportedFormatError) as info:
            from_parts(bad, b"{}", b"\0" * 64)
        assert info.value.code == ReasonCode.UNSUPPORTED_ALG
    assert bad not in jws_module._PARSED_HEADERS
