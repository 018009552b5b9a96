"""Each decision of ``Verifier.verify`` at its edge (docs/verifying.md, "Verification order",
"Status entries", "Time and clock skew", "Freshness"): signed-but-malformed certificates,
status entries one step off the rules, equal instants and index == length, with the full
ordered list of reasons (and details where they carry the decision).

Certificates and lists are signed with the World's real keys; where a status list of a
particular shape is needed, it is put into the loaded snapshot's map, as the bundle
loader would have put it there.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from protocol import yl1
from protocol.bundle import MAGIC as BUNDLE_MAGIC
from protocol.encoding import b64url_encode, dumps_compact, format_time
from protocol.errors import MalformedInputError, TrustDataError
from protocol.jws import TYP_VC, sign_compact
from protocol.keys import SigningKey
from protocol.lists import KeyRecord, Scope, StatusEvent
from protocol.reasons import ReasonCode as R
from protocol.status_list import MIN_BITS, SparseBits, StatusList
from testkit import NOW, World
from verifier import VerificationResult, Verifier, _verify, load_bundle
from verifier._snapshot import Skipped, Snapshot
from verifier.result import Reason

LAB = "https://qdtc.example.cn"
URL = f"{LAB}/status"
LAB_NAME = "Lab cn-food"
INVALID = R.STATUS_ENTRY_INVALID


def snapshot_of(world: World) -> Snapshot:
    return load_bundle(world.bundle(), pinned_roots=[world.root.public])


def check(
    world: World,
    token: str | bytes,
    *,
    snapshot: Snapshot | None = None,
    country: str = "KZ",
    at: datetime = NOW,
    skew: timedelta | None = None,
) -> VerificationResult:
    snap = snapshot if snapshot is not None else snapshot_of(world)
    if skew is None:
        return Verifier(snap, country=country).verify(token, at=at)
    return Verifier(snap, country=country, clock_skew=skew).verify(token, at=at)


def entry(purpose: str, index: str | int, url: str = URL) -> dict[str, Any]:
    return {
        "type": "BitstringStatusListEntry",
        "statusPurpose": purpose,
        "statusListIndex": index,
        "statusListCredential": url,
    }


def with_status(world: World, status: Any, **kw: Any) -> str:
    return world.issue(overrides={"credentialStatus": status}, **kw)


def put_list(
    snap: Snapshot,
    *,
    url: str = URL,
    purposes: tuple[str, ...] = ("revocation", "suspension"),
    size: int = MIN_BITS,
    bits: tuple[int, ...] = (),
    valid_until: datetime | None = NOW + timedelta(days=30),
) -> None:
    snap.status_lists[(LAB, url)] = StatusList(
        url, LAB, purposes, SparseBits(size, bits), NOW - timedelta(hours=1), valid_until
    )


def details(result: VerificationResult) -> list[tuple[R, dict[str, Any]]]:
    return [(r.code, dict(r.details)) for r in result.reasons]


def accepted(result: VerificationResult) -> bool:
    return result.codes == (R.ACCEPTED,) and result.verdict == "accept"


# -- reading the input (step 1) -----------------------------------------------------------------


def test_text_of_exactly_256_kib_is_read_and_one_byte_more_is_too_large(world: World) -> None:
    """docs/verifying.md, step 1: "text ≤ 256 KiB"."""
    assert _verify.MAX_TEXT_INPUT == 256 * 1024
    at_limit = check(world, "x" * (256 * 1024))
    over = check(world, "x" * (256 * 1024 + 1))
    assert at_limit.codes == over.codes == (R.UNREADABLE,)
    assert "neither YL1: text nor a compact VC-JWT" in at_limit.reasons[0].details["detail"]
    assert over.reasons[0].details == {"detail": "input is too large to be a certificate"}
    assert check(world, b"x" * (256 * 1024 + 1)).reasons[0].details == {
        "detail": "input is too large to be a certificate"
    }


def test_an_image_is_not_bound_by_the_text_limit(world: World) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * (256 * 1024)
    result = check(world, png)
    assert result.codes == (R.UNREADABLE,)
    # Read as an image (no QR code found), not refused as too large nor as text.
    assert result.reasons[0].details["detail"] not in (
        "input is too large to be a certificate",
        "input is neither text nor a PNG/JPEG image",
    )


def test_bytes_that_are_no_text_and_a_bundle_are_named(world: World) -> None:
    assert details(check(world, b"\xff\xfe\x00")) == [
        (R.UNREADABLE, {"detail": "input is neither text nor a PNG/JPEG image"})
    ]
    assert details(check(world, BUNDLE_MAGIC + b"rest")) == [
        (R.UNREADABLE, {"detail": "this is a bundle, not a certificate"})
    ]
    # The same certificate as UTF-8 bytes and as text: one result.
    token = world.issue()
    assert accepted(check(world, token.encode()))
    assert accepted(check(world, f"  {token}\n"))


def test_typ_of_another_yilu_file_is_named_and_an_unknown_typ_is_unsupported(world: World) -> None:
    key = world.labs["cn-food"].key
    payload = dumps_compact({"type": ["TestCertificateCredential"]})
    trust_list = sign_compact(payload, key, kid=key.public.kid, typ="yilu-trust-list+jwt")
    assert details(check(world, trust_list)) == [
        (R.UNREADABLE, {"detail": "this is a trust list, not a certificate"})
    ]
    other = sign_compact(payload, key, kid=key.public.kid, typ="JWT")
    result = check(world, other)
    assert result.codes == (R.UNSUPPORTED_FORMAT,) and "'JWT'" in result.reasons[0].details["detail"]


def test_a_status_list_given_as_the_certificate_is_named(world: World) -> None:
    token = world.status_lists(world.labs["cn-food"])[0]
    assert details(check(world, token)) == [
        (R.UNREADABLE, {"detail": "this is a status list, not a certificate"})
    ]


def test_a_payload_that_is_no_object_is_malformed_with_a_hint_only_from_a_qr_code(world: World) -> None:
    key = world.labs["cn-food"].key
    token = sign_compact(b"[1, 2]", key, kid=key.public.kid, typ=TYP_VC)
    plain = check(world, token)
    assert plain.codes == (R.MALFORMED,) and "dictionary" not in plain.reasons[0].details["detail"]
    qr = check(world, yl1.encode(token))
    assert qr.codes == (R.MALFORMED,)
    assert (
        qr.reasons[0]
        .details["detail"]
        .endswith(" (a YL1 code made with another dictionary, or a damaged one)")
    )


# -- keys and signature (steps 2-3) -------------------------------------------------------------


def test_unknown_key_alone_names_the_kid_and_the_federation_expiry(world: World) -> None:
    stranger = SigningKey.generate()
    result = check(world, world.issue(key=stranger))
    assert details(result) == [(R.UNKNOWN_KEY, {"kid": stranger.public.kid})]
    assert result.trust is not None and result.trust["expiresAt"] == format_time(world.federation_expires)
    assert result.trust["ageSeconds"] == 1800


def test_unknown_key_gets_stale_only_after_the_federation_list_expired(world: World) -> None:
    stranger = SigningKey.generate()
    token = world.issue(key=stranger)
    expires = world.federation_expires
    assert check(world, token, at=expires).codes == (R.UNKNOWN_KEY,)
    late = check(world, token, at=expires + timedelta(seconds=1))
    assert late.codes == (R.UNKNOWN_KEY, R.TRUST_DATA_STALE) and late.verdict == "unverifiable"
    assert late.reasons[1].details == {"detail": f"the federation list expired {format_time(expires)}"}


def test_unknown_key_listed_by_a_dropped_part(world: World) -> None:
    stranger = SigningKey.generate()
    token = world.issue(key=stranger)
    snap = snapshot_of(world)
    snap.dropped_kids[stranger.public.kid] = Skipped("trust list X", "bad signature")
    assert details(check(world, token, snapshot=snap)) == [
        (R.TRUST_DATA_INVALID, {"detail": "trust list X: bad signature"})
    ]
    snap.dropped_kids[stranger.public.kid] = Skipped("trust list X", "outside its names", "conflict")
    assert details(check(world, token, snapshot=snap)) == [
        (R.UNKNOWN_KEY, {"kid": stranger.public.kid, "detail": "trust list X: outside its names"})
    ]


def test_unknown_key_of_a_lab_whose_registry_list_is_missing_cannot_be_verified(world: World) -> None:
    stranger = SigningKey.generate()
    token = world.issue(key=stranger)
    without_cn = [world.trust_list(cc) for cc in ("RU", "KZ")]
    snap = load_bundle(world.bundle(trust_lists=without_cn), pinned_roots=[world.root.public])
    result = check(world, token, snapshot=snap)
    assert result.codes == (R.TRUST_DATA_INVALID,)
    assert result.reasons[0].details == {
        "detail": "it holds no usable trust list of AB-CN (CN), "
        "the registry of the lab this certificate names"
    }
    # A lab of a member whose list is there: a plain unknown key.
    ru = world.issue("ru-food", key=stranger)
    assert check(world, ru, snapshot=snap).codes == (R.UNKNOWN_KEY,)


def test_a_signature_failure_names_the_alg(world: World) -> None:
    token = world.issue()
    head, payload, _ = token.split(".")
    bad = ".".join((head, payload, b64url_encode(bytes(64))))
    result = check(world, bad)
    assert result.codes == (R.SIGNATURE_INVALID,)
    assert result.reasons[0].details["alg"] == "EdDSA" and result.credential is None


# -- signed but malformed (steps 4-5) -----------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "detail"),
    [
        ({"type": ["VerifiableCredential"]}, "not a TestCertificateCredential"),
        ({"type": "TestCertificateCredential"}, "not a TestCertificateCredential"),
        ({"type": None}, "not a TestCertificateCredential"),
        ({"credentialSubject": "food"}, "credentialSubject has no scope"),
        ({"credentialSubject": {"reportNumber": "R"}}, "credentialSubject has no scope"),
        ({"credentialSubject": {"scope": ["food"]}}, "credentialSubject has no scope"),
        ({"validUntil": "2026-11-25T00:00:00Z"}, "its validUntil is before its validFrom"),
    ],
)
def test_signed_but_malformed_is_a_final_malformed(
    world: World, overrides: dict[str, Any], detail: str
) -> None:
    result = check(world, world.issue(overrides=overrides))
    assert details(result) == [(R.MALFORMED, {"detail": detail})]
    assert result.verdict == "reject" and result.credential is None
    assert result.trust is not None and result.trust["expiresAt"] == format_time(world.federation_expires)


@pytest.mark.parametrize(
    "value", ["2026-11-26T09:00:00", "yesterday", 1764000000, None, "0000-01-01T00:00:00Z"]
)
def test_a_bad_valid_from_is_malformed(world: World, value: Any) -> None:
    result = check(world, world.issue(overrides={"validFrom": value}))
    assert result.codes == (R.MALFORMED,) and "validFrom" in result.reasons[0].details["detail"]


def test_valid_until_equal_to_valid_from_is_well_formed(world: World) -> None:
    instant = format_time(NOW - timedelta(minutes=1))
    token = world.issue(valid_from=NOW - timedelta(minutes=1), overrides={"validUntil": instant})
    assert accepted(check(world, token))


def test_issuer_claim_of_another_lab_is_a_signature_failure_with_the_certificate(world: World) -> None:
    result = check(world, world.issue(overrides={"issuer": "https://nftc.example.ru"}))
    assert details(result) == [
        (
            R.SIGNATURE_INVALID,
            {"detail": f"signed by a key of {LAB}, but claims issuer 'https://nftc.example.ru'"},
        )
    ]
    assert result.credential is not None and result.issuer is not None and result.issuer["id"] == LAB


# -- the validity window and its skew (step 6; "Time and clock skew") ---------------------------


def test_the_default_skew_is_five_minutes_on_the_not_yet_valid_side(world: World) -> None:
    assert timedelta(minutes=5) == _verify.DEFAULT_CLOCK_SKEW
    edge = world.issue(valid_from=NOW + timedelta(minutes=5))
    assert accepted(check(world, edge))
    late = NOW + timedelta(minutes=5, seconds=1)
    result = check(world, world.issue(valid_from=late))
    assert details(result) == [(R.NOT_YET_VALID, {"validFrom": format_time(late)})]


def test_the_default_skew_is_five_minutes_on_the_expiry_side(world: World) -> None:
    edge = format_time(NOW - timedelta(minutes=5))
    assert accepted(check(world, world.issue(overrides={"validUntil": edge})))
    gone = format_time(NOW - timedelta(minutes=5, seconds=1))
    result = check(world, world.issue(overrides={"validUntil": gone}))
    assert details(result) == [(R.EXPIRED, {"validUntil": gone})]


def test_a_zero_skew_judges_the_equal_instant_valid_on_both_sides(world: World) -> None:
    zero = timedelta(0)
    assert accepted(check(world, world.issue(valid_from=NOW), skew=zero))
    assert check(world, world.issue(valid_from=NOW + timedelta(seconds=1)), skew=zero).codes == (
        R.NOT_YET_VALID,
    )
    assert accepted(check(world, world.issue(overrides={"validUntil": format_time(NOW)}), skew=zero))
    before = format_time(NOW - timedelta(seconds=1))
    assert check(world, world.issue(overrides={"validUntil": before}), skew=zero).codes == (R.EXPIRED,)


# -- key, lab, scope, registry (steps 7-10) -----------------------------------------------------


def test_key_revoked_names_reason_and_time(world: World) -> None:
    spec = world.labs["cn-food"]
    spec.revoked_at, spec.revocation_reason = NOW - timedelta(days=2), "keyCompromise"
    result = check(world, world.issue())
    assert details(result)[0] == (
        R.KEY_REVOKED,
        {"reason": "keyCompromise", "revokedAt": format_time(NOW - timedelta(days=2))},
    )
    # Its status list, signed by the same key, is dropped too.
    assert result.codes == (R.KEY_REVOKED, R.STATUS_UNAVAILABLE)


def test_a_key_revoked_but_not_compromised_voids_only_what_is_dated_from_then(world: World) -> None:
    """docs/formats.md, "Keys": after a revocation for another reason than keyCompromise, what
    the key signed before ``revokedAt`` stays valid; from that instant on it is KEY_REVOKED."""
    spec = world.labs["cn-food"]
    revoked = NOW - timedelta(minutes=30)  # after its status list was signed (an hour ago)
    spec.revoked_at, spec.revocation_reason = revoked, "superseded"
    snap = snapshot_of(world)
    assert accepted(check(world, world.issue(valid_from=revoked - timedelta(seconds=1)), snapshot=snap))
    assert details(check(world, world.issue(valid_from=revoked), snapshot=snap)) == [
        (R.KEY_REVOKED, {"reason": "superseded", "revokedAt": format_time(revoked)})
    ]


def test_key_not_valid_at_issuance_names_the_issuance(world: World) -> None:
    world.labs["cn-food"].key_from = NOW - timedelta(hours=12)
    issued = NOW - timedelta(days=1)
    assert details(check(world, world.issue(valid_from=issued))) == [
        (R.KEY_NOT_VALID_AT_ISSUANCE, {"validFrom": format_time(issued)})
    ]


def test_lab_status_at_issuance(world: World) -> None:
    spec = world.labs["cn-food"]
    spec.status = [StatusEvent("active", NOW - timedelta(days=10))]
    early = world.issue(valid_from=NOW - timedelta(days=20))
    assert details(check(world, early))[-1:] == [
        (R.LAB_NOT_ACCREDITED, {"lab": LAB_NAME, "status": "not yet accredited"})
    ]
    spec.status = [
        StatusEvent("active", NOW - timedelta(days=10)),
        StatusEvent("suspended", NOW - timedelta(days=2)),
    ]
    result = check(world, world.issue(valid_from=NOW - timedelta(days=1)))
    assert details(result) == [(R.LAB_NOT_ACCREDITED, {"lab": LAB_NAME, "status": "suspended"})]


def test_a_withdrawal_for_cause_replaces_not_accredited(world: World) -> None:
    spec = world.labs["cn-food"]
    since = NOW - timedelta(hours=3)
    spec.status = [spec.status[0], StatusEvent("withdrawn", since, for_cause=True)]
    result = check(world, world.issue(valid_from=NOW - timedelta(days=1)))
    assert details(result) == [(R.LAB_WITHDRAWN_FOR_CAUSE, {"lab": LAB_NAME, "since": format_time(since)})]


def test_scope_windows_are_inclusive_and_a_category_may_have_several(world: World) -> None:
    d = timedelta(days=1)
    world.labs["cn-food"].scopes = (
        Scope("food", since=NOW - 20 * d, until=NOW - 10 * d),
        Scope("chemicals"),
        Scope("food", since=NOW - 5 * d, until=NOW - 2 * d),
    )
    snap = snapshot_of(world)
    for when in (NOW - 20 * d, NOW - 10 * d, NOW - 5 * d, NOW - 2 * d):
        assert accepted(check(world, world.issue(valid_from=when), snapshot=snap)), when
    for when in (NOW - 20 * d - timedelta(seconds=1), NOW - 7 * d, NOW - 2 * d + timedelta(seconds=1)):
        assert details(check(world, world.issue(valid_from=when), snapshot=snap)) == [
            (R.SCOPE_NOT_ACCREDITED, {"lab": LAB_NAME, "scope": "food"})
        ], when
    assert accepted(
        check(world, world.issue(overrides={"credentialSubject": {"scope": "chemicals"}}), snapshot=snap)
    )


def test_an_open_ended_scope_window(world: World) -> None:
    d = timedelta(days=1)
    world.labs["cn-food"].scopes = (Scope("food", until=NOW - 2 * d), Scope("chemicals", since=NOW - 2 * d))
    snap = snapshot_of(world)
    assert accepted(check(world, world.issue(valid_from=NOW - 3 * d), snapshot=snap))
    chem = {"credentialSubject": {"scope": "chemicals"}}
    assert accepted(check(world, world.issue(valid_from=NOW - d, overrides=chem), snapshot=snap))
    assert check(world, world.issue(valid_from=NOW - 3 * d, overrides=chem), snapshot=snap).codes == (
        R.SCOPE_NOT_ACCREDITED,
    )


def test_registry_standing_is_reported_once_at_issuance_then_at_t(world: World) -> None:
    world.member_status["CN"] = [StatusEvent("suspended", NOW - timedelta(days=400))]
    issued = NOW - timedelta(days=1)
    assert details(check(world, world.issue(valid_from=issued))) == [
        (R.REGISTRY_NOT_MEMBER, {"registry": "AB-CN", "status": f"suspended at {format_time(issued)}"})
    ]
    world.member_status["CN"] = [
        StatusEvent("active", NOW - timedelta(days=400)),
        StatusEvent("suspended", NOW - timedelta(hours=2)),
    ]
    assert details(check(world, world.issue(valid_from=issued))) == [
        (R.REGISTRY_NOT_MEMBER, {"registry": "AB-CN", "status": f"suspended at {format_time(NOW)}"})
    ]
    world.member_status["CN"] = [StatusEvent("active", NOW - timedelta(hours=2))]
    assert details(check(world, world.issue(valid_from=issued))) == [
        (R.REGISTRY_NOT_MEMBER, {"registry": "AB-CN", "status": f"not a member at {format_time(issued)}"})
    ]


def test_recognition_and_accept_name_the_country(world: World) -> None:
    result = check(world, world.issue("ru-food"), country="KZ")
    assert details(result) == [
        (R.NOT_RECOGNISED, {"country": "KZ", "registry": "AB-RU (RU)", "scope": "food"})
    ]
    assert details(check(world, world.issue(), country="CN")) == [(R.ACCEPTED, {"country": "CN"})]
    assert details(check(world, world.issue(), country="kz")) == [(R.ACCEPTED, {"country": "KZ"})]


# -- freshness and the trust member (step 13; "Freshness") -------------------------------------


def test_lists_expiring_at_t_are_still_fresh(world: World) -> None:
    world.federation_expires = world.trust_expires = NOW
    world.labs["cn-food"].status_valid_until = NOW
    result = check(world, world.issue())
    assert accepted(result) and result.trust is not None and result.trust["expiresAt"] == format_time(NOW)


def test_each_expired_list_is_named(world: World) -> None:
    world.federation_expires = NOW - timedelta(seconds=1)
    world.trust_expires = NOW - timedelta(seconds=2)
    result = check(world, world.issue())
    assert details(result) == [
        (
            R.TRUST_DATA_STALE,
            {"detail": f"the federation list expired {format_time(NOW - timedelta(seconds=1))}"},
        ),
        (
            R.TRUST_DATA_STALE,
            {"detail": f"the AB-CN trust list expired {format_time(NOW - timedelta(seconds=2))}"},
        ),
    ]
    assert result.trust is not None and result.trust["expiresAt"] == format_time(NOW - timedelta(seconds=2))


@pytest.mark.parametrize("which", ["federation", "trust", "status"])
def test_trust_expiry_is_the_earliest_of_the_lists_used(world: World, which: str) -> None:
    world.federation_expires = NOW + timedelta(days=20)
    world.trust_expires = NOW + timedelta(days=21)
    world.labs["cn-food"].status_valid_until = NOW + timedelta(days=22)
    soon = NOW + timedelta(days=3)
    if which == "federation":
        world.federation_expires = soon
    elif which == "trust":
        world.trust_expires = soon
    else:
        world.labs["cn-food"].status_valid_until = soon
    result = check(world, world.issue(), at=NOW + timedelta(hours=1))
    assert accepted(result) and result.trust is not None
    assert result.trust["expiresAt"] == format_time(soon)
    assert result.trust["ageSeconds"] == 5400
    assert result.trust == {
        "sequence": 1,
        "createdAt": format_time(NOW - timedelta(minutes=30)),
        "federation": "https://federation.example",
        "federationSequence": 1,
        "trustLists": {world.reg_id(cc): 1 for cc in ("CN", "RU", "KZ")},
        "ageSeconds": 5400,
        "expiresAt": format_time(soon),
    }


def test_a_status_list_without_valid_until_sets_no_expiry(world: World) -> None:
    world.federation_expires = NOW + timedelta(days=9)
    world.labs["cn-food"].status_valid_until = None
    result = check(world, world.issue())
    assert accepted(result) and result.trust is not None
    assert result.trust["expiresAt"] == format_time(NOW + timedelta(days=9))
    snap = snapshot_of(world)
    put_list(snap, valid_until=None)
    single = check(world, with_status(world, entry("revocation", "8484")), snapshot=snap)
    assert accepted(single) and single.trust is not None
    assert single.trust["expiresAt"] == format_time(NOW + timedelta(days=9))


def test_trust_data_failing_mid_way_is_cannot_verify(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    snap = snapshot_of(world)

    def broken(issuer: str, url: str) -> None:
        raise TrustDataError("index unreadable")

    monkeypatch.setattr(Snapshot, "status_list", lambda self, issuer, url: broken(issuer, url))
    result = check(world, world.issue(), snapshot=snap)
    assert details(result) == [(R.TRUST_DATA_INVALID, {"detail": "index unreadable"})]
    assert result.trust is not None and result.trust["expiresAt"] == format_time(world.federation_expires)

    def missing(issuer: str, url: str) -> None:
        raise TrustDataError("no index", code=R.TRUST_DATA_MISSING)

    monkeypatch.setattr(Snapshot, "status_list", lambda self, issuer, url: missing(issuer, url))
    assert check(world, world.issue(), snapshot=snap).codes == (R.TRUST_DATA_MISSING,)


def test_issuer_member_is_complete_and_never_shared(world: World) -> None:
    v = Verifier(snapshot_of(world), country="KZ")
    first = v.verify(world.issue(), at=NOW)
    assert first.issuer == {
        "id": LAB,
        "name": "Lab cn-food",
        "names": {"en": "Lab cn-food", "zh": "实验室 cn-food", "ru": "Лаборатория cn-food"},
        "country": "CN",
        "accreditationNumber": "CN-cn-food",
        "kid": world.labs["cn-food"].key.public.kid,
        "registry": {"id": world.reg_id("CN"), "country": "CN", "accreditationBody": "AB-CN"},
    }
    first.issuer["names"]["en"] = "changed"  # type: ignore[index]
    first.issuer["registry"]["country"] = "XX"  # type: ignore[index]
    second = v.verify(world.issue(), at=NOW)
    assert second.issuer is not None
    assert second.issuer["names"]["en"] == "Lab cn-food" and second.issuer["registry"]["country"] == "CN"


# -- status entries (step 11; "Status entries") -------------------------------------------------


def test_a_single_revocation_entry_as_an_object_or_a_list_is_enough(world: World) -> None:
    assert accepted(check(world, with_status(world, entry("revocation", "8484"))))
    assert accepted(check(world, with_status(world, [entry("revocation", "8484")])))


@pytest.mark.parametrize(
    ("status", "detail"),
    [
        (None, "the certificate has no status entry"),
        ("x", "the certificate has no status entry"),
        ([], "the certificate has no status entry"),
        (["x"], "the certificate has no revocation entry"),
        ([{"statusPurpose": "suspension"}], "the certificate has no revocation entry"),
    ],
)
def test_no_revocation_entry(world: World, status: Any, detail: str) -> None:
    result = check(world, with_status(world, status))
    assert details(result) == [(INVALID, {"detail": detail})] and result.verdict == "reject"


def test_an_extra_entry_of_no_known_purpose_is_named(world: World) -> None:
    rev = entry("revocation", "8484")
    assert details(check(world, with_status(world, [rev, "x"]))) == [
        (INVALID, {"detail": "unsupported status entry (purpose None)"})
    ]
    assert details(check(world, with_status(world, [rev, entry("refresh", "8485")]))) == [
        (INVALID, {"detail": "unsupported status entry (purpose 'refresh')"})
    ]


def test_two_entries_of_one_purpose_are_reported_once(world: World) -> None:
    rev = entry("revocation", "8484")
    three = [rev, entry("revocation", "8486"), entry("suspension", "8485")]
    assert details(check(world, with_status(world, three))) == [
        (INVALID, {"detail": "more than one revocation entry"})
    ]
    sus = [rev, entry("suspension", "8485"), entry("suspension", "8485")]
    assert details(check(world, with_status(world, sus))) == [
        (INVALID, {"detail": "more than one suspension entry"})
    ]


@pytest.mark.parametrize("index", ["08484", "-2", "abc", "", 8484, None, "10000000000"])
def test_a_non_canonical_index_is_invalid(world: World, index: Any) -> None:
    result = check(world, with_status(world, entry("revocation", index)))
    shown = index if isinstance(index, str | int) else type(index).__name__
    assert details(result) == [
        (
            INVALID,
            {
                "detail": f"the revocation index {shown!r} is not a status list index "
                "(a decimal string of at most 10 digits, no leading zeros)"
            },
        )
    ]


def test_ten_digits_is_an_index_but_beyond_the_list(world: World) -> None:
    for index in ("9999999998", "999999998"):
        assert details(check(world, with_status(world, entry("revocation", index)))) == [
            (INVALID, {"detail": f"the revocation index {index} is outside the status list (131072 entries)"})
        ]


def test_index_equal_to_the_list_length_is_outside_and_the_last_slot_inside(world: World) -> None:
    snap = snapshot_of(world)
    last = MIN_BITS - 2
    assert accepted(check(world, with_status(world, entry("revocation", str(last))), snapshot=snap))
    pair = [entry("revocation", str(last)), entry("suspension", str(last + 1))]
    assert accepted(check(world, with_status(world, pair), snapshot=snap))
    outside = check(world, with_status(world, entry("revocation", str(MIN_BITS))), snapshot=snap)
    assert details(outside) == [
        (INVALID, {"detail": f"the revocation index {MIN_BITS} is outside the status list (131072 entries)"})
    ]
    beyond = [entry("revocation", str(MIN_BITS)), entry("suspension", str(MIN_BITS + 1))]
    assert details(check(world, with_status(world, beyond), snapshot=snap)) == [
        (INVALID, {"detail": f"the revocation index {MIN_BITS} is outside the status list (131072 entries)"}),
        (
            INVALID,
            {"detail": f"the suspension index {MIN_BITS + 1} is outside the status list (131072 entries)"},
        ),
    ]


def test_a_suspension_index_at_the_length_of_a_short_list(world: World) -> None:
    """A list of 16 entries: the pair (14, 15) is inside, (16, 17) is not."""
    snap = snapshot_of(world)
    put_list(snap, size=16, bits=(15,))
    inside = [entry("revocation", "14"), entry("suspension", "15")]
    assert check(world, with_status(world, inside), snapshot=snap).codes == (R.SUSPENDED,)
    outside = [entry("revocation", "16"), entry("suspension", "17")]
    assert [d["detail"] for _, d in details(check(world, with_status(world, outside), snapshot=snap))] == [
        "the revocation index 16 is outside the status list (16 entries)",
        "the suspension index 17 is outside the status list (16 entries)",
    ]


def test_revoked_and_suspended_at_index_zero(world: World) -> None:
    world.labs["cn-food"].revoked.add(0)
    assert details(check(world, world.issue(slot=0))) == [(R.REVOKED, {})]
    assert details(check(world, with_status(world, entry("revocation", "0")))) == [(R.REVOKED, {})]
    world.labs["cn-food"].revoked.clear()
    world.labs["cn-food"].suspended.add(0)
    assert details(check(world, world.issue(slot=0))) == [(R.SUSPENDED, {})]
    assert accepted(check(world, world.issue(slot=1)))


def test_a_list_of_another_lab_is_not_the_labs_own(world: World) -> None:
    other = "https://nftc.example.ru/status"
    result = check(
        world, with_status(world, [entry("revocation", "8484", other), entry("suspension", "8485", other)])
    )
    assert details(result) == [
        (INVALID, {"detail": "the revocation list is not one of the lab's own lists"}),
        (INVALID, {"detail": "the suspension list is not one of the lab's own lists"}),
    ]
    assert details(check(world, with_status(world, entry("revocation", "8484", 42)))) == [
        (INVALID, {"detail": "the revocation list is not one of the lab's own lists"})
    ]
    # A look-alike host is not inside the lab's id either.
    lookalike = "https://qdtc.example.cn.evil.example/status"
    assert check(world, with_status(world, entry("revocation", "8484", lookalike))).codes == (INVALID,)


def test_the_slot_rule(world: World) -> None:
    odd = check(world, with_status(world, [entry("revocation", "8485"), entry("suspension", "8487")]))
    assert [d["detail"] for _, d in details(odd)] == [
        "the revocation index 8485 is odd: revocation bits are the even indices "
        "(index 2k; suspension is 2k + 1)",
        "the suspension index 8487 is not the revocation index + 1 (8486)",
    ]
    # The suspension entry of an odd revocation index is judged against it, not rejected twice.
    assert check(
        world, with_status(world, [entry("revocation", "8485"), entry("suspension", "8486")])
    ).codes == (INVALID,)
    other_list = f"{LAB}/status/2"
    moved = check(
        world, with_status(world, [entry("revocation", "8484"), entry("suspension", "8485", other_list)])
    )
    assert details(moved) == [
        (
            INVALID,
            {
                "detail": "the suspension entry names another list than the revocation entry: "
                "both are in one list"
            },
        )
    ]
    below = check(world, with_status(world, [entry("revocation", "8484"), entry("suspension", "8483")]))
    assert details(below) == [
        (INVALID, {"detail": "the suspension index 8483 is not the revocation index + 1 (8485)"})
    ]
    # The suspension entry first: the same rules, the same words.
    swapped = check(world, with_status(world, [entry("suspension", "8487"), entry("revocation", "8484")]))
    assert details(swapped) == [
        (INVALID, {"detail": "the suspension index 8487 is not the revocation index + 1 (8485)"})
    ]
    assert accepted(
        check(world, with_status(world, [entry("suspension", "8485"), entry("revocation", "8484")]))
    )


def test_a_suspension_entry_next_to_a_bad_revocation_index_is_judged_on_its_own(world: World) -> None:
    world.labs["cn-food"].suspended.add(4242)
    result = check(world, with_status(world, [entry("revocation", "08484"), entry("suspension", "8485")]))
    assert result.codes == (INVALID, R.SUSPENDED)


def test_a_suspension_entry_elsewhere_next_to_a_revocation_without_index(world: World) -> None:
    other = f"{URL}/other"
    revocation = entry("revocation", "8484") | {"statusListIndex": None}
    result = check(world, with_status(world, [revocation, entry("suspension", "8485", other)]))
    assert details(result) == [
        (
            INVALID,
            {
                "detail": "the revocation index 'NoneType' is not a status list index "
                "(a decimal string of at most 10 digits, no leading zeros)"
            },
        ),
        (R.STATUS_UNAVAILABLE, {"detail": f"the trust data holds no status list {other} of {LAB_NAME}"}),
    ]


def test_the_list_must_be_for_the_entrys_purpose(world: World) -> None:
    snap = snapshot_of(world)
    put_list(snap, purposes=("suspension",))
    assert details(check(world, with_status(world, entry("revocation", "8484")), snapshot=snap)) == [
        (INVALID, {"detail": "the revocation entry points at a list of the lab for suspension only"})
    ]
    put_list(snap, purposes=("revocation",), bits=(8485,))
    pair = [entry("revocation", "8484"), entry("suspension", "8485")]
    assert details(check(world, with_status(world, pair), snapshot=snap)) == [
        (INVALID, {"detail": "the suspension entry points at a list of the lab for revocation only"})
    ]
    put_list(snap, purposes=("revocation",), bits=(8484,))
    assert check(world, with_status(world, pair), snapshot=snap).codes == (R.REVOKED, INVALID)


def test_a_missing_or_dropped_list_is_one_status_unavailable(world: World) -> None:
    elsewhere = f"{LAB}/status/elsewhere"
    pair = [entry("revocation", "8484", elsewhere), entry("suspension", "8485", elsewhere)]
    snap = snapshot_of(world)
    assert details(check(world, with_status(world, pair), snapshot=snap)) == [
        (R.STATUS_UNAVAILABLE, {"detail": f"the trust data holds no status list {elsewhere} of {LAB_NAME}"})
    ]
    snap.dropped_status[(LAB, elsewhere)] = Skipped("status list", "bad signature")
    result = check(world, with_status(world, pair), snapshot=snap)
    assert details(result) == [
        (R.STATUS_UNAVAILABLE, {"detail": "the lab's status list is unusable (bad signature)"})
    ]
    assert result.verdict == "unverifiable"


def test_a_revocation_this_device_saw_is_final_whatever_the_list_now_says(world: World) -> None:
    snap = snapshot_of(world)
    snap.revoked_before[(LAB, URL)] = frozenset({8484})
    token = world.issue()
    assert details(check(world, token, snapshot=snap)) == [(R.REVOKED, {})]  # bit now clear
    assert details(check(world, with_status(world, entry("revocation", "8484")), snapshot=snap)) == [
        (R.REVOKED, {})
    ]
    assert accepted(check(world, world.issue(slot=4243), snapshot=snap))
    del snap.status_lists[(LAB, URL)]  # no list now: still revoked, final
    assert check(world, token, snapshot=snap).codes == (R.REVOKED, R.STATUS_UNAVAILABLE)
    assert check(world, with_status(world, entry("revocation", "8484")), snapshot=snap).codes == (R.REVOKED,)
    # ... but only for the index and the URL it saw.
    assert check(world, world.issue(slot=4243), snapshot=snap).codes == (R.STATUS_UNAVAILABLE,)


def test_a_revocation_seen_before_survives_an_expired_list(world: World) -> None:
    world.labs["cn-food"].status_valid_until = NOW - timedelta(seconds=1)
    snap = snapshot_of(world)
    snap.revoked_before[(LAB, URL)] = frozenset({8484})
    assert check(world, world.issue(), snapshot=snap).codes == (R.REVOKED, R.STATUS_UNAVAILABLE)
    assert check(world, with_status(world, entry("revocation", "8484")), snapshot=snap).codes == (R.REVOKED,)


@pytest.mark.parametrize("paired", [True, False])
def test_status_list_expiry_at_t_and_one_second_later(world: World, paired: bool) -> None:
    world.labs["cn-food"].status_valid_until = NOW
    token = world.issue() if paired else with_status(world, entry("revocation", "8484"))
    assert accepted(check(world, token))
    world.labs["cn-food"].status_valid_until = NOW - timedelta(seconds=1)
    token = world.issue() if paired else with_status(world, entry("revocation", "8484"))
    result = check(world, token)
    gone = format_time(NOW - timedelta(seconds=1))
    assert details(result) == [
        (
            R.STATUS_UNAVAILABLE,
            {"detail": f"the status list of {LAB_NAME} expired {gone}: the lab must republish it"},
        )
    ]
    assert result.trust is not None and result.trust["expiresAt"] == gone


@pytest.mark.parametrize("paired", [True, False])
def test_bits_in_an_expired_list(world: World, paired: bool) -> None:
    """A revocation is final even in an expired list; a suspension in one is not known."""
    spec = world.labs["cn-food"]
    spec.status_valid_until = NOW - timedelta(seconds=1)
    spec.revoked.add(4242)
    spec.suspended.add(4242)

    def token(slot: int) -> str:
        if paired:
            return world.issue(slot=slot)
        return with_status(
            world, [entry("revocation", str(2 * slot)), entry("suspension", str(2 * slot + 1))][::-1]
        )

    # The fast path reports the revocation first; the general one each entry in its order.
    both = (R.REVOKED, R.STATUS_UNAVAILABLE) if paired else (R.STATUS_UNAVAILABLE, R.REVOKED)
    assert check(world, token(4242)).codes == both
    spec.revoked.clear()
    assert check(world, token(4242)).codes == (R.STATUS_UNAVAILABLE,)
    spec.status_valid_until = NOW
    assert check(world, token(4242)).codes == (R.SUSPENDED,)
    spec.revoked.add(4242)
    assert check(world, token(4242)).codes == (
        (R.REVOKED, R.SUSPENDED) if paired else (R.SUSPENDED, R.REVOKED)
    )


def test_general_path_revoked_in_an_expired_list(world: World) -> None:
    spec = world.labs["cn-food"]
    spec.status_valid_until = NOW - timedelta(seconds=1)
    spec.revoked.add(4242)
    rev_first = with_status(world, [entry("revocation", "8484"), entry("suspension", "8485")])
    assert check(world, rev_first).codes == (R.REVOKED, R.STATUS_UNAVAILABLE)
    sus_first = with_status(world, [entry("suspension", "8485"), entry("revocation", "8484")])
    assert check(world, sus_first).codes == (R.STATUS_UNAVAILABLE, R.REVOKED)
    assert check(world, with_status(world, entry("revocation", "8484"))).codes == (R.REVOKED,)


def test_the_general_path_reports_the_earliest_list_expiry(world: World) -> None:
    world.federation_expires = world.trust_expires = NOW + timedelta(days=20)
    world.labs["cn-food"].status_valid_until = NOW + timedelta(days=2)
    sus_first = with_status(world, [entry("suspension", "8485"), entry("revocation", "8484")])
    result = check(world, sus_first)
    assert accepted(result) and result.trust is not None
    assert result.trust["expiresAt"] == format_time(NOW + timedelta(days=2))


def test_suspension_bit_alone_with_a_bare_revocation_entry_is_not_read(world: World) -> None:
    world.labs["cn-food"].suspended.add(4242)
    assert accepted(check(world, with_status(world, entry("revocation", "8484"))))


def test_fast_and_general_paths_agree(world: World) -> None:
    """The same two entries, in the order the fast path takes and the reverse: same codes."""
    spec = world.labs["cn-food"]
    for revoked, suspended, until in [
        (False, False, NOW + timedelta(days=1)),
        (True, False, NOW + timedelta(days=1)),
        (False, True, NOW + timedelta(days=1)),
        (True, True, NOW + timedelta(days=1)),
        (False, True, NOW - timedelta(days=1)),
    ]:
        spec.revoked = {4242} if revoked else set()
        spec.suspended = {4242} if suspended else set()
        spec.status_valid_until = until
        snap = snapshot_of(world)
        fast = check(world, world.issue(), snapshot=snap)
        general = check(world, with_status(world, status_of(world)[::-1]), snapshot=snap)
        # The general path reports each entry in its order: here the suspension's first.
        assert general.codes == fast.codes[::-1], (revoked, suspended, until)


def status_of(world: World) -> list[dict[str, Any]]:
    return [entry("revocation", "8484"), entry("suspension", "8485")]


# -- the caches stay bounded at 4096 entries (docs/verifying.md, "Using the library") -------------


def test_caches_are_bounded(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _verify._CACHE_SIZE == 4096
    monkeypatch.setattr(_verify, "_CACHE_SIZE", 2)
    v = Verifier(snapshot_of(world), country="KZ")
    for i in range(5):
        assert v._is_under(f"{LAB}/status/{i}", LAB)
        assert not v._is_under(f"https://other.example/{i}", LAB)
        assert v._format(NOW + timedelta(seconds=i)) == format_time(NOW + timedelta(seconds=i))
        assert len(v._under) <= 2 and len(v._formatted) <= 2
    entries = [e for es in v.snapshot.keys_by_kid.values() for e in es]
    assert len(entries) >= 3
    for e in entries:
        assert v._facts_of(e).entry is e
        assert len(v._facts) <= 2


def test_cached_facts_of_another_entry_are_not_used(world: World) -> None:
    v = Verifier(snapshot_of(world), country="KZ")
    first, second = (es[0] for es in list(v.snapshot.keys_by_kid.values())[:2])
    v._facts[id(first)] = _verify._lab_facts(second)  # as if id(first) were reused
    assert v._facts_of(first).entry is first and v._facts_of(first).issuer["id"] == first.owner.lab.id
    assert v._facts_of(first) is v._facts_of(first)


def test_reasons_are_added_once() -> None:
    reasons = [Reason(R.STATUS_UNAVAILABLE, {"detail": "a"})]
    _verify._add_once(reasons, Reason(R.STATUS_UNAVAILABLE, {"detail": "a"}))
    _verify._add_once(reasons, Reason(R.STATUS_UNAVAILABLE, {"detail": "b"}))
    assert reasons == [
        Reason(R.STATUS_UNAVAILABLE, {"detail": "a"}),
        Reason(R.STATUS_UNAVAILABLE, {"detail": "b"}),
    ]


# -- pairs the fast path must hand to the general one -------------------------------------------


@pytest.mark.parametrize(
    ("status", "found"),
    [
        (["x", entry("revocation", "8484")], ["unsupported status entry (purpose None)"]),
        (
            [entry("suspension", "8484"), entry("suspension", "8485")],
            ["the certificate has no revocation entry"],
        ),
        (
            [entry("revocation", "8484", 42), entry("suspension", "8485", 42)],  # type: ignore[arg-type]
            [
                "the revocation list is not one of the lab's own lists",
                "the suspension list is not one of the lab's own lists",
            ],
        ),
        (
            [entry("revocation", 8484), entry("suspension", "8485")],
            [
                "the revocation index 8484 is not a status list index "
                "(a decimal string of at most 10 digits, no leading zeros)"
            ],
        ),
        (
            [entry("revocation", "8484"), entry("suspension", 8485)],
            [
                "the suspension index 8485 is not a status list index "
                "(a decimal string of at most 10 digits, no leading zeros)"
            ],
        ),
        (
            [entry("revocation", "8484"), entry("suspension", "08485")],
            [
                "the suspension index '08485' is not a status list index "
                "(a decimal string of at most 10 digits, no leading zeros)"
            ],
        ),
        (
            [entry("revocation", "1"), entry("suspension", "2")],
            [
                "the revocation index 1 is odd: revocation bits are the even indices "
                "(index 2k; suspension is 2k + 1)"
            ],
        ),
        (
            [entry("revocation", "3"), entry("suspension", "4")],
            [
                "the revocation index 3 is odd: revocation bits are the even indices "
                "(index 2k; suspension is 2k + 1)"
            ],
        ),
        (
            [entry("revocation", "8484"), entry("suspension", "8486")],
            ["the suspension index 8486 is not the revocation index + 1 (8485)"],
        ),
        (
            # the revocation's list is installed: only the other URL keeps this off the fast path
            [entry("revocation", "8484"), entry("suspension", "8485", f"{URL}/other")],
            ["the suspension entry names another list than the revocation entry: both are in one list"],
        ),
        (
            # a bad revocation index is the revocation entry's problem: the suspension entry,
            # judged on its own, is not compared with it (no index + 1, no "another list")
            [entry("revocation", "x"), entry("suspension", "8485")],
            [
                "the revocation index 'x' is not a status list index "
                "(a decimal string of at most 10 digits, no leading zeros)"
            ],
        ),
    ],
)
def test_two_entries_off_the_rules_are_judged_entry_by_entry(
    world: World, status: list[Any], found: list[str]
) -> None:
    result = check(world, with_status(world, status))
    assert details(result) == [(INVALID, {"detail": d}) for d in found]


def test_a_pair_pointing_at_a_suspension_only_list(world: World) -> None:
    world.federation_expires = world.trust_expires = NOW + timedelta(days=20)
    snap = snapshot_of(world)
    put_list(snap, purposes=("suspension",), bits=(8485,), valid_until=NOW + timedelta(days=2))
    result = check(world, world.issue(), snapshot=snap)
    assert details(result) == [
        (INVALID, {"detail": "the revocation entry points at a list of the lab for suspension only"}),
        (R.SUSPENDED, {}),
    ]
    assert result.trust is not None and result.trust["expiresAt"] == format_time(NOW + timedelta(days=2))


def test_the_next_slots_bits_are_not_this_ones(world: World) -> None:
    world.labs["cn-food"].revoked.add(1)  # bit 2: the revocation of slot 1
    assert accepted(check(world, world.issue(slot=0)))
    assert check(world, world.issue(slot=1)).codes == (R.REVOKED,)


def test_a_missing_revocation_list_and_a_suspension_entry_elsewhere(world: World) -> None:
    elsewhere = f"{LAB}/status/elsewhere"
    result = check(
        world, with_status(world, [entry("revocation", "8484", elsewhere), entry("suspension", "8485")])
    )
    assert details(result) == [
        (R.STATUS_UNAVAILABLE, {"detail": f"the trust data holds no status list {elsewhere} of {LAB_NAME}"}),
        (
            INVALID,
            {
                "detail": "the suspension entry names another list than the revocation entry: "
                "both are in one list"
            },
        ),
    ]


def test_a_revocation_seen_before_still_counts_the_lists_expiry(world: World) -> None:
    world.federation_expires = world.trust_expires = NOW + timedelta(days=20)
    world.labs["cn-food"].status_valid_until = NOW + timedelta(days=2)
    snap = snapshot_of(world)
    snap.revoked_before[(LAB, URL)] = frozenset({8484})
    for token in (world.issue(), with_status(world, entry("revocation", "8484"))):
        result = check(world, token, snapshot=snap)
        assert result.codes == (R.REVOKED,)
        assert result.trust is not None and result.trust["expiresAt"] == format_time(NOW + timedelta(days=2))


def test_two_revocation_entries_alone_are_one_too_many(world: World) -> None:
    pair = [entry("revocation", "8484"), entry("revocation", "8485")]
    assert details(check(world, with_status(world, pair))) == [
        (INVALID, {"detail": "more than one revocation entry"})
    ]


def test_an_unsupported_entry_first_does_not_hide_the_revocation(world: World) -> None:
    world.labs["cn-food"].revoked.add(4242)
    result = check(world, with_status(world, ["x", entry("revocation", "8484")]))
    assert details(result) == [
        (INVALID, {"detail": "unsupported status entry (purpose None)"}),
        (R.REVOKED, {}),
    ]


# -- short checks of decisions whose longer tests lie past the mutation tool's 8 s of tests --------


def test_a_bundle_is_named_before_it_is_read_as_text() -> None:
    """docs/verifying.md, step 1: a bundle given as the certificate is said to be one, whatever
    follows its magic line (here bytes that are no UTF-8 text either)."""
    with pytest.raises(MalformedInputError) as caught:
        _verify._decode_input(BUNDLE_MAGIC + b"\x78\x9c\xff\xfe")
    assert (caught.value.code, str(caught.value)) == (R.UNREADABLE, "this is a bundle, not a certificate")


def test_a_dropped_part_is_in_every_results_trust_summary(world: World) -> None:
    snap = snapshot_of(world)
    assert not snap.skipped
    token = world.issue()
    assert check(world, token, snapshot=snap).trust is not None
    assert "skipped" not in (check(world, token, snapshot=snap).trust or {})
    snap.skipped.append(Skipped("status list #1", "malformed: not a JWS"))
    result = check(world, token, snapshot=snap)
    assert result.trust is not None and result.trust["skipped"] == ["status list #1: malformed: not a JWS"]


def test_a_key_listed_for_two_labs_is_checked_as_the_listing_of_the_lab_named(world: World) -> None:
    """One public key listed by the CN lab and the RU lab: the certificate's issuer claim picks
    the listing, whichever of the two the snapshot holds first."""
    cn_key = world.labs["cn-food"].key.public
    world.labs["ru-food"].extra_keys.append(KeyRecord(cn_key, NOW - timedelta(days=9)))
    snap = snapshot_of(world)
    assert len(snap.keys_by_kid[cn_key.kid]) == 2
    as_cn = check(world, world.issue("cn-food"), snapshot=snap)
    assert accepted(as_cn) and as_cn.issuer is not None and as_cn.issuer["id"] == LAB
    ru = world.labs["ru-food"].id
    as_ru = check(world, world.issue("cn-food", overrides={"issuer": ru}), snapshot=snap, country="CN")
    assert as_ru.issuer is not None and as_ru.issuer["id"] == ru
    # The RU listing verifies the signature; the status entries are not RU's lists.
    assert as_ru.codes == (INVALID, INVALID)
