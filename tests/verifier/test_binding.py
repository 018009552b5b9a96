"""The binding rule and status entries, through load_bundle and Verifier (testkit World).

A listing is used only if its lab id lies in the names (``permittedLabIds``) of exactly
the one member that lists it; status lists sit under their lab's id; a certificate's
status entries are final facts about it. Reason codes are pinned exactly, in order.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from protocol.encoding import format_time
from protocol.keys import SigningKey
from protocol.lists import StatusEvent
from protocol.names import NamePattern
from protocol.reasons import ReasonCode as R
from protocol.status_list import Bitstring, StatusList
from testkit import NOW, LabSpec, World
from verifier import Snapshot, VerificationResult, Verifier, load_bundle

CN_FOOD = "https://qdtc.example.cn"
CN_METALS = "https://sdmt.example.cn"
RU_FOOD = "https://nftc.example.ru"
PURPOSES = ("revocation", "suspension")


def load(world: World, bundle: str | None = None) -> Snapshot:
    return load_bundle(bundle or world.bundle(), pinned_roots=[world.root.public])


def check(snapshot: Snapshot, token: str, country: str = "KZ") -> VerificationResult:
    return Verifier(snapshot, country=country).verify(token, at=NOW)


def skipped(snapshot: Snapshot, text: str) -> list[tuple[str, str]]:
    """(kind, text) of every dropped part whose description mentions ``text``."""
    return [(s.kind, str(s)) for s in snapshot.skipped if text in str(s)]


def signed_list(
    spec: LabSpec,
    *,
    purposes: tuple[str, ...] = PURPOSES,
    bits: tuple[int, ...] = (),
    valid_from: Any = NOW - timedelta(hours=1),
    valid_until: Any = NOW + timedelta(days=30),
    url: str | None = None,
) -> str:
    bitstring = Bitstring()
    for i in bits:
        bitstring.set(i, True)
    sl = StatusList(url or spec.url, spec.id, purposes, bitstring, valid_from, valid_until)
    return sl.sign(spec.key, spec.key.public.kid)


def other_labs_lists(world: World, *names: str) -> list[str]:
    return [t for name in names for t in world.status_lists(world.labs[name])]


def entries(*items: tuple[Any, Any, Any]) -> list[dict[str, Any]]:
    return [
        {
            "type": "BitstringStatusListEntry",
            "statusPurpose": purpose,
            "statusListIndex": index,
            "statusListCredential": url,
        }
        for purpose, index, url in items
    ]


def assert_others_unaffected(world: World, snapshot: Snapshot) -> None:
    assert check(snapshot, world.issue("cn-metals")).codes == (R.ACCEPTED,)
    assert check(snapshot, world.issue("ru-food"), "CN").codes == (R.ACCEPTED,)


# -- a registry listing a lab outside its names ---------------------------------------------------


@pytest.mark.parametrize(
    "lab_id",
    ["https://almaty.example.cn", "https://lab.elsewhere.org"],
    ids=["inside-another-members-names", "inside-no-members-names"],
)
def test_listing_outside_the_registrys_names_is_a_dropped_conflict(world: World, lab_id: str) -> None:
    world.labs["kz-rogue"] = LabSpec(lab_id, "KZ", ("food",), SigningKey.generate())
    snapshot = load(world)
    found = skipped(snapshot, f"listing of lab {lab_id}")
    assert [kind for kind, _ in found] == ["conflict"], snapshot.skipped
    assert "AB-KZ" in found[0][1]
    assert lab_id not in snapshot.labs
    assert not [key for key in snapshot.status_lists if key[0] == lab_id]
    result = check(snapshot, world.issue("kz-rogue"), "KZ")
    assert result.verdict == "reject"
    assert result.codes == (R.UNKNOWN_KEY,)
    details = result.reasons[0].details
    assert details["kid"] == world.labs["kz-rogue"].key.public.kid
    assert f"listing of lab {lab_id}" in details["detail"] and "AB-KZ" in details["detail"]
    assert check(snapshot, world.issue("cn-food")).codes == (R.ACCEPTED,)
    assert_others_unaffected(world, snapshot)


def test_listing_by_the_right_registry_is_kept(world: World) -> None:
    world.labs["kz-food"] = LabSpec("https://almaty.example.kz", "KZ", ("food",), SigningKey.generate())
    snapshot = load(world)
    assert snapshot.skipped == []
    assert snapshot.labs["https://almaty.example.kz"].member.country == "KZ"
    assert check(snapshot, world.issue("kz-food"), "KZ").codes == (R.ACCEPTED,)


# -- two members whose names overlap ------------------------------------------------------------


class OverlappingKZ(World):
    """KZ may list ``https://qdtc.example.cn``, which also lies in CN's ``https://*.example.cn``."""

    @staticmethod
    def lab_ids(cc: str) -> tuple[NamePattern, ...]:
        if cc == "KZ":
            return (NamePattern("https://qdtc.example.cn"),)
        return (NamePattern(f"https://*.example.{cc.lower()}"),)


