"""Each decision of the bundle container at its edge (docs/formats.md, "Bundle"; issue 8).

Every limit is tested at the value docs/formats.md documents: exactly at it (accepted) and
one over (refused). Limits too large to reach cheaply (512 MiB, 2 GiB, 256 MiB) are pinned
to their documented value, and their check is shown at its edge with the limit patched small.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import protocol.bundle as bundle_module
from protocol.bundle import (
    MAGIC,
    TYP_BUNDLE,
    Bundle,
    Manifest,
    _varint,
    apply_delta,
    chain_digest,
    diff_payload,
    make_delta,
    open_body,
    open_container,
)
from protocol.encoding import dumps_compact
from protocol.errors import InputTooLargeError, MalformedInputError, TrustDataError
from protocol.jws import parse_compact, sign_compact
from protocol.keys import SigningKey

DOCS = Path(__file__).resolve().parents[2] / "docs" / "formats.md"
KIB, MIB, GIB = 1024, 1024**2, 1024**3
CREATED = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
ROOT = SigningKey.generate()
LAB = SigningKey.generate()


# -- the documented limits ---------------------------------------------------------------------
# First in this file: a mutant that changes a limit fails here before anything else runs.


def test_limits_are_the_documented_ones() -> None:
    """docs/formats.md, "Bundle": the file, manifest, rotation lines, inflated body and a
    rebuilt part each have one documented bound, and the code's constant is that number."""
    assert bundle_module.MAX_BUNDLE_BYTES == 512 * MIB
    assert bundle_module.MAX_BODY_BYTES == 2 * GIB
    assert bundle_module.MAX_MANIFEST_CHARS == 64 * KIB
    assert bundle_module.MAX_ROTATION_CHARS == 16 * KIB
    assert bundle_module.MAX_CHAIN == 256
    assert bundle_module.MAX_PART_BYTES == 256 * MIB
    doc = DOCS.read_text(encoding="utf-8")
    assert "`MAX_BUNDLE_BYTES` = 512 MiB" in doc
    assert "at most 2 GiB (`MAX_BODY_BYTES`)" in doc
    assert "at most 64 KiB (`MAX_MANIFEST_CHARS`)" in doc
    assert "at most 256 MiB (`MAX_PART_BYTES`)" in doc
    assert re.search(r"each line starts with `\{` \(`7b`\), at most 16 KiB, .*; at most 256 lines", doc)


def test_delta_operations_are_the_documented_bytes() -> None:
    """docs/formats.md, "Records": ``00`` is COPY, ``01`` INSERT; chunks of 16 bytes or more
    are copied, shorter ones inserted."""
    chunk16 = b"A" * 14 + b"],"
    assert diff_payload(chunk16 + b"x", chunk16 + b"zz") == [(0, 0, 16), (1, b"zz", None)]
    chunk15 = b"A" * 13 + b"],"
    assert diff_payload(chunk15 + b"x", chunk15 + b"zz") == [(1, chunk15 + b"zz", None)]


# -- helpers -------------------------------------------------------------------------------------


def token(payload: dict[str, Any], typ: str = "vc+jwt") -> str:
    return sign_compact(dumps_compact(payload), LAB, kid=LAB.public.kid, typ=typ)


def trust(registry: str, labs: int, changed: int = -1) -> str:
    entries = [
        {"id": f"https://lab{i}.example", "n": "x" * 30 + ("!" if i == changed else "")} for i in range(labs)
    ]
    return token({"type": "TrustList", "registry": registry, "labs": entries}, "yilu-trust-list+jwt")


def snapshot(sequence: int = 7, **changes: Any) -> Bundle:
    fields: dict[str, Any] = {
        "federation": "https://federation.example",
        "sequence": sequence,
        "created_at": CREATED,
        "root_keys": (dict(ROOT.public.jwk),),
        "federation_list": token({"type": "FederationList"}, "yilu-federation-list+jwt"),
        "trust_lists": (trust("https://a.example", 40),),
        "status_lists": (),
        "root_chain": (),
    }
    return Bundle(**{**fields, **changes})


