"""Each decision of the trust and federation lists at its edge (docs/formats.md, "Trust list",
"Federation list", "Keys"; issue 8): equal instants, the documented bounds (1 to 16 root keys,
rootVersion 1 or more), and the defaults a list gets when a member is left out.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import protocol.lists as lists_module
from protocol.errors import MalformedInputError, TrustDataError
from protocol.jws import parse_compact
from protocol.keys import SigningKey
from protocol.lists import (
    Agreement,
    FederationList,
    KeyRecord,
    Lab,
    Scope,
    StatusEvent,
    is_version,
    key_set,
    parse_root_keys,
    status_at,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
SECOND = timedelta(seconds=1)


@pytest.fixture(scope="module")
def seventeen() -> list[SigningKey]:
    return [SigningKey.generate() for _ in range(17)]


def test_limits_are_the_documented_ones() -> None:
    """docs/formats.md, "Federation list" and "Root rotation": lists are format version 1,
    a root version has 1 to 16 keys."""
    assert lists_module.FORMAT_VERSION == 1
    assert lists_module.MAX_ROOT_KEYS == 16


def test_16_root_keys_are_read_and_17_refused(seventeen: list[SigningKey]) -> None:
    jwks = [dict(k.public.jwk) for k in seventeen]
    keys = parse_root_keys(jwks[:16], "rootKeys")
    assert [k.kid for k in keys] == [k.public.kid for k in seventeen[:16]]
    assert parse_root_keys(jwks[:1], "rootKeys") == (seventeen[0].public,)
    for wrong in (jwks, [], None, {"0": jwks[0]}):
        with pytest.raises(MalformedInputError, match="rootKeys must be a list of 1 to 16 public JWKs"):
            parse_root_keys(wrong, "rootKeys")
    with pytest.raises(MalformedInputError, match="rootKeys names a key twice"):
        parse_root_keys([jwks[0], jwks[1], dict(jwks[0])], "rootKeys")
    with pytest.raises(MalformedInputError, match=r"^rootKeys: "):
        parse_root_keys([jwks[0], {"kty": "OKP"}], "rootKeys")
    with pytest.raises(MalformedInputError, match=r"rootKeys\[1\] must be an object"):
        parse_root_keys([jwks[0], "key"], "rootKeys")


def test_key_sets_compare_public_keys_whatever_their_order(seventeen: list[SigningKey]) -> None:
    a, b, c = (k.public for k in seventeen[:3])
    assert key_set([a, b]) == key_set([b, a]) != key_set([a, c])
    assert len(key_set([a, a, b])) == 2


def test_a_federation_list_is_of_root_version_1_unless_told(seventeen: list[SigningKey]) -> None:
    """The federation's first root is version 1: a list built without a root version says so,
    and a list of version 0 is refused."""
    root = seventeen[0]
    fed = FederationList("https://f.example", 1, T0, T0 + SECOND, root_keys=(root.public,))
    assert fed.root_version == 1
    payload = parse_compact(fed.sign(root, root.public.kid)).payload_json()
    assert payload["rootVersion"] == 1 and payload["version"] == 1
    assert FederationList.from_json(payload).root_version == 1
    with pytest.raises(MalformedInputError, match=r"federationList\.rootVersion must be 1 or more"):
        FederationList.from_json({**payload, "rootVersion": 0})
    with pytest.raises(MalformedInputError, match=r"federationList\.rootVersion must be a int"):
        FederationList.from_json({**payload, "rootVersion": True})
    with pytest.raises(MalformedInputError, match="not a version 1 federation list"):
        FederationList.from_json({**payload, "version": 2})


def test_a_federation_list_is_signed_only_by_one_of_its_keys(seventeen: list[SigningKey]) -> None:
    root, other = seventeen[0], seventeen[1]
    fed = FederationList("https://f.example", 1, T0, T0 + SECOND, root_keys=(root.public, other.public))
    assert parse_compact(fed.sign(other, other.public.kid)).header["kid"] == other.public.kid
    with pytest.raises(MalformedInputError, match="signed by one of its own rootKeys"):
        FederationList("https://f.example", 1, T0, T0 + SECOND).sign(root, root.public.kid)
    with pytest.raises(MalformedInputError, match="signed by one of its own rootKeys"):
        fed.sign(seventeen[2], seventeen[2].public.kid)


def test_member_is_found_by_id_or_named_missing() -> None:
    fed = FederationList.from_json(
        {
            "type": "FederationList",
            "version": 1,
            "federation": "https://f.example",
            "sequence": 3,
            "issuedAt": "2026-01-01T00:00:00Z",
            "expiresAt": "2026-02-01T00:00:00Z",
            "rootVersion": 2,
            "rootKeys": [dict(SigningKey.generate().public.jwk)],
            "registries": [
                {
                    "id": f"https://r{i}.example",
                    "country": "CN",
                    "accreditationBody": "AB",
                    "publicationUrl": f"https://r{i}.example/yilu/",
                    "permittedLabIds": [],
                    "keys": [],
                    "status": [{"status": "active", "since": "2026-01-01T00:00:00Z"}],
                }
                for i in range(3)
            ],
            "agreements": [],
        }
    )
    assert fed.root_version == 2
    assert fed.member("https://r1.example").publication_url == "https://r1.example/yilu/"
    assert fed.member("https://r2.example").id == "https://r2.example"
    with pytest.raises(TrustDataError, match=r"registry 'https://r9\.example' is not in the federation list"):
        fed.member("https://r9.example")


@pytest.mark.parametrize(("value", "ok"), [(1, True), (2, False), (True, False), (1.0, False), ("1", False)])
def test_is_version_is_exactly_the_integer(value: Any, ok: bool) -> None:
    assert is_version({"version": value}, 1) is ok
    assert is_version({}, 1) is False


# -- instants ----------------------------------------------------------------------------------


def test_status_at_an_event_s_own_instant_is_that_event() -> None:
    history = [StatusEvent("active", T0), StatusEvent("suspended", T0 + 10 * SECOND)]
    assert status_at(history, T0 - SECOND) is None
    assert status_at(history, T0) == "active"
    assert status_at(history, T0 + 10 * SECOND - SECOND) == "active"
    assert status_at(history, T0 + 10 * SECOND) == "suspended"
    assert status_at(list(reversed(history)), T0 + 10 * SECOND) == "suspended"
    # Two events at one instant: the later in the list wins.
    same = [StatusEvent("active", T0), StatusEvent("withdrawn", T0)]
    assert status_at(same, T0) == "withdrawn"
    assert status_at([], T0) is None


def test_key_validity_window_is_inclusive_at_both_ends() -> None:
    key = SigningKey.generate().public
    record = KeyRecord(key, T0, T0 + 10 * SECOND)
    assert [record.valid_at(T0 + s * SECOND) for s in (-1, 0, 10, 11)] == [False, True, True, False]
    assert KeyRecord(key, T0).valid_at(T0 + 10**6 * SECOND)
    assert record.unusable_at(T0 - SECOND) == f"signed with key {key.kid} outside its validity"
    assert record.unusable_at(T0) is None


def test_revocation_voids_from_its_instant_or_always_for_a_compromise() -> None:
    key = SigningKey.generate().public
    revoked = KeyRecord(key, T0, None, T0 + 10 * SECOND, "superseded")
    assert [revoked.revoked_for(T0 + s * SECOND) for s in (9, 10, 11)] == [False, True, True]
    assert revoked.unusable_at(T0 + 9 * SECOND) is None
    revoked_text = f"signed with key {key.kid}, which was revoked (superseded)"
    assert revoked.unusable_at(T0 + 10 * SECOND) == revoked_text
    compromised = KeyRecord(key, T0, None, T0 + 10 * SECOND, "keyCompromise")
    assert compromised.revoked_for(T0) and compromised.revoked_for(T0 + 9 * SECOND)
    assert not KeyRecord(key, T0, None, None, "keyCompromise").revoked_for(T0)


def test_key_record_json_carries_only_what_is_set() -> None:
    key = SigningKey.generate().public
    plain = KeyRecord(key, T0).to_json()
    assert plain == {"kid": key.kid, "jwk": dict(key.jwk), "validFrom": "2026-01-01T00:00:00Z"}
    full = KeyRecord(key, T0, T0 + SECOND, T0 + SECOND, "keyCompromise").to_json()
    assert full == {
        **plain,
        "validUntil": "2026-01-01T00:00:01Z",
        "revokedAt": "2026-01-01T00:00:01Z",
        "revocationReason": "keyCompromise",
    }
    assert KeyRecord.from_json(full, "k") == KeyRecord(key, T0, T0 + SECOND, T0 + SECOND, "keyCompromise")
    with pytest.raises(MalformedInputError, match=r"k\.revocationReason must be one of"):
        KeyRecord.from_json({**full, "revocationReason": "tired"}, "k")
    # A reason without a revocation is no revocation.
    assert KeyRecord.from_json({**plain, "revocationReason": "tired"}, "k").revocation_reason is None


def test_scope_in_force_is_inclusive_at_both_ends() -> None:
    scope = Scope("food", (), T0, T0 + 10 * SECOND)
    assert [scope.in_force(T0 + s * SECOND) for s in (-1, 0, 10, 11)] == [False, True, True, False]
    assert Scope("food").in_force(T0)
    assert Scope("food", (), None, T0).in_force(T0 - 10**6 * SECOND)
    assert not Scope("food", (), None, T0).in_force(T0 + SECOND)
    assert Scope("food", (), T0).in_force(T0 + 10**6 * SECOND)


def test_scope_of_one_instant_is_allowed_and_json_omits_what_is_unset() -> None:
    t0, t1 = "2026-01-01T00:00:00Z", "2026-01-01T00:00:01Z"
    one = Scope.from_json({"category": "food", "from": t0, "until": t0}, "s")
    assert one == Scope("food", (), T0, T0)
    with pytest.raises(MalformedInputError, match=r"s\.until is before its from"):
        Scope.from_json({"category": "food", "from": t1, "until": t0}, "s")
    assert Scope("food").to_json() == {"category": "food"}
    assert Scope("food", ("GB 1",), T0, T0).to_json() == {
        "category": "food",
        "standards": ["GB 1"],
        "from": "2026-01-01T00:00:00Z",
        "until": "2026-01-01T00:00:00Z",
    }
    for standards in ("GB 1", [1], None):
        with pytest.raises(MalformedInputError, match=r"s\.standards must be a list of strings"):
            Scope.from_json({"category": "food", "standards": standards}, "s")


def test_agreement_covers_its_registries_scopes_and_instants() -> None:
    deal = Agreement("KZ", ("https://r.example",), ("food",), T0, T0 + 10 * SECOND)
    assert [deal.covers("https://r.example", "food", T0 + s * SECOND) for s in (-1, 0, 10, 11)] == [
        False,
        True,
        True,
        False,
    ]
    assert not deal.covers("https://other.example", "food", T0)
    assert not deal.covers("https://r.example", "chemicals", T0)
    assert Agreement("KZ", ("https://r.example",), ("food",), T0).covers("https://r.example", "food", T0)
    assert deal.to_json() == {
        "country": "KZ",
        "accepts": ["https://r.example"],
        "scopes": ["food"],
        "from": "2026-01-01T00:00:00Z",
        "until": "2026-01-01T00:00:10Z",
    }
    assert "until" not in Agreement("KZ", (), (), T0).to_json()
    assert Agreement.from_json(deal.to_json(), "a") == deal
    for bad in ({"accepts": [7]}, {"scopes": ["cars"]}):
        with pytest.raises(MalformedInputError, match=r"^a: accepts must be registry ids"):
            Agreement.from_json({**deal.to_json(), **bad}, "a")


def test_for_cause_only_on_a_withdrawal_and_only_true() -> None:
    since = "2026-01-01T00:00:00Z"
    allowed = ("active", "suspended", "withdrawn")
    event = StatusEvent.from_json({"status": "withdrawn", "since": since, "forCause": True}, "e", allowed)
    assert event == StatusEvent("withdrawn", T0, True)
    assert event.to_json() == {"status": "withdrawn", "since": since, "forCause": True}
    assert StatusEvent("withdrawn", T0).to_json() == {"status": "withdrawn", "since": since}
    plain = StatusEvent.from_json({"status": "withdrawn", "since": since, "forCause": False}, "e", allowed)
    assert plain.for_cause is False
    for status, cause in (("suspended", True), ("withdrawn", 1), ("withdrawn", "true"), ("withdrawn", None)):
        with pytest.raises(MalformedInputError, match=r"e\.forCause may only be true, on a withdrawal"):
            StatusEvent.from_json({"status": status, "since": since, "forCause": cause}, "e", allowed)
    with pytest.raises(MalformedInputError, match=r"e\.status 'gone' is not one of"):
        StatusEvent.from_json({"status": "gone", "since": since}, "e", allowed)


def test_a_lab_name_falls_back_to_english_then_to_the_first_name() -> None:
    lab = Lab("https://l.example", {"zh": "实验室", "en": "Lab", "ru": "Лаборатория"}, "CN", "1", (), (), ())
    assert [lab.name(lang) for lang in ("ru", "zh", "kk")] == ["Лаборатория", "实验室", "Lab"]
    assert lab.name() == "Lab"
    no_english = Lab("https://l.example", {"zh": "实验室", "ru": "Лаборатория"}, "CN", "1", (), (), ())
    assert no_english.name("kk") == "实验室" and no_english.name() == "实验室"