def test_lab_inside_two_members_names_is_dropped_as_invalid() -> None:
    world = OverlappingKZ()
    snapshot = load(world)
    found = skipped(snapshot, f"listing of lab {CN_FOOD}")
    assert [kind for kind, _ in found] == ["invalid"], snapshot.skipped
    assert "AB-CN" in found[0][1] and "AB-KZ" in found[0][1]
    assert CN_FOOD not in snapshot.labs
    for country in ("KZ", "CN"):
        result = check(snapshot, world.issue("cn-food"), country)
        assert result.verdict == "unverifiable", result.to_json()
        assert result.codes == (R.TRUST_DATA_INVALID,)
        assert f"listing of lab {CN_FOOD}" in result.reasons[0].details["detail"]
    assert CN_METALS in snapshot.labs
    assert_others_unaffected(world, snapshot)


def test_overlap_found_with_monkeypatched_names(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same rule, the names changed by monkeypatching World.lab_ids: RU may list CN's metals lab."""

    def lab_ids(cc: str) -> tuple[NamePattern, ...]:
        extra = (NamePattern("https://*.sdmt.example.cn"), NamePattern(CN_METALS)) if cc == "RU" else ()
        return (NamePattern(f"https://*.example.{cc.lower()}"), *extra)

    monkeypatch.setattr(World, "lab_ids", staticmethod(lab_ids))
    snapshot = load(world)
    assert CN_METALS not in snapshot.labs and CN_FOOD in snapshot.labs
    result = check(snapshot, world.issue("cn-metals"))
    assert (result.verdict, result.codes) == ("unverifiable", (R.TRUST_DATA_INVALID,))
    assert check(snapshot, world.issue("cn-food")).codes == (R.ACCEPTED,)
    assert check(snapshot, world.issue("ru-food"), "CN").codes == (R.ACCEPTED,)


# -- malformed listings ---------------------------------------------------------------------------


def test_lab_listed_twice_in_one_trust_list_is_dropped(world: World) -> None:
    world.labs["cn-food-again"] = LabSpec(CN_FOOD, "CN", ("food",), SigningKey.generate())
    snapshot = load(world)
    found = skipped(snapshot, f"listing of lab {CN_FOOD}")
    assert found and {kind for kind, _ in found} == {"invalid"}, snapshot.skipped
    assert all("more than once" in text for _, text in found)
    assert CN_FOOD not in snapshot.labs
    for name in ("cn-food", "cn-food-again"):
        result = check(snapshot, world.issue(name))
        assert (result.verdict, result.codes) == ("unverifiable", (R.TRUST_DATA_INVALID,)), name
    assert_others_unaffected(world, snapshot)


@pytest.mark.parametrize(
    "lab_id",
    [
        "https://Upper.example.cn",
        "https://lab.example.cn/",
        "https://lab.example.cn:8443",
        "http://lab.example.cn",
        "https://lab.example.cn/a/../b",
    ],
)
def test_non_canonical_lab_id_in_a_trust_list_is_dropped(world: World, lab_id: str) -> None:
    world.labs["odd"] = LabSpec(lab_id, "CN", ("food",), SigningKey.generate())
    snapshot = load(world)
    found = skipped(snapshot, f"listing of lab {lab_id}")
    assert [kind for kind, _ in found] == ["conflict"], snapshot.skipped
    assert "canonical" in found[0][1]
    assert lab_id not in snapshot.labs
    result = check(snapshot, world.issue("odd"))
    assert (result.verdict, result.codes) == ("reject", (R.UNKNOWN_KEY,))
    assert check(snapshot, world.issue("cn-food")).codes == (R.ACCEPTED,)
    assert_others_unaffected(world, snapshot)


# -- status lists and status entries ------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://qdtc.example.cn.attacker.kz/status",
        "https://elsewhere.example.cn/status",
        "https://sdmt.example.cn/status",
    ],
)
def test_status_list_whose_url_is_outside_its_lab_is_dropped(world: World, url: str) -> None:
    spec = world.labs["cn-food"]
    outside = signed_list(spec, valid_from=NOW - timedelta(minutes=1), url=url)
    genuine = signed_list(spec, bits=(8484,))  # slot 4242 revoked
    lists = [outside, genuine, *other_labs_lists(world, "cn-metals", "ru-food")]
    snapshot = load(world, world.bundle(status_lists=lists))
    found = skipped(snapshot, f"status list {url}")
    assert [kind for kind, _ in found] == ["conflict"], snapshot.skipped
    assert (CN_FOOD, url) not in snapshot.status_lists
    assert check(snapshot, world.issue(slot=4242)).codes == (R.REVOKED,)
    assert check(snapshot, world.issue(slot=4243)).codes == (R.ACCEPTED,)
    assert_others_unaffected(world, snapshot)


