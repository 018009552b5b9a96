"""Property tests (hypothesis) for the bundle codec (protocol/bundle.py): records, deltas,
the manifest and the container (docs/formats.md, "Bundle").

Round trips for any parts (canonical compact JWSs of any bytes, and any other text, which
the container must keep exactly); a delta from any snapshot A to any snapshot B rebuilds
exactly B from A; and a changed file, manifest or body is refused with Yilu's own errors.
tests/protocol/test_bundle_format.py pins the format byte by byte with hand-made cases and
tests/verifier/test_bundle_properties.py the loader. Derandomized: same examples on every run.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import event, example, given
from hypothesis import strategies as st

from propkit import change_a_member, fast, json_values, parsed_or_refused
from protocol.bundle import (
    BaseRef,
    Bundle,
    Manifest,
    _apply_ops,
    _encode_ops,
    _Reader,
    apply_delta,
    decode_records,
    diff_payload,
    encode_records,
    make_delta,
    open_body,
    open_container,
    read_full,
    read_unchecked,
)
from protocol.encoding import dumps_compact
from protocol.errors import InputTooLargeError, MalformedInputError, TrustDataError
from protocol.jws import assemble_compact
from protocol.keys import SigningKey
from verifier._snapshot import open_manifest

ROOT = SigningKey.generate()
CREATED = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
FEDERATION = "https://federation.example"
SIGNATURES = st.binary(min_size=64, max_size=64)

# ------------------------------------------------------------------ parts


def header(typ: str, kid: str) -> bytes:
    return dumps_compact({"alg": "EdDSA", "kid": kid, "typ": typ})


#: Lab entries from a small pool, so that two versions of a list share most of them (what
#: a delta copies instead of sending).
LAB_ENTRIES = st.lists(
    st.tuples(st.integers(0, 30), st.sampled_from(("Lab", "Labor", "实验室", "Лаборатория"))), max_size=12
)


def trust_part(registry: int, labs: list[tuple[int, str]], signature: bytes) -> str:
    payload = {
        "type": "TrustList",
        "registry": f"https://r{registry}.example",
        "labs": [{"id": f"https://lab{i}.example", "names": {"en": f"{name} {i}"}} for i, name in labs],
    }
    return assemble_compact(header("yilu-trust-list+jwt", f"r{registry}"), dumps_compact(payload), signature)


@st.composite
def trust_parts(draw: st.DrawFn) -> str:
    """A trust list of one of four registries (its identity in a delta), any content."""
    return trust_part(draw(st.integers(0, 3)), draw(LAB_ENTRIES), draw(SIGNATURES))


@st.composite
def trust_versions(draw: st.DrawFn) -> list[str]:
    """Two versions of one registry's trust list, the second with one lab added, dropped or
    renamed: what a delta sends as copy/insert operations (a ``D`` record)."""
    registry, labs = draw(st.integers(0, 3)), draw(LAB_ENTRIES.filter(len))
    edited = list(labs)
    at = draw(st.integers(0, len(labs) - 1))
    change = draw(st.sampled_from(("add", "drop", "rename")))
    if change == "add":
        edited.insert(at, (99, "New lab"))
    elif change == "drop":
        del edited[at]
    else:
        edited[at] = (edited[at][0], "Renamed")
    return [trust_part(registry, labs, draw(SIGNATURES)), trust_part(registry, edited, draw(SIGNATURES))]


@st.composite
def status_parts(draw: st.DrawFn) -> str:
    """A status list of one of five labs (its identity: issuer and URL), any bits."""
    lab = f"https://lab{draw(st.integers(0, 4))}.example"
    payload = {
        "id": f"{lab}/status",
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": lab,
        "validFrom": f"2026-11-0{draw(st.integers(1, 3))}T00:00:00Z",
        "credentialSubject": {"encodedList": "u" + draw(st.text("ABCDEFGH-_", max_size=30))},
    }
    return assemble_compact(header("vc+jwt", lab), dumps_compact(payload), draw(SIGNATURES))


#: Text that is no canonical compact JWS: kept as given (an ``f``/``t``/``s`` record).
ODD_PARTS = st.one_of(
    st.sampled_from(("", "..", "a.b.c", "eyJ9.e30=.AAAA", "a.b.c.d", "łódź.ü.x", "\ud800", "e30.\udfff.AA")),
    st.text(max_size=24),
    st.binary(max_size=20).map(lambda b: b.decode("latin-1")),
)
#: Compact JWSs of any bytes (not JSON at all, or empty).
RAW_JWS = st.tuples(st.binary(max_size=30), st.binary(max_size=40), st.binary(max_size=70)).map(
    lambda p: assemble_compact(*p)
)
ANY_PART = st.one_of(trust_parts(), status_parts(), ODD_PARTS, RAW_JWS)


def federation_list(version: int) -> str:
    payload = dumps_compact({"type": "FederationList", "federation": FEDERATION, "sequence": version})
    return assemble_compact(header("yilu-federation-list+jwt", "root"), payload, bytes(64))


@st.composite
def snapshots(draw: st.DrawFn, sequence: int = 7) -> Bundle:
    federation = draw(st.sampled_from((federation_list(1), federation_list(2))) | ANY_PART)
    trust = draw(st.lists(trust_parts() | ODD_PARTS | RAW_JWS, max_size=5))
    status = draw(st.lists(status_parts() | ODD_PARTS | RAW_JWS, max_size=8))
    roots = (dict(ROOT.public.jwk),)
    return Bundle(FEDERATION, sequence, CREATED, roots, federation, tuple(trust), tuple(status))


@st.composite
def snapshot_pairs(draw: st.DrawFn) -> tuple[Bundle, Bundle]:
    """A and B drawn from one pool of parts: shared, changed (same identity, new content),
    added, removed and repeated parts, as a day's changes to a federation."""
    pool = draw(st.lists(ANY_PART, min_size=1, max_size=10), label="pool")
    versions = draw(st.lists(trust_versions(), max_size=2), label="versions")
    some = st.lists(st.sampled_from(pool), max_size=8)
    federation = [federation_list(1), federation_list(2)]

    def one(sequence: int) -> Bundle:
        edited = tuple(pair[sequence - 7] for pair in versions)  # A holds the first, B the second
        return Bundle(
            FEDERATION,
            sequence,
            CREATED,
            (dict(ROOT.public.jwk),),
            draw(st.sampled_from(federation)),
            tuple(draw(some)) + edited,
            tuple(draw(some)),
        )

    return one(7), one(8)


