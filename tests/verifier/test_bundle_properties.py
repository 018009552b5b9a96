"""Property tests (hypothesis) for load_bundle: a changed bundle or list never loads as trusted.

The root key is always pinned. A bundle may fail as a whole (TrustDataError) or drop a
list it cannot trust; what must never happen is a non-Yilu exception, a snapshot that
holds changed trust data, or an accepted certificate that relied on changed data.
Runs are derandomized so CI is deterministic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from propkit import char_mutations, fast
from protocol.encoding import b64url_decode, b64url_encode
from protocol.errors import YiluError
from protocol.jws import parse_compact
from protocol.lists import FederationList, TrustList
from protocol.reasons import ReasonCode as R
from protocol.status_list import StatusList
from testkit import NOW, World
from verifier import Snapshot, Verifier, load_bundle

B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
CREATED_AT = NOW - timedelta(minutes=30)


@st.composite
def payload_mutations(draw: st.DrawFn, token: str) -> str:
    """``token`` with characters inside one of its payload's JSON string values changed
    (registry, issuer, url, key, encodedList, ...), re-encoded canonically with the original
    header and signature. Unlike raw mutations these still parse, so the loader has to rely
    on the signature, or skip a list that names an unknown registry or lab."""
    header, payload, signature = token.split(".")
    text = b64url_decode(payload).decode("utf-8")
    char = st.one_of(
        st.sampled_from("abcxyz0189:/.-"),
        st.characters(codec="utf-8", exclude_characters='"\\', exclude_categories=("Cc", "Cs")),
    )
    for _ in range(draw(st.integers(1, 3))):
        spans = [m.span(1) for m in re.finditer(r'":"([^"\\]*)"', text)]
        lo, hi = draw(st.sampled_from(spans))
        op = draw(st.sampled_from(("sub", "ins", "del")) if hi > lo else st.just("ins"))
        pos = draw(st.integers(lo, hi if op == "ins" else hi - 1))
        cut = pos if op == "ins" else pos + 1
        text = text[:pos] + (draw(char) if op != "del" else "") + text[cut:]
    return f"{header}.{b64url_encode(text.encode('utf-8'))}.{signature}"


def list_mutations(token: str) -> st.SearchStrategy[str]:
    """Character-level changes of a signed list: of its compact text or of its JSON payload."""
    return st.one_of(char_mutations(token, B64URL + ".="), payload_mutations(token))


def status_content(sl: StatusList) -> dict[str, Any]:
    """A status list's whole content (Bitstring has no __eq__, so compare its encoding)."""
    return sl.to_credential()


def sign_bundle(
    world: World, federation: str, trust_lists: tuple[str, ...], status_lists: tuple[str, ...]
) -> str:
    """A bundle signed by the genuine root around whatever lists it is given."""
    return world.bundle(
        federation=federation, trust_lists=trust_lists, status_lists=status_lists, created_at=CREATED_AT
    )


@dataclass(frozen=True)
class Fed:
    world: World
    federation: str
    trust_lists: tuple[str, ...]
    status_lists: tuple[str, ...]
    status_owner: tuple[str, ...]  # lab name owning status_lists[i]
    trust_country: tuple[str, ...]  # country of trust_lists[i]
    bundle: str
    orig_federation: FederationList
    orig_trust: dict[str, TrustList]  # registry id -> parsed original
    orig_status: dict[tuple[str, str], dict[str, Any]]  # (lab id, url) -> content of the original
    certs: dict[str, str]  # lab name -> genuine certificate

    def sign(self, federation: str, trust_lists: tuple[str, ...], status_lists: tuple[str, ...]) -> str:
        return sign_bundle(self.world, federation, trust_lists, status_lists)

    def load(self, bundle: str | bytes) -> Snapshot:
        return load_bundle(bundle, pinned_roots=[self.world.root.public])

    def country(self, lab: str) -> str:
        return self.world.labs[lab].country


