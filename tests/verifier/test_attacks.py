"""Attacks on the trust chain, each mounted with the real keys of the party that would mount it.

Every test states the secure behaviour. Those marked ``xfail(strict=True)`` fail on the
current code (issue 5 lists the classes by number); they turn into passes as the fixes land.
"""

from __future__ import annotations

import json
import re
import unicodedata
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from protocol import yl1
from protocol.bundle import MAGIC, TYP_BUNDLE, split_container
from protocol.encoding import b45_encode, b64url_decode, b64url_encode, dumps_compact
from protocol.errors import InputError, RollbackError, TrustDataError
from protocol.jws import TYP_VC, sign_compact
from protocol.keys import SigningKey
from protocol.lists import KeyRecord, Member, StatusEvent
from protocol.reasons import ReasonCode as R
from protocol.status_list import Bitstring, StatusList
from service.db import session
from testkit import NOW, YEAR_AGO, LabSpec, SqlRegistry, World, enrol, sql_registry
from trust_registry import _registry_domain as registry_domain
from verifier import Snapshot, VerificationResult, Verifier, load_bundle
from verifier.render import render_text
from verifier.store import SnapshotStore

CN_FOOD = "https://qdtc.example.cn"
RU_FOOD = "https://nftc.example.ru"
PURPOSES = ("revocation", "suspension")


# -- helpers ----------------------------------------------------------------------------------


def load(world: World, bundle: str | bytes | None = None) -> Snapshot:
    return load_bundle(bundle or world.bundle(), pinned_roots=[world.root.public])


def check(snapshot: Snapshot, token: str, country: str = "KZ") -> VerificationResult:
    return Verifier(snapshot, country=country).verify(token, at=NOW)


def make_bundle(
    world: World,
    *,
    trust_lists: Iterable[str] | None = None,
    status_lists: Iterable[str] | None = None,
    created_at_offset: timedelta = timedelta(minutes=-30),
) -> str:
    """A root-signed bundle of ``world`` with the given (or the world's own) lists, in that order."""
    return world.bundle(
        trust_lists=trust_lists, status_lists=status_lists, created_at=NOW + created_at_offset
    )


def status_list(
    spec: LabSpec,
    *,
    bits: Iterable[int] = (),
    valid_from: Any = NOW - timedelta(hours=1),
    valid_until: Any = NOW + timedelta(days=30),
    signer: SigningKey | None = None,
    url: str | None = None,
) -> str:
    """One status list (both purposes) of ``spec``'s lab id with ``bits`` set, signed by
    ``signer`` (default: the lab's key)."""
    bitstring = Bitstring()
    for i in bits:
        bitstring.set(i, True)
    signer = signer or spec.key
    sl = StatusList(url or spec.url, spec.id, PURPOSES, bitstring, valid_from, valid_until)
    return sl.sign(signer, signer.public.kid)


def resign(token: str, key: SigningKey, mutate: Callable[[dict[str, Any]], None]) -> str:
    """``token``'s payload changed by ``mutate`` and signed again by ``key`` (the genuine signer)."""
    payload = json.loads(b64url_decode(token.split(".")[1]))
    mutate(payload)
    return sign_compact(dumps_compact(payload), key, kid=key.public.kid, typ=TYP_VC)


def mentions(snapshot: Snapshot, text: str) -> bool:
    return any(text in str(item) for item in snapshot.skipped)


def add_rogue(world: World, attacker: SigningKey) -> LabSpec:
    """The KZ registry lists the CN food lab's exact id with the attacker's key."""
    world.labs["rogue"] = LabSpec(CN_FOOD, "KZ", ("food",), attacker)
    return world.labs["rogue"]


# -- 1. a rogue registry speaks for another registry's lab ----------------------------------


