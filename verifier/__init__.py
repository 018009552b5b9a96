"""Offline verification of Yilu certificates (docs/verifying.md).

Load a bundle into a :class:`Snapshot` once, then verify many certificates against it:

    snapshot = load_bundle(bundle_bytes, pinned_roots=roots)
    result = Verifier(snapshot, country="KZ").verify(qr_text, at=now)
"""

from verifier._snapshot import Snapshot, load_bundle
from verifier._verify import DEFAULT_CLOCK_SKEW, Verifier
from verifier.result import Reason, VerificationResult

__all__ = [
    "DEFAULT_CLOCK_SKEW",
    "Reason",
    "Snapshot",
    "VerificationResult",
    "Verifier",
    "load_bundle",
]
