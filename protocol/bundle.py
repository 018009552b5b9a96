"""The offline bundle: one root-signed file holding a whole trust snapshot, or a delta to one.

Format (docs/formats.md, "Bundle"), version 3::

    "YILU-BUNDLE/3\\n"  *(rotation "\\n")  manifest  "\\n"  body

Each ``rotation`` is a root rotation statement (protocol/rootchain.py), one line of JSON:
the bundle carries every rotation of its federation's root, from version 2 on, so that a
device pinned at any earlier root version walks forward to the one that signed the
bundle before it checks the manifest. ``manifest`` is a compact JWS (``typ``
``yilu-bundle+jwt``) signed by a key of that root version. Its payload names the
federation, the bundle's ``sequence`` (a verifier never installs a lower one), when it
was built, the root version that signed it and the SHA-256 of the rotation lines, the
number of ``parts`` and the ``state`` digest of the whole snapshot, and the SHA-256 and
sizes of the ``body``: so the root's signature and the body's digest are both checked
before a byte of the body is inflated.

The body is compressed (``xz`` or ``zlib``, as the manifest says) and holds **records**,
each a one-byte kind and length-prefixed fields (lengths are unsigned LEB128 varints):

``F`` ``T`` ``S``  a federation list, trust list or status list, as its decoded JWS
                   header, payload and signature; the part's text is the compact JWS of
                   those three byte strings;
``f`` ``t`` ``s``  the same roles, as the part's text itself (for text that is not a
                   canonical compact JWS: it is kept, and refused later, exactly as given);
``D``              (deltas only) a role byte, the SHA-256 of the base part it replaces, the
                   new header and signature, and copy/insert operations that rebuild the new
                   payload from the base part's payload;
``X``              (deltas only) the SHA-256 of a base part that is removed.

Every part stays exactly as its signer published it and verifiable on its own; the
bundle adds the integrity of the whole set. A **delta** (manifest ``base``) names the
``sequence`` and ``state`` of the bundle it applies to; applying it must give exactly the
``state`` it announces, as the full bundle of that sequence would. Raw decoded JSON
compresses far better than base64url text, which is why parts are stored decoded.
"""

from __future__ import annotations

import hashlib
import json
import lzma
import re
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Final, Literal

from protocol.encoding import b64url_decode, b64url_encode, dumps_compact, format_time, parse_time
from protocol.errors import InputTooLargeError, MalformedInputError
from protocol.jws import MAX_GENERAL_CHARS, TYP_VC, Signer, parse_compact, sign_compact
from protocol.lists import TYP_FEDERATION_LIST, TYP_TRUST_LIST, is_version

MAGIC: Final = b"YILU-BUNDLE/3\n"
#: What every version of the container starts with (to name an older one plainly).
MAGIC_PREFIX: Final = b"YILU-BUNDLE/"
TYP_BUNDLE: Final = "yilu-bundle+jwt"
FORMAT_VERSION: Final = 3
#: What each Yilu ``typ`` says a file is, for plain messages when the wrong file is given.
KIND_OF_TYP: Final = {
    TYP_BUNDLE: "a bundle",
    TYP_FEDERATION_LIST: "a federation list",
    TYP_TRUST_LIST: "a trust list",
    TYP_VC: "a certificate or status list",
}
#: Largest bundle file accepted (120,000 labs with two keys each take about 25 MB).
MAX_BUNDLE_BYTES: Final = 512 * 1024 * 1024
#: Largest inflated body accepted (bounded decompression).
MAX_BODY_BYTES: Final = 2 * 1024 * 1024 * 1024
MAX_MANIFEST_CHARS: Final = 64 * 1024
#: Largest root rotation statement line, and most statements, a bundle may carry.
MAX_ROTATION_CHARS: Final = MAX_GENERAL_CHARS
MAX_CHAIN: Final = 256
#: Largest part a delta may rebuild.
MAX_PART_BYTES: Final = 256 * 1024 * 1024

