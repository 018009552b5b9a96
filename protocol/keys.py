"""Signing and verification keys: Ed25519 (default) and P-256, as JWKs with RFC 7638 kids.

Private keys are only ever written encrypted (PKCS#8 with a passphrase); see
docs/architecture.md, "Secrets".
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from protocol.encoding import b64url_decode, b64url_encode, dumps_compact
from protocol.errors import MalformedInputError, SecretError, UnsupportedFormatError

Alg = Literal["EdDSA", "ES256"]
#: The only JWS algorithms Yilu signs with or accepts (DESIGN.md, "Credential").
ALLOWED_ALGS: Final[frozenset[str]] = frozenset({"EdDSA", "ES256"})

PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey
PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey


#: A kid is the first 11 characters (66 bits) of the key's RFC 7638 thumbprint: enough to
#: find the key among millions, short enough for the QR (docs/formats.md, "Key ids").
#: It is a hint, not an identity: verifiers try every key that shares it.
KID_CHARS: Final = 11


def kid_for(jwk: Mapping[str, Any]) -> str:
    """The Yilu key id of a public JWK: its RFC 7638 thumbprint, cut to :data:`KID_CHARS`."""
    return jwk_thumbprint(jwk)[:KID_CHARS]


def jwk_thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638 SHA-256 thumbprint (base64url) over the required members only."""
    kty = jwk.get("kty")
    try:
        if kty == "OKP":
            members = {"crv": jwk["crv"], "kty": "OKP", "x": jwk["x"]}
        elif kty == "EC":
            members = {"crv": jwk["crv"], "kty": "EC", "x": jwk["x"], "y": jwk["y"]}
        else:
            raise UnsupportedFormatError(f"unsupported JWK key type {kty!r}")
    except KeyError as exc:
        raise MalformedInputError(f"JWK lacks member {exc.args[0]!r}") from exc
    return b64url_encode(hashlib.sha256(dumps_compact(members)).digest())


@dataclass(frozen=True, slots=True)
class VerifyKey:
    """A public key taken from trust data, ready to check signatures."""

    alg: Alg
    kid: str
    jwk: Mapping[str, str]
    key: PublicKey = field(repr=False, compare=False)

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any]) -> VerifyKey:
        """Parse a public JWK strictly: Ed25519 (OKP) or P-256 (EC), no private parts."""
        if not isinstance(jwk, Mapping):
            raise MalformedInputError("a JWK must be a JSON object")
        if "d" in jwk:
            raise MalformedInputError("a public JWK must not contain a private key ('d')")
        kty, crv = jwk.get("kty"), jwk.get("crv")
        try:
            if kty == "OKP" and crv == "Ed25519":
                raw = b64url_decode(str(jwk["x"]))
                if len(raw) != 32:
                    raise MalformedInputError("an Ed25519 key is 32 bytes")
                public: PublicKey = ed25519.Ed25519PublicKey.from_public_bytes(raw)
                alg: Alg = "EdDSA"
                clean = {"kty": "OKP", "crv": "Ed25519", "x": str(jwk["x"])}
            elif kty == "EC" and crv == "P-256":
                x, y = b64url_decode(str(jwk["x"])), b64url_decode(str(jwk["y"]))
                if len(x) != 32 or len(y) != 32:
                    raise MalformedInputError("P-256 coordinates are 32 bytes each")
                public = ec.EllipticCurvePublicNumbers(
                    int.from_bytes(x, "big"), int.from_bytes(y, "big"), ec.SECP256R1()
                ).public_key()
                alg = "ES256"
                clean = {"kty": "EC", "crv": "P-256", "x": str(jwk["x"]), "y": str(jwk["y"])}
            else:
                raise UnsupportedFormatError(f"unsupported key type {kty!r}/{crv!r}")
        except KeyError as exc:
            raise MalformedInputError(f"JWK lacks member {exc.args[0]!r}") from exc
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise MalformedInputError("JWK is not a valid public key") from exc
        declared = jwk.get("alg")
        if declared is not None and declared != alg:
            raise MalformedInputError(f"JWK alg {declared!r} does not match its key type")
        # The members were just checked to be canonical base64url, so the RFC 7638 input is
        # written directly (what jwk_thumbprint would serialise, without a JSON encoder).
        if alg == "EdDSA":
            canonical = f'{{"crv":"Ed25519","kty":"OKP","x":"{clean["x"]}"}}'
        else:
            canonical = f'{{"crv":"P-256","kty":"EC","x":"{clean["x"]}","y":"{clean["y"]}"}}'
        kid = b64url_encode(hashlib.sha256(canonical.encode("ascii")).digest())[:KID_CHARS]
        return cls(alg=alg, kid=kid, jwk=clean, key=public)

    def verify(self, signature: bytes, signing_input: bytes) -> bool:
        """True if ``signature`` (JWS form) is valid over ``signing_input``."""
        try:
            if isinstance(self.key, ed25519.Ed25519PublicKey):
                self.key.verify(signature, signing_input)
            else:
                if len(signature) != 64:
                    return False
                r = int.from_bytes(signature[:32], "big")
                s = int.from_bytes(signature[32:], "big")
                self.key.verify(encode_dss_signature(r, s), signing_input, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True, slots=True)
