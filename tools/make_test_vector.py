"""Build the deterministic test vector of docs/formats.md ("Test vector").

Everything is fixed: an Ed25519 key from the 32-byte seed 00 01 02 ... 1f, the report
tests/data/green-tea-3.json, issuance at 2026-11-20T08:30:00Z, slot 2121 of the
lab's status list (revocation index 4242, suspension 4243). Ed25519 signatures are
deterministic (RFC 8032), so the JWS is fixed; the YL1 bytes are fixed for a given
DEFLATE implementation (CPython's zlib).

Run:  .venv/bin/python tools/make_test_vector.py              (readable)
      .venv/bin/python tools/make_test_vector.py --markdown   (the labelled blocks of the docs)

tests/protocol/test_docs_vector.py imports this file and checks docs/formats.md against it.
"""

from __future__ import annotations

import hashlib
import json
import sys
import zlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from issuer.qr import qr_version
from protocol import yl1
from protocol.credential import build_credential, certificate_id, status_entries
from protocol.encoding import b45_decode, b64url_decode, dumps_compact
from protocol.jws import TYP_VC, sign_compact
from protocol.keys import SigningKey, jwk_thumbprint

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "tests" / "data" / "green-tea-3.json"
SEED = bytes(range(32))
ISSUER = "https://qdtc.example.cn"
VALID_FROM = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)
#: The certificate's slot in its lab's status list: revocation index 4242, suspension 4243.
STATUS_SLOT = 2121

#: The order in which the values appear in the docs (each one a labelled fenced block).
FIELDS = (
    "dictionary",
    "seed_hex",
    "public_jwk",
    "thumbprint",
    "kid",
    "header_text",
    "header_hex",
    "payload_length",
    "payload_sha256",
    "payload_text",
    "jws",
    "signature_hex",
    "yl1_layout",
    "yl1_hex",
    "yl1_text",
    "qr",
)


def _hex_lines(data: bytes, per_line: int = 32) -> str:
    """Lower-case hex, ``per_line`` bytes a line, bytes separated by spaces."""
    return "\n".join(data[i : i + per_line].hex(" ") for i in range(0, len(data), per_line))


def build_vector() -> dict[str, Any]:
    """Every value of the test vector, as the strings the docs show (plus raw bytes)."""
    key = SigningKey(alg="EdDSA", key=Ed25519PrivateKey.from_private_bytes(SEED))
    public = key.public
    report = json.loads(REPORT.read_text(encoding="utf-8"))
    credential = build_credential(
        report,
        credential_id=certificate_id(ISSUER, report["reportNumber"]),
        issuer=ISSUER,
        valid_from=VALID_FROM,
        status=status_entries(STATUS_SLOT, f"{ISSUER}/status"),
    )
    payload = dumps_compact(credential)
    jws = sign_compact(payload, key, kid=public.kid, typ=TYP_VC)
    header_b64, payload_b64, signature_b64 = jws.split(".")
    header = b64url_decode(header_b64)
    assert b64url_decode(payload_b64) == payload
    signature = b64url_decode(signature_b64)
    text = yl1.encode(jws)
    raw = b45_decode(text[len(yl1.PREFIX) :])
    zdict = yl1.dictionary(yl1.CURRENT_VERSION)
    vector: dict[str, Any] = {
        "dictionary": f"v{yl1.CURRENT_VERSION} {len(zdict)} bytes sha256 {hashlib.sha256(zdict).hexdigest()}",
        "seed_hex": SEED.hex(),
        "public_jwk": dumps_compact(dict(public.jwk)).decode(),
        "thumbprint": jwk_thumbprint(public.jwk),
        "kid": public.kid,
        "header_text": header.decode(),
        "header_hex": _hex_lines(header),
        "payload_length": str(len(payload)),
        "payload_sha256": hashlib.sha256(payload).hexdigest(),
        "payload_text": payload.decode(),
        "jws": jws,
        "signature_hex": _hex_lines(signature),
        "yl1_hex": _hex_lines(raw),
        "yl1_layout": "",  # filled below from the other values
        "yl1_text": text,
        "qr": f"{len(text)} characters, QR version {qr_version(text)} at ECC M",
        # Not in the docs as blocks, but handy for the annotations and the test.
        "header_bytes": header,
        "payload_bytes": payload,
        "signature_bytes": signature,
        "yl1_bytes": raw,
        "zlib": zlib.ZLIB_RUNTIME_VERSION,
    }
    vector["yl1_layout"] = annotate(vector)
    return vector


def annotate(v: dict[str, Any]) -> str:
    """The parts of the YL1 binary, explained (offsets 0-based, ranges inclusive)."""
    raw: bytes = v["yl1_bytes"]
    header_len = len(v["header_bytes"])
    start = 1 + len(yl1_varint(header_len))
    sig_start = len(raw) - len(v["signature_bytes"])

    def span(a: int, b: int) -> str:
        return str(a) if a == b else f"{a}-{b}"

    def first(a: int, b: int) -> str:
        shown = raw[a : min(b + 1, a + 4)].hex(" ")
        return shown + (" ..." if b + 1 - a > 4 else "")

    rows = [
        ("offset", "bytes", "meaning"),
        ("0", first(0, 0), f"version {raw[0]} (= preset dictionary v{raw[0]})"),
        (span(1, start - 1), first(1, start - 1), f"LEB128 varint: header length {header_len}"),
        (
            span(start, sig_start - 1),
            first(start, sig_start - 1),
            f"raw DEFLATE of header||payload ({header_len} + {len(v['payload_bytes'])} bytes "
            f"-> {sig_start - start} bytes)",
        ),
        (
            span(sig_start, len(raw) - 1),
            first(sig_start, len(raw) - 1),
            f"signature ({len(raw) - sig_start} bytes), as in the JWS",
        ),
    ]
    lines = [f"{a:<10}{b:<17}{c}" for a, b, c in rows]
    return "\n".join([*lines, f"total {len(raw)} bytes"])


def yl1_varint(n: int) -> bytes:
    """LEB128, as YL1 writes the header length (a local copy for the annotation)."""
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def render_text(v: dict[str, Any]) -> str:
    out = [
        f"YL1 dictionary            {v['dictionary']}",
        f"Ed25519 seed (hex)        {v['seed_hex']}",
        f"public JWK                {v['public_jwk']}",
        f"RFC 7638 thumbprint       {v['thumbprint']}",
        f"kid (11 characters)       {v['kid']}",
        f"header ({len(v['header_bytes'])} bytes)       {v['header_text']}",
        v["header_hex"],
        f"payload length            {v['payload_length']} bytes",
        f"payload SHA-256           {v['payload_sha256']}",
        f"payload                   {v['payload_text']}",
        f"compact JWS ({len(v['jws'])} chars)",
        v["jws"],
        "signature (hex)",
        v["signature_hex"],
        f"YL1 binary (zlib {v['zlib']})",
        v["yl1_layout"],
        v["yl1_hex"],
        f"YL1 text ({v['qr']})",
        v["yl1_text"],
    ]
    return "\n".join(out) + "\n"


def render_markdown(v: dict[str, Any]) -> str:
    """The labelled fenced blocks, exactly as docs/formats.md embeds them."""
    blocks = []
    for name in FIELDS:
        lang = "json" if name in ("public_jwk", "header_text", "payload_text") else "text"
        blocks.append(f"<!-- vector:{name} -->\n```{lang}\n{v[name]}\n```\n")
    return "\n".join(blocks)


def main(argv: list[str]) -> int:
    vector = build_vector()
    sys.stdout.write(render_markdown(vector) if "--markdown" in argv else render_text(vector))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