def test_lab_whose_only_status_list_is_outside_it_cannot_be_verified(world: World) -> None:
    spec = world.labs["cn-food"]
    outside = signed_list(spec, url="https://elsewhere.example.cn/status")
    lists = [outside, *other_labs_lists(world, "cn-metals", "ru-food")]
    snapshot = load(world, world.bundle(status_lists=lists))
    result = check(snapshot, world.issue())
    assert (result.verdict, result.codes) == ("unverifiable", (R.STATUS_UNAVAILABLE,))


@pytest.mark.parametrize(
    "url",
    [
        "https://sdmt.example.cn/status/revocation",  # another lab's own list
        "https://qdtc.example.cn.evil.kz/status/revocation",
        "https://qdtc.example.cnx/status/revocation",
        "https://qdtc.example.cn",  # the lab id itself is not under it
        "https://QDTC.example.cn/status/revocation",
        "https://qdtc.example.cn/status/../revocation",
        "https://qdtc.example.cn/status/revocation?x=1",
        5,
        None,
    ],
)
def test_status_entry_pointing_outside_its_issuer_is_final(world: World, url: Any) -> None:
    status = entries(("revocation", "4242", url), ("suspension", "4243", url))
    result = check(load(world), world.issue(overrides={"credentialStatus": status}))
    both = (R.STATUS_ENTRY_INVALID, R.STATUS_ENTRY_INVALID)
    assert (result.verdict, result.codes) == ("reject", both), result.to_json()
    assert all("lab's own lists" in r.details["detail"] for r in result.reasons)


@pytest.mark.parametrize(
    "index",
    ["007", "-1", 5, "99999999999", "", " 1", "1 ", "+1", "1e3", "0x10", "１２", True, None, 1.0],
    ids=repr,
)
def test_status_index_that_is_not_a_canonical_decimal_is_final(world: World, index: Any) -> None:
    spec = world.labs["cn-food"]
    status = entries(("revocation", index, spec.url), ("suspension", "1", spec.url))
    result = check(load(world), world.issue(overrides={"credentialStatus": status}))
    assert (result.verdict, result.codes) == ("reject", (R.STATUS_ENTRY_INVALID,)), result.to_json()
    assert "index" in result.reasons[0].details["detail"]