def record_kinds(raw: bytes) -> None:
    """Events saying which records a body holds (read with the codec's own reader)."""
    kinds = set()
    reader = _Reader(raw)
    while not reader.done():
        kind = chr(reader.byte())
        kinds.add(kind)
        if kind in "DX":
            reader.take(33)  # role and base part digest
            if kind == "D":
                reader.field(), reader.field()
                _apply_ops(reader, bytes(1 << 20))
        else:
            for _ in range(1 if kind.islower() else 3):
                reader.field()
    for kind in sorted(kinds):
        event(f"record {kind}")


# ------------------------------------------------------------------ records


@given(snapshots())
@example(Bundle(FEDERATION, 0, CREATED, (), "", (), ()))
@example(Bundle(FEDERATION, 1, CREATED, (), "\ud800", ("..",), ("e30.\udfff.AA", "a.b.c.d")))
@fast(80)
def test_records_round_trip_any_parts(bundle: Bundle) -> None:
    raw = encode_records(bundle)
    record_kinds(raw)
    assert decode_records(bundle, raw) == bundle


@given(snapshots(), st.sampled_from(("zlib", "zlib", "xz")))
@fast(20)
def test_a_signed_bundle_reads_back_exactly(bundle: Bundle, encoding: Any) -> None:
    data = bundle.sign(ROOT, ROOT.public.kid, encoding=encoding)
    manifest, body, root, _ = open_manifest(data, [ROOT.public])
    assert root.keys == (ROOT.public,)
    assert (manifest.parts, manifest.state, manifest.encoding) == (
        1 + len(bundle.trust_lists) + len(bundle.status_lists),
        bundle.state(),
        encoding,
    )
    assert read_full(manifest, open_body(manifest, body)) == bundle
    assert read_unchecked(data) == bundle


# ------------------------------------------------------------------ deltas


