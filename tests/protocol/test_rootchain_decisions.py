"""Each decision of the root rotation chain at its edge (docs/formats.md, "Root rotation"; issue 8).

Statements are signed with real keys; the bounds are the documented ones (at most 256
statements, rootVersion 2 or more, a pinned version 1 or more).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

import protocol.rootchain as rootchain_module
from protocol.encoding import b64url_decode, dumps_compact
from protocol.errors import MalformedInputError, RollbackError, TrustDataError
from protocol.jws import parse_general, sign_general
from protocol.keys import SigningKey
from protocol.rootchain import (
    TYP_ROOT_ROTATION,
    RootRotation,
    chain_federation,
    read_chain,
    sign_rotation,
    version_of,
    walk_root_chain,
)

FED = "https://federation.example"
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def test_limits_are_the_documented_ones() -> None:
    """docs/formats.md, "Root rotation": a statement is format version 1; a chain holds
    more than 256 statements only to be refused."""
    assert rootchain_module.ROTATION_VERSION == 1
    assert rootchain_module.MAX_ROTATIONS == 256


def rotation(old: SigningKey, new: SigningKey, version: int, *, federation: str = FED) -> str:
    """The statement making ``new`` root version ``version``, as the root signs it."""
    return sign_rotation(
        federation,
        version,
        [old.public],
        [new.public],
        old_signer=old,
        old_kid=old.public.kid,
        new_signer=new,
        new_kid=new.public.kid,
        issued_at=NOW,
    )


@pytest.fixture(scope="module")
def keys() -> list[SigningKey]:
    return [SigningKey.generate() for _ in range(3)]


@pytest.fixture(scope="module")
def chain(keys: list[SigningKey]) -> list[str]:
    k1, k2, k3 = keys
    return [rotation(k1, k2, 2), rotation(k2, k3, 3)]


def payload_of(statement: str) -> dict[str, Any]:
    return json.loads(b64url_decode(json.loads(statement)["payload"]))  # type: ignore[no-any-return]


def signed(payload: dict[str, Any], *signers: SigningKey) -> str:
    return sign_general(dumps_compact(payload), [(k, k.public.kid) for k in signers], typ=TYP_ROOT_ROTATION)


# -- the statement ---------------------------------------------------------------------------


def test_a_statement_says_it_is_version_1_with_every_member(keys: list[SigningKey], chain: list[str]) -> None:
    _, k2, _ = keys
    payload = payload_of(chain[0])
    assert payload == {
        "type": "RootRotation",
        "version": 1,
        "federation": FED,
        "rootVersion": 2,
        "rootKeys": [dict(k2.public.jwk)],
        "issuedAt": "2026-11-27T09:00:00Z",
    }
    parsed = RootRotation.from_json(payload)
    assert parsed == RootRotation(FED, 2, (k2.public,), NOW)


@pytest.mark.parametrize(
    ("member", "value"),
    [
        ("type", "FederationList"),
        ("version", 2),
        ("version", True),
        ("federation", 7),
        ("rootVersion", 1),
        ("rootVersion", True),
        ("rootVersion", "2"),
        ("rootVersion", 2.0),
    ],
)
def test_statement_members_out_of_their_domain_are_refused(chain: list[str], member: str, value: Any) -> None:
    payload = payload_of(chain[0])
    RootRotation.from_json(payload)  # the unchanged statement parses
    with pytest.raises(MalformedInputError):
        RootRotation.from_json({**payload, member: value})


def test_root_version_2_is_the_least_a_statement_names(keys: list[SigningKey]) -> None:
    k1, k2, _ = keys
    payload = RootRotation(FED, 2, (k2.public,), NOW).to_json()
    assert RootRotation.from_json(payload).root_version == 2
    with pytest.raises(MalformedInputError, match="rootVersion of 2 or more"):
        RootRotation.from_json({**payload, "rootVersion": 1})
    with pytest.raises(MalformedInputError, match="rootVersion of 2 or more"):
        sign_rotation(
            FED, 1, [k1.public], [k2.public],
            old_signer=k1, old_kid=k1.public.kid, new_signer=k2, new_kid=k2.public.kid, issued_at=NOW,
        )  # fmt: skip


def test_sign_rotation_checks_the_statement_as_a_device_will(keys: list[SigningKey]) -> None:
    """The statement returned verifies from the old version; one whose new keys are not the
    signer's is refused before it is published."""
    k1, k2, k3 = keys
    text = rotation(k2, k3, 3)
    assert walk_root_chain([k2.public], 2, [text], FED, first_version=3) == ((k3.public,), 3)
    with pytest.raises(MalformedInputError, match="refusing to publish this root rotation"):
        sign_rotation(
            FED, 3, [k2.public], [k3.public],
            old_signer=k2, old_kid=k2.public.kid, new_signer=k1, new_kid=k3.public.kid, issued_at=NOW,
        )  # fmt: skip
    with pytest.raises(MalformedInputError, match="refusing to publish this root rotation"):
        sign_rotation(
            FED, 3, [k1.public], [k3.public],
            old_signer=k2, old_kid=k2.public.kid, new_signer=k3, new_kid=k3.public.kid, issued_at=NOW,
        )  # fmt: skip


# -- the chain's shape -----------------------------------------------------------------------