def manifest_of(data: bytes) -> tuple[Manifest, bytes]:
    _, text, body = open_container(data)
    return Manifest.from_json(parse_compact(text, expected_typ=TYP_BUNDLE).payload_json()), body


def manifest_for(raw: bytes, **members: Any) -> tuple[Manifest, bytes]:
    """A manifest (as the root would sign it) for a zlib body of ``raw``; ``members`` override."""
    body = zlib.compress(raw)
    manifest, _ = manifest_of(snapshot().sign(ROOT, ROOT.public.kid))
    data = manifest.to_json()
    data["body"] = {
        "encoding": "zlib",
        "bytes": len(body),
        "sha256": hashlib.sha256(body).hexdigest(),
        "rawBytes": len(raw),
    }
    for name, value in members.items():
        if name in data["body"]:
            data["body"][name] = value
        else:
            data[name] = value
    return Manifest.from_json(data), body


# -- the container's lines -----------------------------------------------------------------------


def test_manifest_line_of_exactly_64_kib_is_read_and_one_more_is_refused() -> None:
    line = b"e" * (64 * KIB)
    chain, manifest, body = open_container(MAGIC + line + b"\nBODY")
    assert (chain, manifest, body) == ((), line.decode(), b"BODY")
    with pytest.raises(MalformedInputError, match="manifest line is missing or too long"):
        open_container(MAGIC + line + b"e\nBODY")
    with pytest.raises(MalformedInputError, match="manifest line is missing or too long"):
        open_container(MAGIC + b"eyJ")


def test_rotation_line_of_exactly_16_kib_is_read_and_one_more_is_refused() -> None:
    line = "{" + "a" * (16 * KIB - 2) + "}"
    assert len(line) == 16 * KIB
    data = MAGIC + line.encode() + b"\n{}\neyJ\nBODY"
    assert open_container(data) == ((line, "{}"), "eyJ", b"BODY")
    too_long = "{" + "a" * (16 * KIB - 1) + "}"
    with pytest.raises(MalformedInputError, match="missing its end or too long"):
        open_container(MAGIC + too_long.encode() + b"\neyJ\nBODY")
    # The root refuses to write what devices would refuse to read.
    signed = snapshot(root_chain=(line,)).sign(ROOT, ROOT.public.kid)
    assert open_container(signed)[0] == (line,)
    with pytest.raises(MalformedInputError, match="one line of ASCII JSON"):
        snapshot(root_chain=(too_long,)).sign(ROOT, ROOT.public.kid)


@pytest.mark.parametrize("line", ["[]", "{\n}", "{é}", ""])
def test_the_root_writes_only_rotation_lines_a_device_reads(line: str) -> None:
    with pytest.raises(MalformedInputError, match="one line of ASCII JSON"):
        snapshot(root_chain=("{}", line)).sign(ROOT, ROOT.public.kid)


def test_256_rotation_lines_are_read_and_257_refused() -> None:
    chain = tuple("{" + str(i) + "}" for i in range(256))
    got, manifest, body = open_container(MAGIC + "".join(s + "\n" for s in chain).encode() + b"eyJ\nB")
    assert (got, manifest, body) == (chain, "eyJ", b"B")
    with pytest.raises(MalformedInputError, match="more than 256 root rotations"):
        open_container(MAGIC + "".join(s + "\n" for s in chain).encode() + b"{}\neyJ\nB")
    signed = snapshot(root_chain=chain).sign(ROOT, ROOT.public.kid)
    manifest_, _ = manifest_of(signed)
    assert open_container(signed)[0] == chain
    assert manifest_.root_version == 257 and manifest_.root_chain == chain_digest(chain)
    with pytest.raises(MalformedInputError, match="at most 256 root rotations"):
        snapshot(root_chain=(*chain, "{}")).sign(ROOT, ROOT.public.kid)


