"""Load a bundle into an in-memory snapshot, verifying every signature up to the root.

One object through which all trust data passes, in a fixed order, as python-tuf's
trusted metadata set (docs/verifying.md, "Trust data"):

0. the root: the bundle's root rotation statements, walked forward from the **pinned** root
   version and keys to the version that signed the bundle (protocol/rootchain.py, TUF §5.3);
1. the bundle: size, then its signature by a key of that root version, before its payload
   is decoded or parsed;
2. the federation list: signed by a key of that root version, which it names
   (``rootVersion``, ``rootKeys``); it names the member registries, their keys and the lab
   ids each may list (``permittedLabIds``);
3. trust lists: each signer is found by kid among the members' keys and the signature
   checked before the payload is parsed; only the newest list of each registry is kept;
4. the binding rule: a lab listing is used only if its id lies in the names of exactly
   one member, the one that lists it (docs/formats.md, "Lab ids and name constraints");
5. status lists: signed by a key of the lab they name as issuer, at a URL inside that
   lab's id; only the newest list at each URL is kept.

A part that fails is **dropped and reported** (:attr:`Snapshot.skipped`); only a
failure of the bundle or the federation list, which everything hangs on, fails the
whole load. Keys are parsed once and indexed by kid, so verification parses no trust data.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, Generic, Literal, TypeVar

from protocol.bundle import (
    KIND_OF_TYP,
    MAGIC_PREFIX,
    MAX_BUNDLE_BYTES,
    MAX_MANIFEST_CHARS,
    TYP_BUNDLE,
    Bundle,
    Manifest,
    chain_digest,
    open_body,
    open_container,
    read_full,
)
from protocol.encoding import b64url_decode, format_time, loads_json_object
from protocol.errors import InputError, TrustDataError
from protocol.jws import MAX_JWS_CHARS, TYP_VC, ParsedJWS, parse_compact, verify_raw
from protocol.keys import VerifyKey
from protocol.lists import (
    TYP_FEDERATION_LIST,
    TYP_TRUST_LIST,
    FederationList,
    KeyRecord,
    Lab,
    Member,
    TrustList,
    key_set,
    status_at,
)
from protocol.names import NameIndex, is_lab_id, is_under
from protocol.reasons import ReasonCode
from protocol.status_list import SparseBits, StatusList

if TYPE_CHECKING:
    from protocol.rootchain import RootState

#: A list may be dated at most this long after the bundle that carries it was built (clocks
#: differ a little); later, it is dropped, so that no part can claim a version from the
#: future that would make every genuine later version look like a rollback.
FUTURE_TOLERANCE: Final = timedelta(hours=1)


SkipKind = Literal["invalid", "conflict"]


@dataclass(frozen=True, slots=True)
class Skipped:
    """A part of the bundle that was dropped, and why.

    ``invalid``: the part cannot be trusted (bad or revoked signature, malformed, two
    versions at once); certificates that depend on it **cannot be verified**.
    ``conflict``: a party spoke beyond its rights (a registry listing a lab outside its
    names, a lab signing another's list); its claim is ignored.
    """

    part: str
    reason: str
    kind: SkipKind = "invalid"

    def __str__(self) -> str:
        return f"{self.part}: {self.reason}"


@dataclass(frozen=True, slots=True)
class LabEntry:
    """A lab together with the member registry and trust list that vouch for it."""

    lab: Lab
    member: Member
    trust_list: TrustList


@dataclass(frozen=True, slots=True)
class KeyEntry:
    """One candidate signing key: its record and the lab it belongs to."""

    record: KeyRecord
    owner: LabEntry


@dataclass(frozen=True, slots=True)
class PartVersion:
    """The version of one part of a snapshot: a number that only grows, and a digest
    that tells two different contents at the same number apart (equivocation)."""

    version: str
    digest: str
    #: For a status list: the lab that issues it and that lab's registry.
    owner: str = ""
    registry: str = ""
    #: For a status list: every revocation (even) index ever seen set in it (revocation is
    #: final: a later list that clears such a bit does not un-revoke on a device that saw it).
    revoked: tuple[int, ...] = ()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"version": self.version, "digest": self.digest}
        if self.owner:
            out["owner"], out["registry"] = self.owner, self.registry
        if self.revoked:
            out["revoked"] = list(self.revoked)
        return out


@dataclass(frozen=True, slots=True)
class Versions:
    """Every part's version: what rollback protection compares (docs/verifying.md, "Rollback").

    Like TUF's snapshot role, it lists the version of each piece, so that no piece can
    go back or be swapped for another at the same version; a piece that is missing or
    unusable keeps its last version here while its owner is still in the federation.
    """

    federation: str
    bundle: int
    bundle_digest: str
    federation_list: int
    federation_digest: str
    trust_lists: dict[str, PartVersion]
    #: Keyed by :func:`status_key` (lab id and URL: one URL may lie under two nested lab ids).
    status_lists: dict[str, PartVersion]

    @classmethod
    def empty(cls) -> Versions:
        return cls("", -1, "", -1, "", {}, {})

    def to_json(self) -> dict[str, Any]:
        return {
            "federation": self.federation,
            "bundle": {"sequence": self.bundle, "digest": self.bundle_digest},
            "federationList": {"sequence": self.federation_list, "digest": self.federation_digest},
            "trustLists": {k: v.to_json() for k, v in sorted(self.trust_lists.items())},
            "statusLists": {k: v.to_json() for k, v in sorted(self.status_lists.items())},
        }

    @classmethod
    def from_json(cls, obj: Any) -> Versions:
        """Read back :meth:`to_json` (the store's own file); TrustDataError if damaged."""
        try:
            fed, bundle = obj["federationList"], obj["bundle"]

            def parts(name: str) -> dict[str, PartVersion]:
                return {
                    str(k): PartVersion(
                        str(v["version"]),
                        str(v["digest"]),
                        str(v.get("owner", "")),
                        str(v.get("registry", "")),
                        tuple(int(i) for i in v.get("revoked", ())),
                    )
                    for k, v in obj[name].items()
                }

            return cls(
                str(obj["federation"]),
                int(bundle["sequence"]),
                str(bundle["digest"]),
                int(fed["sequence"]),
                str(fed["digest"]),
                parts("trustLists"),
                parts("statusLists"),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise TrustDataError("the stored version record is damaged") from exc


@dataclass(slots=True)
class Snapshot:
    """Verified trust data, ready for offline verification.

    Loaded from a bundle, every map is an in-memory dict; opened from an installed index
    (verifier/_index.py), the large maps answer lookups from disk (their contents are the same).
    """

    bundle: Bundle
    #: The keys of the root version that signed the bundle (after any rotation walked).
    root_keys: tuple[VerifyKey, ...]
    federation: FederationList
    trust_lists: dict[str, TrustList] = field(default_factory=dict)
    labs: MutableMapping[str, LabEntry] = field(default_factory=dict)
    keys_by_kid: MutableMapping[str, list[KeyEntry]] = field(default_factory=dict)
    #: Status lists by (issuer lab id, list URL).
    status_lists: MutableMapping[tuple[str, str], StatusList] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)
    #: kid -> the dropped part that listed it: a certificate signed with it cannot be
    #: verified (``invalid``) or is signed by a key no registry may vouch for (``conflict``).
    dropped_kids: MutableMapping[str, Skipped] = field(default_factory=dict)
    #: (lab id, list URL) -> why the lab's list at that URL was dropped.
    dropped_status: MutableMapping[tuple[str, str], Skipped] = field(default_factory=dict)
    #: Lab ids whose listing is in the bundle but was dropped (or whose trust list was):
    #: the store keeps their status lists' versions, as for a lab still listed.
    dropped_labs: set[str] = field(default_factory=set)
    #: (lab id, URL) -> revocation indices a device saw set before (the store fills this in:
    #: revocation is final, docs/verifying.md "Rollback and freeze").
    revoked_before: MutableMapping[tuple[str, str], frozenset[int]] = field(default_factory=dict)
    #: Which member may list which lab id (built once, from the federation list).
    names: NameIndex[Member] = field(default_factory=lambda: NameIndex(()))
    versions: Versions = field(default_factory=lambda: Versions.empty())
    #: How many parts were dropped (``skipped`` may hold only the first ones of an index).
    skipped_count: int = -1
    #: Signature checks this load did or reused (what the index remembers for the next one).
    verified: set[str] = field(default_factory=set)
    #: The index the large maps are read from, if any (verifier/_index.py).
    index: Any = None
    #: Each bound lab's listing as its registry's JSON had it (what an index stores).
    lab_json: dict[str, Any] = field(default_factory=dict)
    #: Each usable trust list's labs as JSON, in order (by registry).
    trust_json: dict[str, list[Any]] = field(default_factory=dict)
    #: The root version of :attr:`root_keys`, and the version the device trusted before
    #: this bundle (the same unless the bundle rotated the root).
    root_version: int = 1
    pinned_version: int = 1

    def members_without_trust_list(self) -> list[Member]:
        """Active members whose trust list this snapshot lacks or could not use: their labs'
        certificates cannot be verified with it."""
        return [
            m
            for m in self.federation.registries
            if m.id not in self.trust_lists and status_at(m.status, self.created_at) == "active"
        ]

    @property
    def created_at(self) -> datetime:
        return self.bundle.created_at

    @property
    def sequence(self) -> int:
        return self.bundle.sequence

    @property
    def skipped_total(self) -> int:
        return len(self.skipped) if self.skipped_count < 0 else self.skipped_count

    def status_list(self, issuer: str, url: str) -> StatusList | None:
        return self.status_lists.get((issuer, url))

    def expires_at(self) -> datetime:
        """The earliest expiry of the federation list and every trust list."""
        times = [self.federation.expires_at, *(tl.expires_at for tl in self.trust_lists.values())]
        return min(times)

    def lab_counts(self) -> dict[str, int]:
        """Usable labs per registry."""
        if self.index is not None:
            return dict(self.index.lab_counts())
        counts: dict[str, int] = {}
        for entry in self.labs.values():
            counts[entry.member.id] = counts.get(entry.member.id, 0) + 1
        return counts

    def status_validity(self) -> list[tuple[str, datetime | None]]:
        """(URL, validUntil) of every usable status list."""
        if self.index is not None:
            return list(self.index.status_validity())
        return [(sl.url, sl.valid_until) for sl in self.status_lists.values()]


def status_key(issuer: str, url: str) -> str:
    """How the version record names a status list: its lab id and URL."""
    return f"{issuer} {url}"


def _digest(parsed: ParsedJWS) -> str:
    """A digest of what is signed (header and payload), independent of signature randomness."""
    return hashlib.sha256(parsed.signing_input).hexdigest()[:32]


def _parse(token: str, typ: str, what: str, *, max_chars: int = MAX_JWS_CHARS) -> ParsedJWS:
    """Split a signed object once, leaving its payload encoded until its signature is checked."""
    try:
        return parse_compact(token, expected_typ=typ, max_chars=max_chars, decode_payload=False)
    except InputError as exc:
        raise TrustDataError(f"{what} is malformed: {exc}") from exc


def _signed_by(parsed: ParsedJWS, keys: Iterable[VerifyKey]) -> VerifyKey | None:
    """The key among ``keys`` (matched by kid, each tried) whose signature ``parsed`` carries."""
    for key in keys:
        if key.kid == parsed.kid and verify_raw(parsed, key):
            return key
    return None


class _Checker:
    """Signature checks, remembered by a token over exactly what was checked (signing input,
    signature and public key), and run on every core when there are many."""

    #: Below this many checks a process pool costs more than it saves.
    PARALLEL_FROM: Final = 4000

    def __init__(self, known: set[str], seen: set[str]) -> None:
        self.known, self.seen = known, seen

    def verify(self, parsed: ParsedJWS, key: VerifyKey) -> bool:
        if parsed.alg != key.alg:
            return False
        text = _key_text(key.jwk) or ""
        if _token(parsed, text) in self.known or verify_raw(parsed, key):
            self.remember(parsed, text)
            return True
        return False

    def start_status_lists(self, parsed: Sequence[ParsedJWS], keys: Mapping[str, list[str]]) -> _StatusRun:
        """Start checking and decoding many status lists (on every core when there are many)
        while the caller goes on binding labs. ``keys`` maps each kid to the texts of every
        key listed under it by a verified trust list: a superset of the keys the binding will
        keep, so that each list's result can be matched to the kept keys afterwards."""
        jobs: list[_StatusJob] = []
        for p in parsed:
            candidates = [(text, _token(p, text) in self.known) for text in keys.get(p.kid, ())]
            jobs.append((p.alg, p.signature, p.signing_input, candidates))
        return _StatusRun(jobs, self.PARALLEL_FROM)

    def remember(self, parsed: ParsedJWS, key_text: str) -> None:
        token = _token(parsed, key_text)
        self.known.add(token)
        self.seen.add(token)


def _token(parsed: ParsedJWS, key_text: str) -> str:
    """What a remembered signature check is filed under: exactly the signing input, the
    signature and the public key."""
    digest = hashlib.sha256(parsed.signing_input + b"." + parsed.signature + key_text.encode())
    return digest.hexdigest()[:40]


#: The members that make a public key (RFC 7638), in the order :func:`_key_text` joins them.
_KEY_MEMBERS: Final = ("kty", "crv", "x", "y")


def _key_text(jwk: Mapping[str, Any]) -> str | None:
    """A public key's identity as text: its RFC 7638 members joined by ``|`` (which no valid
    member contains); None if one is not text."""
    values = [jwk.get(m, "") for m in _KEY_MEMBERS]
    if not all(isinstance(v, str) for v in values):
        return None
    return "|".join(values)


def _key_of(text: str) -> VerifyKey:
    """Inverse of :func:`_key_text` (raises InputError for what is no usable key)."""
    values = text.split("|")
    jwk = {m: v for m, v in zip(_KEY_MEMBERS, values, strict=False) if v}
    return VerifyKey.from_jwk(jwk)


class _StatusRun:
    """Status list checks under way: in worker processes (forked) or, for a few, in-process."""

    def __init__(self, jobs: list[_StatusJob], parallel_from: int) -> None:
        self.jobs = jobs
        self.pool: Any = None
        self.futures: list[Any] = []
        workers = min(os.cpu_count() or 1, 8)
        if len(jobs) < parallel_from or workers < 2:
            return
        import multiprocessing as mp  # only large installs come here
        from concurrent.futures import ProcessPoolExecutor

        if "fork" not in mp.get_all_start_methods():
            return
        size = max(200, min(2000, len(jobs) // (workers * 8) or 1))
        try:
            self.pool = ProcessPoolExecutor(
                workers, mp_context=mp.get_context("fork"), initializer=_worker_ignores_ctrl_c
            )
            self.futures = [
                self.pool.submit(_status_batch, jobs[i : i + size]) for i in range(0, len(jobs), size)
            ]
        except (OSError, RuntimeError):  # no processes here (a sandbox, a limit): do it in-process
            self.close()

    def results(self) -> list[_StatusResult]:
        try:
            if self.futures:
                return [r for f in self.futures for r in f.result()]
            return _status_batch(self.jobs)
        finally:
            self.close()

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
        self.pool, self.futures = None, []


#: One status list to check: header alg, signature, signing input, and each candidate key
#: (its JWK as JSON, and whether this exact signature was verified with it before).
_StatusJob = tuple[str, bytes, bytes, list[tuple[str, bool]]]
#: What a worker found: the candidate keys (texts) that verify, then the list's content (url,
#: issuer, purposes, size, set bits, validFrom, validUntil), or why it is malformed, or None if
#: nothing verified (then the content was never decoded).
_StatusContent = tuple[str, str, tuple[str, ...], int, tuple[int, ...], datetime, datetime | None]
_StatusResult = tuple[list[str], _StatusContent | str | None]
_WORKER_KEYS: dict[str, VerifyKey] = {}


def _status_job(job: _StatusJob) -> _StatusResult:
    """Verify one status list against its candidates; decode it only if one verifies."""
    alg, signature, signing_input, candidates = job
    verified: list[str] = []
    for jwk, known in candidates:  # each text once: _listed_keys keeps one of each per kid
        key = _WORKER_KEYS.get(jwk)
        if key is None:
            try:
                key = _WORKER_KEYS[jwk] = _key_of(jwk)
            except InputError:  # not a usable key: the binding drops its lab anyway
                continue
        if key.alg == alg and (known or key.verify(signature, signing_input)):
            verified.append(jwk)
    if not verified:
        return verified, None
    try:
        payload = b64url_decode(signing_input[signing_input.index(b".") + 1 :])
        sl = StatusList.from_credential(loads_json_object(payload, "status list"))
    except InputError as exc:
        return verified, f"malformed: {exc}"
    content = (
        sl.url,
        sl.issuer,
        sl.purposes,
        len(sl.bits),
        sl.bits.set_indices(),
        sl.valid_from,
        sl.valid_until,
    )
    return verified, content


def _worker_ignores_ctrl_c() -> None:
    """Ctrl-C is the installing process's to handle: it stops the pool and says so once."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _status_batch(jobs: list[_StatusJob]) -> list[_StatusResult]:
    return [_status_job(job) for job in jobs]


def _from_the_future(issued: datetime, built: datetime) -> str | None:
    if issued > built + FUTURE_TOLERANCE:
        return f"issued {format_time(issued)}, after the bundle that carries it was built"
    return None


def _payload(parsed: ParsedJWS, what: str) -> dict[str, Any]:
    try:
        return parsed.payload_json()
    except InputError as exc:
        raise TrustDataError(f"{what} is malformed: {exc}") from exc


def load_bundle(
    data: bytes | str, *, pinned_roots: Iterable[VerifyKey], pinned_version: int | None = None
) -> Snapshot:
    """Verify and index a full bundle against the pinned federation root key(s), of root
    version ``pinned_version`` (None: the version the bundle's root chain gives those keys,
    else 1), walking the bundle's root rotations forward first.

    Raises :class:`TrustDataError` when the bundle or its federation list cannot be used
    (with ``code`` TRUST_DATA_MISSING when no root is pinned); any other bad part is
    dropped and reported in :attr:`Snapshot.skipped`.
    """
    roots = _pinned(pinned_roots)
    manifest, body, root, pinned = open_manifest(data, roots, pinned_version=pinned_version)
    if manifest.base is not None:
        raise TrustDataError(
            f"this is a delta bundle (from sequence {manifest.base.sequence}): install it with "
            "yilu trust install onto the snapshot it updates"
        )
    snap = load_snapshot(
        read_body(manifest, body), root.keys, state=manifest.state, root_version=root.version
    )
    snap.pinned_version = pinned
    return snap


def _pinned(pinned_roots: Iterable[VerifyKey]) -> tuple[VerifyKey, ...]:
    roots = tuple(pinned_roots)
    if not roots:
        raise TrustDataError(
            "no federation root key is pinned: a bundle proves nothing without one",
            code=ReasonCode.TRUST_DATA_MISSING,
        )
    return roots


def open_manifest(
    data: bytes | str,
    roots: Sequence[VerifyKey],
    *,
    pinned_version: int | None = None,
    federation: str | None = None,
) -> tuple[Manifest, bytes, RootState, int]:
    """Check a bundle file's size, walk its root rotations forward from the pinned root
    (``roots`` at ``pinned_version``; None: the version the chain gives them, else 1) and
    check its manifest's signature by the root version reached, before anything else of it
    is read; return the manifest, the (compressed) body, the root reached and the version
    the walk started from.

    ``federation`` is the federation the device already holds data of, if any: every
    rotation must be of it (else of the federation the first rotation names)."""
    # Install-time only: `yilu verify` never walks a chain, so it does not import it.
    from protocol.rootchain import chain_federation, version_of, walk_root_chain

    if len(data) > MAX_BUNDLE_BYTES:
        raise TrustDataError(f"this file is larger than any bundle ({MAX_BUNDLE_BYTES} bytes at most)")
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else bytes(data)
    try:
        chain, manifest_text, body = open_container(raw)
    except InputError as exc:
        raise TrustDataError(_what_file(raw)) from exc
    parsed = _parse_manifest(manifest_text)
    if federation is None:
        federation = chain_federation(chain)
    version = version_of(roots, chain, federation) if pinned_version is None else pinned_version
    root = walk_root_chain(roots, version, chain, federation)
    if _signed_by(parsed, root.keys) is None:
        trusted = ", ".join(sorted({k.kid for k in root.keys}))
        if parsed.kid not in {k.kid for k in root.keys}:
            if root.version > version or chain:
                raise TrustDataError(
                    f"this bundle is signed by root key {parsed.kid!r}, not by a key of root version "
                    f"{root.version} ({trusted}), the last its root rotations lead to: the bundle does not "
                    f"carry the root rotation from version {root.version}; ask your agency for a current "
                    "bundle"
                )
            raise TrustDataError(
                f"this bundle is signed by root key {parsed.kid!r}, not by your pinned federation root "
                f"({trusted}): it belongs to another federation, or the pinned root is wrong, or the bundle "
                f"does not carry the root rotation from version {root.version} (ask your agency for a "
                "current bundle)"
            )
        raise TrustDataError("the bundle's signature does not verify: the file was damaged or altered")
    try:
        manifest = Manifest.from_json(_payload(parsed, "the bundle"))
    except InputError as exc:
        raise TrustDataError(f"the bundle is malformed: {exc}") from exc
    if manifest.root_version != root.version or manifest.root_chain != chain_digest(chain):
        raise TrustDataError(
            "the bundle's root rotations do not match what its manifest signs: the file was damaged "
            "or altered"
        )
    if chain and manifest.federation != federation:
        raise TrustDataError(
            f"the bundle's root rotations are of federation {federation!r}, the bundle of "
            f"{manifest.federation[:120]!r}: ask your agency for a current bundle"
        )
    return manifest, body, root, version


def read_body(manifest: Manifest, body: bytes) -> Bundle:
    """The snapshot a full bundle holds (its manifest already verified)."""
    try:
        return read_full(manifest, open_body(manifest, body))
    except InputError as exc:
        raise TrustDataError(f"the bundle is malformed: {exc}") from exc


def _what_file(raw: bytes) -> str:
    """A plain message for a file that is not a version 2 bundle: say what it is if we can."""
    if raw.startswith(MAGIC_PREFIX):
        return "this is a bundle of another format version: ask your agency for a current one"
    try:
        text = raw.decode("ascii").strip()
        parsed = parse_compact(text, max_chars=MAX_BUNDLE_BYTES, decode_payload=False)
    except (UnicodeDecodeError, InputError):
        return "this file is not a Yilu bundle"
    found = parsed.header.get("typ")
    if found == TYP_BUNDLE:
        return "this is a bundle of an older format (version 1): ask your agency for a current one"
    kind = KIND_OF_TYP.get(found) if isinstance(found, str) else None
    return f"this file is {kind}, not a bundle" if kind else "this file is not a Yilu bundle (wrong typ)"


def load_snapshot(
    bundle: Bundle,
    roots: Sequence[VerifyKey],
    *,
    state: str,
    known: Iterable[str] = (),
    root_version: int,
) -> Snapshot:
    """Verify and index every part of ``bundle`` (whose integrity the caller checked against
    the manifest's ``state`` digest, which names the snapshot in the version record) from
    ``roots``, the keys of root version ``root_version`` (the walk of :func:`open_manifest`).

    ``known`` are signature checks an earlier install did (:attr:`Snapshot.verified`): a
    part whose exact bytes were verified with the same key is not verified again, so that
    a delta costs what changed, not the whole federation.
    """
    federation, fed_digest = _load_federation(bundle, roots, root_version)
    snap = Snapshot(bundle, tuple(roots), federation, root_version=root_version, pinned_version=root_version)
    checker = _Checker(set(known), snap.verified)
    signed = _verify_trust_lists(snap, bundle.trust_lists, checker)
    # Status lists are checked (in worker processes when there are many) while the trust
    # lists are parsed and their labs bound: against every key a verified trust list names.
    parsed = _parse_status_lists(bundle.status_lists)
    run = checker.start_status_lists([p for _, p in parsed if isinstance(p, ParsedJWS)], _listed_keys(signed))
    try:
        trust_versions = _load_trust_lists(snap, signed)
        _bind_labs(snap)
        status_versions = _load_status_lists(snap, parsed, run.results(), checker)
    finally:
        run.close()
    snap.versions = Versions(
        federation.federation,
        bundle.sequence,
        state,
        federation.sequence,
        fed_digest,
        trust_versions,
        status_versions,
    )
    return snap


def _parse_manifest(text: str) -> ParsedJWS:
    try:
        parsed = parse_compact(text, max_chars=MAX_MANIFEST_CHARS)
    except InputError as exc:
        raise TrustDataError(f"this file is not a Yilu bundle ({exc})") from exc
    if parsed.header.get("typ") != TYP_BUNDLE:
        raise TrustDataError("this file is not a Yilu bundle (wrong typ)")
    return parsed


def _load_federation(
    bundle: Bundle, roots: Sequence[VerifyKey], root_version: int
) -> tuple[FederationList, str]:
    parsed = _parse(bundle.federation_list, TYP_FEDERATION_LIST, "the federation list")
    if _signed_by(parsed, roots) is None:
        raise TrustDataError(
            f"the federation list is not signed by a key of root version {root_version}, which signed "
            "the bundle: ask your agency for a current bundle"
        )
    try:
        federation = FederationList.from_json(_payload(parsed, "the federation list"))
    except InputError as exc:
        raise TrustDataError(f"the federation list is malformed: {exc}") from exc
    # Signed by one of its own rootKeys: those of the version the bundle's chain reached.
    if federation.root_version != root_version or key_set(federation.root_keys) != key_set(roots):
        raise TrustDataError(
            f"the federation list names root version {federation.root_version} and its keys, but root "
            f"version {root_version} signed the bundle: ask your agency for a current bundle"
        )
    if federation.federation != bundle.federation:
        raise TrustDataError(
            f"the bundle says federation {bundle.federation!r} "
            f"but holds the list of {federation.federation!r}"
        )
    ids = [m.id for m in federation.registries]
    if len(set(ids)) != len(ids):
        raise TrustDataError("the federation list names a member registry twice")
    return federation, _digest(parsed)


# -- trust lists -----------------------------------------------------------------------------


P = TypeVar("P")
V = TypeVar("V", int, datetime)


@dataclass(frozen=True, slots=True)
class _Candidate(Generic[P]):
    """One verified version of a part, and the digest of what was signed."""

    part: P
    digest: str
    #: The part's JSON (what an index stores without serialising it again).
    raw: Any = None


def _newest(found: Iterable[_Candidate[P]], version: Callable[[P], V]) -> tuple[V, list[_Candidate[P]]]:
    """The highest version among ``found`` and its distinct contents: one means the part to
    keep; more than one means its owner signed two versions as one (equivocation)."""
    candidates = list(found)
    newest = max(version(c.part) for c in candidates)
    top = {c.digest: c for c in candidates if version(c.part) == newest}
    return newest, list(top.values())


_Signed = tuple[str, Member, KeyRecord, ParsedJWS, dict[str, Any]]


def _verify_trust_lists(snap: Snapshot, tokens: Sequence[str], checker: _Checker) -> list[_Signed]:
    """Every trust list a member's key verifies, with its payload read (not yet checked)."""
    members = snap.federation.registries
    out: list[_Signed] = []
    for i, token in enumerate(tokens):
        what = f"trust list #{i + 1}"
        try:
            parsed = _parse(token, TYP_TRUST_LIST, what)
        except TrustDataError as exc:
            snap.skipped.append(Skipped(what, str(exc)))
            continue
        signer = next(
            (
                (m, record)
                for m in members
                for record in m.keys
                if record.kid == parsed.kid and checker.verify(parsed, record.key)
            ),
            None,
        )
        if signer is None:
            _drop_unverified_trust_list(snap, parsed, what)
            continue
        member, record = signer
        what = f"trust list of {member.accreditation_body} ({member.id})"
        try:
            out.append((what, member, record, parsed, _payload(parsed, what)))
        except TrustDataError as exc:
            snap.skipped.append(Skipped(what, f"malformed: {exc}"))
    return out


def _listed_keys(signed: Sequence[_Signed]) -> dict[str, list[str]]:
    """kid -> the text of every key the verified trust lists name under it (read, not yet
    checked: a superset of the keys binding keeps)."""
    out: dict[str, list[str]] = {}
    for *_, payload in signed:
        labs = payload.get("labs")
        for lab in labs if isinstance(labs, list) else ():
            keys = lab.get("keys") if isinstance(lab, dict) else None
            for key in keys if isinstance(keys, list) else ():
                jwk = key.get("jwk") if isinstance(key, dict) else None
                text = _key_text(jwk) if isinstance(jwk, dict) else None
                kid = key.get("kid")
                if text is not None and isinstance(kid, str) and text not in out.setdefault(kid, []):
                    out[kid].append(text)
    return out


def _load_trust_lists(snap: Snapshot, signed: Sequence[_Signed]) -> dict[str, PartVersion]:
    """Check each verified trust list; keep the newest of each member (docs/verifying.md, "Trust data")."""
    by_member: dict[str, list[_Candidate[TrustList]]] = {}
    for what, member, record, parsed, payload in signed:
        try:
            trust_list = TrustList.from_json(payload)
        except InputError as exc:
            snap.skipped.append(Skipped(what, f"malformed: {exc}"))
            continue
        problem = record.unusable_at(trust_list.issued_at) or _from_the_future(
            trust_list.issued_at, snap.bundle.created_at
        )
        if trust_list.registry != member.id:
            snap.skipped.append(
                Skipped(
                    what,
                    f"signed by {member.id} but claims to be the list of {trust_list.registry}",
                    "conflict",
                )
            )
            continue
        if problem is None and trust_list.country != member.country:
            problem = f"claims country {trust_list.country}, the federation list says {member.country}"
        if problem is not None:
            skip = Skipped(what, problem)
            snap.skipped.append(skip)
            _drop_labs(snap, trust_list.labs, skip)
            continue
        by_member.setdefault(member.id, []).append(
            _Candidate(trust_list, _digest(parsed), payload.get("labs"))
        )

    versions: dict[str, PartVersion] = {}
    for member_id, candidates in by_member.items():
        newest, top = _newest(candidates, lambda tl: tl.sequence)
        chosen = top[0]
        if len(top) > 1:
            skip = Skipped(
                f"trust list of {chosen.part.accreditation_body} ({member_id})",
                f"two different lists with sequence {newest}: the registry must publish one",
            )
            snap.skipped.append(skip)
            for c in top:
                _drop_labs(snap, c.part.labs, skip)
            continue
        snap.trust_lists[member_id] = chosen.part
        snap.trust_json[member_id] = chosen.raw
        versions[member_id] = PartVersion(str(newest), chosen.digest)
    return versions


def _drop_unverified_trust_list(snap: Snapshot, parsed: ParsedJWS, what: str) -> None:
    """Report a trust list no member key verifies; note its keys so that their certificates
    are reported as unverifiable rather than as unknown (never as accepted)."""
    try:
        claimed = TrustList.from_json(parsed.payload_json())
    except InputError:
        snap.skipped.append(Skipped(what, "not signed by a key of any member registry"))
        return
    known = any(m.id == claimed.registry for m in snap.federation.registries)
    if not known:
        snap.skipped.append(
            Skipped(what, f"registry {claimed.registry} is not a federation member", "conflict")
        )
        return
    skip = Skipped(
        f"trust list of {claimed.registry}", "its signature does not verify with the member's keys"
    )
    snap.skipped.append(skip)
    _drop_labs(snap, claimed.labs, skip)


def _drop_labs(snap: Snapshot, labs: Iterable[Lab], skip: Skipped) -> None:
    """Note labs whose listing was dropped: their keys (for an honest UNKNOWN_KEY or
    unverifiable) and their ids (so that the store keeps their status lists' versions)."""
    for lab in labs:
        snap.dropped_labs.add(lab.id)
        for record in lab.keys:
            snap.dropped_kids.setdefault(record.kid, skip)


def _bind_labs(snap: Snapshot) -> None:
    """Apply the binding rule: each lab id belongs to exactly one member (its names)."""
    members = snap.federation.registries
    index = snap.names = NameIndex((m, m.permitted_lab_ids) for m in members)
    for member_id, trust_list in snap.trust_lists.items():
        member = next(m for m in members if m.id == member_id)
        counts: dict[str, int] = {}
        for lab in trust_list.labs:
            counts[lab.id] = counts.get(lab.id, 0) + 1
        # Each lab's JSON, in order: TrustList.from_json read one lab from each entry of it.
        raw = snap.trust_json[member_id]
        for i, lab in enumerate(trust_list.labs):
            part = f"listing of lab {lab.id[:120]} by {member.accreditation_body}"
            owners = index.owners(lab.id)
            skip: Skipped | None = None
            if not is_lab_id(lab.id):
                skip = Skipped(part, "the lab id is not a canonical https URI", "conflict")
            elif member not in owners:
                skip = Skipped(
                    part,
                    f"{member.accreditation_body} may not list this lab: it is outside the lab ids the "
                    "federation list permits that registry",
                    "conflict",
                )
            elif len(owners) > 1:
                skip = Skipped(
                    part,
                    "the lab id lies within the names of several registries "
                    f"({', '.join(m.accreditation_body for m in owners)}): "
                    "the federation list must give it to one",
                )
            elif counts[lab.id] > 1:
                skip = Skipped(part, "the trust list names this lab more than once")
            if skip is not None:
                snap.skipped.append(skip)
                _drop_labs(snap, (lab,), skip)
                continue
            entry = LabEntry(lab, member, trust_list)
            snap.labs[lab.id] = entry
            snap.lab_json[lab.id] = raw[i]
            for record in lab.keys:
                snap.keys_by_kid.setdefault(record.kid, []).append(KeyEntry(record, entry))
    # A kid that is usable somewhere is not "dropped" (a shared kid: the usable key is tried).
    for kid in list(snap.dropped_kids):
        if kid in snap.keys_by_kid:
            del snap.dropped_kids[kid]


# -- status lists ----------------------------------------------------------------------------


def _parse_status_lists(tokens: Sequence[str]) -> list[tuple[str, ParsedJWS | TrustDataError]]:
    out: list[tuple[str, ParsedJWS | TrustDataError]] = []
    for i, token in enumerate(tokens):
        what = f"status list #{i + 1}"
        try:
            out.append((what, _parse(token, TYP_VC, what)))
        except TrustDataError as exc:
            out.append((what, exc))
    return out


def _load_status_lists(
    snap: Snapshot,
    parsed_all: Sequence[tuple[str, ParsedJWS | TrustDataError]],
    checked: Sequence[_StatusResult],
    checker: _Checker,
) -> dict[str, PartVersion]:
    by_url: dict[tuple[str, str], list[_Candidate[StatusList]]] = {}
    # The signature first: only a list that some listed lab key verifies was decoded.
    results = iter(checked)
    for what, parsed in parsed_all:
        if isinstance(parsed, TrustDataError):
            snap.skipped.append(Skipped(what, str(parsed)))
            continue
        verified, content = next(results)
        for text in verified:
            checker.remember(parsed, text)
        # Of the keys that verify, those the binding kept (a dropped lab's key counts for nothing).
        candidates = [
            c for c in snap.keys_by_kid.get(parsed.kid, []) if _key_text(c.record.key.jwk) in verified
        ]
        if not candidates or content is None:
            _drop_unverified_status_list(snap, parsed, what)
            continue
        if isinstance(content, str):
            snap.skipped.append(Skipped(what, content))
            continue
        url, issuer, purposes, size, bits, valid_from, valid_until = content
        status_list = StatusList(url, issuer, purposes, SparseBits(size, bits), valid_from, valid_until)
        key = (status_list.issuer, status_list.url)
        what = f"status list {status_list.url[:160]}"
        records = [c.record for c in candidates if c.owner.lab.id == status_list.issuer]
        if not records:
            signer = candidates[0].owner.lab
            snap.skipped.append(
                Skipped(
                    what,
                    f"signed by a key of {signer.id} but names the issuer {status_list.issuer[:120]}",
                    "conflict",
                )
            )
            continue
        if not is_under(status_list.url, status_list.issuer):
            snap.skipped.append(
                Skipped(what, f"its URL is not inside its lab's id {status_list.issuer}", "conflict")
            )
            continue
        future = _from_the_future(status_list.valid_from, snap.bundle.created_at)
        if future is not None:
            _drop_status(snap, key, Skipped(what, future))
            continue
        problems = [r.unusable_at(status_list.valid_from) for r in records]
        if all(p is not None for p in problems):
            _drop_status(snap, key, Skipped(what, str(problems[0])))
            continue
        if status_list.valid_until is not None and status_list.valid_until < status_list.valid_from:
            _drop_status(snap, key, Skipped(what, "its validUntil is before its validFrom"))
            continue
        by_url.setdefault(key, []).append(_Candidate(status_list, _digest(parsed)))

    versions: dict[str, PartVersion] = {}
    for key, found in by_url.items():
        newest_from, top = _newest(found, lambda sl: sl.valid_from)
        if len(top) > 1:
            _drop_status(
                snap,
                key,
                Skipped(
                    f"status list {key[1][:160]}",
                    f"two different lists issued at {format_time(newest_from)}: the lab must publish one",
                ),
            )
            continue
        chosen = top[0].part
        snap.status_lists[key] = chosen
        snap.dropped_status.pop(key, None)
        revoked = chosen.revoked_indices()  # even set bits only: suspensions may be lifted
        versions[status_key(*key)] = PartVersion(
            format_time(newest_from), top[0].digest, key[0], snap.labs[key[0]].member.id, revoked
        )
    return versions


def _drop_unverified_status_list(snap: Snapshot, parsed: ParsedJWS, what: str) -> None:
    """Report a status list no listed lab key verifies. The lab it names (read, not trusted,
    from its JSON; its bits are never decoded) then shows STATUS_UNAVAILABLE with the reason."""
    try:
        claimed = parsed.payload_json()
    except InputError:
        claimed = {}
    issuer, url = claimed.get("issuer"), claimed.get("id")
    owner = snap.labs.get(issuer) if isinstance(issuer, str) else None
    if owner is None or not isinstance(url, str) or not is_under(url, owner.lab.id):
        snap.skipped.append(Skipped(what, f"not signed by a key of any listed lab (kid {parsed.kid[:20]!r})"))
        return
    _drop_status(
        snap, (owner.lab.id, url), Skipped(f"status list {url}", f"not signed by a key of {owner.lab.id}")
    )


def _drop_status(snap: Snapshot, key: tuple[str, str], skip: Skipped) -> None:
    snap.skipped.append(skip)
    snap.dropped_status.setdefault(key, skip)
