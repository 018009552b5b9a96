"""Property tests (hypothesis) for the snapshot builder (verifier/_snapshot.py) and the
installed index (verifier/_index.py), over random small federations.

For any federation (labs in each country, EdDSA and ES256 keys, a second key, any revoked
and suspended slots including the first and the last), the snapshot a bundle loads into,
and the index it is installed as, give back every lab, key and status bit that went in;
and a changed byte in the header, payload or signature of any signed part is refused
(docs/verifying.md, "Trust data"): the federation list fails the whole load, another part
is dropped and reported, never used changed. tests/verifier/test_bundle_properties.py
mutates one fixed federation's texts. Derandomized: same examples on every run.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from propkit import fast
from protocol.encoding import b64url_decode
from protocol.errors import TrustDataError
from protocol.jws import assemble_compact
from protocol.keys import SigningKey
from protocol.lists import KeyRecord
from protocol.reasons import ReasonCode as R
from protocol.status_list import MIN_SLOTS, slot_indices
from testkit import NOW, YEAR_AGO, LabSpec, World
from verifier import Snapshot, Verifier, load_bundle
from verifier._snapshot import status_key
from verifier.store import SnapshotStore

#: Lab keys made once (key generation is the slow part); each federation draws from them.
KEY_POOL = tuple(SigningKey.generate("ES256" if i % 3 == 2 else "EdDSA") for i in range(12))
COUNTRIES = ("CN", "RU", "KZ")
SLOTS = st.integers(0, MIN_SLOTS - 1) | st.sampled_from((0, 1, MIN_SLOTS - 1))


@dataclass(frozen=True)
class LabDraw:
    """One lab of a drawn federation (plain data, so that a failing example reads well)."""

    country: str
    key: int  # index into KEY_POOL
    second_key: int | None
    scopes: tuple[str, ...]
    revoked: frozenset[int]
    suspended: frozenset[int]


@st.composite
def federations(draw: st.DrawFn) -> tuple[LabDraw, ...]:
    """0-5 labs over the three countries, each with its own key(s) from the pool."""
    count = draw(st.integers(0, 5), label="labs")
    keys = draw(st.permutations(range(len(KEY_POOL))), label="keys")
    labs = []
    for i in range(count):
        labs.append(
            LabDraw(
                draw(st.sampled_from(COUNTRIES)),
                keys[2 * i],
                keys[2 * i + 1] if draw(st.booleans()) else None,
                ("food", *draw(st.lists(st.sampled_from(("chemicals", "minerals-metals")), unique=True))),
                draw(st.frozensets(SLOTS, max_size=4)),
                draw(st.frozensets(SLOTS, max_size=4)),
            )
        )
    return tuple(labs)


def build(labs: tuple[LabDraw, ...]) -> World:
    """A World (root, three registries, the demo's agreements) holding exactly ``labs``."""
    world = World()
    world.labs.clear()
    for i, lab in enumerate(labs):
        extra = []
        if lab.second_key is not None:
            extra.append(KeyRecord(KEY_POOL[lab.second_key].public, YEAR_AGO))
        world.labs[f"lab{i}"] = LabSpec(
            f"https://lab{i}.example.{lab.country.lower()}",
            lab.country,
            lab.scopes,
            KEY_POOL[lab.key],
            extra_keys=extra,
            revoked=set(lab.revoked),
            suspended=set(lab.suspended),
        )
    return world


def free_slot(lab: LabSpec) -> int:
    """A slot whose certificate is neither revoked nor suspended."""
    return next(s for s in range(4242, MIN_SLOTS) if s not in lab.revoked | lab.suspended)


def verifying_country(lab: LabSpec) -> str:
    """A country whose agreement covers the lab's registry (testkit: KZ and RU accept CN,
    CN accepts RU and KZ)."""
    return "KZ" if lab.country == "CN" else "CN"


def assert_holds_what_went_in(world: World, snap: Snapshot) -> None:
    """Every lab, key and status bit of ``world`` can be looked up in ``snap``, as it was."""
    assert sorted(snap.labs) == sorted(spec.id for spec in world.labs.values())
    assert sorted(snap.trust_lists) == sorted(World.reg_id(cc) for cc in COUNTRIES)
    for spec in world.labs.values():
        entry = snap.labs[spec.id]
        assert entry.member.id == World.reg_id(spec.country)
        assert entry.trust_list.registry == entry.member.id
        assert entry.lab.keys == spec.records()
        assert [s.category for s in entry.lab.scopes] == list(spec.scopes)
        for record in spec.records():
            found = snap.keys_by_kid[record.kid]
            assert [(k.owner.lab.id, k.record) for k in found] == [(spec.id, record)]
        status = snap.status_lists[(spec.id, spec.url)]
        revoked = tuple(sorted(slot_indices(s)[0] for s in spec.revoked))
        suspended = tuple(sorted(slot_indices(s)[1] for s in spec.suspended))
        assert status.revoked_indices() == revoked
        assert status.suspended_indices() == suspended
        assert len(status.bits) == 2 * MIN_SLOTS
        for index in (*revoked, *suspended, 0, 1, len(status.bits) - 1):
            assert status.bits.get(index) is (index in revoked or index in suspended)


# ------------------------------------------------------------------ round trip


@given(federations(), st.data())
@fast(20)
def test_a_snapshot_and_its_index_give_back_every_lab_key_and_status(
    labs: tuple[LabDraw, ...], data: st.DataObject
) -> None:
    event(f"{len(labs)} labs")
    world = build(labs)
    bundle = world.bundle()
    snap = load_bundle(bundle, pinned_roots=[world.root.public])
    assert not snap.skipped
    assert_holds_what_went_in(world, snap)
    for spec in world.labs.values():
        version = snap.versions.status_lists[status_key(spec.id, spec.url)]
        assert version.revoked == tuple(sorted(slot_indices(s)[0] for s in spec.revoked))
    with tempfile.TemporaryDirectory() as tmp:
        store = SnapshotStore(Path(tmp), pinned_roots=[world.root.public])
        store.install(bundle, now=NOW)
        indexed = store.current()
        assert indexed is not None and indexed.index is not None
        assert_holds_what_went_in(world, indexed)
        assert sorted(indexed.keys_by_kid) == sorted(snap.keys_by_kid)
        assert sorted(indexed.status_lists) == sorted(snap.status_lists)
        # One certificate per lab, at a revoked, suspended or free slot: the verdict follows
        # the bit, from the bundle and from the index alike.
        for name, spec in world.labs.items():
            slots = sorted({*spec.revoked, *spec.suspended, free_slot(spec)})
            slot = data.draw(st.sampled_from(slots), label=name)
            cert = world.issue(name, slot=slot)
            expected = (
                *([R.REVOKED] if slot in spec.revoked else []),
                *([R.SUSPENDED] if slot in spec.suspended else []),
            ) or (R.ACCEPTED,)
            event(f"certificate {' '.join(expected)}")
            for source in (snap, indexed):
                result = Verifier(source, country=verifying_country(spec)).verify(cert, at=NOW)
                assert result.codes == expected, (name, slot, result.codes)


# ------------------------------------------------------------------ a changed signed part


def change_one_byte(token: str, piece: int, pos: int, xor: int) -> str:
    """``token`` with one byte of its decoded header (0), payload (1) or signature (2) changed,
    re-encoded canonically, so that it still parses and only its signature can tell."""
    parts = [b64url_decode(p) for p in token.split(".")]
    target = bytearray(parts[piece])
    target[pos % len(target)] ^= xor
    parts[piece] = bytes(target)
    return assemble_compact(*parts)


@given(federations(), st.data())
@fast(30)
def test_a_changed_byte_in_any_signed_part_is_refused_on_load(
    labs: tuple[LabDraw, ...], data: st.DataObject
) -> None:
    world = build(labs)
    federation = world.federation()
    trust = {cc: world.trust_list(cc) for cc in COUNTRIES}
    status = {name: world.status_lists(spec)[0] for name, spec in world.labs.items()}
    kinds = ["federation", "trust"] + (["status", "status"] if status else [])
    kind = data.draw(st.sampled_from(kinds), label="kind")
    piece = data.draw(st.sampled_from((0, 1, 2)), label="piece")
    pos = data.draw(st.integers(0, 10_000), label="position")
    xor = data.draw(st.integers(1, 255), label="xor")
    event(f"{kind} {('header', 'payload', 'signature')[piece]}")

    if kind == "federation":
        federation = change_one_byte(federation, piece, pos, xor)
        with pytest.raises(TrustDataError):
            load_bundle(world.bundle(federation=federation), pinned_roots=[world.root.public])
        return
    changed_labs: set[str] = set()
    if kind == "trust":
        cc = data.draw(st.sampled_from(COUNTRIES), label="country")
        trust[cc] = change_one_byte(trust[cc], piece, pos, xor)
        changed_labs = {name for name, spec in world.labs.items() if spec.country == cc}
    else:
        name = data.draw(st.sampled_from(sorted(status)), label="lab")
        status[name] = change_one_byte(status[name], piece, pos, xor)
    bundle = world.bundle(federation=federation, trust_lists=trust.values(), status_lists=status.values())
    snap = load_bundle(bundle, pinned_roots=[world.root.public])
    assert snap.skipped, "a changed part was used without a word"
    if kind == "trust":
        assert World.reg_id(cc) not in snap.trust_lists
    for lab_name, spec in world.labs.items():
        cert = world.issue(lab_name, slot=free_slot(spec))
        result = Verifier(snap, country=verifying_country(spec)).verify(cert, at=NOW)
        if lab_name in changed_labs:  # its registry's list was dropped: nothing of the lab is used
            assert spec.id not in snap.labs and (spec.id, spec.url) not in snap.status_lists
            assert result.codes == (R.TRUST_DATA_INVALID,)  # its member's list is missing: cannot verify
        elif kind == "status" and lab_name == name:  # its list was dropped: status unknown
            assert (spec.id, spec.url) not in snap.status_lists
            # Named as dropped when its issuer and URL could still be read (not a broken header).
            event("lab's list named as dropped" if (spec.id, spec.url) in snap.dropped_status else "unnamed")
            assert result.codes == (R.STATUS_UNAVAILABLE,)
        else:  # everything else is there, as it went in
            assert snap.labs[spec.id].lab.keys == spec.records()
            status_list = snap.status_lists[(spec.id, spec.url)]
            assert status_list.revoked_indices() == tuple(sorted(slot_indices(s)[0] for s in spec.revoked))
            assert result.accepted, (lab_name, result.codes)
