"""``YL1:`` QR transport: a lossless, compact envelope of exactly one compact JWS.

Layout (docs/formats.md, "YL1"):

    "YL1:" + base45( version(1 byte) || varint(len(header)) ||
                     rawDEFLATE[preset dictionary v](header || payload) || signature )

``header`` and ``payload`` are the JWS's decoded bytes; the signature is whatever
follows the end of the DEFLATE stream. Decoding rebuilds the compact JWS byte for byte.
Inflation is bounded, so a decompression bomb costs at most :data:`MAX_INFLATED` bytes.
"""

from __future__ import annotations

import hashlib
import zlib
from functools import cache
from importlib import resources
from typing import Final

from protocol.encoding import b45_decode, b45_encode, b64url_decode
from protocol.errors import InputTooLargeError, MalformedInputError, UnsupportedFormatError
from protocol.jws import assemble_compact
from protocol.reasons import ReasonCode

PREFIX: Final = "YL1:"
#: Dictionary versions and the SHA-256 of each frozen dictionary file.
DICTIONARIES: Final[dict[int, str]] = {
    1: "770c5dd05db89e62f077410d500a78a0289cf7456f71c798583127aa8d7661a3",
}
CURRENT_VERSION: Final = 1
#: Longest ``YL1:`` text an issuer produces: a version 40 QR at ECC M (3,391 characters).
MAX_ISSUED_CHARS: Final = 3391
#: Longest ``YL1:`` text a verifier accepts, prefix included: what a version 40 QR holds
#: at ECC L (4,296 alphanumeric characters), the most any printed code can carry.
#: Issuers print at ECC M, whose version 40 holds :data:`MAX_ISSUED_CHARS`.
MAX_TEXT_CHARS: Final = 4296
#: Most bytes the DEFLATE stream may inflate to (header + payload).
MAX_INFLATED: Final = 64 * 1024
#: Both allowed algorithms (EdDSA, ES256) give 64-byte JWS signatures; anything else is
#: a damaged or truncated code, reported as MALFORMED rather than as a forgery.
SIGNATURE_BYTES: Final = 64


@cache
def dictionary(version: int) -> bytes:
    """The frozen preset dictionary for ``version``, checked against its pinned hash."""
    if version not in DICTIONARIES:
        raise UnsupportedFormatError(
            f"YL1 dictionary version {version} is unknown", code=ReasonCode.UNSUPPORTED_FORMAT
        )
    data = resources.files("protocol").joinpath(f"data/yl1-dict-v{version}.txt").read_bytes()
    pinned = DICTIONARIES[version]
    if hashlib.sha256(data).hexdigest() != pinned:
        raise UnsupportedFormatError(
            f"this verifier's YL1 dictionary v{version} is damaged (it does not match its pinned hash): "
            "reinstall the software",
            code=ReasonCode.UNSUPPORTED_FORMAT,
        )
    return data


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    for i in range(pos, min(pos + 3, len(data))):
        value |= (data[i] & 0x7F) << shift
        if not data[i] & 0x80:
            return value, i + 1
        shift += 7
    raise MalformedInputError("YL1 header length is truncated or too long", code=ReasonCode.MALFORMED)


def encode(compact_jws: str, *, version: int = CURRENT_VERSION) -> str:
    """Wrap a compact JWS in ``YL1:`` text (alphanumeric QR mode).

    Refuses a JWS that :func:`decode` would refuse once wrapped (docs/formats.md, "YL1
    envelope", steps 6-8): a signature of other than :data:`SIGNATURE_BYTES`, an empty
    header or payload, or more than :data:`MAX_INFLATED` bytes of them, however well they
    compress. So an issuer never prints a code that every verifier reads as MALFORMED.
    (Texts longer than a QR code holds are the caller's to refuse: :data:`MAX_ISSUED_CHARS`.)
    """
    parts = compact_jws.split(".")
    if len(parts) != 3:
        raise MalformedInputError("a compact JWS has exactly three dot-separated parts")
    header, payload, signature = (b64url_decode(p) for p in parts)
    if len(signature) != SIGNATURE_BYTES:
        raise MalformedInputError(
            f"a YL1 code carries a {SIGNATURE_BYTES}-byte signature, not one of {len(signature)} bytes",
            code=ReasonCode.MALFORMED,
        )
    if not header or not payload:
        raise MalformedInputError(
            "a YL1 code carries a non-empty header and payload", code=ReasonCode.MALFORMED
        )
    if len(header) + len(payload) > MAX_INFLATED:
        raise InputTooLargeError(
            f"the certificate's header and payload are {len(header) + len(payload)} bytes; a YL1 code "
            f"carries at most {MAX_INFLATED}: split it into several certificates",
            code=ReasonCode.MALFORMED,
        )
    compressor = zlib.compressobj(
        9, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY, zdict=dictionary(version)
    )
    deflated = compressor.compress(header + payload) + compressor.flush()
    return PREFIX + b45_encode(bytes([version]) + _varint(len(header)) + deflated + signature)


def decode(text: str) -> str:
    """Unwrap ``YL1:`` text into the exact compact JWS it carries.

    Raises :class:`MalformedInputError`, :class:`UnsupportedFormatError` or
    :class:`InputTooLargeError`, each with a reason code.
    """
    return assemble_compact(*decode_parts(text))


def decode_parts(text: str) -> tuple[bytes, bytes, bytes]:
    """Unwrap ``YL1:`` text into the JWS's decoded header, payload and signature bytes.

    The verifier's path (docs/formats.md, "YL1 envelope", steps 1-8): no compact text is
    rebuilt only to be decoded again (``jws.from_parts`` builds the signing input).
    Raises as :func:`decode` does.
    """
    if len(text) > MAX_TEXT_CHARS:
        raise InputTooLargeError(
            f"YL1 text longer than {MAX_TEXT_CHARS} characters", code=ReasonCode.MALFORMED
        )
    if not text.startswith(PREFIX):
        raise UnsupportedFormatError("not YL1 text", code=ReasonCode.UNSUPPORTED_FORMAT)
    try:
        raw = b45_decode(text[len(PREFIX) :])
    except MalformedInputError as exc:
        raise MalformedInputError(f"YL1 text: {exc}", code=ReasonCode.MALFORMED) from exc
    if len(raw) < 3:
        raise MalformedInputError("YL1 text is too short", code=ReasonCode.MALFORMED)
    zdict = dictionary(raw[0])
    header_len, pos = _read_varint(raw, 1)
    inflater = zlib.decompressobj(-15, zdict=zdict)
    try:
        inflated = inflater.decompress(raw[pos:], MAX_INFLATED)
    except zlib.error as exc:
        raise MalformedInputError(
            "YL1 data is not a valid DEFLATE stream", code=ReasonCode.MALFORMED
        ) from exc
    if inflater.unconsumed_tail:
        raise InputTooLargeError(f"YL1 data inflates beyond {MAX_INFLATED} bytes", code=ReasonCode.MALFORMED)
    if not inflater.eof:
        raise MalformedInputError("YL1 data is truncated", code=ReasonCode.MALFORMED)
    signature = inflater.unused_data
    if len(signature) != SIGNATURE_BYTES:
        raise MalformedInputError(
            f"YL1 signature is {len(signature)} bytes, not {SIGNATURE_BYTES} (truncated or damaged code)",
            code=ReasonCode.MALFORMED,
        )
    if not 0 < header_len < len(inflated):
        raise MalformedInputError("YL1 header length is out of range", code=ReasonCode.MALFORMED)
    return inflated[:header_len], inflated[header_len:], signature