@pytest.mark.parametrize("order", ["kz-last", "kz-first-no-rogue-status"])
def test_rogue_registry_listing_of_foreign_lab_is_dropped(world: World, order: str) -> None:
    attacker = SigningKey.generate()
    add_rogue(world, attacker)
    genuine = world.issue("cn-food")
    forged = world.issue("rogue")  # issuer https://qdtc.example.cn, signed by the attacker key
    trust = {cc: world.trust_list(cc) for cc in world.reg_keys}
    if order == "kz-last":
        bundle = make_bundle(world, trust_lists=[trust["CN"], trust["RU"], trust["KZ"]])
    else:
        # Today this order lets the forgery through: the rogue key stays indexed for the lab id.
        status = [t for name, spec in world.labs.items() if name != "rogue" for t in world.status_lists(spec)]
        bundle = make_bundle(world, trust_lists=[trust["KZ"], trust["CN"], trust["RU"]], status_lists=status)
    snapshot = load(world, bundle)
    for country in ("KZ", "CN"):
        result = check(snapshot, forged, country)
        assert not result.accepted, (country, result.to_json())
        assert result.codes == (R.UNKNOWN_KEY,), (country, result.codes)
    result = check(snapshot, genuine, "KZ")
    assert result.accepted, result.to_json()
    assert result.issuer is not None and result.issuer["registry"]["country"] == "CN"
    assert mentions(snapshot, CN_FOOD), snapshot.skipped


@pytest.mark.parametrize("rogue_first", [True, False], ids=["rogue-lists-first", "rogue-lists-last"])
def test_rogue_registry_cannot_unrevoke(world: World, rogue_first: bool) -> None:
    attacker = SigningKey.generate()
    world.labs["cn-food"].revoked = {4242}
    rogue = add_rogue(world, attacker)
    token = world.issue("cn-food", slot=4242)
    genuine = world.status_lists(world.labs["cn-food"])
    forged = [status_list(rogue, valid_from=NOW - timedelta(minutes=5), signer=attacker)]
    others = [t for name in ("cn-metals", "ru-food") for t in world.status_lists(world.labs[name])]
    lists = (forged + genuine if rogue_first else genuine + forged) + others
    snapshot = load(world, make_bundle(world, status_lists=lists))
    for country in ("KZ", "CN"):
        assert check(snapshot, token, country).codes == (R.REVOKED,), country


def test_rogue_registry_cannot_unrevoke_by_withholding_genuine_lists(world: World) -> None:
    attacker = SigningKey.generate()
    world.labs["cn-food"].revoked = {4242}
    rogue = add_rogue(world, attacker)
    token = world.issue("cn-food", slot=4242)
    forged = [status_list(rogue, signer=attacker)]
    others = [t for name in ("cn-metals", "ru-food") for t in world.status_lists(world.labs[name])]
    snapshot = load(world, make_bundle(world, status_lists=forged + others))
    for country in ("KZ", "CN"):
        result = check(snapshot, token, country)
        assert result.codes == (R.STATUS_UNAVAILABLE,), (country, result.codes)


@pytest.mark.parametrize("older_first", [True, False], ids=["older-first", "older-last"])
def test_older_genuine_status_list_next_to_newer_does_not_unrevoke(world: World, older_first: bool) -> None:
    spec = world.labs["cn-food"]
    spec.revoked = {4242}
    token = world.issue("cn-food", slot=4242)
    newer = world.status_lists(spec)  # validFrom NOW - 1 h, bit set
    older = [status_list(spec, valid_from=NOW - timedelta(days=2))]  # bit clear
    others = [t for name in ("cn-metals", "ru-food") for t in world.status_lists(world.labs[name])]
    lists = (older + newer if older_first else newer + older) + others
    snapshot = load(world, make_bundle(world, status_lists=lists))
    for country in ("KZ", "CN"):
        assert check(snapshot, token, country).codes == (R.REVOKED,)


