"""Compact JWS (RFC 7515) as VC-JOSE-COSE uses it: parse strictly, sign, verify.

Keys always come from trust data, never from the JWS header (docs/verifying.md):
``kid`` only selects candidates. Signatures are checked here, without a JOSE library
(docs/formats.md, "JWS", "Verifying"): strict canonical base64url, exactly the header
Yilu writes, an allow-list of exactly the key's algorithm, 64-byte raw signatures.
pyjwt is the test oracle for these rules (tests/protocol/test_jws_differential.py).
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any, Final, Protocol

from protocol.encoding import b64url_decode, b64url_encode, dumps_compact, loads_json_object
from protocol.errors import (
    InputTooLargeError,
    MalformedInputError,
    SignatureError,
    UnsupportedFormatError,
)
from protocol.keys import ALLOWED_ALGS, VerifyKey
from protocol.reasons import ReasonCode

#: Largest compact JWS accepted anywhere (a trust list for 120,000 labs fits in a bundle,
#: which has its own, larger bound; certificates are far smaller).
MAX_JWS_CHARS: Final = 64 * 1024 * 1024
TYP_VC: Final = "vc+jwt"


class Signer(Protocol):
    """Anything that can sign a JWS signing input: an in-memory key or an HSM."""

    @property
    def alg(self) -> str: ...

    def sign(self, signing_input: bytes) -> bytes: ...


class ParsedJWS:
    """A compact JWS split into its parts; nothing in it is verified yet.

    The payload may be left encoded (``parse_compact(..., decode_payload=False)``) so that
    a large signed object is not decoded, let alone parsed, before its signature is
    checked (docs/verifying.md, "Trust data"); it is decoded on first use.
    """

    __slots__ = ("_compact", "_payload", "_signing_input", "header", "header_bytes", "signature")

    def __init__(
        self,
        compact: str | None,
        header_bytes: bytes,
        payload_bytes: bytes | None,
        signature: bytes,
        header: dict[str, Any],
    ) -> None:
        self._compact = compact  # None: built from the signing input on first use
        self.header_bytes = header_bytes
        self._payload = payload_bytes
        self.signature = signature
        self.header = header
        self._signing_input: bytes | None = None

    @property
    def compact(self) -> str:
        """The compact serialisation (for a JWS made by :func:`from_parts`, built on first use)."""
        if self._compact is None:
            self._compact = self.signing_input.decode("ascii") + "." + _b64(self.signature).decode("ascii")
        return self._compact

    @property
    def payload_bytes(self) -> bytes:
        if self._payload is None:
            part = self.compact[self.compact.index(".") + 1 : self.compact.rindex(".")]
            try:
                self._payload = b64url_decode(part)
            except MalformedInputError as exc:
                raise MalformedInputError(f"JWS payload: {exc}", code=ReasonCode.MALFORMED) from exc
        return self._payload

    @property
    def alg(self) -> str:
        return str(self.header["alg"])

    @property
    def kid(self) -> str:
        return str(self.header.get("kid", ""))

    @property
    def signing_input(self) -> bytes:
        if self._signing_input is None:
            self._signing_input = self.compact[: self.compact.rindex(".")].encode("ascii")
        return self._signing_input

    def payload_json(self) -> dict[str, Any]:
        """The payload as a JSON object (raises MalformedInputError otherwise)."""
        return loads_json_object(self.payload_bytes, "JWS payload")


_COMPACT_CHARS: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")


def looks_like_compact(text: str) -> bool:
    """True if ``text`` has the shape of a compact JWS: three base64url parts."""
    return text.count(".") == 2 and _COMPACT_CHARS.issuperset(text)


def encode_header(*, alg: str, kid: str, typ: str) -> bytes:
    """The protected header bytes Yilu writes: always ``alg``, ``kid``, ``typ`` in that order."""
    return dumps_compact({"alg": alg, "kid": kid, "typ": typ})


def sign_compact(payload: bytes, signer: Signer, *, kid: str, typ: str) -> str:
    """Sign ``payload`` bytes as a compact JWS with a Yilu header."""
    if signer.alg not in ALLOWED_ALGS:
        raise UnsupportedFormatError(f"refusing to sign with {signer.alg!r}")
    header = encode_header(alg=signer.alg, kid=kid, typ=typ)
    signing_input = f"{b64url_encode(header)}.{b64url_encode(payload)}".encode("ascii")
    return f"{signing_input.decode('ascii')}.{b64url_encode(signer.sign(signing_input))}"


def assemble_compact(header_bytes: bytes, payload_bytes: bytes, signature: bytes) -> str:
    """Rebuild the compact JWS byte for byte from its decoded parts."""
    return ".".join((b64url_encode(header_bytes), b64url_encode(payload_bytes), b64url_encode(signature)))


def parse_compact(
    token: str,
    *,
    expected_typ: str | None = None,
    max_chars: int = MAX_JWS_CHARS,
    decode_payload: bool = True,
) -> ParsedJWS:
    """Split and decode a compact JWS, checking its header against the allow-list.

    With ``decode_payload=False`` the payload stays encoded until first used (for signed
    objects whose signature must be checked before their bulk is touched).

    Raises :class:`MalformedInputError` (code MALFORMED), :class:`InputTooLargeError`,
    or :class:`UnsupportedFormatError` with code UNSUPPORTED_ALG or UNSUPPORTED_FORMAT.
    """
    if len(token) > max_chars:
        raise InputTooLargeError(f"JWS longer than {max_chars} characters", code=ReasonCode.MALFORMED)
    if not token.isascii():
        raise MalformedInputError("a compact JWS is ASCII text", code=ReasonCode.MALFORMED)
    parts = token.split(".")
    if len(parts) != 3:
        raise MalformedInputError(
            "a compact JWS has exactly three dot-separated parts", code=ReasonCode.MALFORMED
        )
    try:
        header_bytes, signature = b64url_decode(parts[0]), b64url_decode(parts[2])
        payload_bytes = b64url_decode(parts[1]) if decode_payload else None
        header = loads_json_object(header_bytes, "JWS header")
    except MalformedInputError as exc:
        raise MalformedInputError(str(exc), code=ReasonCode.MALFORMED) from exc
    _check_header(header, expected_typ)
    return ParsedJWS(token, header_bytes, payload_bytes, signature, header)


def _check_header(header: dict[str, Any], expected_typ: str | None) -> None:
    """The header rules of :func:`parse_compact` (docs/formats.md, "JWS", "Parsing")."""
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in ALLOWED_ALGS:
        raise UnsupportedFormatError(f"algorithm {alg!r} is not allowed", code=ReasonCode.UNSUPPORTED_ALG)
    if "crit" in header:
        raise UnsupportedFormatError(
            "critical header parameters are not supported", code=ReasonCode.UNSUPPORTED_FORMAT
        )
    if "kid" in header and not isinstance(header["kid"], str):
        raise MalformedInputError("kid must be a string", code=ReasonCode.MALFORMED)
    if expected_typ is not None and header.get("typ") != expected_typ:
        raise UnsupportedFormatError(
            f"expected typ {expected_typ!r}, got {header.get('typ')!r}",
            code=ReasonCode.UNSUPPORTED_FORMAT,
        )


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


#: Header bytes already parsed and checked by :func:`from_parts`, with their parsed form
#: and base64url: a verifier sees the same few headers (one per lab key) again and again.
#: Keyed by the exact bytes, so only an identical header reuses an entry; errors are never
#: cached. Cleared when full (a bound, not a policy: a miss only costs the JSON parse).
_PARSED_HEADERS: dict[bytes, tuple[dict[str, Any], bytes]] = {}
#: Header bytes found to be exactly the header Yilu writes (:func:`check_yilu_header`).
_YILU_HEADERS: set[bytes] = set()
HEADER_CACHE_SIZE: Final = 1024


def from_parts(header_bytes: bytes, payload_bytes: bytes, signature: bytes) -> ParsedJWS:
    """The compact JWS made of already decoded parts (a ``YL1:`` envelope), parsed.

    Unpadded base64url of bytes is canonical, so the signing input built here with the C
    encoder is exactly the one a JOSE library would check on the rebuilt token
    (docs/formats.md, "YL1 envelope", "Lossless"); the header rules are those of
    :func:`parse_compact` (docs/verifying.md, "Verification order", step 1). A header
    whose exact bytes passed them before is not parsed again: the scan's hot path
    (DESIGN.md, "Performance budget"). Raises as :func:`parse_compact` does.
    """
    header_bytes = bytes(header_bytes)
    cached = _PARSED_HEADERS.get(header_bytes)
    if cached is None:
        try:
            parsed_header = loads_json_object(header_bytes, "JWS header")
        except MalformedInputError as exc:
            raise MalformedInputError(str(exc), code=ReasonCode.MALFORMED) from exc
        _check_header(parsed_header, None)
        cached = (dict(parsed_header), _b64(header_bytes))
        if len(_PARSED_HEADERS) >= HEADER_CACHE_SIZE:
            _PARSED_HEADERS.clear()
        _PARSED_HEADERS[header_bytes] = cached
    header, encoded_header = dict(cached[0]), cached[1]
    signing_input = encoded_header + b"." + _b64(payload_bytes)
    parsed = ParsedJWS(None, header_bytes, payload_bytes, signature, header)
    parsed._signing_input = signing_input
    return parsed


def verify_raw(parsed: ParsedJWS, key: VerifyKey) -> bool:
    """Check the signature of ``parsed`` with ``key`` directly (no JOSE library).

    Used for trust data, whose size rules out a library that re-decodes the whole token:
    the header was parsed strictly by :func:`parse_compact`, the algorithm must be the
    key's own, and the signature is checked over the exact signing input.
    """
    return parsed.alg == key.alg and key.verify(parsed.signature, parsed.signing_input)


#: Raw signature length of both allowed algorithms: Ed25519, and ES256 as r||s (RFC 7518 §3.4).
SIGNATURE_BYTES: Final = 64


def check_yilu_header(parsed: ParsedJWS) -> None:
    """Refuse any header but the one Yilu writes, byte for byte (docs/formats.md, "JWS").

    Exactly ``alg``, ``kid``, ``typ``, strings, in that order, compact JSON: what
    :func:`encode_header` gives. Every other member (``jwk``, ``b64``, ``crit``, ``x5c``...),
    a missing ``kid``, a duplicate or a spacing variant is refused, so nothing a JOSE
    library might act on can ride along (docs/verifying.md, "Verification order", step 3).
    Whether bytes are Yilu's header depends on those bytes alone, so a header whose exact
    bytes passed once is not serialised again (a bounded set; a near miss is never in it).
    Raises :class:`SignatureError` (code MALFORMED).
    """
    if parsed.header_bytes in _YILU_HEADERS:
        return  # these exact bytes passed the check below before
    header = parsed.header
    alg, kid, typ = header.get("alg"), header.get("kid"), header.get("typ")
    if not (
        isinstance(alg, str)
        and isinstance(kid, str)
        and isinstance(typ, str)
        and parsed.header_bytes == encode_header(alg=alg, kid=kid, typ=typ)
    ):
        raise SignatureError(
            'the JWS header is not exactly {"alg","kid","typ"} as Yilu writes it',
            codes=(ReasonCode.MALFORMED,),
        )
    if len(_YILU_HEADERS) >= HEADER_CACHE_SIZE:
        _YILU_HEADERS.clear()
    _YILU_HEADERS.add(bytes(parsed.header_bytes))


def verify_signature(parsed: ParsedJWS, key: VerifyKey) -> None:
    """Check ``parsed`` against ``key``: the strict JWS check of certificates.

    In order (docs/verifying.md, "Verification order", step 3): the header's ``alg`` is
    the key's own (UNSUPPORTED_ALG); the header is exactly Yilu's (:func:`check_yilu_header`,
    MALFORMED); the signature is 64 raw bytes and verifies over the exact signing input
    (SIGNATURE_INVALID). Canonical base64url, the allow-list and no ``crit`` were checked
    by :func:`parse_compact` or :func:`from_parts`. Raises :class:`SignatureError`.
    """
    if parsed.alg != key.alg:
        raise SignatureError(
            f"header alg {parsed.alg!r} does not match the key's {key.alg!r}",
            codes=(ReasonCode.UNSUPPORTED_ALG,),
        )
    check_yilu_header(parsed)
    if len(parsed.signature) != SIGNATURE_BYTES or not key.verify(parsed.signature, parsed.signing_input):
        raise SignatureError("signature does not verify", codes=(ReasonCode.SIGNATURE_INVALID,))


def verify_with_any(parsed: ParsedJWS, candidates: list[VerifyKey]) -> VerifyKey:
    """Try every candidate key (a kid is a hint, not an identity); return the one that verifies."""
    last: SignatureError | None = None
    for key in candidates:
        try:
            verify_signature(parsed, key)
        except SignatureError as exc:
            last = exc
        else:
            return key
    if last is None:
        raise SignatureError("no candidate key", codes=(ReasonCode.UNKNOWN_KEY,))
    raise last


# -- the general JWS JSON Serialization (RFC 7515 §7.2.1): one payload, several signatures ------

#: Largest JWS JSON Serialization accepted: a root rotation statement is a few hundred bytes.
MAX_GENERAL_CHARS: Final = 16 * 1024
#: Most signatures one general JWS may carry.
MAX_GENERAL_SIGNATURES: Final = 16


class GeneralJWS:
    """A JWS in the general JSON Serialization, split; nothing in it is verified yet.

    Each signature is given as the :class:`ParsedJWS` of the compact JWS it is equivalent
    to (RFC 7515 §7.2.1: the same protected header, payload and signature), so that it is
    checked exactly as a compact one (:func:`verify_raw`).
    """

    __slots__ = ("payload_bytes", "signatures")

    def __init__(self, payload_bytes: bytes, signatures: tuple[ParsedJWS, ...]) -> None:
        self.payload_bytes = payload_bytes
        self.signatures = signatures

    def payload_json(self) -> dict[str, Any]:
        return loads_json_object(self.payload_bytes, "JWS payload")


def sign_general(payload: bytes, signers: Sequence[tuple[Signer, str]], *, typ: str) -> str:
    """Sign ``payload`` with every (signer, kid) as one general JWS JSON Serialization.

    Written as compact JSON on one line: ``{"payload":…,"signatures":[{"protected":…,
    "signature":…},…]}``, each protected header exactly Yilu's (``alg``, ``kid``, ``typ``),
    no unprotected ``header`` (docs/formats.md, "Root rotation").
    """
    if not signers or len(signers) > MAX_GENERAL_SIGNATURES:
        raise MalformedInputError(f"a general JWS has 1 to {MAX_GENERAL_SIGNATURES} signatures")
    encoded_payload = b64url_encode(payload)
    signatures = []
    for signer, kid in signers:
        if signer.alg not in ALLOWED_ALGS:
            raise UnsupportedFormatError(f"refusing to sign with {signer.alg!r}")
        protected = b64url_encode(encode_header(alg=signer.alg, kid=kid, typ=typ))
        signature = signer.sign(f"{protected}.{encoded_payload}".encode("ascii"))
        signatures.append({"protected": protected, "signature": b64url_encode(signature)})
    return dumps_compact({"payload": encoded_payload, "signatures": signatures}).decode("ascii")


def parse_general(text: str, *, expected_typ: str, max_chars: int = MAX_GENERAL_CHARS) -> GeneralJWS:
    """Split a general JWS JSON Serialization strictly, checking each header like a compact one.

    Stricter than RFC 7515 §7.2.1, on purpose (as for compact headers, docs/formats.md
    "JWS"): the object has exactly ``payload`` and ``signatures``; each signature exactly
    ``protected`` and ``signature`` (no unprotected ``header``, where keys could ride; the
    flattened syntax is refused); every part canonical base64url; each protected header
    exactly Yilu's with an allowed ``alg`` and the expected ``typ``; each signature 64 bytes.
    Raises :class:`MalformedInputError`, :class:`InputTooLargeError` or
    :class:`UnsupportedFormatError`.
    """
    if len(text) > max_chars:
        raise InputTooLargeError(f"JWS JSON longer than {max_chars} characters")
    if not text.isascii():
        raise MalformedInputError("a JWS JSON Serialization is ASCII text here")
    obj = loads_json_object(text.encode("ascii"), "JWS JSON")
    if set(obj) != {"payload", "signatures"}:
        raise MalformedInputError("a general JWS has exactly the members payload and signatures")
    payload, entries = obj["payload"], obj["signatures"]
    if not isinstance(payload, str) or not isinstance(entries, list):
        raise MalformedInputError("a general JWS's payload is a string and its signatures a list")
    if not 1 <= len(entries) <= MAX_GENERAL_SIGNATURES:
        raise MalformedInputError(f"a general JWS has 1 to {MAX_GENERAL_SIGNATURES} signatures")
    payload_bytes = b64url_decode(payload)
    signatures = []
    for entry in entries:
        if not isinstance(entry, dict) or set(entry) != {"protected", "signature"}:
            raise MalformedInputError("each signature has exactly the members protected and signature")
        protected, signature = entry["protected"], entry["signature"]
        if not isinstance(protected, str) or not isinstance(signature, str):
            raise MalformedInputError("a signature's protected header and value are strings")
        header_bytes, signature_bytes = b64url_decode(protected), b64url_decode(signature)
        header = loads_json_object(header_bytes, "JWS protected header")
        _check_header(header, expected_typ)
        alg, kid, typ = header.get("alg"), header.get("kid"), header.get("typ")
        if not isinstance(kid, str) or header_bytes != encode_header(alg=str(alg), kid=kid, typ=str(typ)):
            raise MalformedInputError(
                'a protected header is not exactly {"alg","kid","typ"} as Yilu writes it'
            )
        if len(signature_bytes) != SIGNATURE_BYTES:
            raise MalformedInputError(f"a signature is {SIGNATURE_BYTES} bytes")
        compact = f"{protected}.{payload}.{signature}"
        signatures.append(ParsedJWS(compact, header_bytes, payload_bytes, signature_bytes, header))
    return GeneralJWS(payload_bytes, tuple(signatures))