@pytest.mark.parametrize(
    ("index", "codes"),
    [
        ("0", (R.ACCEPTED,)),
        ("131070", (R.ACCEPTED,)),  # the last slot of a 131072-bit list (suspension 131071)
        ("131072", (R.STATUS_ENTRY_INVALID, R.STATUS_ENTRY_INVALID)),
        ("9999999998", (R.STATUS_ENTRY_INVALID, R.STATUS_ENTRY_INVALID)),
    ],
)
def test_status_index_bounds(world: World, index: str, codes: tuple[R, ...]) -> None:
    spec = world.labs["cn-food"]
    status = entries(("revocation", index, spec.url), ("suspension", str(int(index) + 1), spec.url))
    result = check(load(world), world.issue(overrides={"credentialStatus": status}))
    assert result.codes == codes
    if R.STATUS_ENTRY_INVALID in codes:
        assert "is outside the status list (131072 entries)" in result.reasons[0].details["detail"]


@pytest.mark.parametrize("purpose", PURPOSES)
def test_duplicate_status_entries_are_final(world: World, purpose: str) -> None:
    spec = world.labs["cn-food"]
    status = entries(
        ("revocation", "2", spec.url),
        ("suspension", "3", spec.url),
        (purpose, "2" if purpose == "revocation" else "3", spec.url),
    )
    result = check(load(world), world.issue(overrides={"credentialStatus": status}))
    assert (result.verdict, result.codes) == ("reject", (R.STATUS_ENTRY_INVALID,))
    assert f"more than one {purpose} entry" in result.reasons[0].details["detail"]


@pytest.mark.parametrize("purpose", ["refresh", "message", "Revocation", "", None, 1])
def test_unknown_status_purpose_is_final(world: World, purpose: Any) -> None:
    spec = world.labs["cn-food"]
    status = entries(
        ("revocation", "2", spec.url),
        ("suspension", "3", spec.url),
        (purpose, "3", spec.url),
    )
    result = check(load(world), world.issue(overrides={"credentialStatus": status}))
    assert (result.verdict, result.codes) == ("reject", (R.STATUS_ENTRY_INVALID,)), result.to_json()


@pytest.mark.parametrize(
    "status",
    [
        [],
        "not a list",
        [{"type": "BitstringStatusListEntry", "statusPurpose": "suspension", "statusListIndex": "1"}],
        ["revocation"],
    ],
    ids=["empty", "string", "suspension-only", "not-an-object"],
)
def test_certificate_without_a_revocation_entry_is_final(world: World, status: Any) -> None:
    result = check(load(world), world.issue(overrides={"credentialStatus": status}))
    assert (result.verdict, result.codes) == ("reject", (R.STATUS_ENTRY_INVALID,))


def test_certificate_with_only_a_revocation_entry_is_accepted(world: World) -> None:
    spec = world.labs["cn-food"]
    status = entries(("revocation", "2", spec.url))
    assert check(load(world), world.issue(overrides={"credentialStatus": status})).codes == (R.ACCEPTED,)


# -- the pairing rule: revocation 2k, suspension 2k + 1, one list -------------------------------


@pytest.mark.parametrize("index", ["1", "4243", "131069"])
def test_an_odd_revocation_index_is_final(world: World, index: str) -> None:
    """Odd indices are suspension bits: a revocation entry there could be lifted."""
    spec = world.labs["cn-food"]
    status = entries(("revocation", index, spec.url), ("suspension", str(int(index) + 1), spec.url))
    result = check(load(world), world.issue(overrides={"credentialStatus": status}))
    assert (result.verdict, result.codes) == ("reject", (R.STATUS_ENTRY_INVALID,))
    assert result.reasons[0].details["detail"].startswith(f"the revocation index {index} is odd")
    # Alone, too.
    alone = entries(("revocation", index, spec.url))
    result = check(load(world), world.issue(overrides={"credentialStatus": alone}))
    assert (result.verdict, result.codes) == ("reject", (R.STATUS_ENTRY_INVALID,))