def test_container_pieces_are_split_at_their_line_feeds() -> None:
    data = MAGIC + b'{"a":1}\n{"b":2}\neyJhbGc.x.y\n\x00\n{body'
    assert open_container(data) == (('{"a":1}', '{"b":2}'), "eyJhbGc.x.y", b"\x00\n{body")
    assert open_container(MAGIC + b"\n") == ((), "", b"")
    with pytest.raises(MalformedInputError, match="not a version 3 Yilu bundle"):
        open_container(b"YILU-BUNDLE/2\n" + data[len(MAGIC) :])
    with pytest.raises(MalformedInputError, match="rotation line of the bundle is not ASCII"):
        open_container(MAGIC + "{é}\n".encode() + b"eyJ\n")


def test_signed_file_is_magic_rotations_manifest_and_body() -> None:
    chain = ('{"r":2}', '{"r":3}')
    data = snapshot(root_chain=chain).sign(ROOT, ROOT.public.kid, encoding="zlib")
    got, text, body = open_container(data)
    assert got == chain
    assert data == MAGIC + b'{"r":2}\n{"r":3}\n' + text.encode() + b"\n" + body
    manifest, _ = manifest_of(data)
    assert manifest.root_chain == hashlib.sha256(b'{"r":2}\n{"r":3}\n').hexdigest()
    assert manifest.body_bytes == len(body) and manifest.body_sha256 == hashlib.sha256(body).hexdigest()
    assert zlib.decompress(body)[:1] == b"F"


# -- the body --------------------------------------------------------------------------------------


def test_raw_size_of_exactly_2_gib_is_tried_and_one_more_refused_unread() -> None:
    """The bound is on the signed ``rawBytes``: at 2 GiB the body is inflated (and here
    found short), one byte more and it is not inflated at all."""
    manifest, body = manifest_for(b"x" * 10, rawBytes=2 * GIB)
    with pytest.raises(MalformedInputError, match="stated size"):
        open_body(manifest, body)
    manifest, body = manifest_for(b"x" * 10, rawBytes=2 * GIB + 1)
    with pytest.raises(InputTooLargeError, match=f"beyond {2 * GIB} bytes"):
        open_body(manifest, body)


@pytest.mark.parametrize("encoding", ["xz", "zlib"])
def test_body_inflates_to_exactly_its_stated_size(encoding: str) -> None:
    bundle = snapshot()
    manifest, body = manifest_of(bundle.sign(ROOT, ROOT.public.kid, encoding=encoding))  # type: ignore[arg-type]
    raw = open_body(manifest, body)
    assert len(raw) == manifest.raw_bytes
    short = Manifest(**{**_fields(manifest), "raw_bytes": manifest.raw_bytes - 1})
    with pytest.raises(MalformedInputError, match="stated size"):
        open_body(short, body)
    longer = Manifest(**{**_fields(manifest), "raw_bytes": manifest.raw_bytes + 1})
    with pytest.raises(MalformedInputError, match="stated size"):
        open_body(longer, body)


@pytest.mark.parametrize("encoding", ["xz", "zlib"])
def test_bytes_after_the_compressed_stream_are_refused(encoding: str) -> None:
    raw = b"F" + _varint(2) + b"{}" + _varint(2) + b"{}" + _varint(1) + b"s"
    stream = bundle_module._compress(raw, encoding)
    for body in (stream + stream, stream + b"\0"):
        with pytest.raises(MalformedInputError, match="stated size"):
            open_body(_stating(raw, body, encoding), body)
    truncated = stream[:-4]
    with pytest.raises(MalformedInputError, match="inflate"):
        open_body(_stating(raw, truncated, encoding), truncated)


