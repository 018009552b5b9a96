"""The version 2 bundle container and its deltas, byte by byte (docs/formats.md, "Bundle").

The verifier's loader (signatures, binding, rollback) is tested with the verifier; here the
container itself: what is signed, what is bounded, and that a delta rebuilds exactly the
snapshot its manifest names, or nothing.
"""

from __future__ import annotations

import copy
import hashlib
import json
import zlib
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from propkit import fast
from protocol.bundle import (
    MAGIC,
    MAX_BUNDLE_BYTES,
    TYP_BUNDLE,
    Bundle,
    Manifest,
    _compress,
    _varint,
    apply_delta,
    decode_records,
    diff_payload,
    encode_records,
    make_delta,
    open_body,
    read_full,
    split_container,
)
from protocol.encoding import b64url_encode, dumps_compact
from protocol.errors import InputTooLargeError, MalformedInputError
from protocol.jws import parse_compact, sign_compact, verify_raw
from protocol.keys import SigningKey

CREATED = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
ROOT = SigningKey.generate()
LAB = SigningKey.generate()


def token(payload: dict[str, Any], typ: str = "vc+jwt") -> str:
    return sign_compact(dumps_compact(payload), LAB, kid=LAB.public.kid, typ=typ)


def trust_list(registry: str, labs: int, *, changed: int = -1) -> str:
    return token(
        {
            "type": "TrustList",
            "registry": registry,
            "labs": [
                {
                    "id": f"https://lab{i}.example",
                    "names": {"en": f"Lab {i}" + (" (new)" if i == changed else "")},
                }
                for i in range(labs)
            ],
        },
        "yilu-trust-list+jwt",
    )


def status(lab: int, when: str = "2026-11-01T00:00:00Z") -> str:
    return token(
        {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "id": f"https://lab{lab}.example/status",
            "type": ["VerifiableCredential", "BitstringStatusListCredential"],
            "issuer": f"https://lab{lab}.example",
            "validFrom": when,
            "credentialSubject": {
                "type": "BitstringStatusList",
                "encodedList": "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQ",
            },
        }
    )


def snapshot(sequence: int = 7, **changes: Any) -> Bundle:
    base = Bundle(
        federation="https://federation.example",
        sequence=sequence,
        created_at=CREATED,
        root_keys=(dict(ROOT.public.jwk),),
        federation_list=token({"type": "FederationList"}, "yilu-federation-list+jwt"),
        trust_lists=(trust_list("https://a.example", 200), trust_list("https://b.example", 50)),
        status_lists=tuple(status(i) for i in range(30)),
    )
    return Bundle(**{**{f: getattr(base, f) for f in base.__dataclass_fields__}, **changes})


def open_signed(data: bytes) -> tuple[Manifest, bytes]:
    text, body = split_container(data)
    parsed = parse_compact(text, expected_typ=TYP_BUNDLE)
    assert verify_raw(parsed, ROOT.public)
    return Manifest.from_json(parsed.payload_json()), body


# -- the full container -------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["xz", "zlib"])
def test_full_bundle_round_trips_exactly(encoding: Any) -> None:
    bundle = snapshot()
    data = bundle.sign(ROOT, ROOT.public.kid, encoding=encoding)
    assert data.startswith(MAGIC)
    manifest, body = open_signed(data)
    assert manifest.sequence == 7 and manifest.base is None and manifest.encoding == encoding
    assert manifest.parts == 1 + 2 + 30 and manifest.state == bundle.state()
    assert read_full(manifest, open_body(manifest, body)) == bundle


def test_manifest_names_every_member() -> None:
    manifest, _ = open_signed(snapshot().sign(ROOT, ROOT.public.kid))
    data = manifest.to_json()
    assert list(data) == [
        "type",
        "version",
        "federation",
        "sequence",
        "createdAt",
        "rootKeys",
        "rootVersion",
        "rootChain",
        "parts",
        "state",
        "body",
    ]
    assert data["type"] == "YiluBundle" and data["version"] == 3
    assert data["rootVersion"] == 1 and data["rootChain"] == hashlib.sha256(b"").hexdigest()
    assert list(data["body"]) == ["encoding", "bytes", "sha256", "rawBytes"]
    assert all("d" not in k for k in data["rootKeys"])
    assert MAX_BUNDLE_BYTES == 512 * 1024 * 1024  # docs/formats.md, "Bundle"