@pytest.mark.parametrize("suspension", ["4242", "4244", "4241", "8485", "0"])
def test_a_suspension_entry_not_at_revocation_plus_one_is_final(world: World, suspension: str) -> None:
    spec = world.labs["cn-food"]
    status = entries(("revocation", "4242", spec.url), ("suspension", suspension, spec.url))
    result = check(load(world), world.issue(overrides={"credentialStatus": status}))
    assert (result.verdict, result.codes) == ("reject", (R.STATUS_ENTRY_INVALID,))
    assert result.reasons[0].details["detail"] == (
        f"the suspension index {suspension} is not the revocation index + 1 (4243)"
    )


def test_a_suspension_entry_in_another_list_is_final(world: World) -> None:
    """Another list of the same lab, even a genuine one in the snapshot: the pair is one list."""
    spec = world.labs["cn-food"]
    other = f"{CN_FOOD}/status/other"
    lists = [*world.status_lists(spec), signed_list(spec, url=other), *other_labs_lists(world, "cn-metals")]
    snapshot = load(world, world.bundle(status_lists=[*lists, *other_labs_lists(world, "ru-food")]))
    assert (CN_FOOD, other) in snapshot.status_lists
    status = entries(("revocation", "4242", spec.url), ("suspension", "4243", other))
    result = check(snapshot, world.issue(overrides={"credentialStatus": status}))
    assert (result.verdict, result.codes) == ("reject", (R.STATUS_ENTRY_INVALID,))
    assert result.reasons[0].details["detail"] == (
        "the suspension entry names another list than the revocation entry: both are in one list"
    )


def test_the_pair_may_come_in_either_order(world: World) -> None:
    spec = world.labs["cn-food"]
    spec.suspended = {2121}
    status = entries(("suspension", "4243", spec.url), ("revocation", "4242", spec.url))
    result = check(load(world), world.issue(overrides={"credentialStatus": status}))
    assert result.codes == (R.SUSPENDED,)


@pytest.mark.parametrize(
    ("purposes", "bad"),
    [(("suspension",), "revocation"), (("revocation",), "suspension")],
)
def test_an_entry_whose_purpose_is_not_among_the_lists_is_final(
    world: World, purposes: tuple[str, ...], bad: str
) -> None:
    """Bitstring Status List §3.3 (validate): the entry's purpose must be one of the list's."""
    spec = world.labs["cn-food"]
    lists = [signed_list(spec, purposes=purposes), *other_labs_lists(world, "cn-metals", "ru-food")]
    snapshot = load(world, world.bundle(status_lists=lists))
    result = check(snapshot, world.issue())
    assert (result.verdict, result.codes) == ("reject", (R.STATUS_ENTRY_INVALID,))
    assert result.reasons[0].details["detail"] == (
        f"the {bad} entry points at a list of the lab for {purposes[0]} only"
    )


# -- expired status lists -----------------------------------------------------------------------


def _with_list(world: World, status_list: str) -> Snapshot:
    lists = [status_list, *other_labs_lists(world, "cn-metals", "ru-food")]
    return load(world, world.bundle(status_lists=lists))


def test_revoked_bit_in_an_expired_list_is_still_revoked(world: World) -> None:
    spec = world.labs["cn-food"]
    expired = NOW - timedelta(minutes=1)
    snapshot = _with_list(world, signed_list(spec, bits=(8484,), valid_until=expired))  # slot 4242
    result = check(snapshot, world.issue(slot=4242))
    # Revoked is final (the reject); the suspension bit in the expired list is unknown.
    assert (result.verdict, result.codes) == ("reject", (R.REVOKED, R.STATUS_UNAVAILABLE))
    # A clear bit in the same expired list proves nothing: cannot verify.
    result = check(snapshot, world.issue(slot=4243))
    assert (result.verdict, result.codes) == ("unverifiable", (R.STATUS_UNAVAILABLE,))
    # One list, one problem: named once although both entries use it.
    assert result.reasons[0].details["detail"] == (
        f"the status list of Lab cn-food expired {format_time(expired)}: the lab must republish it"
    )