@pytest.mark.parametrize("foreign_first", [True, False], ids=["foreign-first", "foreign-last"])
def test_status_list_url_outside_its_lab_is_dropped(world: World, foreign_first: bool) -> None:
    """The RU lab signs a list with its own key at the CN lab's URL: it must not shadow the CN list."""
    cn, ru = world.labs["cn-food"], world.labs["ru-food"]
    cn.revoked = {4242}
    foreign = [status_list(ru, valid_from=NOW - timedelta(minutes=5), url=cn.url, signer=ru.key)]
    own = [t for spec in world.labs.values() for t in world.status_lists(spec)]
    snapshot = load(world, make_bundle(world, status_lists=foreign + own if foreign_first else own + foreign))
    assert check(snapshot, world.issue("cn-food", slot=4242)).codes == (R.REVOKED,)
    assert check(snapshot, world.issue("cn-food", slot=4243)).accepted
    assert check(snapshot, world.issue("ru-food"), "CN").accepted
    assert mentions(snapshot, cn.url) or mentions(snapshot, RU_FOOD), snapshot.skipped


# -- 2. superseded and equivocating trust lists ---------------------------------------------


def _revoke_key(world: World) -> None:
    spec = world.labs["cn-food"]
    spec.revoked_at, spec.revocation_reason = NOW - timedelta(hours=3), "keyCompromise"


def _drop_food(world: World) -> None:
    world.labs["cn-food"].scopes = ("chemicals",)


def _withdraw(world: World) -> None:
    world.labs["cn-food"].status.append(StatusEvent("withdrawn", NOW - timedelta(days=2)))


def _unlist(world: World) -> None:
    world.labs["cn-food"].country = "XX"  # no longer in the CN registry's trust list


SUPERSEDED: dict[str, tuple[Callable[[World], None], tuple[R, ...]]] = {
    # The compromised key also signed the lab's status lists, which are skipped.
    "key-revoked": (_revoke_key, (R.KEY_REVOKED, R.STATUS_UNAVAILABLE)),
    "scope-removed": (_drop_food, (R.SCOPE_NOT_ACCREDITED,)),
    "withdrawn": (_withdraw, (R.LAB_NOT_ACCREDITED,)),
    "unlisted": (_unlist, (R.UNKNOWN_KEY,)),
}


@pytest.mark.parametrize(
    ("change", "older_last"),
    [
        pytest.param(name, older_last, id=f"{name}-{'older-last' if older_last else 'older-first'}")
        for name in SUPERSEDED
        for older_last in (True, False)
    ],
)
def test_superseded_trust_list_is_not_used(world: World, change: str, older_last: bool) -> None:
    mutate, expected = SUPERSEDED[change]
    token = world.issue("cn-food")  # validFrom NOW - 1 day
    world.sequence = 1
    old = world.trust_list("CN")
    status = [t for spec in world.labs.values() for t in world.status_lists(spec)]
    mutate(world)
    world.sequence = 2
    new = world.trust_list("CN")
    cn_lists = [new, old] if older_last else [old, new]
    bundle = make_bundle(
        world, trust_lists=[*cn_lists, world.trust_list("RU"), world.trust_list("KZ")], status_lists=status
    )
    snapshot = load(world, bundle)
    assert snapshot.trust_lists[world.reg_id("CN")].sequence == 2
    for country in ("KZ", "CN"):
        result = check(snapshot, token, country)
        assert result.codes == expected, (country, result.to_json())


@pytest.mark.parametrize("first", ["a", "b"])
def test_equivocating_trust_lists_disable_only_that_registry(world: World, first: str) -> None:
    cn_token, ru_token = world.issue("cn-food"), world.issue("ru-food")
    a = world.trust_list("CN")
    world.trust_expires = world.trust_expires + timedelta(days=1)  # a second, different list, same sequence
    b = world.trust_list("CN")
    assert a != b
    cn_lists = [a, b] if first == "a" else [b, a]
    snapshot = load(
        world, make_bundle(world, trust_lists=[*cn_lists, world.trust_list("RU"), world.trust_list("KZ")])
    )
    for country in ("KZ", "CN", "RU"):
        assert check(snapshot, cn_token, country).codes == (R.TRUST_DATA_INVALID,), country
    assert check(snapshot, ru_token, "CN").accepted


# -- 3. rollback of a revocation through the stored snapshot --------------------------------