@pytest.mark.parametrize("encoding", ["xz", "zlib"])
def test_parts_are_stored_decoded_so_they_compress(encoding: Any) -> None:
    """Decoded parts are a quarter smaller than their base64url text, and still smaller
    compressed, with the bundle's own compressor (whichever the manifest names): compared
    like with like, not against how well another compressor does."""
    bundle = snapshot(status_lists=tuple(status(i) for i in range(400)))
    text = "\n".join(t for _, t in bundle.parts()).encode()
    records = encode_records(bundle)
    assert len(records) < 0.8 * len(text)
    assert len(_compress(records, encoding)) < len(_compress(text, encoding))
    manifest, body = open_signed(bundle.sign(ROOT, ROOT.public.kid, encoding=encoding))
    assert manifest.encoding == encoding and len(body) == len(_compress(records, encoding))


def test_text_that_is_not_a_compact_jws_is_kept_exactly() -> None:
    odd = ("not a jws", "a.b.c", "eyJ9.e30=.AAAA", "łódź.ü.x")
    bundle = snapshot(status_lists=odd)
    manifest, body = open_signed(bundle.sign(ROOT, ROOT.public.kid))
    assert read_full(manifest, open_body(manifest, body)).status_lists == odd


def test_records_round_trip_without_a_manifest() -> None:
    bundle = snapshot()
    assert decode_records(bundle, encode_records(bundle)) == bundle


def valid_manifest() -> dict[str, Any]:
    manifest, _ = open_signed(snapshot().sign(ROOT, ROOT.public.kid))
    return manifest.to_json()


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("type",), "TrustList"),
        (("version",), 2),
        (("version",), "3"),
        (("version",), True),
        (("federation",), None),
        (("sequence",), -1),
        (("sequence",), 7.0),
        (("sequence",), True),
        (("sequence",), "7"),
        (("createdAt",), "now"),
        (("createdAt",), "9999-12-31T23:59:59-01:00"),
        (("rootKeys",), {"kty": "OKP"}),
        (("rootKeys",), ["not a jwk"]),
        (("rootVersion",), 0),
        (("rootVersion",), "1"),
        (("rootVersion",), None),
        (("rootChain",), "00"),
        (("rootChain",), None),
        (("parts",), -1),
        (("parts",), None),
        (("state",), "ABC"),
        (("state",), None),
        (("body",), None),
        (("body", "encoding"), "gzip"),
        (("body", "encoding"), None),
        (("body", "sha256"), "00"),
        (("body", "bytes"), -5),
        (("body", "rawBytes"), "many"),
        (("base",), {"sequence": 1}),
        (("base",), {"sequence": -1, "state": "0" * 64}),
        (("base",), "previous"),
    ],
)
def test_manifest_rejects_wrong_members(path: tuple[str, ...], value: Any) -> None:
    data = copy.deepcopy(valid_manifest())
    target = data
    for name in path[:-1]:
        target = target[name]
    target[path[-1]] = value
    with pytest.raises(MalformedInputError):
        Manifest.from_json(data)


@pytest.mark.parametrize(
    "member",
    [
        "type",
        "version",
        "federation",
        "sequence",
        "createdAt",
        "rootKeys",
        "rootVersion",
        "rootChain",
        "parts",
        "state",
        "body",
    ],
)
def test_manifest_rejects_missing_members(member: str) -> None:
    data = valid_manifest()
    del data[member]
    with pytest.raises(MalformedInputError):
        Manifest.from_json(data)


def test_container_without_magic_or_manifest_line_is_malformed() -> None:
    with pytest.raises(MalformedInputError):
        split_container(b"eyJhbGciOiJFZERTQSJ9.e30.AAAA")
    with pytest.raises(MalformedInputError, match="manifest line"):
        split_container(MAGIC + b"x" * (70 * 1024))
    with pytest.raises(MalformedInputError, match="ASCII"):
        split_container(MAGIC + "ü".encode() + b"\n")