def _stating(raw: bytes, body: bytes, encoding: str) -> Manifest:
    """A manifest for ``raw`` that states ``body`` (its size and digest) in ``encoding``."""
    manifest, _ = manifest_for(raw)
    return Manifest(
        **{
            **_fields(manifest),
            "encoding": encoding,
            "body_bytes": len(body),
            "body_sha256": hashlib.sha256(body).hexdigest(),
        }
    )


def test_body_of_the_right_digest_but_another_length_is_refused() -> None:
    manifest, body = manifest_of(snapshot().sign(ROOT, ROOT.public.kid))
    wrong_length = Manifest(**{**_fields(manifest), "body_bytes": len(body) + 1})
    with pytest.raises(MalformedInputError, match="signed digest"):
        open_body(wrong_length, body)


def _fields(manifest: Manifest) -> dict[str, Any]:
    return {f: getattr(manifest, f) for f in manifest.__dataclass_fields__}


# -- deltas at their bounds ------------------------------------------------------------------------


def _delta_records(old: Bundle, new: Bundle) -> tuple[Manifest, bytes, int]:
    """A real delta from ``old`` to ``new``, inflated, and the bytes its D records rebuild."""
    manifest, body = manifest_of(make_delta(old, new, ROOT, ROOT.public.kid, encoding="zlib"))
    raw = open_body(manifest, body)
    assert raw[:1] == b"D"
    rebuilt = len(parse_compact(new.trust_lists[0]).payload_bytes)
    return manifest, raw, rebuilt


def test_a_rebuilt_part_may_be_exactly_the_part_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    old = snapshot()
    new = snapshot(sequence=8, trust_lists=(trust("https://a.example", 40, changed=20),))
    manifest, raw, size = _delta_records(old, new)
    monkeypatch.setattr(bundle_module, "MAX_PART_BYTES", size)
    assert apply_delta(manifest, raw, old).state() == new.state()
    monkeypatch.setattr(bundle_module, "MAX_PART_BYTES", size - 1)
    with pytest.raises(InputTooLargeError, match=f"larger than {size - 1} bytes"):
        apply_delta(manifest, raw, old)


def test_all_rebuilt_parts_may_be_exactly_the_body_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    old = snapshot()
    new = snapshot(sequence=8, trust_lists=(trust("https://a.example", 40, changed=20),))
    manifest, raw, size = _delta_records(old, new)
    monkeypatch.setattr(bundle_module, "MAX_BODY_BYTES", size)
    assert apply_delta(manifest, raw, old).state() == new.state()
    monkeypatch.setattr(bundle_module, "MAX_BODY_BYTES", size - 1)
    with pytest.raises(InputTooLargeError, match="in all"):
        apply_delta(manifest, raw, old)


def test_a_hand_written_delta_of_copy_and_insert_applies() -> None:
    """The wire format of docs/formats.md, "Records", written by hand: ``D``, role, base
    digest, header, signature, then ``00`` COPY offset length and ``01`` INSERT field."""
    old = snapshot()
    base = old.trust_lists[0]
    parsed = parse_compact(base)
    header, payload, signature = parsed.header_bytes, parsed.payload_bytes, b"s" * 64
    new_payload = payload[:10] + b"<inserted>" + payload[10:]
    ops = _varint(3) + b"\x00" + _varint(0) + _varint(10) + b"\x01" + _varint(10) + b"<inserted>"
    ops += b"\x00" + _varint(10) + _varint(len(payload) - 10)
    raw = b"DT" + hashlib.sha256(base.encode()).digest() + _varint(len(header)) + header
    raw += _varint(len(signature)) + signature + ops
    text = bundle_module._join_jws(header, new_payload, signature)
    new = snapshot(sequence=8, trust_lists=(text,))
    manifest, body = manifest_for(
        raw,
        sequence=8,
        state=new.state(),
        parts=2,
        base={"sequence": 7, "state": old.state()},
    )
    assert apply_delta(manifest, open_body(manifest, body), old).trust_lists == (text,)
    # A copy ending exactly at the end of the base payload is inside it; one byte more is not.
    beyond = raw[: -len(_varint(len(payload) - 10))] + _varint(len(payload) - 9)
    manifest, body = manifest_for(
        beyond, sequence=8, state=new.state(), parts=2, base={"sequence": 7, "state": old.state()}
    )
    with pytest.raises(MalformedInputError, match="beyond the end"):
        apply_delta(manifest, open_body(manifest, body), old)


