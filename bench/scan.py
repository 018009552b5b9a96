"""Figure 1: one scan, in-process, against its baselines (run as ``python -m bench.scan``).

The same certificate (shared/reference/green-tea-8.json, issued by a lab of a synthetic
federation) is checked five ways, interleaved in rounds so that a noisy neighbour on
the machine hits every case alike:

a. bare Ed25519 verify (``cryptography``) over the certificate's exact signing input;
b. Yilu: ``YL1:`` text -> verdict (``Verifier.verify``), trust and status lookups included;
c. an EU-DCC-style check of the same content: ``HC1:`` base45 -> zlib -> COSE_Sign1
   (cbor2) -> ES256 (``cryptography``) -> CBOR claims;
d. a SMART-Health-Card-style check: ``shc:/`` numeric -> JWS (jwcrypto) -> ES256 ->
   raw DEFLATE -> JSON;
e. bare ES256 verify over the same signing input as (a).

Prints one JSON object: timings in microseconds (median, p90), the QR sizes of the three
encodings, and how a status list's size grows with its revocations.
"""

from __future__ import annotations

import gc
import json
import random
import statistics
import sys
import time
import zlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import cbor2
import segno
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from jwcrypto import jwk, jws

from bench import federation as fb
from protocol import yl1
from protocol.encoding import b45_decode, b45_encode, b64url_decode, b64url_encode, dumps_compact
from protocol.keys import SigningKey
from protocol.status_list import MIN_BITS, Bitstring, StatusList
from verifier import Verifier, load_bundle

ITERATIONS = 2000
ROUNDS = 4
WARMUP = 200
ES256 = ec.ECDSA(hashes.SHA256())
MAX_INFLATE = 65_536


def stats(samples_ns: list[int]) -> dict[str, float]:
    us = sorted(s / 1000 for s in samples_ns)
    return {
        "median_us": round(statistics.median(us), 1),
        "p90_us": round(us[int(len(us) * 0.9)], 1),
        "min_us": round(us[0], 1),
        "n": len(us),
    }


def time_cases(cases: dict[str, Callable[[], object]], iterations: int = ITERATIONS) -> dict[str, Any]:
    """Median and p90 of each case, warmed up, in interleaved rounds."""
    for fn in cases.values():
        for _ in range(WARMUP):
            fn()
    samples: dict[str, list[int]] = {name: [] for name in cases}
    clock = time.perf_counter_ns
    per_round = iterations // ROUNDS
    for _ in range(ROUNDS):
        for name, fn in cases.items():
            gc.collect()
            out = samples[name]
            for _ in range(per_round):
                t0 = clock()
                fn()
                out.append(clock() - t0)
    return {name: stats(s) for name, s in samples.items()}


def raw_es256(key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    r, s = decode_dss_signature(key.sign(data, ES256))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def der(sig: bytes) -> bytes:
    return encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))


# --- DCC style -------------------------------------------------------------------------


def dcc_encode(cred: dict[str, Any], key: ec.EllipticCurvePrivateKey, kid: bytes) -> str:
    """The credential as DCC carries a certificate: CWT claims with the content under
    -260/1, COSE_Sign1 with ES256, zlib, base45, ``HC1:``."""
    protected = cbor2.dumps({1: -7, 4: kid})
    claims = {1: cred["issuer"], 4: 1_800_000_000, 6: 1_795_000_000, -260: {1: cred}}
    payload = cbor2.dumps(claims)
    sig = raw_es256(key, cbor2.dumps(["Signature1", protected, b"", payload]))
    cose = cbor2.dumps(cbor2.CBORTag(18, [protected, {}, payload, sig]))
    return "HC1:" + b45_encode(zlib.compress(cose, 9))


def dcc_check(text: str, keys: dict[bytes, ec.EllipticCurvePublicKey]) -> dict[str, Any]:
    """Decode, inflate (bounded), parse COSE, find the key, verify, decode the claims."""
    if not text.startswith("HC1:"):
        raise ValueError("not HC1")
    inflater = zlib.decompressobj()
    cose = inflater.decompress(b45_decode(text[4:]), MAX_INFLATE)
    if inflater.unconsumed_tail:
        raise ValueError("too large")
    tag = cbor2.loads(cose)
    if not isinstance(tag, cbor2.CBORTag) or tag.tag != 18:
        raise ValueError("not COSE_Sign1")
    protected, unprotected, payload, sig = tag.value
    header = cbor2.loads(protected)
    if header.get(1) != -7:
        raise ValueError("alg")
    key = keys[header.get(4) or unprotected[4]]
    key.verify(der(sig), cbor2.dumps(["Signature1", protected, b"", payload]), ES256)
    claims = cbor2.loads(payload)
    hcert: dict[str, Any] = claims[-260][1]
    return hcert


# --- SHC style -------------------------------------------------------------------------


