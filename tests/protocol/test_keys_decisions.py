"""Exact decisions of protocol/keys.py (issue 8, mutation testing; docs/testing.md)."""

from __future__ import annotations

import pytest

from protocol.encoding import b64url_decode, b64url_encode
from protocol.errors import MalformedInputError
from protocol.keys import SigningKey, VerifyKey


def test_a_verify_key_is_shown_and_compared_by_its_jwk_not_its_key_object() -> None:
    """The cryptography key object is derived from the JWK: it is neither shown nor compared."""
    public = SigningKey.generate().public
    other = SigningKey.generate().public
    assert repr(public) == f"VerifyKey(alg='EdDSA', kid={public.kid!r}, jwk={dict(public.jwk)!r})"
    same_jwk_other_object = VerifyKey(alg=public.alg, kid=public.kid, jwk=public.jwk, key=other.key)
    assert same_jwk_other_object == public
    assert public != other


def test_a_signing_key_never_shows_its_private_key() -> None:
    for alg in ("EdDSA", "ES256"):
        assert repr(SigningKey.generate(alg)) == f"SigningKey(alg={alg!r})"  # type: ignore[arg-type]


def _p256_key_with_short_coordinate(coordinate: str) -> tuple[SigningKey, dict[str, str]]:
    """A P-256 key whose ``coordinate`` ("x" or "y") has a leading zero byte, and its JWK."""
    while True:
        key = SigningKey.generate("ES256")
        jwk = dict(key.public.jwk)
        if b64url_decode(jwk[coordinate])[0] == 0:
            return key, jwk


@pytest.mark.parametrize("coordinate", ["x", "y"])
def test_a_p256_coordinate_is_exactly_32_bytes_even_with_a_leading_zero(coordinate: str) -> None:
    """Leading zeros are written (RFC 7518 §6.2.1.2): a 31-byte coordinate of the same point is refused."""
    key, jwk = _p256_key_with_short_coordinate(coordinate)
    assert VerifyKey.from_jwk(jwk) == key.public
    short = {**jwk, coordinate: b64url_encode(b64url_decode(jwk[coordinate])[1:])}
    with pytest.raises(MalformedInputError, match="32 bytes"):
        VerifyKey.from_jwk(short)


@pytest.mark.parametrize("alg", ["EdDSA", "ES256"])
def test_a_signature_is_exactly_64_bytes(alg: str) -> None:
    """ES256 is r || s, 32 bytes each (RFC 7518 §3.4): a zero byte more is another signature."""
    key = SigningKey.generate(alg)  # type: ignore[arg-type]
    signature = key.sign(b"input")
    assert len(signature) == 64 and key.public.verify(signature, b"input") is True
    r, s = signature[:32], signature[32:]
    for longer in (b"\x00" + signature, r + b"\x00" + s, signature + b"\x00"):
        assert key.public.verify(longer, b"input") is False
    assert key.public.verify(signature[:63], b"input") is False
    assert key.public.verify(signature, b"inpuT") is False


@pytest.mark.parametrize("size", [0, 31, 33, 64])
def test_an_ed25519_key_of_another_length_is_refused_as_such(size: int) -> None:
    """The refusal says what is wrong (a dropped key's reason is shown, docs/verifying.md)."""
    with pytest.raises(MalformedInputError) as info:
        VerifyKey.from_jwk({"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(bytes(size))})
    assert str(info.value) == "an Ed25519 key is 32 bytes"