Role = Literal["F", "T", "S"]
ROLES: Final[tuple[Role, ...]] = ("F", "T", "S")
Encoding = Literal["xz", "zlib"]
ENCODINGS: Final = ("xz", "zlib")


# -- the logical snapshot ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Bundle:
    """A whole snapshot: every part's text, in its role (what the root builds and signs)."""

    federation: str
    sequence: int
    created_at: datetime
    root_keys: tuple[dict[str, str], ...]
    federation_list: str
    trust_lists: tuple[str, ...]
    status_lists: tuple[str, ...]
    #: Every root rotation statement of the federation, to versions 2, 3 ... in order; the
    #: root version that signs the bundle is one more than their number. Not a part: each
    #: statement verifies on its own, and the manifest signs their digest.
    root_chain: tuple[str, ...] = ()

    @property
    def root_version(self) -> int:
        return 1 + len(self.root_chain)

    def parts(self) -> Iterator[tuple[Role, str]]:
        yield "F", self.federation_list
        for token in self.trust_lists:
            yield "T", token
        for token in self.status_lists:
            yield "S", token

    def state(self) -> str:
        return state_digest(self.parts())

    def sign(self, signer: Signer, kid: str, *, encoding: Encoding = "xz") -> bytes:
        """The whole snapshot as a root-signed version 2 bundle."""
        body = encode_records(self)
        count = 1 + len(self.trust_lists) + len(self.status_lists)
        return _container(self, body, signer, kid, encoding, base=None, parts=count)

    @classmethod
    def from_parts(cls, head: Manifest | Bundle, parts: Iterable[tuple[Role, str]]) -> Bundle:
        """The snapshot of ``parts`` by role; ``head`` gives the federation, sequence, date and
        root keys (a verified manifest, or the head a verifier kept of its installed snapshot),
        and, if it is a bundle, its root chain."""
        federation: list[str] = []
        trust: list[str] = []
        status: list[str] = []
        for role, text in parts:
            (federation if role == "F" else trust if role == "T" else status).append(text)
        if len(federation) != 1:
            raise MalformedInputError(f"a bundle holds exactly one federation list, not {len(federation)}")
        return cls(
            head.federation,
            head.sequence,
            head.created_at,
            head.root_keys,
            federation[0],
            tuple(trust),
            tuple(status),
            head.root_chain if isinstance(head, Bundle) else (),
        )


def chain_digest(chain: Iterable[str]) -> str:
    """SHA-256 (hex) of the rotation lines exactly as a bundle file holds them: each
    statement's ASCII text and a line feed (``rootChain`` of the manifest)."""
    return hashlib.sha256(b"".join(s.encode("ascii") + b"\n" for s in chain)).hexdigest()


