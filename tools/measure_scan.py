"""Measure the scan hot path side by side in one run (DESIGN.md, "Performance budget").

Prints median microseconds of: a bare Ed25519 verify (``cryptography``) on the
certificate's signing input; pyjwt's ``decode_complete`` of the same token (the old
signature check); ``YL1:`` text to verdict through ``Verifier.verify``; base45 decoding
of the certificate's text by ``yilu`` and by the old pure-Python decoder. A benchmark,
not a test. Run it against another checkout to compare::

    PYTHONPATH=src python tools/measure_scan.py
    PYTHONPATH=/path/to/old/src python tools/measure_scan.py
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import jwt

from issuer import LabIssuer
from protocol import yl1
from protocol.encoding import B45_ALPHABET, b45_decode, b64url_decode
from protocol.keys import VerifyKey
from verifier import Verifier, load_bundle
from verifier.store import read_root_keys
from yilu import demo

REPORT = Path(__file__).resolve().parents[1] / "tests" / "data" / "green-tea-8.json"
_VALUE = {c: i for i, c in enumerate(B45_ALPHABET)}
_PAIR = {a + b: _VALUE[a] + 45 * _VALUE[b] for a in B45_ALPHABET for b in B45_ALPHABET}


def old_b45_decode(text: str) -> bytes:
    """The pure-Python base45 decoder Yilu had before the fast path (commit 9eeefa2)."""
    out = bytearray()
    full = len(text) - len(text) % 3
    for i in range(0, full, 3):
        n = _PAIR[text[i : i + 2]] + 2025 * _VALUE[text[i + 2]]
        if n > 0xFFFF:
            raise ValueError("base45 triple out of range")
        out += n.to_bytes(2, "big")
    if full != len(text):
        out.append(_PAIR[text[full:]])
    return bytes(out)


def median_us(fn: Callable[[], object], *, rounds: int = 15, number: int = 200) -> float:
    """Median over ``rounds`` of the mean time of ``number`` calls, in microseconds."""
    fn()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - start) / number)
    return statistics.median(times) * 1e6


def main() -> int:
    now = datetime.now(UTC).replace(microsecond=0)
    with tempfile.TemporaryDirectory() as tmp:
        info = demo.init(Path(tmp) / "fed", now=now)
        lab_dir = next(lab["dir"] for lab in info["labs"] if lab["id"] == "https://qdtc.example.cn")
        issued = LabIssuer.open(Path(lab_dir)).issue(json.loads(REPORT.read_text()), now=now)
        roots = read_root_keys(Path(info["rootKeys"]))
        snapshot = load_bundle(Path(info["bundle"]).read_bytes(), pinned_roots=roots)
    verifier = Verifier(snapshot, country="KZ")
    text, token = issued.qr, issued.jws
    at = now
    result = verifier.verify(text, at=at)
    assert result.accepted, result.to_json()
    head, payload, sig = token.split(".")
    signing_input, signature = f"{head}.{payload}".encode(), b64url_decode(sig)
    kid = json.loads(b64url_decode(head))["kid"]
    key: VerifyKey = snapshot.keys_by_kid[kid][0].record.key
    public = key.key
    pyjws = jwt.PyJWS()
    body = text[len(yl1.PREFIX) :]
    assert old_b45_decode(body) == b45_decode(body)

    def bare() -> None:
        public.verify(signature, signing_input)  # type: ignore[call-arg]

    def old_check() -> object:
        return pyjws.decode_complete(token, key=public, algorithms=[key.alg])

    rows: list[tuple[str, Callable[[], object]]] = [
        ("bare Ed25519 verify (cryptography)", bare),
        ("pyjwt decode_complete (old signature check)", old_check),
        ("YL1 text -> verdict (Verifier.verify)", lambda: verifier.verify(text, at=at)),
        (f"base45 decode, yilu ({len(body)} chars)", lambda: b45_decode(body)),
        ("base45 decode, old pure Python", lambda: old_b45_decode(body)),
    ]
    base = 0.0
    print(f"python {sys.version.split()[0]}, {len(text)} characters of YL1 text")
    for name, fn in rows:
        us = median_us(fn)
        base = base or us
        print(f"{name:48s} {us:8.1f} us  ({us / base:4.2f}x Ed25519)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