@pytest.fixture(scope="module")
def fed() -> Fed:
    """One World per module, with every list signed once (signing is the slow part)."""
    world = World()
    federation = world.federation()
    countries = tuple(world.reg_keys)
    trust_lists = tuple(world.trust_list(cc) for cc in countries)
    owners, status_lists = [], []
    for lab, spec in world.labs.items():
        for token in world.status_lists(spec):
            owners.append(lab)
            status_lists.append(token)
    orig_trust = {}
    for token in trust_lists:
        tl = TrustList.from_json(parse_compact(token).payload_json())
        orig_trust[tl.registry] = tl
    orig_status = {}
    for token in status_lists:
        sl = StatusList.from_credential(parse_compact(token).payload_json())
        orig_status[(sl.issuer, sl.url)] = status_content(sl)
    return Fed(
        world,
        federation,
        trust_lists,
        tuple(status_lists),
        tuple(owners),
        countries,
        sign_bundle(world, federation, trust_lists, tuple(status_lists)),
        FederationList.from_json(parse_compact(federation).payload_json()),
        orig_trust,
        orig_status,
        {lab: world.issue(lab) for lab in world.labs},
    )


def test_baseline_the_genuine_bundle_loads_and_accepts(fed: Fed) -> None:
    """Without this the 'never accepted' properties below could pass vacuously."""
    snap = fed.load(fed.bundle)
    assert snap.federation == fed.orig_federation
    assert snap.trust_lists == fed.orig_trust
    assert {u: status_content(s) for u, s in snap.status_lists.items()} == fed.orig_status
    assert not snap.skipped
    for lab, cert in fed.certs.items():
        assert Verifier(snap, country=fed.country(lab)).verify(cert, at=NOW).accepted, lab
    for lab in ("cn-food", "cn-metals"):  # the pairs test (c) tampers with
        for country in ("CN", "KZ", "RU"):
            assert Verifier(snap, country=country).verify(fed.certs[lab], at=NOW).accepted, (lab, country)


def assert_only_original_data(fed: Fed, snap: Snapshot) -> None:
    """Everything in the snapshot equals an original list; lists may only be missing."""
    assert snap.federation == fed.orig_federation
    for registry, tl in snap.trust_lists.items():
        assert tl == fed.orig_trust.get(registry), registry
    for key, sl in snap.status_lists.items():
        assert status_content(sl) == fed.orig_status.get(key), key
    for lab_id, entry in snap.labs.items():
        assert entry.trust_list == fed.orig_trust.get(entry.member.id), lab_id
        assert entry.lab in entry.trust_list.labs


# ------------------------------------------------------------ (a) the whole bundle text


@given(st.data())
@fast(250)
def test_mutated_bundle_bytes_never_load(fed: Fed, data: st.DataObject) -> None:
    """Every byte of a version 2 bundle is covered by the root's signature (the manifest) or
    by the body digest it signs: any change at all is refused."""
    original = fed.bundle
    manifest_end = original.index(b"\n", len(b"YILU-BUNDLE/2\n"))
    where = data.draw(st.sampled_from(("magic", "manifest", "body")), label="where")
    low, high = {
        "magic": (0, 14),
        "manifest": (14, manifest_end + 1),
        "body": (manifest_end + 1, len(original)),
    }[where]
    pos = data.draw(st.integers(low, high - 1), label="position")
    op = data.draw(st.sampled_from(("flip", "delete", "insert", "truncate", "append")), label="op")
    byte = data.draw(st.integers(0, 255), label="byte")
    if op == "flip":
        mutated = original[:pos] + bytes([original[pos] ^ (byte or 1)]) + original[pos + 1 :]
    elif op == "delete":
        mutated = original[:pos] + original[pos + 1 :]
    elif op == "insert":
        mutated = original[:pos] + bytes([byte]) + original[pos:]
    elif op == "truncate":
        mutated = original[:pos]
    else:
        mutated = original + bytes([byte])
    try:
        fed.load(mutated)
    except YiluError as exc:
        event(f"refused: {type(exc).__name__}")
        return
    raise AssertionError(f"a bundle changed at byte {pos} ({op}) loaded")


