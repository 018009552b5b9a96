"""Trust lists and the federation list: JSON round trips, strict parsing, time logic."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from protocol.encoding import b64url_encode
from protocol.errors import MalformedInputError, TrustDataError
from protocol.jws import parse_compact, verify_signature
from protocol.keys import SigningKey
from protocol.lists import (
    TYP_FEDERATION_LIST,
    TYP_TRUST_LIST,
    Agreement,
    FederationList,
    KeyRecord,
    Lab,
    Member,
    Scope,
    StatusEvent,
    TrustList,
    status_at,
)
from testkit import NOW

T0 = datetime(2026, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.fixture(scope="module")
def lab_keys() -> list[SigningKey]:
    return [SigningKey.generate(), SigningKey.generate("ES256")]


@pytest.fixture(scope="module")
def trust_list(lab_keys: list[SigningKey]) -> TrustList:
    lab = Lab(
        id="https://qdtc.example.cn",
        names={"en": "Qingdao Test Centre", "zh": "青岛检测中心", "ru": "Испытательный центр Циндао"},
        country="CN",
        accreditation_number="CNAS L0001",
        scopes=(Scope("food", ("GB 2763-2021",)), Scope("chemicals")),
        status=(
            StatusEvent("active", T0),
            StatusEvent("suspended", T0 + 30 * DAY),
            StatusEvent("active", T0 + 40 * DAY),
        ),
        keys=(
            KeyRecord(lab_keys[0].public, T0, T0 + 365 * DAY),
            KeyRecord(lab_keys[1].public, T0, None, T0 + 10 * DAY, "keyCompromise"),
        ),
    )
    other = Lab(
        id="https://metals.example.cn",
        names={"zh": "金属实验室"},
        country="CN",
        accreditation_number="CNAS L0002",
        scopes=(Scope("minerals-metals"),),
        status=(StatusEvent("withdrawn", T0),),
        keys=(),
    )
    return TrustList(
        registry="https://cnas.example.cn",
        country="CN",
        accreditation_body="CNAS",
        sequence=7,
        issued_at=T0,
        expires_at=T0 + 30 * DAY,
        labs=(lab, other),
    )


@pytest.fixture(scope="module")
def federation(lab_keys: list[SigningKey]) -> FederationList:
    member = Member(
        id="https://cnas.example.cn",
        country="CN",
        accreditation_body="CNAS",
        publication_url="https://cnas.example.cn/trust-list.jws",
        keys=(KeyRecord(lab_keys[0].public, T0),),
        status=(StatusEvent("active", T0),),
    )
    member_ru = Member(
        id="https://fsa.example.ru",
        country="RU",
        accreditation_body="RusAccreditation",
        publication_url="https://fsa.example.ru/list",
        keys=(KeyRecord(lab_keys[1].public, T0, T0 + 100 * DAY, T0 + 50 * DAY, "superseded"),),
        status=(StatusEvent("active", T0), StatusEvent("suspended", T0 + 5 * DAY)),
    )
    agreements = (
        Agreement("KZ", ("https://cnas.example.cn",), ("food", "chemicals"), T0),
        Agreement("RU", ("https://cnas.example.cn",), ("minerals-metals",), T0, T0 + 60 * DAY),
    )
    return FederationList(
        "https://alliance.example.org",
        3,
        T0,
        T0 + 7 * DAY,
        (member, member_ru),
        agreements,
        root_version=2,
        root_keys=(SigningKey.generate().public,),
    )


def through_json(obj: dict[str, Any]) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(json.dumps(obj, ensure_ascii=False))
    return loaded


# ---------------------------------------------------------------- round trips


def test_trust_list_round_trip(trust_list: TrustList) -> None:
    data = trust_list.to_json()
    assert data["type"] == "TrustList"
    assert data["version"] == 1
    assert data["issuedAt"] == "2026-01-01T00:00:00Z"
    again = TrustList.from_json(through_json(data))
    assert again == trust_list
    assert again.to_json() == data
    key = data["labs"][0]["keys"][1]
    assert key["revokedAt"] == "2026-01-11T00:00:00Z"
    assert key["revocationReason"] == "keyCompromise"
    assert "validUntil" not in key
    assert "d" not in key["jwk"]
    assert "standards" not in data["labs"][0]["scopes"][1]


def test_federation_list_round_trip(federation: FederationList) -> None:
    data = federation.to_json()
    assert data["type"] == "FederationList"
    assert list(data)[:8] == [
        "type",
        "version",
        "federation",
        "sequence",
        "issuedAt",
        "expiresAt",
        "rootVersion",
        "rootKeys",
    ]
    assert data["rootVersion"] == 2 and data["rootKeys"] == [dict(federation.root_keys[0].jwk)]
    assert data["agreements"][0]["from"] == "2026-01-01T00:00:00Z"
    assert "until" not in data["agreements"][0]
    assert data["agreements"][1]["until"] == "2026-03-02T00:00:00Z"
    again = FederationList.from_json(through_json(data))
    assert again == federation
    assert again.to_json() == data
    assert again.member("https://fsa.example.ru").country == "RU"
    with pytest.raises(TrustDataError):
        again.member("https://unknown.example")


@pytest.mark.parametrize("which", ["trust", "federation"])
def test_signed_lists_verify_with_their_typ(
    trust_list: TrustList, federation: FederationList, which: str
) -> None:
    signer = SigningKey.generate()
    federation = replace(federation, root_keys=(signer.public,))
    kid = signer.public.kid
    token = trust_list.sign(signer, "reg") if which == "trust" else federation.sign(signer, kid)
    typ = TYP_TRUST_LIST if which == "trust" else TYP_FEDERATION_LIST
    parsed = parse_compact(token, expected_typ=typ)
    verify_signature(parsed, signer.public)
    payload = parsed.payload_json()
    restored = TrustList.from_json(payload) if which == "trust" else FederationList.from_json(payload)
    assert restored == (trust_list if which == "trust" else federation)


def test_federation_list_is_signed_by_one_of_its_own_root_keys(federation: FederationList) -> None:
    """A list names the keys of its root version; signing it with another key is refused."""
    stranger = SigningKey.generate()
    with pytest.raises(MalformedInputError, match="its own rootKeys"):
        federation.sign(stranger, stranger.public.kid)
    with pytest.raises(MalformedInputError, match="its own rootKeys"):
        replace(federation, root_keys=()).sign(stranger, stranger.public.kid)


def test_lab_name_fallbacks(trust_list: TrustList) -> None:
    lab, other = trust_list.labs
    assert lab.name("zh") == "青岛检测中心"
    assert lab.name("kk") == "Qingdao Test Centre"
    assert lab.name() == "Qingdao Test Centre"
    assert other.name("ru") == "金属实验室"


# ---------------------------------------------------------------- strict parsing


def _mutated(data: dict[str, Any], path: list[str | int], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(data)
    target: Any = out
    for step in path[:-1]:
        target = target[step]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return out


_DELETE = object()


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (["type"], "FederationList"),
        (["type"], _DELETE),
        (["version"], 2),
        (["version"], "1"),
        (["registry"], None),
        (["country"], 86),
        (["sequence"], "7"),
        (["sequence"], True),
        (["sequence"], 7.0),
        (["issuedAt"], "yesterday"),
        (["expiresAt"], "2026-02-01T00:00:00"),
        (["labs"], {"0": {}}),
        (["labs", 0], "lab"),
        (["labs", 0, "names"], {}),
        (["labs", 0, "names"], {"en": 1}),
        (["labs", 0, "names"], ["Qingdao"]),
        (["labs", 0, "accreditationNumber"], _DELETE),
        (["labs", 0, "scopes", 0, "category"], "weapons"),
        (["labs", 0, "scopes", 0, "category"], "Food"),
        (["labs", 0, "scopes", 0, "standards"], "GB 2763"),
        (["labs", 0, "scopes", 0, "standards"], [1]),
        (["labs", 0, "scopes"], "food"),
        (["labs", 0, "status", 0, "status"], "accredited"),
        (["labs", 0, "status", 0, "status"], "ACTIVE"),
        (["labs", 0, "status", 0, "since"], None),
        (["labs", 0, "keys", 0, "kid"], "AAAAAAAAAAA"),
        (["labs", 0, "keys", 0, "kid"], _DELETE),
        (["labs", 0, "keys", 0, "jwk"], "key"),
        (["labs", 0, "keys", 0, "jwk", "d"], b64url_encode(bytes(32))),
        (["labs", 0, "keys", 0, "validFrom"], _DELETE),
        (["labs", 0, "keys", 0, "validUntil"], "never"),
        (["labs", 0, "keys", 1, "revocationReason"], _DELETE),
        (["labs", 0, "keys", 1, "revocationReason"], "lost"),
        (["labs", 0, "keys", 1, "revocationReason"], None),
        (["labs", 0, "keys", 1, "revokedAt"], "2026-13-01T00:00:00Z"),
        (["labs", 0, "keys", 0, "revokedAt"], "2026-02-01T00:00:00Z"),  # revoked without a reason
    ],
)
def test_trust_list_from_json_rejects(trust_list: TrustList, path: list[str | int], value: Any) -> None:
    with pytest.raises(MalformedInputError):
        TrustList.from_json(_mutated(trust_list.to_json(), path, value))


@pytest.mark.parametrize("version", [True, 1.0])
def test_version_must_be_the_integer_1(
    trust_list: TrustList, federation: FederationList, version: Any
) -> None:
    with pytest.raises(MalformedInputError):
        TrustList.from_json(_mutated(trust_list.to_json(), ["version"], version))
    with pytest.raises(MalformedInputError):
        FederationList.from_json(_mutated(federation.to_json(), ["version"], version))


def test_kid_must_match_the_jwk(trust_list: TrustList) -> None:
    data = trust_list.to_json()
    # swap the two keys' kids
    keys = data["labs"][0]["keys"]
    keys[0]["kid"], keys[1]["kid"] = keys[1]["kid"], keys[0]["kid"]
    with pytest.raises(MalformedInputError, match="kid"):
        TrustList.from_json(data)


def test_error_messages_name_the_place(trust_list: TrustList) -> None:
    bad = _mutated(trust_list.to_json(), ["labs", 1, "scopes", 0, "category"], "weapons")
    with pytest.raises(MalformedInputError, match=r"trustList\.labs\[1\]\.scopes\[0\]\.category"):
        TrustList.from_json(bad)
    bad = _mutated(trust_list.to_json(), ["labs", 0, "status", 2, "status"], "gone")
    with pytest.raises(MalformedInputError, match=r"trustList\.labs\[0\]\.status\[2\]"):
        TrustList.from_json(bad)


def test_reason_without_revocation_is_dropped(trust_list: TrustList) -> None:
    data = _mutated(trust_list.to_json(), ["labs", 0, "keys", 0, "revocationReason"], "keyCompromise")
    record = TrustList.from_json(data).labs[0].keys[0]
    assert record.revoked_at is None
    assert record.revocation_reason is None


def test_unknown_members_are_ignored(trust_list: TrustList) -> None:
    data = _mutated(trust_list.to_json(), ["labs", 0, "website"], "https://qdtc.example.cn")
    data["futureField"] = {"x": 1}
    assert TrustList.from_json(data) == trust_list


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (["type"], "TrustList"),
        (["version"], 0),
        (["federation"], ["x"]),
        (["sequence"], None),
        (["registries"], None),
        (["registries", 0, "publicationUrl"], _DELETE),
        (["registries", 0, "status", 0, "status"], "expelled"),
        (["registries", 0, "keys", 0, "kid"], "wrong"),
        (["registries", 1, "keys", 0, "revocationReason"], "oops"),
        (["agreements", 0, "scopes"], ["food", "weapons"]),
        (["agreements", 0, "scopes"], "food"),
        (["agreements", 0, "accepts"], [1]),
        (["agreements", 0, "accepts"], "https://cnas.example.cn"),
        (["agreements", 0, "from"], _DELETE),
        (["agreements", 0, "country"], None),
        (["agreements", 1, "until"], "later"),
        (["agreements", 0], []),
        (["rootVersion"], _DELETE),
        (["rootVersion"], 0),
        (["rootVersion"], True),
        (["rootVersion"], "2"),
        (["rootKeys"], _DELETE),
        (["rootKeys"], []),
        (["rootKeys"], {"kty": "OKP"}),
        (["rootKeys", 0, "d"], "secret"),
        (["rootKeys", 0, "crv"], "X25519"),
    ],
)
def test_federation_list_from_json_rejects(
    federation: FederationList, path: list[str | int], value: Any
) -> None:
    with pytest.raises(MalformedInputError):
        FederationList.from_json(_mutated(federation.to_json(), path, value))


# ---------------------------------------------------------------- time logic


def test_status_at_picks_the_latest_event_not_after_when() -> None:
    history = [
        StatusEvent("active", T0),
        StatusEvent("suspended", T0 + 10 * DAY),
        StatusEvent("withdrawn", T0 + 20 * DAY),
    ]
    assert status_at(history, T0 - timedelta(seconds=1)) is None
    assert status_at(history, T0) == "active"
    assert status_at(history, T0 + 10 * DAY - timedelta(seconds=1)) == "active"
    assert status_at(history, T0 + 10 * DAY) == "suspended"
    assert status_at(history, T0 + 15 * DAY) == "suspended"
    assert status_at(history, T0 + 20 * DAY) == "withdrawn"
    assert status_at(history, T0 + 1000 * DAY) == "withdrawn"
    assert status_at([], T0) is None


def test_status_at_ignores_list_order() -> None:
    history = [
        StatusEvent("withdrawn", T0 + 20 * DAY),
        StatusEvent("active", T0),
        StatusEvent("suspended", T0 + 10 * DAY),
    ]
    assert status_at(history, T0 + 5 * DAY) == "active"
    assert status_at(history, T0 + 15 * DAY) == "suspended"
    assert status_at(reversed(history), T0 + 25 * DAY) == "withdrawn"


def test_status_at_on_parsed_history(trust_list: TrustList) -> None:
    lab = TrustList.from_json(trust_list.to_json()).labs[0]
    assert status_at(lab.status, T0 + 35 * DAY) == "suspended"
    assert status_at(lab.status, T0 + 45 * DAY) == "active"


def test_key_record_valid_at() -> None:
    key = SigningKey.generate().public
    bounded = KeyRecord(key, T0, T0 + 10 * DAY)
    assert not bounded.valid_at(T0 - timedelta(seconds=1))
    assert bounded.valid_at(T0)
    assert bounded.valid_at(T0 + 5 * DAY)
    assert bounded.valid_at(T0 + 10 * DAY)
    assert not bounded.valid_at(T0 + 10 * DAY + timedelta(seconds=1))
    open_ended = KeyRecord(key, T0)
    assert open_ended.valid_at(T0 + 10_000 * DAY)
    assert not open_ended.valid_at(T0 - DAY)
    # revocation is a separate check: a revoked key is still "in its window"
    revoked = KeyRecord(key, T0, None, T0 + DAY, "keyCompromise")
    assert revoked.valid_at(T0 + 2 * DAY)
    assert revoked.kid == key.kid


def test_agreement_covers() -> None:
    agreement = Agreement(
        "KZ", ("https://cnas.example.cn", "https://other.example"), ("food", "chemicals"), T0, T0 + 10 * DAY
    )
    assert agreement.covers("https://cnas.example.cn", "food", T0)
    assert agreement.covers("https://other.example", "chemicals", T0 + 10 * DAY)
    assert not agreement.covers("https://cnas.example.cn", "food", T0 - timedelta(seconds=1))
    assert not agreement.covers("https://cnas.example.cn", "food", T0 + 10 * DAY + timedelta(seconds=1))
    assert not agreement.covers("https://cnas.example.cn", "minerals-metals", T0 + DAY)
    assert not agreement.covers("https://unknown.example", "food", T0 + DAY)
    assert not agreement.covers("https://cnas.example", "food", T0 + DAY)  # no prefix matching
    forever = Agreement("RU", ("r",), ("food",), T0)
    assert forever.covers("r", "food", T0 + 10_000 * DAY)


def test_scope_parsing_defaults() -> None:
    assert Scope.from_json({"category": "textiles"}, "s") == Scope("textiles")
    dated = Scope("food", since=NOW - timedelta(days=3), until=NOW)
    assert Scope.from_json(dated.to_json(), "s") == dated
    assert dated.in_force(NOW) and not dated.in_force(NOW + timedelta(seconds=1))
    assert not dated.in_force(NOW - timedelta(days=4))
    with pytest.raises(MalformedInputError, match="until is before its from"):
        Scope.from_json(
            {"category": "food", "from": "2026-11-02T00:00:00Z", "until": "2026-11-01T00:00:00Z"}, "s"
        )
    assert Scope.from_json({"category": "food", "standards": ["GB 2763"]}, "s").standards == ("GB 2763",)
    with pytest.raises(MalformedInputError, match=r"s\.category"):
        Scope.from_json({"category": 1}, "s")
    with pytest.raises(MalformedInputError):
        Scope.from_json(["food"], "s")
