"""One exception tree, split by who is at fault (docs/architecture.md, "Errors").

Low-level errors (``ValueError``, ``binascii.Error``, ``zlib.error``, ...) never leave
the package: they are wrapped in one of these, with the original chained as ``__cause__``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from protocol.reasons import ReasonCode


class YiluError(Exception):
    """Base of every error Yilu raises on purpose."""


class InputError(YiluError):
    """The caller's input is unusable: malformed, unsupported or too large."""

    def __init__(self, message: str, *, code: ReasonCode | None = None) -> None:
        super().__init__(message)
        self.code = code


class MalformedInputError(InputError):
    """Input that does not parse as the format it claims to be."""


class UnsupportedFormatError(InputError):
    """Input in a format (or version of one) this software does not speak."""


class InputTooLargeError(InputError):
    """Input or its decompressed form exceeds the documented bounds."""


class SecretError(InputError):
    """A private key could not be opened (wrong or missing passphrase, bad file)."""


class VerificationError(YiluError):
    """A certificate or signature failed verification (raising twin of a reject)."""

    def __init__(self, message: str, *, codes: tuple[ReasonCode, ...] = ()) -> None:
        super().__init__(message)
        self.codes = codes


class SignatureError(VerificationError):
    """A JWS signature does not verify, or its algorithm is not allowed."""


class TrustDataError(YiluError):
    """Signed trust data (lists, bundles) is missing, invalid, stale, rolled back or foreign.

    Nothing is known about a certificate checked against such data: a verifier reports
    it as *cannot verify*, never as a reject (docs/verifying.md, "Three outcomes").
    ``code`` is the reason code that says so: TRUST_DATA_INVALID unless set, never None,
    so that one kind of bad trust data always reports one code;
    ``codes`` lists every reason when this is the raising twin of an unverifiable result.
    """

    def __init__(
        self, message: str, *, code: ReasonCode | None = None, codes: tuple[ReasonCode, ...] = ()
    ) -> None:
        from protocol.reasons import ReasonCode  # here: at import time this module needs nothing

        super().__init__(message)
        self.code: ReasonCode = ReasonCode.TRUST_DATA_INVALID if code is None else code
        self.codes = codes


class StaleTrustDataError(TrustDataError):
    """Trust data whose ``expiresAt`` has passed (freeze attack or no recent sync)."""


class RollbackError(TrustDataError):
    """An attempt to replace an accepted list with one of a lower ``sequence``."""


class RemoteUnavailableError(YiluError):
    """A remote party (registry, mirror) could not be reached or answered badly."""