def test_suspended_bit_in_an_expired_list_is_unavailable(world: World) -> None:
    spec = world.labs["cn-food"]
    snapshot = _with_list(world, signed_list(spec, bits=(8485,), valid_until=NOW - timedelta(minutes=1)))
    result = check(snapshot, world.issue(slot=4242))
    assert (result.verdict, result.codes) == ("unverifiable", (R.STATUS_UNAVAILABLE,))
    assert "expired" in result.reasons[0].details["detail"]


def test_an_expired_list_with_a_revoked_bit_rejects_listing_both_reasons(world: World) -> None:
    spec = world.labs["cn-food"]
    spec.revoked, spec.suspended = {4242}, {4242}
    spec.status_valid_until = NOW - timedelta(seconds=1)
    result = check(load(world), world.issue(slot=4242))
    assert (result.verdict, result.codes) == ("reject", (R.REVOKED, R.STATUS_UNAVAILABLE))


# -- withdrawal for cause -------------------------------------------------------------------------


@pytest.mark.parametrize("issued_before", [timedelta(days=10), timedelta(hours=1)], ids=["before", "after"])
def test_withdrawal_for_cause_voids_what_the_lab_signed_whatever_its_date(
    world: World, issued_before: timedelta
) -> None:
    withdrawn_at = NOW - timedelta(hours=2)
    world.labs["cn-food"].status.append(StatusEvent("withdrawn", withdrawn_at, for_cause=True))
    snapshot = load(world)
    result = check(snapshot, world.issue(valid_from=NOW - issued_before))
    assert (result.verdict, result.codes) == ("reject", (R.LAB_WITHDRAWN_FOR_CAUSE,))
    assert result.reasons[0].details == {"lab": "Lab cn-food", "since": format_time(withdrawn_at)}
    assert_others_unaffected(world, snapshot)


def test_plain_withdrawal_voids_only_what_was_signed_after_it(world: World) -> None:
    world.labs["cn-food"].status.append(StatusEvent("withdrawn", NOW - timedelta(hours=2)))
    snapshot = load(world)
    assert check(snapshot, world.issue(valid_from=NOW - timedelta(days=10))).codes == (R.ACCEPTED,)
    result = check(snapshot, world.issue(valid_from=NOW - timedelta(hours=1)))
    assert (result.verdict, result.codes) == ("reject", (R.LAB_NOT_ACCREDITED,))


# -- unknown keys and stale data ------------------------------------------------------------------


def test_unknown_key_with_an_expired_federation_list_is_unverifiable(world: World) -> None:
    world.federation_expires = NOW - timedelta(hours=1)
    result = check(load(world), world.issue(key=SigningKey.generate()))
    assert (result.verdict, result.codes) == ("unverifiable", (R.UNKNOWN_KEY, R.TRUST_DATA_STALE))
    assert format_time(NOW - timedelta(hours=1)) in result.reasons[1].details["detail"]


def test_unknown_key_with_current_trust_data_rejects(world: World) -> None:
    result = check(load(world), world.issue(key=SigningKey.generate()))
    assert (result.verdict, result.codes) == ("reject", (R.UNKNOWN_KEY,))


# -- how long the result's trust data stays valid ------------------------------------------------


