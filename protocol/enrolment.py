"""Key requests: a lab proves it holds the private key of the public key it enrols.

Like a certificate signing request, a key request is self-signed (issue 7, §3 "Key
enrolment with proof of possession"): a compact JWS, ``typ`` ``yilu-key-request+jwt``,
whose payload carries the public key itself and which is signed by the matching private
key. The payload::

    {"labId": "https://qdtc.example.cn", "jwk": {…public JWK…},
     "scopes": ["food", …], "iat": 1764234000, "jti": "…random…"}

``scopes`` are what the lab will sign with this key: the registry lists the lab for no
scope that none of its approved keys' requests covers. The registry verifies the
request with the key inside it (and only that key), checks ``labId``, refuses a request
issued more than ``max_age`` ago or in the future, and remembers each ``jti`` so a
request cannot be replayed. Only EdDSA and ES256 are accepted (protocol/jws.py).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from protocol.encoding import dumps_compact
from protocol.errors import InputError, MalformedInputError, SignatureError
from protocol.jws import parse_compact, sign_compact, verify_raw
from protocol.keys import SigningKey, VerifyKey
from protocol.names import check_lab_id
from protocol.vocabulary import check_scope

TYP_KEY_REQUEST: Final = "yilu-key-request+jwt"
#: A key request older than this is refused: sign a fresh one at submission time.
MAX_AGE: Final = timedelta(minutes=10)
#: A key request dated at most this far ahead of the registry's clock is still accepted.
CLOCK_SKEW: Final = timedelta(minutes=1)
#: A request's payload is small; anything bigger is not a key request.
MAX_REQUEST_CHARS: Final = 8_000


@dataclass(frozen=True, slots=True)
class KeyRequest:
    """A verified key request: the key proved itself for ``lab_id`` and ``scopes``."""

    key: VerifyKey
    lab_id: str
    scopes: tuple[str, ...]
    issued_at: datetime
    jti: str


def sign_key_request(
    signer: SigningKey, *, lab_id: str, scopes: list[str] | tuple[str, ...], now: datetime
) -> str:
    """A key request for ``signer``'s public key, signed by ``signer`` itself."""
    check_lab_id(lab_id)
    public = signer.public
    payload = {
        "labId": lab_id,
        "jwk": dict(public.jwk),
        "scopes": [check_scope(s) for s in scopes],
        "iat": int(now.timestamp()),
        "jti": secrets.token_urlsafe(16),
    }
    return sign_compact(dumps_compact(payload), signer, kid=public.kid, typ=TYP_KEY_REQUEST)


def verify_key_request(token: str, *, lab_id: str, now: datetime, max_age: timedelta = MAX_AGE) -> KeyRequest:
    """The request in ``token`` once it proved possession of its key for ``lab_id``.

    Raises :class:`InputError` (malformed, wrong type or algorithm, wrong lab, stale or
    future-dated) or :class:`SignatureError` (not signed by the key it carries). Replays
    (a ``jti`` seen before) are the registry's to refuse: it keeps the ``jti`` values."""
    parsed = parse_compact(token.strip(), expected_typ=TYP_KEY_REQUEST, max_chars=MAX_REQUEST_CHARS)
    body = parsed.payload_json()
    jwk = body.get("jwk")
    if not isinstance(jwk, dict):
        raise MalformedInputError("a key request carries its public key as 'jwk', a JSON object")
    key = VerifyKey.from_jwk(jwk)
    # The key to verify with is the one in the payload: a request signed by any other key
    # proves nothing about this one.
    if parsed.header.get("kid") != key.kid or not verify_raw(parsed, key):
        raise SignatureError(
            "the key request is not signed by the key it carries: sign it with that key's private key"
        )
    if body.get("labId") != lab_id:
        raise InputError(f"the key request is for {str(body.get('labId'))[:120]!r}, not for {lab_id}")
    scopes = body.get("scopes")
    if not isinstance(scopes, list) or not scopes or not all(isinstance(s, str) for s in scopes):
        raise MalformedInputError('a key request lists the scopes the key will sign, e.g. ["food"]')
    for scope in scopes:
        check_scope(scope)
    iat, jti = body.get("iat"), body.get("jti")
    if type(iat) is not int:
        raise MalformedInputError("a key request carries its signing time 'iat' in seconds")
    if not isinstance(jti, str) or not 16 <= len(jti) <= 128:
        raise MalformedInputError("a key request carries a random 'jti' of 16 to 128 characters")
    issued_at = datetime.fromtimestamp(iat, UTC)
    if issued_at > now + CLOCK_SKEW:
        raise InputError("the key request is dated in the future: check the clock of the signing machine")
    if now - issued_at > max_age:
        minutes = int(max_age.total_seconds() // 60)
        raise InputError(f"the key request is older than {minutes} minutes: sign a fresh one and submit it")
    return KeyRequest(key, lab_id, tuple(dict.fromkeys(scopes)), issued_at, jti)
