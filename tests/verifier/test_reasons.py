"""Every reason code that applies offline, produced on purpose (docs/verifying.md)."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import jwt
import pytest

from protocol import yl1
from protocol.bundle import MAGIC, split_container
from protocol.encoding import b64url_decode, b64url_encode
from protocol.errors import TrustDataError, VerificationError
from protocol.keys import SigningKey
from protocol.lists import Agreement, KeyRecord, Scope, StatusEvent
from protocol.reasons import ReasonCode as R
from testkit import NOW, YEAR_AGO, World
from verifier import VerificationResult, Verifier, load_bundle


def verify(
    world: World, token: str, country: str = "KZ", *, at=NOW, bundle: str | None = None
) -> VerificationResult:
    snapshot = load_bundle(bundle or world.bundle(), pinned_roots=[world.root.public])
    return Verifier(snapshot, country=country).verify(token, at=at)


# -- accept ---------------------------------------------------------------------------------


def test_accepts_genuine_certificate_as_jws_and_as_yl1(world: World) -> None:
    token = world.issue()
    for data in (token, yl1.encode(token)):
        result = verify(world, data)
        assert result.verdict == "accept", result.to_json()
        assert result.codes == (R.ACCEPTED,)
        assert result.credential is not None and result.credential["credentialSubject"]["scope"] == "food"
        assert result.issuer is not None and result.issuer["id"] == "https://qdtc.example.cn"
        assert result.trust is not None and result.trust["ageSeconds"] == 1800
        assert result.raise_for_verdict() is result


def test_es256_lab_accepted(world: World) -> None:
    assert verify(world, world.issue("cn-metals")).accepted


def test_own_country_recognised_without_agreement(world: World) -> None:
    world.agreements = []
    assert verify(world, world.issue(), country="CN").accepted
    assert verify(world, world.issue(), country="KZ").codes == (R.NOT_RECOGNISED,)


def test_kid_collision_tries_each_key(world: World) -> None:
    """Two labs' keys share a kid: the verifier finds the one that verifies."""
    impostor = SigningKey.generate()
    spec = world.labs["ru-food"]
    # Give the RU lab a second key and forge its kid-index entry to collide with the CN lab's.
    world.labs["ru-food"].extra_keys.append(KeyRecord(impostor.public, YEAR_AGO))
    snapshot = load_bundle(world.bundle(), pinned_roots=[world.root.public])
    cn_kid = world.labs["cn-food"].key.public.kid
    snapshot.keys_by_kid[cn_kid] = snapshot.keys_by_kid[impostor.public.kid] + snapshot.keys_by_kid[cn_kid]
    result = Verifier(snapshot, country="KZ").verify(world.issue(), at=NOW)
    assert result.accepted and result.issuer is not None
    assert result.issuer["id"] == world.labs["cn-food"].id != spec.id


# -- decoding and signature ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ("", R.UNREADABLE),
        ("hello", R.UNREADABLE),
        ("a.b", R.UNREADABLE),
        ("a.b.c.d", R.UNREADABLE),
        (b"\x00\x01\x02garbage", R.UNREADABLE),
        ("x" * 300_000, R.UNREADABLE),
        ("YL1:", R.MALFORMED),
        ("YL1:%%%%", R.MALFORMED),
        ("YL1:" + "0" * 5000, R.MALFORMED),
    ],
)
def test_garbage_is_unreadable_and_a_broken_code_malformed(world: World, data: str | bytes, code: R) -> None:
    """Input from which no certificate can be read at all says nothing against one (cannot
    verify); a YL1 code that was read but is broken is a bad certificate (reject)."""
    result = verify(world, data)
    assert result.codes == (code,), result.to_json()
    assert result.verdict == ("unverifiable" if code is R.UNREADABLE else "reject")
    assert result.reasons[0].message("en")


def test_text_input_limit_is_256_kib(world: World) -> None:
    """Text up to 256 KiB is read (docs/verifying.md, "Verification order", step 1); one
    character more is refused for its size. Both are UNREADABLE: neither is a certificate."""
    from verifier._verify import MAX_TEXT_INPUT

    assert MAX_TEXT_INPUT == 256 * 1024
    at_limit, over = verify(world, "x" * 262_144), verify(world, "x" * 262_145)
    assert (at_limit.codes, over.codes) == ((R.UNREADABLE,), (R.UNREADABLE,))
    assert "neither YL1: text nor a compact VC-JWT" in at_limit.reasons[0].message()
    assert "too large to be a certificate" in over.reasons[0].message()


