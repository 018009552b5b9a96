"""Root rotation statements and the walk along their chain (protocol/rootchain.py, TUF §5.3).

Every statement is signed with real keys; each attack is mounted with the keys its
attacker would hold: his own key only, a stolen retired key, another federation's root.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from jwcrypto import jwk, jws

from protocol.encoding import b64url_decode, b64url_encode, dumps_compact
from protocol.errors import (
    InputError,
    InputTooLargeError,
    MalformedInputError,
    RollbackError,
    TrustDataError,
    UnsupportedFormatError,
)
from protocol.jws import MAX_GENERAL_CHARS, parse_general, sign_general, verify_raw
from protocol.keys import SigningKey
from protocol.reasons import ReasonCode as R
from protocol.rootchain import (
    TYP_ROOT_ROTATION,
    RootRotation,
    sign_rotation,
    version_of,
    walk_root_chain,
)

FED = "https://federation.example"
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def rotate(
    old: SigningKey, new: SigningKey, version: int, *, federation: str = FED, keys: SigningKey | None = None
) -> str:
    """The statement making ``keys`` (default ``new``) root version ``version``, signed by both."""
    shown = keys or new
    return sign_general(
        dumps_compact(RootRotation(federation, version, (shown.public,), NOW).to_json()),
        [(old, old.public.kid), (new, new.public.kid)],
        typ=TYP_ROOT_ROTATION,
    )


def signed_only(by: SigningKey, new: SigningKey, version: int) -> str:
    payload = dumps_compact(RootRotation(FED, version, (new.public,), NOW).to_json())
    return sign_general(payload, [(by, by.public.kid)], typ=TYP_ROOT_ROTATION)


@pytest.fixture(scope="module")
def keys() -> list[SigningKey]:
    """Root keys of versions 1, 2 (ES256) and 3."""
    return [SigningKey.generate(), SigningKey.generate("ES256"), SigningKey.generate()]


@pytest.fixture(scope="module")
def chain(keys: list[SigningKey]) -> list[str]:
    k1, k2, k3 = keys
    return [
        sign_rotation(
            FED,
            2,
            [k1.public],
            [k2.public],
            old_signer=k1,
            old_kid=k1.public.kid,
            new_signer=k2,
            new_kid=k2.public.kid,
            issued_at=NOW,
        ),
        sign_rotation(
            FED,
            3,
            [k2.public],
            [k3.public],
            old_signer=k2,
            old_kid=k2.public.kid,
            new_signer=k3,
            new_kid=k3.public.kid,
            issued_at=NOW,
        ),
    ]


# -- the statement: a standard general JWS ---------------------------------------------------------


def test_any_jose_library_verifies_both_signatures(keys: list[SigningKey], chain: list[str]) -> None:
    """jwcrypto, given each key, verifies the statement; the payload is what Yilu parses."""
    k1, k2, _ = keys
    for key in (k1, k2):
        token = jws.JWS()
        token.deserialize(chain[0])
        token.verify(jwk.JWK(**dict(key.public.jwk)))
        payload = json.loads(token.payload)
        assert payload["type"] == "RootRotation" and payload["rootVersion"] == 2
    assert list(json.loads(chain[0])) == ["payload", "signatures"]
    assert "\n" not in chain[0] and chain[0].isascii() and len(chain[0]) < 1200


def test_statement_members_in_order(chain: list[str]) -> None:
    payload = parse_general(chain[1], expected_typ=TYP_ROOT_ROTATION).payload_json()
    assert list(payload) == ["type", "version", "federation", "rootVersion", "rootKeys", "issuedAt"]
    assert payload["federation"] == FED and payload["issuedAt"] == "2026-11-27T09:00:00Z"


def _mutate(text: str, change: object) -> str:
    obj = json.loads(text)
    change(obj)  # type: ignore[operator]
    return json.dumps(obj, separators=(",", ":"))


@pytest.mark.parametrize(
    "change",
    [
        lambda o: o.update(header={"jwk": {}}),
        lambda o: o["signatures"][0].update(header={"kid": "x"}),
        lambda o: o.update(protected=o["signatures"][0]["protected"]),
        lambda o: o.pop("signatures"),
        lambda o: o.update(signatures=[]),
        lambda o: o.update(signatures=o["signatures"] * 9),
        lambda o: o.update(payload=o["payload"] + "="),
        lambda o: o["signatures"][0].update(signature=o["signatures"][0]["signature"][:-1] + "B"),
        lambda o: o["signatures"][0].update(signature="AAAA"),
        lambda o: o.update(payload=7),
    ],
)
def test_parsing_is_strict(chain: list[str], change: object) -> None:
    with pytest.raises(InputError):
        parse_general(_mutate(chain[0], change), expected_typ=TYP_ROOT_ROTATION)


@pytest.mark.parametrize(
    ("header", "error", "code"),
    [
        ({"alg": "none", "kid": "k", "typ": TYP_ROOT_ROTATION}, UnsupportedFormatError, R.UNSUPPORTED_ALG),
        ({"alg": "HS256", "kid": "k", "typ": TYP_ROOT_ROTATION}, UnsupportedFormatError, R.UNSUPPORTED_ALG),
        ({"alg": "EdDSA", "kid": "k", "typ": "vc+jwt"}, UnsupportedFormatError, R.UNSUPPORTED_FORMAT),
        (
            {"alg": "EdDSA", "kid": "k", "typ": TYP_ROOT_ROTATION, "crit": ["b64"]},
            UnsupportedFormatError,
            R.UNSUPPORTED_FORMAT,
        ),
        # Not the header Yilu writes: refused as trust data, with no certificate reason code.
        (
            {"alg": "EdDSA", "kid": "k", "typ": TYP_ROOT_ROTATION, "jwk": {"kty": "OKP"}},
            MalformedInputError,
            None,
        ),
        ({"kid": "k", "alg": "EdDSA", "typ": TYP_ROOT_ROTATION}, MalformedInputError, None),
    ],
)
def test_headers_are_exactly_yilus(
    chain: list[str], header: dict[str, object], error: type[InputError], code: R | None
) -> None:
    protected = b64url_encode(json.dumps(header, separators=(",", ":")).encode())
    bad = _mutate(chain[0], lambda o: o["signatures"][0].update(protected=protected))
    with pytest.raises(error) as info:
        parse_general(bad, expected_typ=TYP_ROOT_ROTATION)
    assert (type(info.value), info.value.code) == (error, code)


def test_bounded_and_ascii(chain: list[str]) -> None:
    assert MAX_GENERAL_CHARS == 16 * 1024  # docs/formats.md, "Root rotation": at most 16 KiB
    with pytest.raises(InputTooLargeError):
        parse_general(chain[0] + " " * (16 * 1024), expected_typ=TYP_ROOT_ROTATION)
    with pytest.raises(MalformedInputError):
        parse_general(chain[0].replace("{", "{\u00e9", 1), expected_typ=TYP_ROOT_ROTATION)


def test_each_signature_checks_as_the_compact_jws_it_stands_for(
    keys: list[SigningKey], chain: list[str]
) -> None:
    k1, k2, _ = keys
    old, new = parse_general(chain[0], expected_typ=TYP_ROOT_ROTATION).signatures
    assert verify_raw(old, k1.public) and verify_raw(new, k2.public)
    assert not verify_raw(old, k2.public)
    assert old.kid == k1.public.kid and b64url_decode(old.compact.split(".")[1]) == old.payload_bytes


def test_sign_rotation_refuses_a_signer_that_is_not_a_new_key(keys: list[SigningKey]) -> None:
    k1, k2, k3 = keys
    with pytest.raises(MalformedInputError, match="refusing to publish"):
        sign_rotation(
            FED,
            2,
            [k1.public],
            [k2.public],
            old_signer=k1,
            old_kid=k1.public.kid,
            new_signer=k3,
            new_kid=k3.public.kid,
            issued_at=NOW,
        )
    with pytest.raises(MalformedInputError, match="refusing to publish"):
        sign_rotation(
            FED,
            2,
            [k3.public],
            [k2.public],
            old_signer=k1,
            old_kid=k1.public.kid,
            new_signer=k2,
            new_kid=k2.public.kid,
            issued_at=NOW,
        )


# -- the walk --------------------------------------------------------------------------------------


def test_walks_forward_one_version_at_a_time(keys: list[SigningKey], chain: list[str]) -> None:
    k1, k2, k3 = keys
    assert walk_root_chain([k1.public], 1, chain, FED) == ((k3.public,), 3)
    assert walk_root_chain([k2.public], 2, chain, FED) == ((k3.public,), 3)
    assert walk_root_chain([k3.public], 3, chain, FED) == ((k3.public,), 3)
    assert walk_root_chain([k1.public], 1, chain[:1], FED) == ((k2.public,), 2)
    assert walk_root_chain([k1.public], 1, [], FED) == ((k1.public,), 1)


def test_version_of_pinned_keys(keys: list[SigningKey], chain: list[str]) -> None:
    k1, k2, k3 = keys
    assert [version_of([k.public], chain, FED) for k in (k1, k2, k3)] == [1, 2, 3]
    assert version_of([SigningKey.generate().public], chain, None) == 1


def test_attacker_with_only_his_own_key_cannot_rotate(keys: list[SigningKey]) -> None:
    k1, _, _ = keys
    mallory = SigningKey.generate()
    with pytest.raises(TrustDataError, match=r"not signed by a key of root version 1, which this device"):
        walk_root_chain([k1.public], 1, [signed_only(mallory, mallory, 2)], FED)


def test_the_new_keys_must_sign_too(keys: list[SigningKey]) -> None:
    """TUF §5.3.4: signed by the old root alone is not enough, the new keys sign themselves in."""
    k1, _, _ = keys
    mallory = SigningKey.generate()
    with pytest.raises(TrustDataError, match="not signed by a key of that new version itself"):
        walk_root_chain([k1.public], 1, [signed_only(k1, mallory, 2)], FED)


def test_a_missing_rotation_is_a_gap(keys: list[SigningKey], chain: list[str]) -> None:
    k1, _, _ = keys
    with pytest.raises(
        TrustDataError, match=r"does not carry the root rotation from version 1; ask your agency"
    ):
        walk_root_chain([k1.public], 1, chain[1:], FED)


@pytest.mark.parametrize("order", [(0, 0), (1, 0), (0, 1, 1), (0, 1, 0)])
def test_replayed_or_reordered_rotations_are_refused(
    keys: list[SigningKey], chain: list[str], order: tuple[int, ...]
) -> None:
    k1, _, _ = keys
    with pytest.raises(TrustDataError):
        walk_root_chain([k1.public], 1, [chain[i] for i in order], FED)


def test_a_rotation_of_another_federation_is_refused(keys: list[SigningKey], chain: list[str]) -> None:
    """The same key as root of two federations: a rotation of one cannot move the other."""
    k1, _, k3 = keys
    other = rotate(k1, SigningKey.generate(), 2, federation="https://other.example")
    with pytest.raises(TrustDataError, match=r"of federation 'https://other.example', not"):
        walk_root_chain([k1.public], 1, [other], FED)
    with pytest.raises(TrustDataError, match=r"not 'https://other.example'"):
        walk_root_chain([k3.public], 3, chain, "https://other.example")


def test_a_tampered_payload_is_refused(keys: list[SigningKey], chain: list[str]) -> None:
    k1, _, _ = keys
    mallory = SigningKey.generate()
    forged = RootRotation(FED, 2, (mallory.public,), NOW).to_json()
    tampered = _mutate(chain[0], lambda o: o.update(payload=b64url_encode(dumps_compact(forged))))
    with pytest.raises(TrustDataError, match="not signed by a key of root version 1"):
        walk_root_chain([k1.public], 1, [tampered], FED)


def test_a_lower_chain_than_the_pin_is_a_rollback(keys: list[SigningKey], chain: list[str]) -> None:
    _, _, k3 = keys
    with pytest.raises(RollbackError, match=r"rollback of the federation root.*already trusts version 3"):
        walk_root_chain([k3.public], 3, chain[:1], FED)


def test_a_stolen_retired_key_cannot_fork_a_device_that_moved_on(
    keys: list[SigningKey], chain: list[str]
) -> None:
    """Whoever stole version 1's key signs his own version 2 and 3; a device at 2 or 3 refuses."""
    k1, k2, k3 = keys
    m2, m3 = SigningKey.generate(), SigningKey.generate()
    forged = [rotate(k1, m2, 2), rotate(m2, m3, 3)]
    assert walk_root_chain([k1.public], 1, forged, FED).version == 3  # a device still at 1 is fooled
    for pinned, version in ((k2, 2), (k3, 3)):
        with pytest.raises(TrustDataError, match="do not pass through the root this device trusts"):
            walk_root_chain([pinned.public], version, forged, FED)


def test_a_malformed_statement_says_what_to_do(keys: list[SigningKey]) -> None:
    k1, _, _ = keys
    with pytest.raises(
        TrustDataError, match=r"^root rotation #1 of the bundle is malformed .*ask your agency"
    ):
        walk_root_chain([k1.public], 1, ["{}"], FED)