# -- the file bound, where it is enforced ------------------------------------------------------


def test_a_file_over_512_mib_is_refused_before_it_is_read(tmp_path: Path) -> None:
    from verifier._cli import _read_bundle

    big = tmp_path / "big.ylb"
    with big.open("wb") as f:
        f.truncate(512 * MIB + 1)  # sparse: no disk used, never read
    with pytest.raises(TrustDataError, match=f"larger than any bundle \\({512 * MIB} at most\\)"):
        _read_bundle(str(big))


def test_the_file_bound_is_inclusive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from verifier._cli import _read_bundle

    data = snapshot().sign(ROOT, ROOT.public.kid)
    path = tmp_path / "b.ylb"
    path.write_bytes(data)
    monkeypatch.setattr(bundle_module, "MAX_BUNDLE_BYTES", len(data))
    assert _read_bundle(str(path)) == data
    monkeypatch.setattr(bundle_module, "MAX_BUNDLE_BYTES", len(data) - 1)
    with pytest.raises(TrustDataError, match="larger than any bundle"):
        _read_bundle(str(path))


# -- what a delta sends ------------------------------------------------------------------------


def records(raw: bytes) -> list[tuple[str, str, bytes]]:
    """(kind, role, base digest or part text) of each record of an inflated delta body,
    read as docs/formats.md, "Records" lays them out."""
    reader, out = bundle_module._Reader(raw), []
    while not reader.done():
        kind = chr(reader.byte())
        if kind in "DX":
            role, digest = chr(reader.byte()), reader.take(32)
            if kind == "D":
                reader.field(), reader.field()
                for _ in range(reader.varint()):
                    if reader.byte() == 0:
                        reader.varint(), reader.varint()
                    else:
                        reader.field()
            out.append((kind, role, digest))
        else:
            out.append((kind, kind.upper(), bundle_module._read_full(reader, ord(kind))[1].encode()))
    return out


def status(issuer: str, url: str, when: str, entries: int = 30) -> str:
    return token(
        {
            "id": url,
            "issuer": issuer,
            "validFrom": when,
            "events": [{"slot": i, "status": "revoked", "note": "y" * 20} for i in range(entries)],
        }
    )


def delta_of(old: Bundle, new: Bundle) -> bytes:
    manifest, body = manifest_of(make_delta(old, new, ROOT, ROOT.public.kid, encoding="zlib"))
    raw = open_body(manifest, body)
    rebuilt = apply_delta(manifest, raw, old)
    assert sorted(rebuilt.parts()) == sorted(new.parts())
    return raw