def test_truncated_yl1_is_malformed(world: World) -> None:
    text = yl1.encode(world.issue())
    for cut in (10, len(text) // 2, len(text) - 40):
        assert verify(world, text[:cut]).codes == (R.MALFORMED,)


def test_oversized_input_is_malformed(world: World) -> None:
    assert verify(world, "YL1:" + "A" * 10_000).codes == (R.MALFORMED,)


def test_compression_bomb_is_rejected(world: World) -> None:
    import zlib

    packer = zlib.compressobj(9, zlib.DEFLATED, -15, 9, zdict=yl1.dictionary(1))
    bomb = packer.compress(b'{"alg":"EdDSA"}' + b"0" * 2_000_000) + packer.flush()
    from protocol.encoding import b45_encode

    text = "YL1:" + b45_encode(b"\x01\x0f" + bomb + b"s" * 64)
    assert len(text) < 4296  # fits in a QR code: refused for what it inflates to
    result = verify(world, text)
    assert result.codes == (R.MALFORMED,) and "inflates beyond" in result.reasons[0].message()


def test_unknown_key(world: World) -> None:
    stranger = SigningKey.generate()
    result = verify(world, world.issue(key=stranger))
    assert result.codes == (R.UNKNOWN_KEY,)


def test_wrong_signature(world: World) -> None:
    head, payload, sig = world.issue().split(".")
    forged = json.loads(b64url_decode(payload))
    forged["credentialSubject"]["conclusion"] = "pass"
    forged["credentialSubject"]["results"][0]["value"] = "0.01"
    token = ".".join((head, b64url_encode(json.dumps(forged).encode()), sig))
    assert verify(world, token).codes == (R.SIGNATURE_INVALID,)


def test_signature_from_other_lab_key_with_same_kid_is_invalid(world: World) -> None:
    """A kid copied from a trusted key does not make a stranger's signature valid."""
    stranger = SigningKey.generate()
    token = world.issue(key=stranger)
    head = json.loads(b64url_decode(token.split(".")[0]))
    head["kid"] = world.labs["cn-food"].key.public.kid
    from protocol.encoding import dumps_compact

    signing_input = b64url_encode(dumps_compact(head)) + "." + token.split(".")[1]
    forged = signing_input + "." + b64url_encode(stranger.sign(signing_input.encode()))
    assert verify(world, forged).codes == (R.SIGNATURE_INVALID,)


def test_issuer_claim_must_match_key_owner(world: World) -> None:
    token = world.issue(overrides={"issuer": world.labs["ru-food"].id})
    result = verify(world, token)
    assert result.codes == (R.SIGNATURE_INVALID,)


@pytest.mark.parametrize("alg", ["none", "HS256", "RS256", "ES384", None])
def test_forbidden_algorithms(world: World, alg: str | None) -> None:
    _, payload, _ = world.issue().split(".")
    header = {"kid": world.labs["cn-food"].key.public.kid, "typ": "vc+jwt"}
    if alg is not None:
        header["alg"] = alg
    head = b64url_encode(json.dumps(header).encode())
    token = f"{head}.{payload}.{b64url_encode(b'x' * 64)}"
    assert verify(world, token).codes == (R.UNSUPPORTED_ALG,)


def test_hs256_signed_with_public_key_is_refused(world: World) -> None:
    """The classic key-confusion attack: HMAC keyed with the lab's public key."""
    spec = world.labs["cn-food"]
    public_bytes = base64.urlsafe_b64decode(spec.key.public.jwk["x"] + "=")
    payload = b64url_decode(world.issue().split(".")[1])
    token = jwt.api_jws.PyJWS().encode(
        payload, public_bytes, algorithm="HS256", headers={"kid": spec.key.public.kid, "typ": "vc+jwt"}
    )
    result = verify(world, token)
    assert result.codes == (R.UNSUPPORTED_ALG,)


def test_alg_must_match_key_type(world: World) -> None:
    """An ES256 key's kid with an EdDSA header is not tried as EdDSA."""
    metals = world.labs["cn-metals"]
    token = world.issue("cn-metals")
    head = b64url_encode(json.dumps({"alg": "EdDSA", "kid": metals.key.public.kid, "typ": "vc+jwt"}).encode())
    forged = head + token[token.index(".") :]
    assert verify(world, forged).codes == (R.UNSUPPORTED_ALG,)


def test_wrong_typ_is_unsupported_format(world: World) -> None:
    token = world.issue()
    head = json.loads(b64url_decode(token.split(".")[0]))
    head["typ"] = "JWT"
    forged = b64url_encode(json.dumps(head).encode()) + token[token.index(".") :]
    assert verify(world, forged).codes == (R.UNSUPPORTED_FORMAT,)


# -- time ---------------------------------------------------------------------------------------


def test_expired(world: World) -> None:
    result = verify(world, world.issue(), at=NOW + timedelta(days=400))
    assert result.codes == (R.EXPIRED, R.STATUS_UNAVAILABLE, R.TRUST_DATA_STALE, R.TRUST_DATA_STALE)
    assert "2027-05-20" in result.reasons[0].message()


def test_not_yet_valid_names_the_device_clock(world: World) -> None:
    result = verify(world, world.issue(valid_from=NOW + timedelta(hours=2)))
    assert result.codes == (R.NOT_YET_VALID,)
    assert "clock" in result.reasons[0].message()


def test_clock_skew_tolerated(world: World) -> None:
    assert verify(world, world.issue(valid_from=NOW + timedelta(minutes=4))).accepted
    snapshot = load_bundle(world.bundle(), pinned_roots=[world.root.public])
    strict = Verifier(snapshot, country="KZ", clock_skew=timedelta(0))
    early = strict.verify(world.issue(valid_from=NOW + timedelta(minutes=4)), at=NOW)
    assert early.codes == (R.NOT_YET_VALID,)


# -- keys ---------------------------------------------------------------------------------------


def test_key_not_valid_at_issuance(world: World) -> None:
    world.labs["cn-food"].key_from = NOW - timedelta(hours=2)
    result = verify(world, world.issue(valid_from=NOW - timedelta(days=3)))
    assert result.codes == (R.KEY_NOT_VALID_AT_ISSUANCE,)


def test_key_revoked_for_compromise_taints_older_certificates(world: World) -> None:
    spec = world.labs["cn-food"]
    spec.revoked_at, spec.revocation_reason = NOW - timedelta(hours=3), "keyCompromise"
    result = verify(world, world.issue(valid_from=NOW - timedelta(days=5)))
    # The lab's status list is signed with that key too, so it is not used either.
    assert result.codes == (R.KEY_REVOKED, R.STATUS_UNAVAILABLE)


def test_key_superseded_keeps_earlier_certificates(world: World) -> None:
    spec = world.labs["cn-food"]
    spec.revoked_at, spec.revocation_reason = NOW - timedelta(hours=3), "superseded"
    successor = SigningKey.generate()
    spec.extra_keys.append(KeyRecord(successor.public, NOW - timedelta(hours=3)))
    spec.status_signer = successor  # status lists are re-signed with the new key
    assert verify(world, world.issue(valid_from=NOW - timedelta(days=5))).accepted
    assert verify(world, world.issue(valid_from=NOW - timedelta(hours=1))).codes == (R.KEY_REVOKED,)
    assert verify(world, world.issue(valid_from=NOW - timedelta(hours=1), key=successor)).accepted


def test_status_list_signed_with_superseded_key_is_not_used(world: World) -> None:
    spec = world.labs["cn-food"]
    spec.revoked_at, spec.revocation_reason = NOW - timedelta(hours=3), "superseded"
    snapshot = load_bundle(world.bundle(), pinned_roots=[world.root.public])
    assert [s.part for s in snapshot.skipped] == ["status list https://qdtc.example.cn/status"]
    assert "revoked (superseded)" in snapshot.skipped[0].reason
    result = Verifier(snapshot, country="KZ").verify(world.issue(valid_from=NOW - timedelta(days=5)), at=NOW)
    assert result.codes == (R.STATUS_UNAVAILABLE,)  # one list, named once for both entries
    assert result.verdict == "unverifiable"
    assert "revoked (superseded)" in result.reasons[0].message()


# -- accreditation, membership, recognition -----------------------------------------------------


def test_lab_not_accredited_at_issuance(world: World) -> None:
    world.labs["cn-food"].status.append(StatusEvent("suspended", NOW - timedelta(days=10)))
    result = verify(world, world.issue(valid_from=NOW - timedelta(days=2)))
    assert result.codes == (R.LAB_NOT_ACCREDITED,)
    # A certificate issued before the suspension stays good.
    assert verify(world, world.issue(valid_from=NOW - timedelta(days=20))).accepted


def test_scope_not_accredited(world: World) -> None:
    result = verify(world, world.issue("cn-metals", "green-tea-3"))
    assert result.codes == (R.SCOPE_NOT_ACCREDITED,)


def test_scope_history_is_judged_at_valid_from(world: World) -> None:
    """A scope removed ten days ago still covers what was issued before; one added ten
    days ago does not cover what was issued before it (issue 7 §3)."""
    ten_days_ago = NOW - timedelta(days=10)
    world.labs["cn-food"].scopes = (
        Scope("food", until=ten_days_ago),
        Scope("chemicals", since=ten_days_ago),
    )
    assert verify(world, world.issue(valid_from=NOW - timedelta(days=20))).accepted
    result = verify(world, world.issue(valid_from=NOW - timedelta(days=2)))
    assert result.codes == (R.SCOPE_NOT_ACCREDITED,)
    # Re-accredited for food from yesterday: a second period of the same category.
    world.labs["cn-food"].scopes = (
        *world.labs["cn-food"].scopes,
        Scope("food", since=NOW - timedelta(days=1)),
    )
    assert verify(world, world.issue(valid_from=NOW - timedelta(hours=2))).accepted
    assert verify(world, world.issue(valid_from=NOW - timedelta(days=2))).codes == (R.SCOPE_NOT_ACCREDITED,)


def test_registry_not_member(world: World) -> None:
    world.member_status["CN"].append(StatusEvent("suspended", NOW - timedelta(days=1)))
    result = verify(world, world.issue())
    assert result.codes == (R.REGISTRY_NOT_MEMBER,)


def test_not_recognised(world: World) -> None:
    assert verify(world, world.issue(), country="UZ").codes == (R.NOT_RECOGNISED,)
    # RU's food lab is recognised by CN but not by KZ.
    assert verify(world, world.issue("ru-food"), country="CN").accepted
    assert verify(world, world.issue("ru-food"), country="KZ").codes == (R.NOT_RECOGNISED,)


def test_agreement_from_date_applies_to_issuance(world: World) -> None:
    world.agreements = [Agreement("UZ", (world.reg_id("CN"),), ("food",), NOW - timedelta(hours=12))]
    assert verify(world, world.issue(valid_from=NOW - timedelta(days=1)), country="UZ").codes == (
        R.NOT_RECOGNISED,
    )
    assert verify(world, world.issue(valid_from=NOW - timedelta(hours=1)), country="UZ").accepted


# -- status -------------------------------------------------------------------------------------


def test_revoked(world: World) -> None:
    world.labs["cn-food"].revoked.add(4242)
    assert verify(world, world.issue(slot=4242)).codes == (R.REVOKED,)
    assert verify(world, world.issue(slot=4243)).accepted


def test_suspended(world: World) -> None:
    world.labs["cn-food"].suspended.add(7)
    assert verify(world, world.issue(slot=7)).codes == (R.SUSPENDED,)


def test_status_unavailable_when_list_missing_or_expired(world: World) -> None:
    token = world.issue(
        overrides={
            "credentialStatus": [
                {
                    "type": "BitstringStatusListEntry",
                    "statusPurpose": "revocation",
                    "statusListIndex": "2",
                    "statusListCredential": "https://qdtc.example.cn/status/elsewhere",
                }
            ]
        }
    )
    missing = verify(world, token)
    assert missing.codes == (R.STATUS_UNAVAILABLE,) and missing.verdict == "unverifiable"
    world.labs["cn-food"].status_valid_until = NOW - timedelta(minutes=1)
    expired = verify(world, world.issue())
    assert expired.codes == (R.STATUS_UNAVAILABLE,)  # one list: one reason for both entries
    assert expired.verdict == "unverifiable" and "republish" in expired.reasons[0].message()


def test_no_status_entry_is_a_final_reject(world: World) -> None:
    """A certificate with no revocation entry could never be revoked: the entry is at fault."""
    result = verify(world, world.issue(overrides={"credentialStatus": []}))
    assert result.codes == (R.STATUS_ENTRY_INVALID,) and result.verdict == "reject"


# -- trust data ---------------------------------------------------------------------------------


def test_stale_trust_data(world: World) -> None:
    world.federation_expires = NOW - timedelta(minutes=1)
    result = verify(world, world.issue())
    assert result.codes == (R.TRUST_DATA_STALE,)
    world.federation_expires = NOW + timedelta(days=1)
    world.trust_expires = NOW - timedelta(minutes=1)
    assert verify(world, world.issue()).codes == (R.TRUST_DATA_STALE,)


def test_tampered_bundle_is_refused(world: World) -> None:
    bundle = world.bundle()
    manifest_text, body = split_container(bundle)
    head, payload, sig = manifest_text.split(".")
    manifest = json.loads(b64url_decode(payload))
    manifest["createdAt"] = "2030-01-01T00:00:00Z"
    tampered = ".".join((head, b64url_encode(json.dumps(manifest).encode()), sig))
    with pytest.raises(TrustDataError, match="signature does not verify"):
        load_bundle(MAGIC + tampered.encode() + b"\n" + body, pinned_roots=[world.root.public])
    # A changed byte of the body, behind the untouched manifest: its signed digest differs.
    damaged = bytearray(bundle)
    damaged[-20] ^= 1
    with pytest.raises(TrustDataError, match="does not match its signed digest"):
        load_bundle(bytes(damaged), pinned_roots=[world.root.public])


def test_bundle_from_another_root_is_refused_when_pinned(world: World) -> None:
    other = World()
    with pytest.raises(TrustDataError, match="belongs to another federation"):
        load_bundle(other.bundle(), pinned_roots=[world.root.public])


def test_tampered_inner_list_is_dropped_and_its_labs_cannot_be_verified(world: World) -> None:
    """A trust list whose signature breaks inside a validly signed bundle: that list alone is
    dropped and reported; its labs' certificates cannot be verified, the others still can."""
    good = world.trust_list("CN")
    head, payload, sig = good.split(".")
    body = json.loads(b64url_decode(payload))
    body["labs"][0]["scopes"].append({"category": "textiles"})
    world_tl = ".".join((head, b64url_encode(json.dumps(body).encode()), sig))
    from protocol.bundle import Bundle

    bundle = Bundle(
        "https://federation.example",
        1,
        NOW,
        (dict(world.root.public.jwk),),
        world.federation(),
        (world_tl, world.trust_list("RU")),
        tuple(t for spec in world.labs.values() for t in world.status_lists(spec)),
    )
    snapshot = load_bundle(bundle.sign(world.root, world.root.public.kid), pinned_roots=[world.root.public])
    assert str(snapshot.skipped[0]) == (
        f"trust list of {world.reg_id('CN')}: its signature does not verify with the member's keys"
    )
    cn = Verifier(snapshot, country="KZ").verify(world.issue(), at=NOW)
    assert cn.codes == (R.TRUST_DATA_INVALID,) and cn.verdict == "unverifiable"
    assert Verifier(snapshot, country="CN").verify(world.issue("ru-food"), at=NOW).accepted


@pytest.mark.parametrize("garbage", [b"", b"not a bundle", b"a.b.c", b"\xff\xfe" * 10])
def test_garbage_bundle_is_trust_data_error(garbage: bytes) -> None:
    with pytest.raises(TrustDataError, match="this file is not a Yilu bundle") as info:
        load_bundle(garbage, pinned_roots=[SigningKey.generate().public])
    assert info.value.code is R.TRUST_DATA_INVALID  # a code, never None (docs/verifying.md)


def test_raising_twin(world: World) -> None:
    snapshot = load_bundle(world.bundle(), pinned_roots=[world.root.public])
    verifier = Verifier(snapshot, country="UZ")
    with pytest.raises(VerificationError) as info:
        verifier.verify_or_raise(world.issue(), at=NOW)
    assert info.value.codes == (R.NOT_RECOGNISED,)
    # Cannot verify is not a reject: its twin raises the trust-data error, not VerificationError.
    with pytest.raises(TrustDataError) as unverifiable:
        verifier.verify_or_raise(world.issue(), at=NOW + timedelta(days=40))
    assert unverifiable.value.codes == (
        R.STATUS_UNAVAILABLE,
        R.NOT_RECOGNISED,
        R.TRUST_DATA_STALE,
        R.TRUST_DATA_STALE,
    )
    assert not isinstance(unverifiable.value, VerificationError)


def test_every_reason_has_three_languages() -> None:
    from protocol.reasons import message

    for code in R:
        texts = {lang: message(code, lang, {}) for lang in ("en", "zh", "ru")}
        assert len(set(texts.values())) == 3, code


def test_unsupported_key_in_signed_federation_list_is_trust_data_error(world: World) -> None:
    """A root-signed federation list with a key type Yilu does not speak is invalid trust data."""
    from protocol.bundle import Bundle
    from protocol.encoding import dumps_compact
    from protocol.jws import sign_compact

    body = json.loads(b64url_decode(world.federation().split(".")[1]))
    body["registries"][0]["keys"][0]["jwk"] = {"kty": "RSA", "n": "AQAB", "e": "AQAB"}
    fed = sign_compact(
        dumps_compact(body), world.root, kid=world.root.public.kid, typ="yilu-federation-list+jwt"
    )
    bundle = Bundle("https://federation.example", 1, NOW, (dict(world.root.public.jwk),), fed, (), ())
    with pytest.raises(TrustDataError, match="federation list"):
        load_bundle(bundle.sign(world.root, world.root.public.kid), pinned_roots=[world.root.public])


def test_no_pinned_root_no_snapshot(world: World) -> None:
    """Without a pinned root nothing is verified: the pin is required, and an empty one refused."""
    with pytest.raises(TypeError):
        load_bundle(world.bundle())  # type: ignore[call-arg]
    with pytest.raises(TrustDataError) as info:
        load_bundle(world.bundle(), pinned_roots=[])
    assert info.value.code == R.TRUST_DATA_MISSING


def test_skipped_lists_are_reported_in_the_trust_summary(world: World) -> None:
    spec = world.labs["cn-food"]
    spec.revoked_at, spec.revocation_reason = NOW - timedelta(hours=3), "superseded"
    snapshot = load_bundle(world.bundle(), pinned_roots=[world.root.public])
    result = Verifier(snapshot, country="KZ").verify(world.issue(), at=NOW)
    assert result.trust is not None and any("revoked (superseded)" in s for s in result.trust["skipped"])
    clean = verify(World(), World().issue())
    assert clean.trust is not None and "skipped" not in clean.trust


def test_key_listed_for_two_labs_is_attributed_by_the_issuer_claim(world: World) -> None:
    """One public key listed for two labs: each credential is checked against the lab it names.

    Registries answer for the keys they list; the verifier must not pin a certificate on
    whichever listing it happened to find first.
    """
    cn_key = world.labs["cn-food"].key
    world.labs["ru-food"].extra_keys.append(KeyRecord(cn_key.public, YEAR_AGO))
    result = verify(world, world.issue("cn-food"))
    assert result.accepted and result.issuer is not None
    assert result.issuer["id"] == world.labs["cn-food"].id
    # Naming the RU lab, the same key's signature is checked as the RU lab's listing.
    named_ru = world.issue("cn-food", overrides={"issuer": world.labs["ru-food"].id})
    attributed = verify(world, named_ru, country="CN")
    assert attributed.issuer is not None and attributed.issuer["id"] == world.labs["ru-food"].id
    # Not a bad signature: the RU listing verifies it; its status entries are not RU's lists.
    assert attributed.codes == (R.STATUS_ENTRY_INVALID, R.STATUS_ENTRY_INVALID)


@pytest.mark.parametrize("what", ["trust list", "bundle"])
def test_a_yilu_file_given_as_the_certificate_is_named_and_cannot_be_verified(
    world: World, what: str
) -> None:
    """A trust list or bundle scanned or pasted instead of a certificate: said plainly, and
    no reject (the certificate itself was never seen)."""
    token = world.trust_list("CN") if what == "trust list" else world.bundle()
    result = verify(world, token)
    assert (result.verdict, result.codes) == ("unverifiable", (R.UNREADABLE,))
    assert f"this is a {what}, not a certificate" in result.reasons[0].message()


def test_a_damaged_dictionary_is_this_devices_problem(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """A YL1 dictionary that fails its pinned hash (a damaged install) cannot verify anything:
    the inspector is told to reinstall, and no certificate is rejected for it."""
    text = yl1.encode(world.issue())
    monkeypatch.setitem(yl1.DICTIONARIES, 1, "0" * 64)
    yl1.dictionary.cache_clear()
    try:
        result = verify(world, text)
    finally:
        yl1.dictionary.cache_clear()
    assert (result.verdict, result.codes) == ("unverifiable", (R.UNSUPPORTED_FORMAT,))
    assert "reinstall the software" in result.reasons[0].message()
