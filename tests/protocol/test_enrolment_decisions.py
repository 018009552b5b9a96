"""Each decision of protocol/enrolment.py pinned with real keys and signed, crafted requests.

Limits come from docs/architecture.md ("Keys with proof of possession"): refused when older
than 10 minutes or dated more than 1 minute ahead, longer than 8,000 characters, or with a
``jti`` that is not 16 to 128 characters.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from protocol.encoding import b64url_decode, dumps_compact
from protocol.enrolment import TYP_KEY_REQUEST, KeyRequest, sign_key_request, verify_key_request
from protocol.errors import InputError, InputTooLargeError, MalformedInputError, SignatureError
from protocol.jws import sign_compact
from protocol.keys import SigningKey

LAB = "https://qdtc.example.cn"
NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
KEY = SigningKey.generate("EdDSA")
OTHER = SigningKey.generate("EdDSA")


def payload(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "labId": LAB,
        "jwk": dict(KEY.public.jwk),
        "scopes": ["food"],
        "iat": int(NOW.timestamp()),
        "jti": "j" * 22,
    }
    for name, value in changes.items():
        if value is ...:
            del body[name]
        else:
            body[name] = value
    return body


def signed(body: dict[str, Any], signer: SigningKey = KEY, kid: str | None = None) -> str:
    return sign_compact(dumps_compact(body), signer, kid=kid or signer.public.kid, typ=TYP_KEY_REQUEST)


def test_a_signed_request_carries_its_key_lab_scopes_time_and_a_random_jti() -> None:
    token = sign_key_request(KEY, lab_id=LAB, scopes=("food", "chemicals"), now=NOW + timedelta(seconds=0.9))
    header_b64, body_b64, _ = token.split(".")
    header = json.loads(b64url_decode(header_b64))
    body = json.loads(b64url_decode(body_b64))
    assert header == {"alg": "EdDSA", "kid": KEY.public.kid, "typ": "yilu-key-request+jwt"}
    assert list(body) == ["labId", "jwk", "scopes", "iat", "jti"]
    assert body["labId"] == LAB
    assert body["jwk"] == dict(KEY.public.jwk)
    assert body["scopes"] == ["food", "chemicals"]
    assert body["iat"] == int(NOW.timestamp())
    assert isinstance(body["jti"], str) and len(body["jti"]) == 22  # 16 random bytes, base64url
    again = sign_key_request(KEY, lab_id=LAB, scopes=["food"], now=NOW)
    other = json.loads(b64url_decode(again.split(".")[1]))
    assert other["jti"] != body["jti"]


def test_signing_refuses_a_bad_lab_id_or_scope() -> None:
    with pytest.raises(MalformedInputError, match=r"lab id 'https://qdtc\.example\.cn/' is not valid"):
        sign_key_request(KEY, lab_id=LAB + "/", scopes=["food"], now=NOW)
    with pytest.raises(MalformedInputError, match="unknown scope 'fish'"):
        sign_key_request(KEY, lab_id=LAB, scopes=["fish"], now=NOW)


def test_a_request_round_trips_with_its_scopes_once_each_in_order() -> None:
    token = signed(payload(scopes=["chemicals", "food", "chemicals"]))
    request = verify_key_request(f"  {token}\n", lab_id=LAB, now=NOW)
    assert request == KeyRequest(KEY.public, LAB, ("chemicals", "food"), NOW, "j" * 22)
    fresh = sign_key_request(KEY, lab_id=LAB, scopes=["food"], now=NOW)
    made = verify_key_request(fresh, lab_id=LAB, now=NOW)
    assert (made.key.kid, made.lab_id, made.scopes, made.issued_at) == (KEY.public.kid, LAB, ("food",), NOW)


def test_a_request_signed_by_another_key_or_naming_another_kid_is_refused() -> None:
    with pytest.raises(SignatureError, match="not signed by the key it carries"):
        verify_key_request(signed(payload(), signer=OTHER), lab_id=LAB, now=NOW)
    # Signed by the key it carries, but the header names another key.
    with pytest.raises(SignatureError, match="not signed by the key it carries"):
        verify_key_request(signed(payload(), kid=OTHER.public.kid), lab_id=LAB, now=NOW)
    # The header names the carried key, but another key signed it.
    with pytest.raises(SignatureError, match="not signed by the key it carries"):
        verify_key_request(signed(payload(), signer=OTHER, kid=KEY.public.kid), lab_id=LAB, now=NOW)


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"jwk": ...}, MalformedInputError, "carries its public key as 'jwk'"),
        ({"jwk": "key"}, MalformedInputError, "carries its public key as 'jwk'"),
        ({"labId": "https://other.example.cn"}, InputError, "is for 'https://other.example.cn', not for"),
        ({"labId": ...}, InputError, "is for 'None', not for"),
        ({"scopes": ...}, MalformedInputError, "lists the scopes"),
        ({"scopes": "food"}, MalformedInputError, "lists the scopes"),
        ({"scopes": []}, MalformedInputError, "lists the scopes"),
        ({"scopes": ["food", 3]}, MalformedInputError, "lists the scopes"),
        ({"scopes": ["food", "fish"]}, MalformedInputError, "unknown scope 'fish'"),
        ({"iat": ...}, MalformedInputError, "signing time 'iat'"),
        ({"iat": 1772366400.0}, MalformedInputError, "signing time 'iat'"),
        ({"iat": True}, MalformedInputError, "signing time 'iat'"),
        ({"iat": "1772366400"}, MalformedInputError, "signing time 'iat'"),
        ({"jti": ...}, MalformedInputError, "'jti' of 16 to 128"),
        ({"jti": 1234567890123456}, MalformedInputError, "'jti' of 16 to 128"),
        ({"jti": "j" * 15}, MalformedInputError, "'jti' of 16 to 128"),
        ({"jti": "j" * 129}, MalformedInputError, "'jti' of 16 to 128"),
    ],
)
def test_signed_but_malformed_requests_are_refused(
    changes: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        verify_key_request(signed(payload(**changes)), lab_id=LAB, now=NOW)


@pytest.mark.parametrize("jti", ["j" * 16, "j" * 128])
def test_a_jti_of_16_or_128_characters_is_accepted(jti: str) -> None:
    assert verify_key_request(signed(payload(jti=jti)), lab_id=LAB, now=NOW).jti == jti


def test_a_request_dated_up_to_one_minute_ahead_is_accepted_and_later_refused() -> None:
    token = signed(payload())
    assert verify_key_request(token, lab_id=LAB, now=NOW - timedelta(minutes=1)).issued_at == NOW
    with pytest.raises(InputError, match="dated in the future"):
        verify_key_request(token, lab_id=LAB, now=NOW - timedelta(minutes=1, seconds=1))


def test_a_request_up_to_ten_minutes_old_is_accepted_and_older_refused() -> None:
    token = signed(payload())
    assert verify_key_request(token, lab_id=LAB, now=NOW + timedelta(minutes=10)).issued_at == NOW
    with pytest.raises(InputError, match=r"^the key request is older than 10 minutes"):
        verify_key_request(token, lab_id=LAB, now=NOW + timedelta(minutes=10, seconds=1))
    later = NOW + timedelta(seconds=121)
    with pytest.raises(InputError, match=r"^the key request is older than 2 minutes"):
        verify_key_request(token, lab_id=LAB, now=later, max_age=timedelta(seconds=120))


def _token_of(chars: int) -> str:
    """A valid signed request exactly ``chars`` long, padded by an extra member."""
    base = len(signed({**payload(), "pad": ""}))
    for pad in range(max(0, (chars - base) * 3 // 4 - 4), chars):  # base64: 4 characters per 3 bytes
        token = signed({**payload(), "pad": "p" * pad})
        if len(token) == chars:
            return token
    raise AssertionError(f"no request of {chars} characters")


def test_a_request_of_8000_characters_is_read_and_one_longer_refused() -> None:
    assert verify_key_request(_token_of(8000), lab_id=LAB, now=NOW).lab_id == LAB
    over = _token_of(8001)
    with pytest.raises(InputTooLargeError, match="longer than 8000 characters"):
        verify_key_request(over, lab_id=LAB, now=NOW)
