"""The offline bundle's JSON shape (the verifier's loader is tested with the verifier)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from yilu.protocol.bundle import MAX_BUNDLE_BYTES, TYP_BUNDLE, Bundle
from yilu.protocol.errors import MalformedInputError
from yilu.protocol.jws import parse_compact, verify_signature
from yilu.protocol.keys import SigningKey

CREATED = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def bundle() -> Bundle:
    root = SigningKey.generate()
    return Bundle(
        federation="https://federation.example",
        sequence=7,
        created_at=CREATED,
        root_keys=(dict(root.public.jwk), dict(SigningKey.generate("ES256").public.jwk)),
        federation_list="eyJhbGciOiJFZERTQSJ9.e30.AAAA",
        trust_lists=("a.b.c", "d.e.f"),
        status_lists=("g.h.i",),
    )


def test_to_json_shape(bundle: Bundle) -> None:
    data = bundle.to_json()
    assert list(data) == [
        "type",
        "version",
        "federation",
        "sequence",
        "createdAt",
        "rootKeys",
        "federationList",
        "trustLists",
        "statusLists",
    ]
    assert data["type"] == "YiluBundle"
    assert data["version"] == 1
    assert data["federation"] == "https://federation.example" and data["sequence"] == 7
    assert data["createdAt"] == "2026-11-27T09:00:00Z"
    assert data["trustLists"] == ["a.b.c", "d.e.f"]
    assert all("d" not in k for k in data["rootKeys"])


def test_round_trip(bundle: Bundle) -> None:
    data = json.loads(json.dumps(bundle.to_json()))
    again = Bundle.from_json(data)
    assert again == bundle
    assert again.to_json() == bundle.to_json()


def test_empty_lists_round_trip() -> None:
    empty = Bundle("https://f.example", 0, CREATED, (), "x.y.z", (), ())
    assert Bundle.from_json(empty.to_json()) == empty


def test_signed_bundle_verifies(bundle: Bundle) -> None:
    root = SigningKey.generate()
    token = bundle.sign(root, root.public.kid)
    parsed = parse_compact(token, expected_typ=TYP_BUNDLE)
    assert TYP_BUNDLE == "yilu-bundle+jwt"
    verify_signature(parsed, root.public)
    assert Bundle.from_json(parsed.payload_json()) == bundle
    assert MAX_BUNDLE_BYTES >= 64 * 1024 * 1024


@pytest.mark.parametrize(
    ("member", "value"),
    [
        ("type", "TrustList"),
        ("type", None),
        ("version", 2),
        ("version", "1"),
        ("federation", None),
        ("federation", 1),
        ("sequence", None),
        ("sequence", "7"),
        ("sequence", 7.0),
        ("sequence", True),
        ("sequence", -1),
        ("createdAt", "now"),
        ("createdAt", "2026-11-27T09:00:00"),
        ("createdAt", None),
        ("rootKeys", {"kty": "OKP"}),
        ("rootKeys", ["not a jwk"]),
        ("rootKeys", None),
        ("federationList", ["a.b.c"]),
        ("federationList", None),
        ("federationList", 1),
        ("trustLists", "a.b.c"),
        ("trustLists", [1]),
        ("trustLists", [{"jws": "a.b.c"}]),
        ("trustLists", None),
        ("statusLists", "g.h.i"),
        ("statusLists", [None]),
        ("statusLists", {}),
    ],
)
def test_from_json_rejects_wrong_types(bundle: Bundle, member: str, value: Any) -> None:
    data = copy.deepcopy(bundle.to_json())
    data[member] = value
    with pytest.raises(MalformedInputError):
        Bundle.from_json(data)


@pytest.mark.parametrize(
    "member",
    [
        "type",
        "version",
        "federation",
        "sequence",
        "createdAt",
        "rootKeys",
        "federationList",
        "trustLists",
        "statusLists",
    ],
)
def test_from_json_rejects_missing_members(bundle: Bundle, member: str) -> None:
    data = copy.deepcopy(bundle.to_json())
    del data[member]
    with pytest.raises(MalformedInputError):
        Bundle.from_json(data)
