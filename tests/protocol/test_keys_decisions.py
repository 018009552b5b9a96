"""Exact decisions of protocol/keys.py (issue 8, mutation testing; docs/testing.md)."""

from __future__ import annotations

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