@pytest.mark.parametrize(
    ("federation", "trust", "status", "earliest"),
    [
        (1, 5, 9, 1),
        (9, 2, 5, 2),
        (9, 5, 3, 3),
        (9, 5, None, 5),
    ],
    ids=["federation-list", "trust-list", "status-list", "list-without-expiry"],
)
def test_result_expires_at_the_earliest_of_the_data_it_used(
    world: World, federation: int, trust: int, status: int | None, earliest: int
) -> None:
    def days(n: int | None) -> Any:
        return None if n is None else NOW + timedelta(days=n)

    world.federation_expires, world.trust_expires = days(federation), days(trust)
    spec = world.labs["cn-food"]
    world.labs["cn-metals"].status_valid_until = NOW + timedelta(hours=1)  # another lab's: not used
    lists = [signed_list(spec, valid_until=days(status)), *other_labs_lists(world, "cn-metals", "ru-food")]
    snapshot = load(world, world.bundle(status_lists=lists))
    result = check(snapshot, world.issue())
    assert result.codes == (R.ACCEPTED,)
    assert result.trust is not None
    assert result.trust["expiresAt"] == format_time(NOW + timedelta(days=earliest))
    metals = check(snapshot, world.issue("cn-metals"))
    assert metals.trust is not None
    assert metals.trust["expiresAt"] == format_time(NOW + timedelta(hours=1))


# -- a member whose trust list the snapshot lacks -------------------------------------------------


def test_certificate_of_a_registry_left_out_of_the_bundle_cannot_be_verified(world: World) -> None:
    """The root forgot a member's trust list: that registry's genuine certificates say
    nothing is known (cannot verify), never a reject; a key nobody's names cover still rejects."""
    bundle = world.bundle(trust_lists=[world.trust_list("CN"), world.trust_list("KZ")])
    snapshot = load(world, bundle)
    assert [m.country for m in snapshot.members_without_trust_list()] == ["RU"]
    result = check(snapshot, world.issue("ru-food"), "CN")
    assert (result.verdict, result.codes) == ("unverifiable", (R.TRUST_DATA_INVALID,))
    assert "holds no usable trust list of AB-RU (RU)" in result.reasons[0].message()
    stranger = SigningKey.generate()
    forged = world.issue("ru-food", key=stranger, overrides={"issuer": "https://lab.nowhere.org"})
    assert check(snapshot, forged, "CN").codes == (R.UNKNOWN_KEY,)
    assert check(snapshot, world.issue()).codes == (R.ACCEPTED,)


def test_a_device_clock_before_issuance_adds_no_membership_reason(world: World) -> None:
    world.member_status["CN"] = [StatusEvent("active", NOW - timedelta(days=3))]
    token = world.issue(valid_from=NOW - timedelta(days=1))
    result = check(load(world), token)
    assert result.codes == (R.ACCEPTED,)
    early = Verifier(load(world), country="KZ").verify(token, at=NOW - timedelta(days=30))
    assert (early.verdict, early.codes) == ("unverifiable", (R.NOT_YET_VALID,))


def test_a_withdrawn_member_left_out_of_the_bundle_is_no_reason_to_hold_goods(world: World) -> None:
    """Only an active member's missing trust list makes its labs' certificates unverifiable:
    a withdrawn member's would not be accepted anyway."""
    world.member_status["RU"].append(StatusEvent("withdrawn", NOW - timedelta(days=2)))
    bundle = world.bundle(trust_lists=[world.trust_list("CN"), world.trust_list("KZ")])
    snapshot = load(world, bundle)
    assert snapshot.members_without_trust_list() == []
    result = check(snapshot, world.issue("ru-food"), "CN")
    assert (result.verdict, result.codes) == ("reject", (R.UNKNOWN_KEY,))


def test_a_status_list_given_as_the_certificate_is_named(world: World) -> None:
    token = world.status_lists(world.labs["cn-food"])[0]
    result = check(load(world), token)
    assert (result.verdict, result.codes) == ("unverifiable", (R.UNREADABLE,))
    assert "this is a status list, not a certificate" in result.reasons[0].message()


@pytest.mark.parametrize("country", ["Kazakhstan", "XX", "K", ""])
def test_the_verifiers_country_is_an_iso_code(world: World, country: str) -> None:
    from protocol.errors import MalformedInputError

    with pytest.raises(MalformedInputError, match="ISO 3166-1"):
        Verifier(load(world), country=country)
    assert Verifier(load(world), country=" kz ").country == "KZ"