def test_store_refuses_rollback_of_status_lists(world: World, tmp_path: Path) -> None:
    spec = world.labs["cn-food"]
    token = world.issue("cn-food", slot=4242)
    others = [t for name in ("cn-metals", "ru-food") for t in world.status_lists(world.labs[name])]
    before = make_bundle(world)
    after_lists = [status_list(spec, bits={8484}, valid_from=NOW - timedelta(minutes=10))]  # slot 4242
    world.sequence = 2  # the root numbers every bundle it builds; lists keep their sequences
    after = make_bundle(world, status_lists=after_lists + others, created_at_offset=timedelta(minutes=-5))
    store = SnapshotStore(tmp_path, pinned_roots=[world.root.public])
    store.install(before, now=NOW)
    store.install(after, now=NOW)
    stored = store.path.read_bytes()
    with pytest.raises(RollbackError, match=r"this bundle \(sequence 1\) is older"):
        store.install(before, now=NOW)
    # A newer bundle (sequence 3) that carries the old, unrevoked status lists: still refused.
    world.sequence = 3
    replay = make_bundle(world)
    with pytest.raises(RollbackError, match=re.escape("status list https://qdtc.example.cn/status ")):
        store.install(replay, now=NOW)
    assert store.path.read_bytes() == stored
    current = store.current()
    assert current is not None and check(current, token).codes == (R.REVOKED,)


# -- 4. an unpinned root ----------------------------------------------------------------------


def test_load_bundle_requires_pinned_roots() -> None:
    attacker = World()  # a complete federation of the attacker's own
    with pytest.raises(TypeError, match="pinned_roots"):
        load_bundle(attacker.bundle())  # type: ignore[call-arg]


# -- 5. smaller wrong accepts, signed by the genuine lab --------------------------------------


def test_valid_until_before_valid_from_is_rejected(world: World) -> None:
    token = world.issue(
        valid_from=NOW - timedelta(minutes=1), overrides={"validUntil": "2026-11-27T08:57:00Z"}
    )
    snapshot = load(world)
    for country in ("KZ", "CN"):
        assert check(snapshot, token, country).codes == (R.MALFORMED,), country


def test_credential_without_revocation_entry_is_rejected(world: World) -> None:
    spec = world.labs["cn-food"]
    only_suspension = [
        {
            "type": "BitstringStatusListEntry",
            "statusPurpose": "suspension",
            "statusListIndex": "4242",
            "statusListCredential": spec.url,
        }
    ]
    result = check(load(world), world.issue(overrides={"credentialStatus": only_suspension}))
    assert result.codes == (R.STATUS_ENTRY_INVALID,), result.to_json()


def test_credential_without_credential_status_is_rejected(world: World) -> None:
    token = resign(world.issue(), world.labs["cn-food"].key, lambda cred: cred.pop("credentialStatus"))
    result = check(load(world), token)
    assert result.verdict == "reject" and result.codes == (R.STATUS_ENTRY_INVALID,)


# -- 6. calendar edges, never an internal error ---------------------------------------------


@pytest.mark.parametrize(
    ("member", "value"),
    [("validUntil", "9999-12-31T23:59:59-05:00"), ("validFrom", "0001-01-01T00:00:00+01:00")],
)
def test_status_list_times_at_the_calendar_edges(world: World, member: str, value: str) -> None:
    spec = world.labs["cn-food"]
    bits = Bitstring()
    cred = StatusList(spec.url, spec.id, PURPOSES, bits, NOW - timedelta(hours=1), None)
    raw = cred.to_credential()
    raw[member] = value
    edge = sign_compact(dumps_compact(raw), spec.key, kid=spec.key.public.kid, typ=TYP_VC)
    lists = [edge]
    lists += [t for name in ("cn-metals", "ru-food") for t in world.status_lists(world.labs[name])]
    try:
        snapshot = load(world, make_bundle(world, status_lists=lists))
    except TrustDataError as exc:
        pytest.fail(f"one lab's odd status list refused the whole bundle: {exc}")
    result = check(snapshot, world.issue())
    assert isinstance(result, VerificationResult)
    # The list is unusable (a time outside the supported range), not the bundle.
    assert (result.verdict, result.codes) == ("unverifiable", (R.STATUS_UNAVAILABLE,)), result.to_json()
    assert check(snapshot, world.issue("ru-food"), "CN").accepted