def test_body_must_match_its_signed_digest_and_size() -> None:
    manifest, body = open_signed(snapshot().sign(ROOT, ROOT.public.kid))
    with pytest.raises(MalformedInputError, match="signed digest"):
        open_body(manifest, body[:-1] + bytes([body[-1] ^ 1]))
    with pytest.raises(MalformedInputError, match="signed digest"):
        open_body(manifest, body + b"\0")


def body_manifest(
    raw: bytes, encoding: str = "zlib", *, claimed_raw: int | None = None, **more: Any
) -> tuple[Manifest, bytes]:
    body = zlib.compress(raw) if encoding == "zlib" else raw
    data = valid_manifest()
    data["body"] = {
        "encoding": encoding,
        "bytes": len(body),
        "sha256": hashlib.sha256(body).hexdigest(),
        "rawBytes": len(raw) if claimed_raw is None else claimed_raw,
    }
    data.update(more)
    return Manifest.from_json(data), body


def test_inflation_is_bounded_by_the_signed_raw_size() -> None:
    bomb = b"\0" * 10_000_000
    manifest, body = body_manifest(bomb, claimed_raw=1000)
    assert len(body) < 20_000
    with pytest.raises(MalformedInputError, match="stated size"):
        open_body(manifest, body)
    manifest, body = body_manifest(b"x" * 10, claimed_raw=3 * 1024**3)
    with pytest.raises(InputTooLargeError):
        open_body(manifest, body)


def test_body_that_does_not_inflate_is_malformed() -> None:
    manifest, body = body_manifest(b"", "xz")
    manifest2 = Manifest(**{**{f: getattr(manifest, f) for f in manifest.__dataclass_fields__}})
    with pytest.raises(MalformedInputError, match="inflate"):
        open_body(manifest2, body)


@pytest.mark.parametrize(
    "raw",
    [
        b"Q",  # unknown record kind
        b"F\x05abc",  # field longer than the body
        b"F" + b"\xff" * 10,  # varint too long
        b"S\x00\x00",  # ends inside a record
    ],
)
def test_malformed_records_are_refused(raw: bytes) -> None:
    manifest, body = body_manifest(raw)
    with pytest.raises(MalformedInputError):
        read_full(manifest, open_body(manifest, body))


def test_parts_must_match_the_signed_state_and_count() -> None:
    bundle = snapshot()
    raw = encode_records(bundle)
    manifest, body = body_manifest(raw)
    assert read_full(manifest, open_body(manifest, body)) == bundle
    # One status list fewer: the state the root signed is not what the body holds.
    fewer = encode_records(snapshot(status_lists=bundle.status_lists[:-1]))
    manifest, body = body_manifest(fewer)
    with pytest.raises(MalformedInputError, match="state"):
        read_full(manifest, open_body(manifest, body))
    manifest, body = body_manifest(raw, parts=5)
    with pytest.raises(MalformedInputError, match="state"):
        read_full(manifest, open_body(manifest, body))


def test_state_ignores_order_but_not_roles() -> None:
    bundle = snapshot()
    shuffled = snapshot(status_lists=tuple(reversed(bundle.status_lists)))
    assert shuffled.state() == bundle.state()
    moved = snapshot(
        trust_lists=bundle.trust_lists + bundle.status_lists[:1], status_lists=bundle.status_lists[1:]
    )
    assert moved.state() != bundle.state()


def test_a_bundle_holds_exactly_one_federation_list() -> None:
    raw = encode_records(snapshot()) + b"F" + b"".join(_varint(len(x)) + x for x in (b"{}", b"{}", b"s"))
    with pytest.raises(MalformedInputError, match="exactly one federation list"):
        decode_records(snapshot(), raw)


# -- deltas -------------------------------------------------------------------------------------


def day_later(old: Bundle) -> Bundle:
    """One lab re-listed in a 200-lab trust list, 3 new status lists, one gone, one lab added."""
    status = list(old.status_lists)
    status[3] = globals()["status"](3, "2026-11-02T00:00:00Z")
    status[4] = globals()["status"](4, "2026-11-02T00:00:00Z")
    del status[5]
    status.append(globals()["status"](99))
    return snapshot(
        sequence=old.sequence + 1,
        trust_lists=(trust_list("https://a.example", 201, changed=17), old.trust_lists[1]),
        status_lists=tuple(status),
    )