def shc_encode(cred: dict[str, Any], key: ec.EllipticCurvePrivateKey, kid: str) -> str:
    """As a SMART Health Card: JWS with ``zip: DEF`` over raw DEFLATE of the JSON,
    ES256, each character as two digits (``ord - 45``) after ``shc:/``."""
    header = dumps_compact({"zip": "DEF", "alg": "ES256", "kid": kid})
    body = {"iss": cred["issuer"], "nbf": 1_795_000_000, "vc": cred}
    deflater = zlib.compressobj(9, zlib.DEFLATED, -15)
    payload = deflater.compress(dumps_compact(body)) + deflater.flush()
    signing_input = (b64url_encode(header) + "." + b64url_encode(payload)).encode("ascii")
    compact = signing_input.decode() + "." + b64url_encode(raw_es256(key, signing_input))
    return "shc:/" + "".join(f"{ord(c) - 45:02d}" for c in compact)


def shc_check(text: str, keys: dict[str, jwk.JWK]) -> dict[str, Any]:
    """Numeric -> compact JWS -> jwcrypto verify (ES256) -> inflate -> JSON."""
    if not text.startswith("shc:/"):
        raise ValueError("not shc")
    digits = text[5:]
    compact = "".join(chr(int(digits[i : i + 2]) + 45) for i in range(0, len(digits), 2))
    token = jws.JWS()
    token.deserialize(compact)
    header = token.jose_header
    token.verify(keys[header["kid"]], alg="ES256")
    inflater = zlib.decompressobj(-15)
    body = json.loads(inflater.decompress(token.payload, MAX_INFLATE))
    vc: dict[str, Any] = body["vc"]
    return vc


# --- QR and status lists ---------------------------------------------------------------


def qr_version(content: str | list[str]) -> int:
    """The QR version at ECC M (segno picks each segment's mode: alphanumeric, numeric, byte)."""
    qr = segno.make(content, error="m", boost_error=False, micro=False)
    return int(qr.version)


def status_list_growth() -> dict[str, int]:
    """Characters of one signed revocation list with k revoked certificates (of 131,072)."""
    rng = random.Random(1)
    key = SigningKey.generate()
    out = {}
    for k in (0, 10, 100, 1_000, 10_000):
        bits = Bitstring(MIN_BITS)
        for i in rng.sample(range(MIN_BITS), k):
            bits.set(i, True)
        lab = "https://lab.labs.example.cn"
        sl = StatusList(
            f"{lab}/status/revocation", lab, "revocation", bits, fb.NOW, fb.NOW + timedelta(days=30)
        )
        out[str(k)] = len(sl.sign(key, key.public.kid))
    return out


def main() -> None:
    iterations = int(sys.argv[1]) if len(sys.argv) > 1 else ITERATIONS
    fed = fb.build(20)
    snapshot = load_bundle(
        fb.make_bundle(fb.sign_parts(fed, fb.NOW), fed.root), pinned_roots=[fed.root.public]
    )
    jws_text = fb.issue_sample(fed)
    text = yl1.encode(jws_text)
    verifier = Verifier(snapshot, country=fb.INSPECTOR)
    at = fb.SCAN_AT
    result = verifier.verify(text, at=at)
    if result.verdict != "accept":
        raise SystemExit(f"the sample certificate is not accepted: {result.reasons}")

    header, payload, sig = jws_text.split(".")
    signing_input = f"{header}.{payload}".encode("ascii")
    signature = b64url_decode(sig)
    ed_public = fed.labs[0].key.key.public_key()
    es_private = ec.derive_private_key(0xB0B, ec.SECP256R1())
    es_public = es_private.public_key()
    es_signature = es_private.sign(signing_input, ES256)

    cred = json.loads(b64url_decode(payload))
    kid = fed.labs[0].key.public.kid
    hc1 = dcc_encode(cred, es_private, kid.encode())
    dcc_keys = {kid.encode(): es_public}
    shc = shc_encode(cred, es_private, kid)
    shc_keys = {kid: jwk.JWK.from_pyca(es_public)}
    assert dcc_check(hc1, dcc_keys) == cred
    assert shc_check(shc, shc_keys) == cred

    cases: dict[str, Callable[[], object]] = {
        "ed25519": lambda: ed_public.verify(signature, signing_input),
        "yilu": lambda: verifier.verify(text, at=at),
        "dcc": lambda: dcc_check(hc1, dcc_keys),
        "shc": lambda: shc_check(shc, shc_keys),
        "es256": lambda: es_public.verify(es_signature, signing_input, ES256),
    }
    timings = time_cases(cases, iterations)
    digits = shc[5:]
    qr = {
        "yl1": {"chars": len(text), "version": qr_version(text)},
        "dcc": {"chars": len(hc1), "version": qr_version(hc1)},
        "shc": {"chars": len(shc), "version": qr_version(["shc:/", digits])},
        "jws": {"chars": len(jws_text)},
    }
    print(
        json.dumps(
            {
                "iterations": iterations,
                "timings": timings,
                "qr": qr,
                "status_list_chars_by_revocations": status_list_growth(),
            }
        )
    )


if __name__ == "__main__":
    main()