def _resigned(bundle: bytes, signer: SigningKey, change: Any) -> bytes:
    """``bundle`` with its manifest changed by ``change`` and signed again by ``signer``."""
    manifest_text, body = split_container(bundle)
    manifest = json.loads(b64url_decode(manifest_text.split(".")[1]))
    change(manifest)
    token = sign_compact(dumps_compact(manifest), signer, kid=signer.public.kid, typ=TYP_BUNDLE)
    return MAGIC + token.encode() + b"\n" + body


def test_bundle_created_at_beyond_the_calendar_is_trust_data_error(world: World) -> None:
    # Signed by the real root: the date itself must be refused, not overflow.
    bundle = _resigned(world.bundle(), world.root, lambda m: m.update(createdAt="9999-12-31T23:59:59-01:00"))
    with pytest.raises(TrustDataError, match="createdAt"):
        load_bundle(bundle, pinned_roots=[world.root.public])


# -- 7. resource use before authentication ----------------------------------------------------


def test_unauthenticated_bundle_payload_is_not_parsed(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    attacker = SigningKey.generate()
    payload = b"x" * 1_000_000
    # A large body behind a manifest signed by the attacker: neither is parsed or inflated.
    manifest = sign_compact(b'{"type":"YiluBundle"}', attacker, kid=attacker.public.kid, typ=TYP_BUNDLE)
    token = MAGIC + manifest.encode() + b"\n" + zlib.compress(payload)
    monkeypatch.setattr(zlib, "decompressobj", lambda *a, **k: pytest.fail("inflated before authentication"))
    parsed_sizes: list[int] = []
    real_loads = json.loads

    def counting_loads(s: Any, *args: Any, **kwargs: Any) -> Any:
        parsed_sizes.append(len(s))
        return real_loads(s, *args, **kwargs)

    monkeypatch.setattr(json, "loads", counting_loads)
    with pytest.raises(TrustDataError) as info:
        load_bundle(token, pinned_roots=[world.root.public])
    assert re.search(r"unknown key|pinned|not signed by", str(info.value), re.IGNORECASE), str(info.value)
    assert not any(size >= len(payload) for size in parsed_sizes), parsed_sizes


# -- 8. one party must not take the federation down -------------------------------------------


@pytest.mark.parametrize("signer", ["cn-lab-key", "attacker-key"])
def test_status_list_signed_by_someone_else_is_skipped_not_fatal(world: World, signer: str) -> None:
    key = world.labs["cn-food"].key if signer == "cn-lab-key" else SigningKey.generate()
    world.labs["ru-food"].status_signer = key  # issuer stays the RU lab's id
    snapshot = load(world)
    assert mentions(snapshot, RU_FOOD), snapshot.skipped
    assert check(snapshot, world.issue("cn-food"), "KZ").accepted
    result = check(snapshot, world.issue("ru-food"), "CN")
    assert result.codes == (R.STATUS_UNAVAILABLE,), result.codes


class CompromisedKZ(World):
    """A world whose federation list says the KZ registry's key was compromised."""

    def member(self, cc: str) -> Member:
        member = super().member(cc)
        if cc != "KZ":
            return member
        record = KeyRecord(self.reg_keys[cc].public, YEAR_AGO, None, NOW - timedelta(days=3), "keyCompromise")
        return replace(member, keys=(record,))


def test_trust_list_signed_by_compromised_registry_key_is_skipped_not_fatal() -> None:
    world = CompromisedKZ()
    world.labs["kz-food"] = LabSpec("https://almaty.example.kz", "KZ", ("food",), SigningKey.generate())
    snapshot = load(world)
    assert mentions(snapshot, world.reg_id("KZ")) or mentions(snapshot, "AB-KZ"), snapshot.skipped
    assert world.reg_id("KZ") not in snapshot.trust_lists
    assert check(snapshot, world.issue("cn-food"), "KZ").accepted
    assert check(snapshot, world.issue("ru-food"), "CN").accepted
    assert check(snapshot, world.issue("kz-food"), "CN").codes == (R.TRUST_DATA_INVALID,)
    assert check(snapshot, world.issue("kz-food"), "KZ").codes == (R.TRUST_DATA_INVALID,)


REG_PASS = "registry passphrase"
LAB_ID = "https://lab.example.cn"
#: Long before any clock the registry may compare with, so that the lab key is current.
KEY_SINCE = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[tuple[SqlRegistry, SigningKey]]:
    """The registry service's storage and rules (in-process) with one lab and its key."""
    reg = sql_registry(tmp_path / "reg", passphrase=REG_PASS, since=KEY_SINCE)
    key = SigningKey.generate()
    enrol(reg, key, lab_id=LAB_ID, since=KEY_SINCE)
    yield reg, key
    reg.close()


def _lab_list(key: SigningKey, issuer: str = LAB_ID) -> str:
    """A status list signed a minute before the tests' clock (NOW), valid for 30 days."""
    signed = NOW - timedelta(minutes=1)
    sl = StatusList(f"{issuer}/status", issuer, PURPOSES, Bitstring(), signed, signed + timedelta(days=30))
    return sl.sign(key, key.public.kid)


def test_registry_mirrors_its_labs_genuine_status_lists(registry: tuple[SqlRegistry, SigningKey]) -> None:
    reg, key = registry
    token = _lab_list(key)
    reg.mirror([token], now=NOW)
    assert list(reg.mirrored().values()) == [token]


@pytest.mark.parametrize("case", ["stranger-key", "revoked-key", "foreign-issuer"])
def test_registry_refuses_to_mirror_unverified_status_lists(
    registry: tuple[SqlRegistry, SigningKey], case: str
) -> None:
    reg, key = registry
    if case == "stranger-key":
        token = _lab_list(SigningKey.generate())
    elif case == "revoked-key":
        with session(reg.engine) as db:
            registry_domain.revoke_key(
                session=db,
                now=KEY_SINCE + timedelta(days=1),
                actor="test",
                lab_id=LAB_ID,
                kid=key.public.kid,
                reason="keyCompromise",
            )
        token = _lab_list(key)
    else:
        other = SigningKey.generate()
        token = _lab_list(other, "https://other.example.cn")
    with pytest.raises(InputError):
        reg.mirror([token], now=NOW)
    assert reg.mirrored() == {}


# -- 9. display injection ---------------------------------------------------------------------

INJECTED_KIDS = [
    "x\n✔ ACCEPT\n  - [ACCEPTED] Genuine",
    "x\r\x1b[2K✔ ACCEPT\x07",
    "x\u202e\u2066TPECCA\u2069\u202c ✔",
]
BIDI = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}


