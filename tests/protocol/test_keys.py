"""Ed25519 / P-256 keys, JWK parsing, RFC 7638 kids and encrypted PEM files."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from protocol.encoding import b64url_decode, b64url_encode
from protocol.errors import MalformedInputError, SecretError, UnsupportedFormatError
from protocol.keys import (
    ALLOWED_ALGS,
    KID_CHARS,
    SigningKey,
    VerifyKey,
    jwk_thumbprint,
    kid_for,
)
from protocol.storage import load_key, save_key

# RFC 8037 Appendix A.1-A.3: an Ed25519 key and its RFC 7638 thumbprint.
RFC8037_D = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
RFC8037_X = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
RFC8037_THUMBPRINT = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
# A fixed P-256 public key (derived from a fixed scalar, so the test is reproducible).
_EC_NUMBERS = ec.derive_private_key(0x1D1A_5EED_C0FFEE, ec.SECP256R1()).public_key().public_numbers()
FIXED_EC = {
    "kty": "EC",
    "crv": "P-256",
    "x": b64url_encode(_EC_NUMBERS.x.to_bytes(32, "big")),
    "y": b64url_encode(_EC_NUMBERS.y.to_bytes(32, "big")),
}
# RFC 7638 §3.1: the example RSA key (Yilu supports no RSA).
RFC7638_RSA = {
    "kty": "RSA",
    "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECP"
    "ebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQ"
    "MicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRw"
    "r3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
    "e": "AQAB",
}


def ed25519_jwk(raw: bytes) -> dict[str, str]:
    return {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(raw)}


@pytest.mark.parametrize("alg", ["EdDSA", "ES256"])
def test_generate_sign_verify(alg: str) -> None:
    key = SigningKey.generate(alg)  # type: ignore[arg-type]
    assert key.alg == alg
    pub = key.public
    assert pub.alg == alg
    msg = b"header.payload"
    sig = key.sign(msg)
    assert len(sig) == 64
    assert pub.verify(sig, msg)
    assert not pub.verify(sig, msg + b"x")
    assert not pub.verify(bytes(64), msg)
    assert not pub.verify(sig[:-1], msg)
    assert not pub.verify(b"", msg)
    # another key of the same kind does not verify it
    assert not SigningKey.generate(alg).public.verify(sig, msg)  # type: ignore[arg-type]


def test_es256_signature_is_raw_r_s_not_der() -> None:
    key = SigningKey.generate("ES256")
    sig = key.sign(b"m")
    assert len(sig) == 64  # DER would be 70-72 bytes
    der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
    public = key.key.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    public.verify(der, b"m", ec.ECDSA(hashes.SHA256()))  # raises if r||s were wrong
    assert not key.public.verify(der, b"m")  # DER is not the JWS form
    assert not key.public.verify(sig[32:] + sig[:32], b"m")


def test_generate_refuses_other_algorithms() -> None:
    for alg in ("RS256", "HS256", "none", "ES384", ""):
        with pytest.raises(UnsupportedFormatError):
            SigningKey.generate(alg)  # type: ignore[arg-type]
    assert frozenset({"EdDSA", "ES256"}) == ALLOWED_ALGS


def test_kid_is_rfc7638_thumbprint_prefix_of_rfc8037_key() -> None:
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X}
    canonical = ('{"crv":"Ed25519","kty":"OKP","x":"' + RFC8037_X + '"}').encode()
    by_hand = base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()
    assert by_hand == RFC8037_THUMBPRINT
    assert jwk_thumbprint(jwk) == RFC8037_THUMBPRINT
    assert KID_CHARS == 11
    assert kid_for(jwk) == RFC8037_THUMBPRINT[:11] == "kPrK_qmxVWa"
    assert VerifyKey.from_jwk(jwk).kid == "kPrK_qmxVWa"


def test_private_rfc8037_key_gives_the_same_public_key_and_signature() -> None:
    private = ed25519.Ed25519PrivateKey.from_private_bytes(b64url_decode(RFC8037_D))
    key = SigningKey("EdDSA", private)
    assert key.public.jwk == {"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X}
    # RFC 8037 A.4: Ed25519 is deterministic, so the signature is the RFC's.
    signing_input = b"eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc"
    assert b64url_encode(key.sign(signing_input)) == (
        "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
    )


def test_thumbprint_ignores_member_order_and_extra_members() -> None:
    a = {"x": RFC8037_X, "crv": "Ed25519", "kty": "OKP", "use": "sig", "alg": "EdDSA", "kid": "zzz"}
    assert jwk_thumbprint(a) == RFC8037_THUMBPRINT
    assert VerifyKey.from_jwk(a).jwk == {"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X}


def test_ec_thumbprint_by_hand() -> None:
    canonical = (
        '{"crv":"P-256","kty":"EC","x":"' + FIXED_EC["x"] + '","y":"' + FIXED_EC["y"] + '"}'
    ).encode()
    expected = b64url_encode(hashlib.sha256(canonical).digest())
    assert jwk_thumbprint(FIXED_EC) == expected
    key = VerifyKey.from_jwk(FIXED_EC)
    assert key.alg == "ES256"
    assert key.kid == expected[:11]


@pytest.mark.parametrize("alg", ["EdDSA", "ES256"])
def test_generated_key_kid_matches_by_hand(alg: str) -> None:
    pub = SigningKey.generate(alg).public  # type: ignore[arg-type]
    members = sorted(pub.jwk.items())
    canonical = "{" + ",".join(f'"{k}":"{v}"' for k, v in members) + "}"
    assert pub.kid == b64url_encode(hashlib.sha256(canonical.encode()).digest())[:11]


def test_different_keys_have_different_kids() -> None:
    kids = {SigningKey.generate().public.kid for _ in range(20)}
    assert len(kids) == 20


def test_rfc7638_rsa_example_is_unsupported() -> None:
    with pytest.raises(UnsupportedFormatError):
        jwk_thumbprint(RFC7638_RSA)
    with pytest.raises(UnsupportedFormatError):
        VerifyKey.from_jwk(RFC7638_RSA)


def test_thumbprint_of_incomplete_jwk_raises_yilu_error() -> None:
    with pytest.raises(MalformedInputError):
        jwk_thumbprint({"kty": "OKP", "crv": "Ed25519"})


def test_from_jwk_round_trip_and_verify() -> None:
    key = SigningKey.generate("ES256")
    again = VerifyKey.from_jwk(dict(key.public.jwk))
    assert again == key.public
    assert again.verify(key.sign(b"x"), b"x")


@pytest.mark.parametrize(
    ("jwk", "error"),
    [
        ({"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X, "d": RFC8037_D}, MalformedInputError),
        ({**FIXED_EC, "d": b64url_encode((0x1D1A_5EED_C0FFEE).to_bytes(32, "big"))}, MalformedInputError),
        ({"kty": "OKP", "crv": "Ed25519"}, MalformedInputError),
        ({"kty": "EC", "crv": "P-256", "x": FIXED_EC["x"]}, MalformedInputError),
        ({"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(bytes(31))}, MalformedInputError),
        ({"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(bytes(33))}, MalformedInputError),
        ({"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X + "="}, MalformedInputError),
        ({"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X[:-1] + "p"}, MalformedInputError),
        ({"kty": "OKP", "crv": "Ed25519", "x": 12345}, MalformedInputError),
        ({**FIXED_EC, "x": b64url_encode(bytes(31))}, MalformedInputError),
        ({**FIXED_EC, "y": b64url_encode(bytes(33))}, MalformedInputError),
        ({**FIXED_EC, "y": FIXED_EC["x"]}, MalformedInputError),  # not on the curve
        ({"kty": "OKP", "crv": "X25519", "x": RFC8037_X}, UnsupportedFormatError),
        ({"kty": "OKP", "crv": "Ed448", "x": RFC8037_X}, UnsupportedFormatError),
        ({**FIXED_EC, "crv": "P-384"}, UnsupportedFormatError),
        ({**FIXED_EC, "crv": "secp256k1"}, UnsupportedFormatError),
        ({"kty": "oct", "k": "c2VjcmV0"}, UnsupportedFormatError),
        (RFC7638_RSA, UnsupportedFormatError),
        ({}, UnsupportedFormatError),
        ({"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X, "alg": "ES256"}, MalformedInputError),
        ({"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X, "alg": "HS256"}, MalformedInputError),
        ({**FIXED_EC, "alg": "EdDSA"}, MalformedInputError),
        ({**FIXED_EC, "alg": "ES384"}, MalformedInputError),
    ],
)
def test_from_jwk_rejects(jwk: dict[str, object], error: type[Exception]) -> None:
    with pytest.raises(error):
        VerifyKey.from_jwk(jwk)


def test_from_jwk_rejects_non_mapping() -> None:
    for bad in (["kty", "OKP"], "OKP", None, 3):
        with pytest.raises(MalformedInputError):
            VerifyKey.from_jwk(bad)  # type: ignore[arg-type]


def test_from_jwk_accepts_matching_alg() -> None:
    assert VerifyKey.from_jwk({"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X, "alg": "EdDSA"}).alg == "EdDSA"
    assert VerifyKey.from_jwk({**FIXED_EC, "alg": "ES256"}).alg == "ES256"


# ---------------------------------------------------------------- encrypted PEM


@pytest.mark.parametrize("alg", ["EdDSA", "ES256"])
def test_encrypted_pem_round_trip(alg: str) -> None:
    key = SigningKey.generate(alg)  # type: ignore[arg-type]
    pem = key.to_encrypted_pem("correct horse 电池 стейпл")
    assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    again = SigningKey.from_encrypted_pem(pem, "correct horse 电池 стейпл")
    assert again.alg == alg
    assert again.public == key.public
    assert key.public.verify(again.sign(b"m"), b"m")


def test_encrypted_pem_wrong_passphrase() -> None:
    pem = SigningKey.generate().to_encrypted_pem("right")
    for wrong in ("wrong", "Right", "right ", ""):
        with pytest.raises(SecretError):
            SigningKey.from_encrypted_pem(pem, wrong)


def test_encrypted_pem_damaged() -> None:
    pem = SigningKey.generate().to_encrypted_pem("pw")
    lines = pem.split(b"\n")
    lines[2] = lines[2][:10] + (b"A" if lines[2][10:11] != b"A" else b"B") + lines[2][11:]
    with pytest.raises(SecretError):
        SigningKey.from_encrypted_pem(b"\n".join(lines), "pw")
    with pytest.raises(SecretError):
        SigningKey.from_encrypted_pem(b"-----BEGIN ENCRYPTED PRIVATE KEY-----\ngarbage\n", "pw")


def test_unencrypted_pem_refused() -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    clear = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(SecretError, match="clear"):
        SigningKey.from_encrypted_pem(clear, "anything")


def test_empty_passphrase_refused_when_writing() -> None:
    with pytest.raises(SecretError):
        SigningKey.generate().to_encrypted_pem("")


@pytest.mark.parametrize("kind", ["P-384", "RSA"])
def test_encrypted_pem_of_other_key_types_refused(kind: str) -> None:
    private = (
        ec.generate_private_key(ec.SECP384R1())
        if kind == "P-384"
        else rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"pw"),
    )
    with pytest.raises(SecretError):
        SigningKey.from_encrypted_pem(pem, "pw")


def test_storage_save_and_load_key(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "lab.pem"
    key = SigningKey.generate("ES256")
    save_key(path, key, "pw")
    assert path.stat().st_mode & 0o777 == 0o600
    assert b"ENCRYPTED" in path.read_bytes()
    assert load_key(path, "pw").public == key.public
    with pytest.raises(SecretError):
        load_key(path, "nope")
    with pytest.raises(SecretError):
        load_key(tmp_path / "missing.pem", "pw")


@pytest.mark.parametrize("alg", ["EdDSA", "ES256"])
def test_the_fast_kid_is_the_rfc7638_thumbprint(alg: Any) -> None:
    """from_jwk writes the RFC 7638 input itself (no JSON encoder): it must equal kid_for."""
    for _ in range(25):
        jwk = dict(SigningKey.generate(alg).public.jwk)
        assert VerifyKey.from_jwk(jwk).kid == kid_for(jwk) == jwk_thumbprint(jwk)[:11]