#: Payload-like bytes: entries cut by ``},`` and ``],`` as diff_payload cuts them.
JSONISH = st.lists(
    st.sampled_from((b'{"id":"https://lab1.example","en":"Lab"},', b"],", b"}", b"{", b",", b"x" * 20))
    | st.binary(max_size=24),
    max_size=16,
).map(b"".join)


@given(JSONISH | st.binary(max_size=200), JSONISH | st.binary(max_size=200))
@example(b"", b"")
@example(b"a" * 40 + b"},", b"a" * 40 + b"},a")
@fast(150)
def test_payload_diff_rebuilds_the_new_payload(old: bytes, new: bytes) -> None:
    ops = diff_payload(old, new)
    event("copies" if any(op == 0 for op, *_ in ops) else "inserts only")
    reader = _Reader(_encode_ops(ops))
    assert _apply_ops(reader, old) == new
    assert reader.done()


@given(snapshot_pairs())
@fast(60)
def test_a_delta_from_any_a_to_any_b_rebuilds_exactly_b(pair: tuple[Bundle, Bundle]) -> None:
    old, new = pair
    data = make_delta(old, new, ROOT, ROOT.public.kid, encoding="zlib")
    manifest, body, _, _ = open_manifest(data, [ROOT.public])
    assert manifest.base == BaseRef(old.sequence, old.state())
    raw = open_body(manifest, body)
    record_kinds(raw)
    rebuilt = apply_delta(manifest, raw, old)
    assert rebuilt.state() == new.state() == manifest.state
    assert sorted(rebuilt.parts()) == sorted(new.parts())
    assert (rebuilt.federation, rebuilt.sequence) == (new.federation, new.sequence)
    # Applied to anything else, it is refused (the base it names is another snapshot).
    if new.state() != old.state():
        with pytest.raises(MalformedInputError):
            apply_delta(manifest, raw, new)


# ------------------------------------------------------------------ changed files


def open_and_apply(data: bytes, base: Bundle) -> Bundle:
    """What ``yilu trust install`` does with a bundle file (verifier/store.py, install)."""
    manifest, body, _, _ = open_manifest(data, [ROOT.public])
    raw = open_body(manifest, body)
    return read_full(manifest, raw) if manifest.base is None else apply_delta(manifest, raw, base)


@given(snapshot_pairs(), st.booleans(), st.data())
@fast(80)
def test_any_changed_byte_of_a_bundle_file_is_refused(
    pair: tuple[Bundle, Bundle], delta: bool, data: st.DataObject
) -> None:
    """Full bundle or delta: every byte is the root's signature, what it signs, or the body
    it signs the digest of; any change is a TrustDataError or a MalformedInputError."""
    old, new = pair
    original = (
        make_delta(old, new, ROOT, ROOT.public.kid, encoding="zlib")
        if delta
        else new.sign(ROOT, ROOT.public.kid, encoding="zlib")
    )
    assert open_and_apply(original, old).state() == new.state()
    body_at = original.index(b"\n", len(b"YILU-BUNDLE/3\n")) + 1
    where = data.draw(st.sampled_from(("body", "manifest", "magic")), label="where")
    low, high = {"magic": (0, 14), "manifest": (14, body_at), "body": (body_at, len(original))}[where]
    pos = data.draw(st.integers(low, high - 1), label="position")
    op = data.draw(st.sampled_from(("flip", "delete", "insert", "truncate", "append")), label="op")
    byte = data.draw(st.integers(1, 255), label="byte")
    mutated = {
        "flip": original[:pos] + bytes([original[pos] ^ byte]) + original[pos + 1 :],
        "delete": original[:pos] + original[pos + 1 :],
        "insert": original[:pos] + bytes([byte]) + original[pos:],
        "truncate": original[:pos],
        "append": original + bytes([byte]),
    }[op]
    event(f"{'delta' if delta else 'full'}: {where}")
    with pytest.raises((TrustDataError, MalformedInputError)):
        open_and_apply(mutated, old)