def test_256_statements_are_read_and_257_refused_unread() -> None:
    """The count is checked before any statement is parsed: 256 garbage statements fail on
    the first one, 257 on their number."""
    with pytest.raises(TrustDataError, match=r"^root rotation #1 of the bundle is malformed"):
        read_chain(["{}"] * 256, FED)
    with pytest.raises(TrustDataError, match="more than 256 root rotations: ask your agency"):
        read_chain(["{}"] * 257, FED)


def test_the_chain_is_read_in_order_with_its_federation(keys: list[SigningKey], chain: list[str]) -> None:
    k1, k2, k3 = keys
    read = read_chain(chain, None)
    assert [(r.root_version, r.federation, r.root_keys) for _, r in read] == [
        (2, FED, (k2.public,)),
        (3, FED, (k3.public,)),
    ]
    assert [p.payload_json() for p, _ in read] == [payload_of(s) for s in chain]
    assert read_chain(chain[1:], FED, first_version=3)[0][1].root_version == 3
    assert chain_federation(chain) == FED
    assert chain_federation([]) is None
    other = rotation(k1, k2, 2, federation="https://other.example")
    assert chain_federation([other]) == "https://other.example"
    with pytest.raises(TrustDataError, match=r"of federation 'https://federation\.example', not 'https://other"):
        read_chain([other, chain[1]], None)


def test_a_statement_again_or_ahead_is_named(keys: list[SigningKey], chain: list[str]) -> None:
    again = r"to version {} again or out of order \(where version {} belongs\)"
    with pytest.raises(TrustDataError, match=again.format(2, 3)):
        read_chain([chain[0], chain[0]], FED)
    with pytest.raises(TrustDataError, match="does not carry the root rotation from version 1;"):
        read_chain([chain[1]], FED)
    with pytest.raises(TrustDataError, match=again.format(3, 4)):
        read_chain([chain[1]], FED, first_version=4)


# -- the walk ----------------------------------------------------------------------------------


def test_a_pinned_version_is_1_or_more(keys: list[SigningKey], chain: list[str]) -> None:
    k1, _, k3 = keys
    assert walk_root_chain([k1.public], 1, chain, FED) == ((k3.public,), 3)
    with pytest.raises(TrustDataError, match="a pinned root version is 1 or more"):
        walk_root_chain([k1.public], 0, chain, FED)


def test_a_pin_at_the_last_version_is_no_rollback(keys: list[SigningKey], chain: list[str]) -> None:
    _, k2, k3 = keys
    assert walk_root_chain([k2.public], 2, chain[:1], FED) == ((k2.public,), 2)
    assert walk_root_chain([k3.public], 3, chain, FED) == ((k3.public,), 3)
    with pytest.raises(RollbackError, match="signed by root version 2, this device already trusts version 3"):
        walk_root_chain([k3.public], 3, chain[:1], FED)
    with pytest.raises(RollbackError, match="signed by root version 1, this device already trusts version 2"):
        walk_root_chain([k2.public], 2, [], FED)


def test_a_walk_from_a_later_first_version(keys: list[SigningKey], chain: list[str]) -> None:
    """``first_version`` 3: the chain holds only the rotation to 3; a device at 3 must hold
    its keys, a device at 2 walks it."""
    k1, k2, k3 = keys
    assert walk_root_chain([k2.public], 2, chain[1:], FED, first_version=3) == ((k3.public,), 3)
    assert walk_root_chain([k3.public], 3, chain[1:], FED, first_version=3) == ((k3.public,), 3)
    with pytest.raises(TrustDataError, match="do not pass through the root this device trusts"):
        walk_root_chain([k1.public], 3, chain[1:], FED, first_version=3)
    with pytest.raises(TrustDataError, match="not signed by a key of root version 2"):
        walk_root_chain([k1.public], 2, chain[1:], FED, first_version=3)


def test_only_statements_after_the_pin_are_checked_again(keys: list[SigningKey], chain: list[str]) -> None:
    """A device at 2 does not re-check the (here unverifiable) rotation to 2, only that it
    names the keys the device holds."""
    k1, k2, k3 = keys
    payload = payload_of(chain[0])
    self_signed = signed(payload, k2)  # not signed by version 1: only a device at 1 cares
    assert walk_root_chain([k2.public], 2, [self_signed, chain[1]], FED) == ((k3.public,), 3)
    with pytest.raises(TrustDataError, match="not signed by a key of root version 1"):
        walk_root_chain([k1.public], 1, [self_signed, chain[1]], FED)


def test_a_signature_is_checked_with_the_key_its_kid_names(keys: list[SigningKey]) -> None:
    """Two trusted keys: the statement's signature by the second verifies with it."""
    k1, k2, k3 = keys
    payload = RootRotation(FED, 2, (k3.public,), NOW).to_json()
    text = signed(payload, k2, k3)
    assert walk_root_chain([k1.public, k2.public], 1, [text], FED) == ((k3.public,), 2)
    assert len(parse_general(text, expected_typ=TYP_ROOT_ROTATION).signatures) == 2


def test_version_of_names_the_latest_version_of_the_keys(keys: list[SigningKey]) -> None:
    """A root that rotates back to keys it had: the keys are of the latest version."""
    k1, k2, _ = keys
    chain = [rotation(k1, k2, 2), rotation(k2, k1, 3), rotation(k1, k2, 4)]
    assert version_of([k2.public], chain, FED) == 4
    assert version_of([k1.public], chain, FED) == 3
    assert version_of([SigningKey.generate().public], chain, FED) == 1
    assert walk_root_chain([k2.public], 4, chain, FED) == ((k2.public,), 4)