def digest(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()


def test_each_changed_part_is_patched_against_its_own_old_version() -> None:
    """docs/formats.md, "Deltas": a trust list pairs with the one of the same registry, a
    status list with the one of the same issuer and URL, the federation list with itself."""
    a_old, b_old = trust("https://a.example", 40), trust("https://b.example", 40)
    a_new, b_new = trust("https://a.example", 40, changed=3), trust("https://b.example", 40, changed=30)
    s1_old = status("https://lab1.example", "https://x.example/status", "2026-11-01T00:00:00Z")
    s2_old = status("https://lab2.example", "https://x.example/status", "2026-11-01T00:00:00Z")
    s1_new = status("https://lab1.example", "https://x.example/status", "2026-11-02T00:00:00Z")
    s2_new = status("https://lab2.example", "https://x.example/status", "2026-11-03T00:00:00Z")
    members = [{"id": f"https://r{i}.example", "pad": "z" * 30} for i in range(20)]
    fed_old = token({"type": "FederationList", "registries": members}, "yilu-federation-list+jwt")
    members[7] = {"id": "https://r7.example", "pad": "changed"}
    fed_new = token({"type": "FederationList", "registries": members}, "yilu-federation-list+jwt")
    old = snapshot(federation_list=fed_old, trust_lists=(b_old, a_old), status_lists=(s2_old, s1_old))
    new = snapshot(8, federation_list=fed_new, trust_lists=(a_new, b_new), status_lists=(s1_new, s2_new))
    got = records(delta_of(old, new))
    expected = {
        fed_new: ("D", "F", digest(fed_old)),
        a_new: ("D", "T", digest(a_old)),
        b_new: ("D", "T", digest(b_old)),
        s1_new: ("D", "S", digest(s1_old)),
        s2_new: ("D", "S", digest(s2_old)),
    }
    # New parts in the order of their role and text (docs/formats.md, "Deltas", "Order").
    ordered = sorted(new.parts())
    assert got == [expected[text] for _, text in ordered]


def test_an_old_part_replaces_at_most_one_new_one_and_the_rest_is_named_removed() -> None:
    s_old = status("https://lab1.example", "https://x.example/status", "2026-11-01T00:00:00Z")
    gone = status("https://lab9.example", "https://y.example/status", "2026-11-01T00:00:00Z")
    v2 = status("https://lab1.example", "https://x.example/status", "2026-11-02T00:00:00Z")
    v3 = status("https://lab1.example", "https://x.example/status", "2026-11-03T00:00:00Z")
    old = snapshot(status_lists=(s_old, gone, gone))
    new = snapshot(8, status_lists=(v3, v2))
    got = records(delta_of(old, new))
    first, second = sorted((v2, v3))
    assert got == [
        ("D", "S", digest(s_old)),
        ("S", "S", second.encode()),
        ("X", "S", digest(gone)),
        ("X", "S", digest(gone)),
    ]
    assert first < second


def test_parts_without_an_identity_are_sent_whole() -> None:
    """Not a compact JWS, a payload that is not JSON, a JSON array: never paired."""
    not_json = sign_compact(b"not json", LAB, kid=LAB.public.kid, typ="vc+jwt")
    not_json2 = sign_compact(b"not json either", LAB, kid=LAB.public.kid, typ="vc+jwt")
    array = sign_compact(b'[1,2,3,"' + b"q" * 40 + b'"]', LAB, kid=LAB.public.kid, typ="vc+jwt")
    array2 = sign_compact(b'[1,2,4,"' + b"q" * 40 + b'"]', LAB, kid=LAB.public.kid, typ="vc+jwt")
    old = snapshot(status_lists=("odd text", not_json, array))
    new = snapshot(8, status_lists=("odd text!", not_json2, array2))
    got = records(delta_of(old, new))
    assert [kind for kind, _, _ in got] == ["S", "S", "s", "X", "X", "X"]
    removed = sorted(d for kind, _, d in got if kind == "X")
    assert removed == sorted(digest(t) for t in ("odd text", not_json, array))


def test_a_patch_is_sent_only_when_smaller_than_the_whole_part() -> None:
    """A status list rewritten entirely shares no chunk with its old version: sent whole."""
    s_old = status("https://lab1.example", "https://x.example/status", "2026-11-01T00:00:00Z", 3)
    s_new = token({"id": "https://x.example/status", "issuer": "https://lab1.example", "other": "w" * 300})
    got = records(delta_of(snapshot(status_lists=(s_old,)), snapshot(8, status_lists=(s_new,))))
    assert got == [("S", "S", s_new.encode()), ("X", "S", digest(s_old))]


def test_copies_merge_inserts_merge_and_copy_the_first_occurrence() -> None:
    a, b, c = (bytes([ch]) * 20 + b"}," for ch in b"abc")
    old = a + b + c + a + b"tail"
    new = a + b + b"x}," + b"y}," + c + b"]"
    assert diff_payload(old, new) == [(0, 0, 44), (1, b"x},y},", None), (0, 44, 22), (1, b"]", None)]
    ends = old + b"[1],"
    assert diff_payload(ends, a + b"[1],") == [(0, 0, 22), (1, b"[1],", None)]
    assert diff_payload(b"", a) == [(1, a, None)]
    assert diff_payload(a, b"") == []


@pytest.mark.parametrize(
    ("varint", "text"),
    [
        (b"\x82" + b"\x80" * 8 + b"\x00", "ok"),  # 10 bytes: the longest allowed
        (b"\x02", "ok"),
    ],
)
def test_a_varint_of_up_to_10_bytes_is_read(varint: bytes, text: str) -> None:
    reader = bundle_module._Reader(b"t" + varint + text.encode())
    assert bundle_module._read_full(reader, reader.byte()) == ("T", text)
    assert reader.done()


def test_a_varint_of_11_bytes_is_refused() -> None:
    reader = bundle_module._Reader(b"t" + b"\x82" + b"\x80" * 9 + b"\x00" + b"ok")
    with pytest.raises(MalformedInputError, match="a length in the bundle's body is too long"):
        bundle_module._read_full(reader, reader.byte())


@pytest.mark.parametrize("n", [0, 1, 127, 128, 300, 16383, 16384, 2**63])
def test_varints_are_leb128(n: int) -> None:
    encoded = _varint(n)
    expected = bytearray()
    value = n
    while True:
        expected.append((value & 0x7F) | (0x80 if value >> 7 else 0))
        value >>= 7
        if not value:
            break
    assert encoded == bytes(expected)
    assert bundle_module._Reader(encoded).varint() == n


def test_the_body_is_xz_preset_6_or_zlib_level_9() -> None:
    """docs/formats.md, "Manifest": the root writes xz (preset 6) or zlib (level 9)."""
    import lzma

    bundle = snapshot()
    raw = bundle_module.encode_records(bundle)
    for encoding, expected in (
        ("xz", lzma.compress(raw, format=lzma.FORMAT_XZ, preset=6)),
        ("zlib", zlib.compress(raw, 9)),
    ):
        _, body = manifest_of(bundle.sign(ROOT, ROOT.public.kid, encoding=encoding))  # type: ignore[arg-type]
        assert body == expected


@pytest.mark.parametrize(("pad", "kind"), [(1, "S"), (2, "D")])
def test_a_patch_as_large_as_the_whole_part_is_not_sent(pad: int, kind: str) -> None:
    """The D record of a status list is exactly as long as its whole record when the copied
    chunk is 38 bytes (``pad`` 1): the whole part goes; one byte more copied, the patch."""

    def part(payload: bytes) -> str:
        return sign_compact(payload, LAB, kid=LAB.public.kid, typ="vc+jwt")

    head = b'{"id":"u","issuer":"i","e":[{"k":"' + b"a" * pad + b'"},'
    old, new = part(head + b'{"k":"b"}]}'), part(head + b'{"k":"c"}]}')
    got = records(delta_of(snapshot(status_lists=(old,)), snapshot(8, status_lists=(new,))))
    whole = bundle_module._full_record("S", new)
    parsed_old, parsed_new = parse_compact(old), parse_compact(new)
    patch = b"DS" + digest(old) + bundle_module._field(parsed_new.header_bytes)
    patch += bundle_module._field(parsed_new.signature)
    patch += bundle_module._encode_ops(diff_payload(parsed_old.payload_bytes, parsed_new.payload_bytes))
    assert len(patch) - len(whole) == 1 - pad
    if kind == "S":
        assert got == [("S", "S", new.encode()), ("X", "S", digest(old))]
    else:
        assert got == [("D", "S", digest(old))]


def test_a_delta_consumes_each_base_part_once() -> None:
    """docs/formats.md, "Deltas", "Applying": one base part can be consumed once; a part the
    base holds twice can be removed twice."""
    twice = trust("https://b.example", 3)
    old = snapshot(status_lists=(twice, twice))
    one_gone = snapshot(8, status_lists=(twice,))
    both_gone = snapshot(8, status_lists=())
    one = {"sequence": 8, "state": one_gone.state(), "parts": 3}
    one["base"] = {"sequence": 7, "state": old.state()}
    none = {**one, "state": both_gone.state(), "parts": 2}
    x = b"XS" + digest(twice)
    manifest, body = manifest_for(x, **one)
    assert apply_delta(manifest, open_body(manifest, body), old).status_lists == (twice,)
    manifest, body = manifest_for(x + x, **none)
    assert apply_delta(manifest, open_body(manifest, body), old).status_lists == ()
    manifest, body = manifest_for(x * 3, **none)
    with pytest.raises(MalformedInputError, match="names a part the base snapshot does not hold"):
        apply_delta(manifest, open_body(manifest, body), old)
    # The role is part of the name: the same digest as a trust list is not held.
    manifest, body = manifest_for(b"XT" + digest(twice), **one)
    with pytest.raises(MalformedInputError, match="names a part the base snapshot does not hold"):
        apply_delta(manifest, open_body(manifest, body), old)


def test_a_delta_cannot_patch_a_part_that_is_not_a_compact_jws() -> None:
    old = snapshot(status_lists=("odd text",))
    raw = b"DS" + digest("odd text") + _varint(2) + b"{}" + _varint(0) + _varint(0)
    same = {"sequence": 8, "state": old.state(), "parts": 2, "base": {"sequence": 7, "state": old.state()}}
    manifest, body = manifest_for(raw, **same)
    with pytest.raises(MalformedInputError, match="patches a part that is not a compact JWS"):
        apply_delta(manifest, open_body(manifest, body), old)


@pytest.mark.parametrize("op", [b"\x02", b"\xff"])
def test_an_unknown_delta_operation_is_refused(op: bytes) -> None:
    old = snapshot()
    base = old.trust_lists[0]
    raw = b"DT" + digest(base) + _varint(2) + b"{}" + _varint(0) + _varint(1) + op
    same = {"sequence": 8, "state": old.state(), "parts": 2, "base": {"sequence": 7, "state": old.state()}}
    manifest, body = manifest_for(raw, **same)
    with pytest.raises(MalformedInputError, match=f"unknown delta operation {op[0]}"):
        apply_delta(manifest, open_body(manifest, body), old)


@pytest.mark.parametrize("text", ["YQ.Yg.Yw.ZA", "YQ.Yg", "YQ", "YQ.Yg.Yw.", "eyJ9.e30.AAAA."])
def test_text_of_other_than_three_base64url_pieces_is_kept_as_text(text: str) -> None:
    """Each piece decodes, but the text is not three of them: it is stored as text (``s``),
    never as a JWS of its first three pieces (docs/formats.md, "Records")."""
    bundle = snapshot(status_lists=(text,))
    raw = bundle_module.encode_records(bundle)
    assert raw.endswith(b"s" + _varint(len(text)) + text.encode())
    assert bundle_module.decode_records(bundle, raw) == bundle


@pytest.mark.parametrize("raw", [b"t" + _varint(4) + b"abc", b"T\x00\x00" + _varint(65) + b"s" * 64])
def test_a_last_field_running_past_the_end_is_refused(raw: bytes) -> None:
    """docs/formats.md, "Records": a field running past the end makes the body malformed,
    even when nothing follows it; a field ending exactly at the end is read."""
    with pytest.raises(MalformedInputError, match="ends inside a record"):
        bundle_module._read_records(raw)
    exact = raw + raw[-1:]
    assert len(bundle_module._read_records(exact)) == 1