def test_delta_rebuilds_exactly_the_new_snapshot_and_is_small() -> None:
    old = snapshot()
    new = day_later(old)
    delta = make_delta(old, new, ROOT, ROOT.public.kid)
    full = new.sign(ROOT, ROOT.public.kid)
    manifest, body = open_signed(delta)
    assert manifest.base is not None and manifest.base.sequence == 7 and manifest.base.state == old.state()
    assert manifest.sequence == 8 and manifest.state == new.state()
    rebuilt = apply_delta(manifest, open_body(manifest, body), old)
    assert rebuilt.state() == new.state()
    assert sorted(rebuilt.parts()) == sorted(new.parts())
    assert len(delta) < len(full) / 2


def test_delta_of_identical_snapshots_holds_no_parts() -> None:
    old = snapshot()
    same = snapshot(sequence=8)
    manifest, body = open_signed(make_delta(old, same, ROOT, ROOT.public.kid))
    assert manifest.raw_bytes == 0
    assert apply_delta(manifest, open_body(manifest, body), old).state() == old.state()


def test_payload_diff_copies_unchanged_entries() -> None:
    old = json.dumps({"labs": [{"id": i, "name": "x" * 40} for i in range(100)]}).encode()
    new = old.replace(b'{"id": 50, "name"', b'{"id": 50, "nom"')
    ops = diff_payload(old, new)
    inserted = sum(len(a) for op, a, _ in ops if op == 1)
    assert inserted < 200
    assert len(ops) <= 4


def test_delta_for_another_base_is_refused() -> None:
    old = snapshot()
    new = day_later(old)
    manifest, body = open_signed(make_delta(old, new, ROOT, ROOT.public.kid))
    other = snapshot(status_lists=old.status_lists[:-1])
    with pytest.raises(MalformedInputError, match="applies to bundle sequence 7"):
        apply_delta(manifest, open_body(manifest, body), other)
    with pytest.raises(MalformedInputError, match="full bundle, not a delta"):
        apply_delta(*open_signed(new.sign(ROOT, ROOT.public.kid)), old)
    with pytest.raises(MalformedInputError, match="delta bundle"):
        read_full(manifest, open_body(manifest, body))


def delta_manifest(old: Bundle, new: Bundle, raw: bytes) -> tuple[Manifest, bytes]:
    return body_manifest(
        raw,
        sequence=new.sequence,
        state=new.state(),
        parts=sum(1 for _ in new.parts()),
        base={"sequence": old.sequence, "state": old.state()},
    )


def test_delta_naming_a_part_the_base_lacks_is_refused() -> None:
    old = snapshot()
    raw = b"XS" + hashlib.sha256(b"no such part").digest()
    manifest, body = delta_manifest(old, old, raw)
    with pytest.raises(MalformedInputError, match="does not hold"):
        apply_delta(manifest, open_body(manifest, body), old)


def test_delta_copying_beyond_its_base_part_is_refused() -> None:
    old = snapshot()
    target = old.trust_lists[1]
    header = b'{"alg":"EdDSA"}'
    ops = _varint(1) + b"\x00" + _varint(0) + _varint(10**7)
    raw = b"DT" + hashlib.sha256(target.encode()).digest() + _varint(len(header)) + header + b"\x00" + ops
    manifest, body = delta_manifest(old, old, raw)
    with pytest.raises(MalformedInputError, match="beyond the end"):
        apply_delta(manifest, open_body(manifest, body), old)


def test_delta_whose_result_is_not_the_signed_state_is_refused() -> None:
    old = snapshot()
    new = day_later(old)
    delta = make_delta(old, new, ROOT, ROOT.public.kid)
    manifest, body = open_signed(delta)
    raw = open_body(manifest, body)
    # Drop the last record's effect by claiming the state of another snapshot.
    wrong, body2 = delta_manifest(old, snapshot(sequence=8), raw)
    with pytest.raises(MalformedInputError, match="state"):
        apply_delta(wrong, open_body(wrong, body2), old)


