"""Shared wire formats and crypto for every Yilu party (docs/formats.md).

This package imports no web or database code: issuers, registries and verifiers
all build on it and on nothing of each other.
"""

from protocol.errors import (
    InputError,
    InputTooLargeError,
    MalformedInputError,
    RemoteUnavailableError,
    RollbackError,
    SecretError,
    SignatureError,
    StaleTrustDataError,
    TrustDataError,
    UnsupportedFormatError,
    VerificationError,
    YiluError,
)
from protocol.keys import ALLOWED_ALGS, SigningKey, VerifyKey
from protocol.reasons import LANGS, Lang, ReasonCode, message

__all__ = [
    "ALLOWED_ALGS",
    "LANGS",
    "InputError",
    "InputTooLargeError",
    "Lang",
    "MalformedInputError",
    "ReasonCode",
    "RemoteUnavailableError",
    "RollbackError",
    "SecretError",
    "SignatureError",
    "SigningKey",
    "StaleTrustDataError",
    "TrustDataError",
    "UnsupportedFormatError",
    "VerificationError",
    "VerifyKey",
    "YiluError",
    "message",
]