def part_digest(text: str) -> bytes:
    """A part's identity in deltas and in the state digest: SHA-256 of its text."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


def state_digest(parts: Iterable[tuple[Role, str]]) -> str:
    """SHA-256 (hex) over the sorted ``role || part digest`` of every part: names a snapshot's
    exact contents whatever their order, so that a delta can prove what it leads to."""
    return _state_of(role.encode("ascii") + part_digest(text) for role, text in parts)


def _state_of(keys: Iterable[bytes]) -> str:
    return hashlib.sha256(b"".join(sorted(keys))).hexdigest()


# -- the manifest -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BaseRef:
    """The bundle a delta applies to."""

    sequence: int
    state: str


@dataclass(frozen=True, slots=True)
class Manifest:
    """The signed head of a bundle: what it is, and the digest of its body."""

    federation: str
    sequence: int
    created_at: datetime
    root_keys: tuple[dict[str, str], ...]
    parts: int
    state: str
    encoding: str
    body_bytes: int
    body_sha256: str
    raw_bytes: int
    base: BaseRef | None
    #: The root version whose key signs this manifest, and :func:`chain_digest` of the
    #: ``root_version - 1`` rotation lines before it (no defaults: always stated).
    root_version: int
    root_chain: str

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": "YiluBundle",
            "version": FORMAT_VERSION,
            "federation": self.federation,
            "sequence": self.sequence,
            "createdAt": format_time(self.created_at),
            "rootKeys": list(self.root_keys),
            "rootVersion": self.root_version,
            "rootChain": self.root_chain,
            "parts": self.parts,
            "state": self.state,
            "body": {
                "encoding": self.encoding,
                "bytes": self.body_bytes,
                "sha256": self.body_sha256,
                "rawBytes": self.raw_bytes,
            },
        }
        if self.base is not None:
            out["base"] = {"sequence": self.base.sequence, "state": self.base.state}
        return out

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Manifest:
        if obj.get("type") != "YiluBundle" or not is_version(obj, FORMAT_VERSION):
            raise MalformedInputError(f"not a version {FORMAT_VERSION} Yilu bundle")
        federation, sequence = obj.get("federation"), obj.get("sequence")
        if not isinstance(federation, str) or not isinstance(sequence, int) or not _count(sequence):
            raise MalformedInputError("bundle lacks its federation or a whole-number sequence")
        roots, body, base = obj.get("rootKeys"), obj.get("body"), obj.get("base")
        if not isinstance(roots, list) or not all(isinstance(k, dict) for k in roots):
            raise MalformedInputError("bundle rootKeys must be a list of JWKs")
        if not isinstance(body, dict) or not _is_hex(body.get("sha256")) or not _is_hex(obj.get("state")):
            raise MalformedInputError("bundle lacks the digest of its body or its state")
        sizes = (obj.get("parts"), body.get("bytes"), body.get("rawBytes"))
        if not all(_count(n) for n in sizes):
            raise MalformedInputError("bundle part count and body sizes must be whole numbers")
        root_version, root_chain = obj.get("rootVersion"), obj.get("rootChain")
        if not isinstance(root_version, int) or not _count(root_version) or root_version < 1:
            raise MalformedInputError("bundle lacks its rootVersion (a whole number, 1 or more)")
        if not isinstance(root_chain, str) or not _is_hex(root_chain):
            raise MalformedInputError("bundle lacks the digest of its rootChain")
        if body.get("encoding") not in ENCODINGS:
            raise MalformedInputError(f"unsupported body encoding {body.get('encoding')!r}")
        ref = None
        if base is not None:
            if (
                not isinstance(base, dict)
                or not _count(base.get("sequence"))
                or not _is_hex(base.get("state"))
            ):
                raise MalformedInputError("a delta's base needs a sequence and a state")
            ref = BaseRef(base["sequence"], base["state"])
        return cls(
            federation,
            sequence,
            parse_time(obj.get("createdAt"), "bundle.createdAt"),
            tuple(roots),
            obj["parts"],
            obj["state"],
            body["encoding"],
            body["bytes"],
            body["sha256"],
            body["rawBytes"],
            ref,
            root_version,
            root_chain,
        )


def _count(value: object) -> bool:
    return type(value) is int and value >= 0


def _is_hex(value: object) -> bool:
    return isinstance(value, str) and re.fullmatch(r"[0-9a-f]{64}", value) is not None


# -- the container ----------------------------------------------------------------------------


def _compress(raw: bytes, encoding: str) -> bytes:
    if encoding == "xz":
        return lzma.compress(raw, format=lzma.FORMAT_XZ, preset=6)
    return zlib.compress(raw, 9)


def _container(
    bundle: Bundle,
    raw: bytes,
    signer: Signer,
    kid: str,
    encoding: Encoding,
    *,
    base: BaseRef | None,
    parts: int,
) -> bytes:
    for statement in bundle.root_chain:
        if not _is_rotation_line(statement):
            raise MalformedInputError("a root rotation statement is one line of ASCII JSON")
    if len(bundle.root_chain) > MAX_CHAIN:
        raise MalformedInputError(f"a bundle carries at most {MAX_CHAIN} root rotations")
    body = _compress(raw, encoding)
    manifest = Manifest(
        bundle.federation,
        bundle.sequence,
        bundle.created_at,
        bundle.root_keys,
        parts,
        bundle.state(),
        encoding,
        len(body),
        hashlib.sha256(body).hexdigest(),
        len(raw),
        base,
        bundle.root_version,
        chain_digest(bundle.root_chain),
    )
    token = sign_compact(dumps_compact(manifest.to_json()), signer, kid=kid, typ=TYP_BUNDLE)
    chain = b"".join(s.encode("ascii") + b"\n" for s in bundle.root_chain)
    return MAGIC + chain + token.encode("ascii") + b"\n" + body


def _is_rotation_line(text: str) -> bool:
    return text.isascii() and text.startswith("{") and "\n" not in text and len(text) <= MAX_ROTATION_CHARS


def open_container(data: bytes) -> tuple[tuple[str, ...], str, bytes]:
    """The root rotation lines, the manifest's compact JWS text and the (still compressed)
    body of a bundle file; nothing verified. A line that starts with ``{`` is a rotation
    statement, the first other line the manifest (a compact JWS starts with ``ey``)."""
    if not data.startswith(MAGIC):
        raise MalformedInputError(f"not a version {FORMAT_VERSION} Yilu bundle")
    pos, chain = len(MAGIC), list[str]()
    while data.startswith(b"{", pos):
        end = data.find(b"\n", pos, pos + MAX_ROTATION_CHARS + 1)
        if end < 0:
            raise MalformedInputError("a root rotation line of the bundle is missing its end or too long")
        if len(chain) >= MAX_CHAIN:
            raise MalformedInputError(f"the bundle carries more than {MAX_CHAIN} root rotations")
        try:
            chain.append(data[pos:end].decode("ascii"))
        except UnicodeDecodeError as exc:
            raise MalformedInputError("a root rotation line of the bundle is not ASCII") from exc
        pos = end + 1
    end = data.find(b"\n", pos, pos + MAX_MANIFEST_CHARS + 1)
    if end < 0:
        raise MalformedInputError("the bundle's manifest line is missing or too long")
    try:
        manifest = data[pos:end].decode("ascii")
    except UnicodeDecodeError as exc:
        raise MalformedInputError("the bundle's manifest is not ASCII") from exc
    return tuple(chain), manifest, data[end + 1 :]


def split_container(data: bytes) -> tuple[str, bytes]:
    """The manifest's compact JWS text and the (still compressed, unverified) body."""
    _, manifest, body = open_container(data)
    return manifest, body


def open_body(manifest: Manifest, body: bytes) -> bytes:
    """Check the body against the (verified) manifest, then inflate it within its stated size."""
    if len(body) != manifest.body_bytes or hashlib.sha256(body).hexdigest() != manifest.body_sha256:
        raise MalformedInputError("the bundle's body does not match its signed digest: damaged or altered")
    if manifest.raw_bytes > MAX_BODY_BYTES:
        raise InputTooLargeError(f"the bundle's body inflates beyond {MAX_BODY_BYTES} bytes")
    try:
        if manifest.encoding == "xz":
            xz = lzma.LZMADecompressor(format=lzma.FORMAT_XZ)
            raw = xz.decompress(body, max_length=manifest.raw_bytes + 1)
            complete = xz.eof and not xz.unused_data
        else:
            zz = zlib.decompressobj()
            raw = zz.decompress(body, manifest.raw_bytes + 1)
            complete = zz.eof and not zz.unused_data
    except (lzma.LZMAError, zlib.error) as exc:
        raise MalformedInputError("the bundle's body does not inflate") from exc
    if len(raw) != manifest.raw_bytes or not complete:
        raise MalformedInputError("the bundle's body does not inflate to its stated size")
    return raw


# -- records ----------------------------------------------------------------------------------


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(data: bytes) -> bytes:
    return _varint(len(data)) + data


def _split_jws(text: str) -> tuple[bytes, bytes, bytes] | None:
    """The three decoded byte strings of a canonical compact JWS, or None."""
    pieces = text.split(".")
    if len(pieces) != 3 or not text.isascii():
        return None
    try:
        return b64url_decode(pieces[0]), b64url_decode(pieces[1]), b64url_decode(pieces[2])
    except MalformedInputError:
        return None


def _join_jws(header: bytes, payload: bytes, signature: bytes) -> str:
    return f"{b64url_encode(header)}.{b64url_encode(payload)}.{b64url_encode(signature)}"


def _full_record(role: Role, text: str) -> bytes:
    split = _split_jws(text)
    if split is None:
        return role.lower().encode("ascii") + _field(text.encode("utf-8", "surrogatepass"))
    return role.encode("ascii") + b"".join(_field(x) for x in split)


class _Reader:
    """Reads records from an inflated body; every malformed byte is a MalformedInputError."""

    def __init__(self, raw: bytes) -> None:
        self.raw, self.pos = raw, 0

    def done(self) -> bool:
        return self.pos >= len(self.raw)

    def byte(self) -> int:
        if self.pos >= len(self.raw):
            raise MalformedInputError("the bundle's body ends inside a record")
        self.pos += 1
        return self.raw[self.pos - 1]

    def varint(self) -> int:
        value = shift = 0
        while True:
            byte = self.byte()
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return value
            shift += 7
            if shift > 63:
                raise MalformedInputError("a length in the bundle's body is too long")

    def take(self, n: int) -> bytes:
        if n > len(self.raw) - self.pos:
            raise MalformedInputError("the bundle's body ends inside a record")
        self.pos += n
        return self.raw[self.pos - n : self.pos]

    def field(self) -> bytes:
        return self.take(self.varint())


_ROLE_OF: Final[dict[int, Role]] = {ord(r): r for r in ROLES} | {ord(r.lower()): r for r in ROLES}


def _role(kind: int) -> Role:
    role = _ROLE_OF.get(kind)
    if role is None:
        raise MalformedInputError(f"unknown record kind {kind:#04x} in the bundle's body")
    return role


def _read_full(reader: _Reader, kind: int) -> tuple[Role, str]:
    role = _role(kind)
    if chr(kind).islower():
        try:
            return role, reader.field().decode("utf-8", "surrogatepass")
        except UnicodeDecodeError as exc:
            raise MalformedInputError("a part of the bundle is not text") from exc
    header, payload, signature = reader.field(), reader.field(), reader.field()
    return role, _join_jws(header, payload, signature)


def read_unchecked(data: bytes) -> Bundle:
    """The snapshot a full bundle file holds, **without** checking the root's signature: only
    for the party that built the file itself (the root reading its last bundle to build the
    next delta). A verifier reads bundles with ``verifier.load_bundle``."""
    chain, manifest_text, body = open_container(data)
    manifest = Manifest.from_json(parse_compact(manifest_text, expected_typ=TYP_BUNDLE).payload_json())
    return replace(read_full(manifest, open_body(manifest, body)), root_chain=chain)


def read_full(manifest: Manifest, raw: bytes) -> Bundle:
    """The snapshot a full bundle's inflated body holds, checked against its manifest."""
    if manifest.base is not None:
        raise MalformedInputError("this is a delta bundle: it applies to an installed snapshot")
    return _checked(manifest, _read_records(raw))


def encode_records(bundle: Bundle) -> bytes:
    """A snapshot's parts as body records (uncompressed): how a verifier keeps its installed
    snapshot, to apply the next delta to."""
    return b"".join(_full_record(role, text) for role, text in bundle.parts())


def decode_records(head: Bundle, raw: bytes) -> Bundle:
    """Inverse of :func:`encode_records`; ``head`` gives the federation, sequence and dates."""
    return Bundle.from_parts(head, _read_records(raw))


def _read_records(raw: bytes) -> list[tuple[Role, str]]:
    """Every full-part record of an inflated body, in order."""
    reader, parts = _Reader(raw), []
    while not reader.done():
        parts.append(_read_full(reader, reader.byte()))
    return parts


def _checked(manifest: Manifest, parts: Sequence[tuple[Role, str]], state: str | None = None) -> Bundle:
    """The parts as a snapshot, if they are exactly what the manifest signs (``state``: their
    state digest when the caller has it already)."""
    if len(parts) != manifest.parts or (state or state_digest(parts)) != manifest.state:
        raise MalformedInputError("the bundle's parts do not match the state its manifest signs")
    return Bundle.from_parts(manifest, parts)


# -- deltas -----------------------------------------------------------------------------------

_COPY, _INSERT = 0, 1
#: Where payloads are cut into chunks for deltas: after the end of a JSON object or array
#: followed by a comma, i.e. between the entries of a list (a lab, a key, a status event).
_CUT: Final = re.compile(rb"[}\]],")
_MIN_COPY: Final = 16


def _chunks(payload: bytes) -> Iterator[tuple[int, int]]:
    start = 0
    for match in _CUT.finditer(payload):
        yield start, match.end()
        start = match.end()
    if start < len(payload):
        yield start, len(payload)


def diff_payload(old: bytes, new: bytes) -> list[tuple[int, Any, Any]]:
    """Copy/insert operations that rebuild ``new`` from ``old`` (chunks found by content)."""
    index: dict[bytes, int] = {}
    for a, b in _chunks(old):
        index.setdefault(old[a:b], a)
    ops: list[tuple[int, Any, Any]] = []
    for a, b in _chunks(new):
        chunk = new[a:b]
        at = index.get(chunk) if len(chunk) >= _MIN_COPY else None
        if at is None:
            if ops and ops[-1][0] == _INSERT:
                ops[-1] = (_INSERT, ops[-1][1] + chunk, None)
            else:
                ops.append((_INSERT, chunk, None))
        elif ops and ops[-1][0] == _COPY and ops[-1][1] + ops[-1][2] == at:
            ops[-1] = (_COPY, ops[-1][1], ops[-1][2] + len(chunk))
        else:
            ops.append((_COPY, at, len(chunk)))
    return ops


def _encode_ops(ops: Sequence[tuple[int, Any, Any]]) -> bytes:
    out = [_varint(len(ops))]
    for op, a, b in ops:
        out.append(bytes([op]) + (_varint(a) + _varint(b) if op == _COPY else _field(a)))
    return b"".join(out)


def _apply_ops(reader: _Reader, base: bytes) -> bytes:
    out, size = [], 0
    for _ in range(reader.varint()):
        op = reader.byte()
        if op == _COPY:
            at, n = reader.varint(), reader.varint()
            if at + n > len(base):
                raise MalformedInputError("a delta copies beyond the end of its base part")
            piece = base[at : at + n]
        elif op == _INSERT:
            piece = reader.field()
        else:
            raise MalformedInputError(f"unknown delta operation {op}")
        size += len(piece)
        if size > MAX_PART_BYTES:
            raise InputTooLargeError(f"a delta rebuilds a part larger than {MAX_PART_BYTES} bytes")
        out.append(piece)
    return b"".join(out)


def _identity(role: Role, text: str) -> tuple[tuple[str, str], tuple[bytes, bytes, bytes]] | None:
    """What a part is *of* (a registry's trust list, a lab's list at a URL), to pair a new
    version with the old one it replaces, with the part's decoded JWS; None if it cannot be
    read."""
    split = _split_jws(text)
    if split is None:
        return None
    try:
        payload = json.loads(split[1])
    except ValueError:
        return None
    if not isinstance(payload, dict):
        return None
    if role == "T":
        return ("T", str(payload.get("registry"))), split
    if role == "S":
        return ("S", f"{payload.get('issuer')} {payload.get('id')}"), split
    return ("F", ""), split


def make_delta(old: Bundle, new: Bundle, signer: Signer, kid: str, *, encoding: Encoding = "xz") -> bytes:
    """A root-signed delta that turns the snapshot ``old`` into ``new``.

    Parts of ``old`` that ``new`` also holds are not sent; a changed part whose older
    version ``old`` holds is sent as copy/insert operations against it when that is
    smaller; other new parts are sent whole and vanished ones are named for removal.
    """
    if new.federation != old.federation:
        raise MalformedInputError("a delta cannot cross federations")
    old_parts = Counter(old.parts())
    new_parts = Counter(new.parts())
    removed = old_parts - new_parts
    added = new_parts - old_parts
    by_identity: dict[tuple[str, str], tuple[tuple[Role, str], tuple[bytes, bytes, bytes]]] = {}
    for role, text in removed:
        identified = _identity(role, text)
        if identified is not None:
            by_identity.setdefault(identified[0], ((role, text), identified[1]))
    records: list[bytes] = []
    replaced: Counter[tuple[Role, str]] = Counter()
    for (role, text), count in sorted(added.items()):
        identified = _identity(role, text)
        pairing = None
        if identified is not None and identified[0] in by_identity:
            pairing = (*by_identity[identified[0]], identified[1])
        for _ in range(count):
            record = _full_record(role, text)
            if pairing is not None and replaced[pairing[0]] < removed[pairing[0]]:
                base, old_split, new_split = pairing
                delta = (
                    b"D"
                    + role.encode("ascii")
                    + part_digest(base[1])
                    + _field(new_split[0])
                    + _field(new_split[2])
                    + _encode_ops(diff_payload(old_split[1], new_split[1]))
                )
                if len(delta) < len(record):
                    record = delta
                    replaced[base] += 1
            records.append(record)
    for (role, text), count in sorted((removed - replaced).items()):
        records.extend([b"X" + role.encode("ascii") + part_digest(text)] * count)
    body = b"".join(records)
    ref = BaseRef(old.sequence, old.state())
    return _container(new, body, signer, kid, encoding, base=ref, parts=sum(new_parts.values()))


def apply_delta(manifest: Manifest, raw: bytes, base: Bundle) -> Bundle:
    """The snapshot a delta's inflated body makes of ``base``, checked against its manifest
    (which the caller has verified): the base must be the one the delta names, and the
    result must have exactly the state the manifest signs."""
    if manifest.base is None:
        raise MalformedInputError("this is a full bundle, not a delta")
    # Each base part is digested once: for the base's state, to find the parts the delta
    # names, and for the state of the result.
    digested = [(role, text, part_digest(text)) for role, text in base.parts()]
    base_state = _state_of(role.encode("ascii") + digest for role, _, digest in digested)
    if manifest.base.state != base_state or manifest.base.sequence != base.sequence:
        raise MalformedInputError(
            f"this delta applies to bundle sequence {manifest.base.sequence}, not to the installed "
            f"snapshot (sequence {base.sequence}): install a full bundle"
        )
    by_digest: dict[tuple[Role, bytes], str] = {}
    parts: Counter[tuple[Role, str]] = Counter()
    digest_of: dict[str, bytes] = {}
    for role, text, digest in digested:
        by_digest[(role, digest)] = text
        parts[(role, text)] += 1
        digest_of[text] = digest
    reader = _Reader(raw)
    added: list[tuple[Role, str]] = []
    rebuilt = 0
    while not reader.done():
        kind = reader.byte()
        if kind in (ord("D"), ord("X")):
            role = _role(reader.byte())
            old = by_digest.get((role, reader.take(32)))
            if old is None or parts[(role, old)] == 0:
                raise MalformedInputError("a delta names a part the base snapshot does not hold")
            parts[(role, old)] -= 1
            if kind == ord("D"):
                old_split = _split_jws(old)
                if old_split is None:
                    raise MalformedInputError("a delta patches a part that is not a compact JWS")
                header, signature = reader.field(), reader.field()
                payload = _apply_ops(reader, old_split[1])
                rebuilt += len(payload)
                if rebuilt > MAX_BODY_BYTES:  # copies are cheap to write: bound what they make
                    raise InputTooLargeError(f"a delta rebuilds more than {MAX_BODY_BYTES} bytes in all")
                added.append((role, _join_jws(header, payload, signature)))
        else:
            added.append(_read_full(reader, kind))
    result = [part for part, n in parts.items() for _ in range(n)] + added
    keys = [role.encode("ascii") + (digest_of.get(text) or part_digest(text)) for role, text in result]
    return _checked(manifest, result, _state_of(keys))