def test_delta_across_federations_is_refused() -> None:
    with pytest.raises(MalformedInputError, match="federations"):
        make_delta(snapshot(), snapshot(federation="https://other.example"), ROOT, ROOT.public.kid)


def test_signing_input_of_a_part_survives_the_container() -> None:
    part = status(1)
    bundle = snapshot(status_lists=(part,))
    manifest, body = open_signed(bundle.sign(ROOT, ROOT.public.kid))
    again = read_full(manifest, open_body(manifest, body)).status_lists[0]
    assert again == part
    assert verify_raw(parse_compact(again), LAB.public)
    assert b64url_encode(b"x")  # the encoder the container uses is the JWS one


# -- deltas, as properties ----------------------------------------------------------------------

POOL_TRUST = tuple(trust_list(f"https://r{i}.example", 20 + i, changed=i) for i in range(4))
POOL_STATUS = tuple(status(i % 6, f"2026-11-0{1 + i // 6}T00:00:00Z") for i in range(18))
ODD = ("not a jws", "a.b.c")


@st.composite
def snapshots(draw: st.DrawFn) -> tuple[Bundle, Bundle]:
    """Two snapshots drawn from one pool of parts (shared, changed, added, removed, repeated)."""

    def one(sequence: int) -> Bundle:
        trust = draw(st.lists(st.sampled_from(POOL_TRUST), max_size=4))
        status_lists = draw(st.lists(st.sampled_from(POOL_STATUS + ODD), max_size=10))
        return snapshot(sequence=sequence, trust_lists=tuple(trust), status_lists=tuple(status_lists))

    return one(7), one(8)


@given(snapshots())
@fast(60)
def test_any_delta_rebuilds_exactly_its_target(pair: tuple[Bundle, Bundle]) -> None:
    old, new = pair
    manifest, body = open_signed(make_delta(old, new, ROOT, ROOT.public.kid, encoding="zlib"))
    rebuilt = apply_delta(manifest, open_body(manifest, body), old)
    assert rebuilt.state() == new.state()
    assert sorted(rebuilt.parts()) == sorted(new.parts())


@given(snapshots(), st.data())
@fast(60)
def test_a_changed_delta_body_never_applies_to_something_else(pair: tuple[Bundle, Bundle], data: Any) -> None:
    """Re-signed by the root, a delta whose body was altered either fails or still leads to
    exactly the state its manifest names (which the root signed)."""
    old, new = pair
    manifest, body = open_signed(make_delta(old, new, ROOT, ROOT.public.kid, encoding="zlib"))
    raw = bytearray(open_body(manifest, body))
    if not raw:
        return
    pos = data.draw(st.integers(0, len(raw) - 1))
    raw[pos] ^= data.draw(st.integers(1, 255))
    forged, forged_body = body_manifest(
        bytes(raw),
        sequence=8,
        state=new.state(),
        parts=sum(1 for _ in new.parts()),
        base={"sequence": 7, "state": old.state()},
    )
    try:
        rebuilt = apply_delta(forged, open_body(forged, forged_body), old)
    except MalformedInputError:
        return
    assert rebuilt.state() == new.state()


def test_copies_cannot_rebuild_more_than_the_body_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    """A few bytes of COPY operations could ask for gigabytes: the total rebuilt is bounded."""
    import protocol.bundle as bundle_module

    old = snapshot()
    target = old.trust_lists[0]
    payload_len = len(parse_compact(target).payload_bytes)
    header = b'{"alg":"EdDSA"}'
    copies = 50
    ops = _varint(copies) + (b"\x00" + _varint(0) + _varint(payload_len)) * copies
    raw = b"DT" + hashlib.sha256(target.encode()).digest() + _varint(len(header)) + header + b"\x00" + ops
    monkeypatch.setattr(bundle_module, "MAX_BODY_BYTES", payload_len * 10)
    manifest, body = delta_manifest(old, old, raw)
    assert len(raw) < 400
    with pytest.raises(InputTooLargeError, match="in all"):
        apply_delta(manifest, open_body(manifest, body), old)