# ------------------------------------------------------------ (b) one inner list changed


@st.composite
def one_list_mutated(
    draw: st.DrawFn, fed: Fed
) -> tuple[str, int, bool, tuple[str, tuple[str, ...], tuple[str, ...]]]:
    """(kind, index, changed?, bundle parts) with one inner token mutated."""
    kind = draw(st.sampled_from(("federation", "trust", "status", "status")))
    federation, trust, status = fed.federation, list(fed.trust_lists), list(fed.status_lists)
    if kind == "federation":
        index, original = 0, federation
    elif kind == "trust":
        index = draw(st.integers(0, len(trust) - 1))
        original = trust[index]
    else:
        index = draw(st.integers(0, len(status) - 1))
        original = status[index]
    mutated = draw(list_mutations(original), label=f"{kind} #{index}")
    if kind == "federation":
        federation = mutated
    elif kind == "trust":
        trust[index] = mutated
    else:
        status[index] = mutated
    return kind, index, mutated != original, (federation, tuple(trust), tuple(status))


def affected_labs(fed: Fed, kind: str, index: int) -> set[str]:
    """Labs whose trust data the mutation touched (all of them for the federation list)."""
    if kind == "federation":
        return set(fed.world.labs)
    if kind == "trust":
        cc = fed.trust_country[index]
        return {lab for lab in fed.world.labs if fed.country(lab) == cc}
    return {fed.status_owner[index]}


@given(st.data())
@fast(300)
def test_one_mutated_inner_list_never_loads_changed(fed: Fed, data: st.DataObject) -> None:
    kind, index, changed, parts = data.draw(one_list_mutated(fed))
    bundle = fed.sign(*parts)
    try:
        snap = fed.load(bundle)
    except YiluError as exc:
        event(f"refused: {type(exc).__name__}")
        return
    event(f"loaded, {len(snap.skipped)} list(s) skipped")
    assert_only_original_data(fed, snap)
    touched = affected_labs(fed, kind, index) if changed else set()
    for lab, cert in fed.certs.items():
        result = Verifier(snap, country=fed.country(lab)).verify(cert, at=NOW)  # never raises
        assert result.reasons
        if lab not in touched:
            assert result.accepted, (lab, result.codes)


# ------------------------------------------------------------ (c) the CN lab's status list


@given(
    st.sampled_from(("cn-food", "cn-metals")),
    st.sampled_from(("mutate", "drop")),
    st.sampled_from(("CN", "KZ", "RU")),
    st.data(),
)
@fast(250)
def test_cn_certificate_never_accepted_without_its_genuine_status_list(
    fed: Fed, lab: str, action: str, country: str, data: st.DataObject
) -> None:
    """The lab's one status list (revocation and suspension) is mutated or dropped."""
    own = [i for i, owner in enumerate(fed.status_owner) if owner == lab]
    assert len(own) == 1
    status: list[str | None] = list(fed.status_lists)
    for i in own:
        if action == "drop":
            status[i] = None
        else:
            status[i] = data.draw(list_mutations(fed.status_lists[i]), label=f"status #{i}")
    if all(status[i] == fed.status_lists[i] for i in own):
        return  # the mutations happened to restore the originals: nothing was tampered with
    bundle = fed.sign(fed.federation, fed.trust_lists, tuple(t for t in status if t is not None))
    try:
        snap = fed.load(bundle)
    except YiluError as exc:
        event(f"refused: {type(exc).__name__}")
        return
    event(f"loaded, {len(snap.skipped)} list(s) skipped")
    assert_only_original_data(fed, snap)
    result = Verifier(snap, country=country).verify(fed.certs[lab], at=NOW)  # never raises
    assert result.codes == (R.STATUS_UNAVAILABLE,), (lab, action, country, result.to_json())