class SigningKey:
    """A private key held in memory to sign; written to disk only encrypted."""

    alg: Alg
    key: PrivateKey = field(repr=False)

    @classmethod
    def generate(cls, alg: Alg = "EdDSA") -> SigningKey:
        """A fresh key: Ed25519 for ``EdDSA`` (the default), P-256 for ``ES256``."""
        if alg == "EdDSA":
            return cls(alg="EdDSA", key=ed25519.Ed25519PrivateKey.generate())
        if alg == "ES256":
            return cls(alg="ES256", key=ec.generate_private_key(ec.SECP256R1()))
        raise UnsupportedFormatError(f"unsupported algorithm {alg!r}")

    @property
    def public(self) -> VerifyKey:
        """The matching public key (computed, not cached: keys are small)."""
        from cryptography.hazmat.primitives import serialization  # lazy: not on the verify path

        pub = self.key.public_key()
        if isinstance(pub, ed25519.Ed25519PublicKey):
            raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            return VerifyKey.from_jwk({"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(raw)})
        numbers = pub.public_numbers()
        return VerifyKey.from_jwk(
            {
                "kty": "EC",
                "crv": "P-256",
                "x": b64url_encode(numbers.x.to_bytes(32, "big")),
                "y": b64url_encode(numbers.y.to_bytes(32, "big")),
            }
        )

    def sign(self, signing_input: bytes) -> bytes:
        """Sign as JWS does: raw Ed25519, or ES256 as the 64-byte r||s."""
        if isinstance(self.key, ed25519.Ed25519PrivateKey):
            return self.key.sign(signing_input)
        der = self.key.sign(signing_input, ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    def to_encrypted_pem(self, passphrase: str) -> bytes:
        """PKCS#8 PEM encrypted with ``passphrase`` (refuses an empty one)."""
        if not passphrase:
            raise SecretError("refusing to write a private key without a passphrase")
        from cryptography.hazmat.primitives import serialization  # lazy: not on the verify path

        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(passphrase.encode()),
        )

    @classmethod
    def from_encrypted_pem(cls, pem: bytes, passphrase: str) -> SigningKey:
        """Open an encrypted PKCS#8 PEM; unencrypted keys are refused."""
        if b"ENCRYPTED" not in pem:
            raise SecretError("refusing a private key stored in clear")
        from cryptography.hazmat.primitives import serialization  # lazy: not on the verify path

        try:
            key = serialization.load_pem_private_key(pem, passphrase.encode())
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise SecretError("cannot open the private key: wrong passphrase or damaged file") from exc
        if isinstance(key, ed25519.Ed25519PrivateKey):
            return cls(alg="EdDSA", key=key)
        if isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1):
            return cls(alg="ES256", key=key)
        raise SecretError("the private key is neither Ed25519 nor P-256")