@given(st.binary(max_size=200) | st.binary(max_size=200).map(lambda b: b"YILU-BUNDLE/3\n" + b))
@example(b"YILU-BUNDLE/3\n{\n")
@example(b"YILU-BUNDLE/3\n" + b"{}\n" * 300)
@fast(100)
def test_arbitrary_bytes_open_only_with_yilus_errors(data: bytes) -> None:
    try:
        open_container(data)
    except MalformedInputError:
        event("container refused")
    with pytest.raises(TrustDataError):
        open_manifest(data, [ROOT.public])


def base_manifest(old: Bundle, raw: bytes, *, delta: bool) -> Manifest:
    return Manifest(
        FEDERATION,
        8,
        CREATED,
        (),
        1,
        "0" * 64,
        "zlib",
        0,
        "0" * 64,
        len(raw),
        BaseRef(old.sequence, old.state()) if delta else None,
        root_version=1,
        root_chain=hashlib.sha256(b"").hexdigest(),
    )


#: Bodies that start like records: a kind byte, a role, a digest, varints.
RECORD_LIKE = st.lists(
    st.sampled_from([bytes([c]) for c in b"FTSftsDXQ"] + [b"\x80", b"\xff" * 9, b"\x01", b"\x00"])
    | st.binary(max_size=40),
    max_size=10,
).map(b"".join)


@given(snapshots(), RECORD_LIKE | st.binary(max_size=120), st.data())
@fast(100)
def test_arbitrary_bodies_are_refused_with_yilus_errors(
    base: Bundle, raw: bytes, data: st.DataObject
) -> None:
    """A body the root signed but that is not what its manifest names: a MalformedInputError
    or InputTooLargeError (never IndexError, KeyError or UnicodeDecodeError)."""
    if data.draw(st.booleans(), label="name a base part"):
        # A D or X record naming a part the base really holds, then anything.
        role, text = data.draw(st.sampled_from(list(base.parts())), label="part")
        raw = data.draw(st.sampled_from((b"D", b"X")), label="kind") + role.encode() + part_key(text) + raw
    for delta in (False, True):
        try:
            if delta:
                apply_delta(base_manifest(base, raw, delta=True), raw, base)
            else:
                read_full(base_manifest(base, raw, delta=False), raw)
        except (MalformedInputError, InputTooLargeError) as exc:
            event(f"{'delta' if delta else 'full'} refused: {type(exc).__name__}")
        else:
            raise AssertionError("a body whose state is not the signed one was used")


def part_key(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


# ------------------------------------------------------------------ the manifest


HEX = st.text("0123456789abcdef", min_size=64, max_size=64)
JWK_LIKE = st.dictionaries(st.text(max_size=5), st.text(max_size=9), max_size=3)


@st.composite
def manifests(draw: st.DrawFn) -> Manifest:
    when = draw(st.datetimes(datetime(2000, 1, 1), datetime(2100, 1, 1), timezones=st.just(UTC)))
    count = st.integers(0, 2**53)
    return Manifest(
        draw(st.text(max_size=30)),
        draw(count),
        when.replace(microsecond=0),
        tuple(draw(st.lists(JWK_LIKE, max_size=2))),
        draw(count),
        draw(HEX),
        draw(st.sampled_from(("xz", "zlib"))),
        draw(count),
        draw(HEX),
        draw(count),
        draw(st.none() | st.builds(BaseRef, count, HEX)),
        draw(st.integers(1, 300)),
        draw(HEX),
    )


JSON_VALUES = json_values(HEX)


@given(manifests())
@fast(60)
def test_manifest_json_round_trips(manifest: Manifest) -> None:
    event("delta" if manifest.base else "full")
    assert Manifest.from_json(manifest.to_json()) == manifest


@given(manifests(), st.data())
@fast(100)
def test_a_changed_manifest_member_is_refused_with_yilus_errors(
    manifest: Manifest, data: st.DataObject
) -> None:
    """Any member (or member of ``body`` or ``base``) replaced by any JSON value, or removed:
    a Manifest or a MalformedInputError, never a KeyError or TypeError."""
    obj = manifest.to_json()
    target = obj
    nested = [k for k in ("body", "base") if k in obj]
    if nested and data.draw(st.booleans(), label="nested"):
        target = obj[data.draw(st.sampled_from(nested), label="in")]
    member = change_a_member(data, target, JSON_VALUES)
    parsed_or_refused(lambda: Manifest.from_json(obj), member)