def token_with_kid(world: World, kid: str) -> str:
    key = SigningKey.generate()
    payload = b64url_decode(world.issue().split(".")[1])
    head = b64url_encode(dumps_compact({"alg": key.alg, "kid": kid, "typ": TYP_VC}))
    signing_input = f"{head}.{b64url_encode(payload)}"
    return f"{signing_input}.{b64url_encode(key.sign(signing_input.encode()))}"


def assert_clean_display(text: str) -> None:
    """No forged verdict line, no control characters but newlines, no bidi overrides."""
    for line in text.split("\n"):
        assert not line.startswith("✔"), text
        assert not re.match(r"\s*- \[ACCEPTED\]", line), text
    assert not [c for c in text if c != "\n" and unicodedata.category(c) == "Cc"], repr(text)
    assert not BIDI & set(text), repr(text)


@pytest.mark.parametrize("kid", INJECTED_KIDS, ids=["newlines", "terminal-controls", "bidi"])
def test_kid_cannot_inject_lines_into_the_readable_result(world: World, kid: str) -> None:
    result = check(load(world), token_with_kid(world, kid))
    assert result.codes == (R.UNKNOWN_KEY,)
    for lang in ("en", "zh", "ru"):
        assert_clean_display(render_text(result, lang))


# -- 11. messages -------------------------------------------------------------------------------


def test_non_numeric_status_index_message(world: World) -> None:
    spec = world.labs["cn-food"]
    entries = [
        {
            "type": "BitstringStatusListEntry",
            "statusPurpose": p,
            "statusListIndex": "abc",
            "statusListCredential": spec.url,
        }
        for p in PURPOSES
    ]
    result = check(load(world), world.issue(overrides={"credentialStatus": entries}))
    assert result.codes == (R.STATUS_ENTRY_INVALID, R.STATUS_ENTRY_INVALID)  # one for each entry
    for reason in result.reasons:
        for lang in ("en", "zh", "ru"):
            assert not re.search(r"(?<!\d)-1(?!\d)", reason.message(lang)), reason.message(lang)


def yl1_with_dictionary(token: str, zdict: bytes) -> str:
    """``yl1.encode`` with another preset dictionary (a producer that disagrees on it)."""
    header, payload, signature = (b64url_decode(p) for p in token.split("."))
    packer = zlib.compressobj(9, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY, zdict=zdict)
    deflated = packer.compress(header + payload) + packer.flush()
    assert len(header) < 128  # its length is one varint byte
    return yl1.PREFIX + b45_encode(bytes([1, len(header)]) + deflated + signature)


def _is_json(data: bytes) -> bool:
    try:
        json.loads(data)
    except ValueError:
        return False
    return True


def header_kept_text(world: World) -> str:
    """YL1 text whose dictionary differs everywhere but in the JWS header fragments.

    Read with the real dictionary, the header survives and the payload turns into bytes
    that are not JSON. The kid is random, and now and then it compresses against the
    changed part too; a fresh lab key is drawn until the header survives.
    """
    real = yl1.dictionary(1)
    start = real.index(b'{"alg":"ES256","kid":"')  # just before the EdDSA header fragment
    end = real.index(b'"typ":"vc+jwt"}', start) + len(b'"typ":"vc+jwt"}')
    zdict = real[:start][::-1] + real[start:end] + real[end:][::-1]
    for _ in range(50):
        world.labs["cn-food"].key = SigningKey.generate()
        token = world.issue()
        text = yl1_with_dictionary(token, zdict)
        try:
            decoded = yl1.decode(text)
        except InputError:
            continue
        head, payload, _ = decoded.split(".")
        if head == token.split(".")[0] and not _is_json(b64url_decode(payload)):
            return text
    raise AssertionError("no key gave a header that survives the dictionary change")


@pytest.mark.parametrize(
    "variant",
    [
        "reversed-dictionary",
        "header-kept",
    ],
)
def test_yl1_with_another_dictionary_is_malformed(world: World, variant: str) -> None:
    if variant == "reversed-dictionary":
        text = yl1_with_dictionary(world.issue(), yl1.dictionary(1)[::-1])
    else:
        text = header_kept_text(world)
    result = check(load(world), text)
    assert result.codes == (R.MALFORMED,), result.to_json()


# -- honest output: a genuine certificate of a failed test -----------------------------------------


@pytest.mark.parametrize("lang", ["en", "zh", "ru", "kk"])
def test_an_accepted_certificate_of_a_failed_test_says_so_first(world: World, lang: str) -> None:
    """A genuine, valid certificate whose conclusion is "fail" is accepted (the certificate
    is good), but the screen says before anything else that the goods did not pass."""
    failed = world.issue(overrides={"credentialSubject": {**_subject(world), "conclusion": "fail"}})
    text = render_text(check(load(world), failed), lang)
    lines = text.splitlines()
    assert lines[0].startswith("✔") and lines[1].startswith("  ! ") and "FAIL" in lines[1]
    passed = render_text(check(load(world), world.issue()), lang).splitlines()
    assert not passed[1].startswith("  ! ")


def _subject(world: World) -> dict[str, Any]:
    payload = json.loads(b64url_decode(world.issue().split(".")[1]))
    subject: dict[str, Any] = payload["credentialSubject"]
    return subject
