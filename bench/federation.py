"""A synthetic federation of N labs, built in bulk with the protocol objects directly.

Ten member registries, N labs spread over them (names in English and Chinese or
Russian, accreditation numbers, one to three scopes, a status history, two keys each:
a current one and an older one), each lab's status lists signed by its current key,
trust lists signed by the registry keys, a federation list with ``permittedLabIds``
and agreements signed by the root, and the bundle signed by the root. Everything is
seeded, so the same N gives the same federation (ES256 signatures aside).

It deliberately does not go through the command line or file-based registries (that
would take hours at 120,000 labs). Two formats are changing while this is written, so
each has exactly one function here to swap:

* :func:`make_status_lists` -- one lab's status list token(s);
* :func:`make_bundle` -- the bundle bytes from the signed parts;

and a delta builder plugs in as :func:`make_delta`.

Run ``python -m bench.federation N`` to build (or reuse) the cached federation of N labs
under ``bench/.cache/``.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from protocol import yl1
from protocol.bundle import Bundle, Encoding, encode_records
from protocol.bundle import make_delta as bundle_delta
from protocol.credential import build_credential, certificate_id, status_entries
from protocol.encoding import dumps_compact, format_time
from protocol.jws import TYP_VC, sign_compact
from protocol.keys import SigningKey
from protocol.lists import (
    Agreement,
    FederationList,
    KeyRecord,
    Lab,
    Member,
    Scope,
    StatusEvent,
    TrustList,
)
from protocol.names import NamePattern
from protocol.status_list import MIN_BITS, MIN_SLOTS, Bitstring, StatusList, slot_indices
from protocol.vocabulary import COUNTRIES, SCOPES

#: Changes whenever what the builder writes changes (status list or bundle format): a
#: cached federation is only reused under the same tag.
FORMAT_TAG: Final = "sl1-ylb3-1"
CACHE: Final = Path(__file__).parent / ".cache"
REFERENCE: Final = Path(__file__).resolve().parents[1] / "tests" / "data" / "green-tea-8.json"

#: The reference time of every synthetic federation: lists are valid 30 days from here.
NOW: Final = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
#: When the daily update is built and installed.
NEXT_DAY: Final = NOW + timedelta(days=1)
#: When the sample certificate is scanned.
SCAN_AT: Final = NOW + timedelta(hours=2)
FEDERATION_ID: Final = "https://federation.example"
#: Member countries (ISO 3166-1 alpha-2, as protocol.vocabulary checks them).
MEMBERS: Final = ("CN", "RU", "KZ", "UZ", "KG", "TJ", "PK", "IN", "IR", "MN")
#: Share of the labs per member (CN and RU have most labs).
WEIGHTS: Final = (30, 20, 10, 8, 5, 4, 7, 8, 5, 3)
#: The inspector's country, and the member and scope of the sample certificate.
INSPECTOR: Final = "KZ"
CERT_COUNTRY: Final = "CN"
ES256_SHARE: Final = 0.1
#: Revoked certificates per lab, drawn from these (mean 1.4).
_REVOKED_PER_LAB: Final = (0, 0, 0, 1, 1, 2, 3, 4)
LIST_VALIDITY: Final = timedelta(days=30)
SAMPLE_INDEX: Final = 2121  # a slot: bits 4242 and 4243

assert all(cc in COUNTRIES for cc in MEMBERS)

_EN = (
    "Central",
    "Northern",
    "Harbour",
    "Provincial",
    "Industrial",
    "Agricultural",
    "Customs",
    "Inspection",
    "Quality",
    "Metrology",
    "Standards",
    "Analytical",
)
_ZH = ("中心", "检验", "检测", "质量", "计量", "标准", "分析", "海关", "农业", "工业", "技术", "研究")
_RU = (
    "Центр",
    "Испытательный",
    "Региональный",
    "Аналитический",
    "Таможенный",
    "Научный",
    "Технический",
    "Промышленный",
    "Аграрный",
    "Метрологический",
    "Отраслевой",
    "Городской",
)
_BODIES: Final = {
    "CN": "CNAS",
    "RU": "RusAccreditation",
    "KZ": "NCA KZ",
    "UZ": "O'zAkkreditatsiya",
    "KG": "KCA",
    "TJ": "TajikStandard",
    "PK": "PNAC",
    "IN": "NABL",
    "IR": "NACI",
    "MN": "MASM",
}


def registry_id(cc: str) -> str:
    return f"https://registry.example.{cc.lower()}"


def lab_pattern(cc: str) -> NamePattern:
    return NamePattern(f"https://*.labs.example.{cc.lower()}")


@dataclass
class LabSpec:
    """One lab as the builder keeps it: what its registry lists and what the lab signs."""

    id: str
    country: str
    names: dict[str, str]
    number: str
    scopes: tuple[str, ...]
    status: tuple[StatusEvent, ...]
    key: SigningKey
    key_from: datetime
    old_key: SigningKey
    old_from: datetime
    old_revoked: bool
    revoked: frozenset[int] = frozenset()
    suspended: frozenset[int] = frozenset()
    lists_from: datetime = NOW - timedelta(hours=1)

    def records(self) -> tuple[KeyRecord, ...]:
        old = KeyRecord(
            self.old_key.public,
            self.old_from,
            self.key_from,
            self.key_from if self.old_revoked else None,
            "superseded" if self.old_revoked else None,
        )
        return (KeyRecord(self.key.public, self.key_from), old)

    def listing(self) -> Lab:
        return Lab(
            self.id,
            self.names,
            self.country,
            self.number,
            tuple(Scope(s) for s in self.scopes),
            self.status,
            self.records(),
        )

    @property
    def url(self) -> str:
        """The lab's one status list (both purposes: slot k at bits 2k and 2k+1)."""
        return f"{self.id}/status"


@dataclass
class Federation:
    """Everything needed to sign a federation: keys, labs, agreements, versions."""

    n: int
    root: SigningKey
    reg_keys: dict[str, SigningKey]
    labs: list[LabSpec]
    agreements: tuple[Agreement, ...]
    sequence: int = 1
    issued_at: datetime = NOW - timedelta(hours=1)
    #: Signed status list tokens per lab id, reused while a lab's lists do not change.
    status_tokens: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class SignedParts:
    """The signed pieces a bundle is made of, as published."""

    sequence: int
    created_at: datetime
    root_jwk: dict[str, str]
    federation_list: str
    trust_lists: tuple[str, ...]
    status_lists: tuple[str, ...]


# --- the swap points -------------------------------------------------------------------


def make_status_lists(spec: LabSpec, signer: SigningKey) -> list[str]:
    """SWAP POINT 1: this lab's signed status list token(s): one list per lab with both
    purposes, certificate slot ``k`` at bits ``2k`` (revocation) and ``2k+1`` (suspension)."""
    bits = Bitstring(MIN_BITS)
    for slot in spec.revoked:
        bits.set(slot_indices(slot)[0], True)
    for slot in spec.suspended:
        bits.set(slot_indices(slot)[1], True)
    sl = StatusList(
        spec.url,
        spec.id,
        ("revocation", "suspension"),
        bits,
        spec.lists_from,
        spec.lists_from + LIST_VALIDITY,
    )
    return [sl.sign(signer, signer.public.kid)]


def as_bundle(parts: SignedParts) -> Bundle:
    return Bundle(
        FEDERATION_ID,
        parts.sequence,
        parts.created_at,
        (parts.root_jwk,),
        parts.federation_list,
        parts.trust_lists,
        parts.status_lists,
    )


def make_bundle(parts: SignedParts, root: SigningKey, *, encoding: Encoding = "xz") -> bytes:
    """SWAP POINT 2: the bundle bytes from the signed parts (version 2: compressed container)."""
    return as_bundle(parts).sign(root, root.public.kid, encoding=encoding)


def make_delta(old: SignedParts, new: SignedParts, root: SigningKey) -> bytes | None:
    """The daily update that turns the installed snapshot ``old`` into ``new``."""
    return bundle_delta(as_bundle(old), as_bundle(new), root, root.public.kid)


# --- building --------------------------------------------------------------------------


def _key(rng: random.Random) -> SigningKey:
    if rng.random() < ES256_SHARE:
        secret = rng.randrange(1, 2**255)
        return SigningKey("ES256", ec.derive_private_key(secret, ec.SECP256R1()))
    return SigningKey("EdDSA", ed25519.Ed25519PrivateKey.from_private_bytes(rng.randbytes(32)))


def _ago(rng: random.Random, low_days: int, high_days: int) -> datetime:
    return (NOW - timedelta(days=rng.randint(low_days, high_days), seconds=rng.randrange(86_400))).replace(
        microsecond=0
    )


def _history(rng: random.Random) -> tuple[StatusEvent, ...]:
    since = _ago(rng, 400, 3000)
    events = [StatusEvent("active", since)]
    roll = rng.random()
    if roll < 0.10:  # a suspension in the past, lifted again
        off = since + timedelta(days=rng.randint(30, 300))
        events += [
            StatusEvent("suspended", off),
            StatusEvent("active", off + timedelta(days=rng.randint(10, 90))),
        ]
    elif roll < 0.12:  # withdrawn recently (still listed, as registries do)
        events.append(StatusEvent("withdrawn", _ago(rng, 1, 300)))
    return tuple(events)


def _names(rng: random.Random, cc: str, i: int) -> dict[str, str]:
    a, b = rng.sample(range(len(_EN)), 2)
    names = {"en": f"{_EN[a]} {_EN[b]} Testing Laboratory No. {i}"}
    if cc == "CN":
        names["zh"] = f"{_ZH[a]}{_ZH[b]}检测实验室第{i}号"
    else:
        names["ru"] = f"{_RU[a]} испытательная лаборатория № {i}"
    return names


def _indices(rng: random.Random, count: int) -> frozenset[int]:
    return frozenset(rng.randrange(MIN_SLOTS) for _ in range(count))


def _lab(rng: random.Random, cc: str, i: int) -> LabSpec:
    key_from = _ago(rng, 30, 700)
    return LabSpec(
        id=f"https://lab{i:06d}.labs.example.{cc.lower()}",
        country=cc,
        names=_names(rng, cc, i),
        number=f"{_BODIES[cc].split()[0].upper()} L{rng.randrange(10_000, 99_999)}",
        scopes=tuple(rng.sample(SCOPES, rng.randint(1, 3))),
        status=_history(rng),
        key=_key(rng),
        key_from=key_from,
        old_key=_key(rng),
        old_from=key_from - timedelta(days=rng.randint(365, 1500)),
        old_revoked=rng.random() < 0.2,
        # A few revoked and suspended certificates per lab (index SAMPLE_INDEX stays clear).
        revoked=_indices(rng, rng.choice(_REVOKED_PER_LAB)) - {SAMPLE_INDEX},
        suspended=_indices(rng, rng.randint(0, 1)) - {SAMPLE_INDEX},
    )


def _agreements(rng: random.Random) -> tuple[Agreement, ...]:
    """Each member recognises most others for a seeded choice of scopes; KZ recognises CN
    for food (the sample certificate)."""
    since = NOW - timedelta(days=900)
    out = []
    for cc in MEMBERS:
        others = tuple(
            registry_id(o) for o in MEMBERS if o != cc and (rng.random() < 0.8 or o == CERT_COUNTRY)
        )
        scopes = tuple(s for s in SCOPES if s == "food" or rng.random() < 0.6)
        out.append(Agreement(cc, others, scopes, since))
    return tuple(out)


def build(n: int, seed: int = 6) -> Federation:
    """N labs over the ten members; the first CN lab is active, accredited for food, and
    issues the sample certificate."""
    rng = random.Random(f"yilu-bench-{seed}")
    root = _key(random.Random(f"root-{seed}"))
    reg_keys = {cc: _key(random.Random(f"registry-{seed}-{cc}")) for cc in MEMBERS}
    total = sum(WEIGHTS)
    counts = [n * w // total for w in WEIGHTS]
    counts[0] += n - sum(counts)
    labs: list[LabSpec] = []
    for cc, count in zip(MEMBERS, counts, strict=True):
        labs.extend(_lab(rng, cc, len(labs) + j) for j in range(count))
    first = labs[0]
    sample_key = first.key if first.key.alg == "EdDSA" else _key(random.Random(f"sample-{seed}-ed"))
    while sample_key.alg != "EdDSA":
        sample_key = _key(rng)
    labs[0] = replace(
        first,
        scopes=("food", *[s for s in first.scopes if s != "food"][:2]),
        status=(StatusEvent("active", NOW - timedelta(days=800)),),
        key=sample_key,
    )
    return Federation(n, root, reg_keys, labs, _agreements(rng))


def member(fed: Federation, cc: str) -> Member:
    return Member(
        registry_id(cc),
        cc,
        _BODIES[cc],
        registry_id(cc) + "/yilu/",
        (KeyRecord(fed.reg_keys[cc].public, NOW - timedelta(days=1000)),),
        (StatusEvent("active", NOW - timedelta(days=1000)),),
        (lab_pattern(cc),),
    )


def sign_parts(fed: Federation, created_at: datetime) -> SignedParts:
    """Sign every list (status lists only for labs whose tokens are not cached yet)."""
    status: list[str] = []
    for spec in fed.labs:
        tokens = fed.status_tokens.get(spec.id)
        if tokens is None:
            tokens = fed.status_tokens[spec.id] = make_status_lists(spec, spec.key)
        status.extend(tokens)
    expires = fed.issued_at + LIST_VALIDITY
    trust = []
    for cc in MEMBERS:
        labs = tuple(spec.listing() for spec in fed.labs if spec.country == cc)
        tl = TrustList(registry_id(cc), cc, _BODIES[cc], fed.sequence, fed.issued_at, expires, labs)
        trust.append(tl.sign(fed.reg_keys[cc], fed.reg_keys[cc].public.kid))
    federation = FederationList(
        FEDERATION_ID,
        fed.sequence,
        fed.issued_at,
        expires,
        tuple(member(fed, cc) for cc in MEMBERS),
        fed.agreements,
        root_keys=(fed.root.public,),
    ).sign(fed.root, fed.root.public.kid)
    return SignedParts(
        fed.sequence, created_at, dict(fed.root.public.jwk), federation, tuple(trust), tuple(status)
    )


def change_one_percent(fed: Federation, seed: int = 7) -> list[str]:
    """The next day: 1 % of the labs (never the sample lab) change. Each gets new status
    lists (a newly revoked certificate); a tenth of them also a new key (the old one
    superseded) or a changed accreditation status. Lists are re-signed with the next
    sequence. Returns the changed lab ids."""
    rng = random.Random(f"update-{seed}")
    changed = rng.sample(range(1, len(fed.labs)), max(1, len(fed.labs) // 100))
    for j, i in enumerate(changed):
        spec = fed.labs[i]
        new = replace(
            spec,
            revoked=spec.revoked | _indices(rng, 1),
            lists_from=NEXT_DAY - timedelta(hours=1),
        )
        if j % 10 == 0:
            if j % 20 == 0:
                new = replace(
                    new,
                    old_key=spec.key,
                    old_from=spec.key_from,
                    old_revoked=True,
                    key=_key(rng),
                    key_from=NEXT_DAY - timedelta(hours=2),
                )
            else:
                new = replace(
                    new, status=(*spec.status, StatusEvent("suspended", NEXT_DAY - timedelta(hours=2)))
                )
        fed.labs[i] = new
        fed.status_tokens.pop(spec.id, None)
    fed.sequence += 1
    fed.issued_at = NEXT_DAY - timedelta(hours=1)
    return [fed.labs[i].id for i in changed]


def issue_sample(fed: Federation) -> str:
    """The sample certificate: green-tea-8 signed by the first CN lab, as a compact JWS."""
    spec = fed.labs[0]
    report: dict[str, Any] = json.loads(REFERENCE.read_text())
    cred = build_credential(
        report,
        credential_id=certificate_id(spec.id, report["reportNumber"]),
        issuer=spec.id,
        valid_from=NOW - timedelta(days=1),
        status=status_entries(SAMPLE_INDEX, spec.url),
    )
    return sign_compact(dumps_compact(cred), spec.key, kid=spec.key.public.kid, typ=TYP_VC)


# --- the cache -------------------------------------------------------------------------


def cache_dir(n: int) -> Path:
    return CACHE / f"{FORMAT_TAG}-{n}"


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def build_cached(n: int, *, xz: bool = True) -> Path:
    """The cached federation of ``n`` labs, built if missing. The directory holds
    ``bundle.ylb`` (day 0), ``update.ylb`` (day 1, after 1 % changed), ``root-keys.json``,
    ``certificate.txt`` (the sample's YL1 text) and ``meta.json`` (sizes, timings)."""
    out = cache_dir(n)
    if (out / "meta.json").exists():
        return out
    tmp = out.with_name(out.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    t0 = time.perf_counter()
    fed = build(n)
    t_build = time.perf_counter() - t0
    day0 = sign_parts(fed, NOW - timedelta(minutes=30))
    bundle = make_bundle(day0, fed.root)
    t_sign = time.perf_counter() - t0 - t_build
    jws = issue_sample(fed)
    changed = change_one_percent(fed)
    day1 = sign_parts(fed, NEXT_DAY - timedelta(minutes=30))
    update = make_bundle(day1, fed.root)
    delta = make_delta(day0, day1, fed.root)
    if delta is not None:
        _write(tmp / "delta.ylb", delta)
    _write(tmp / "bundle.ylb", bundle)
    _write(tmp / "update.ylb", update)
    _write(tmp / "root-keys.json", json.dumps([dict(fed.root.public.jwk)]).encode())
    _write(tmp / "certificate.txt", yl1.encode(jws).encode("ascii"))
    t1 = time.perf_counter()
    sizes: dict[str, Any] = {
        # Version 2 bundles are compressed files (xz): their size is the compressed size.
        "bundle": len(bundle),
        "bundle_raw": len(encode_records(as_bundle(day0))),
        "update": len(update),
        "delta": None if delta is None else len(delta),
    }
    if xz:
        sizes["bundle_zlib"] = len(make_bundle(day0, fed.root, encoding="zlib"))
    meta = {
        "n": n,
        "format": FORMAT_TAG,
        "labs": len(fed.labs),
        "keys": 2 * len(fed.labs),
        "status_lists": sum(len(t) for t in fed.status_tokens.values()),
        "revoked": sum(len(s.revoked) for s in fed.labs),
        "changed_labs": len(changed),
        "sample_lab": fed.labs[0].id,
        "inspector": INSPECTOR,
        "install_at": format_time(NOW),
        "update_at": format_time(NEXT_DAY),
        "scan_at": format_time(SCAN_AT),
        "sizes": sizes,
        "build_seconds": round(t_build, 2),
        "sign_seconds": round(t_sign, 2),
        "compress_seconds": round(time.perf_counter() - t1, 2),
    }
    _write(tmp / "meta.json", json.dumps(meta, indent=1).encode())
    shutil.rmtree(out, ignore_errors=True)
    tmp.replace(out)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description="build (or reuse) the cached synthetic federation")
    parser.add_argument("n", type=int, help="number of labs")
    parser.add_argument("--no-xz", action="store_true", help="skip the xz size (slow at 120k)")
    args = parser.parse_args()
    print(build_cached(args.n, xz=not args.no_xz))


if __name__ == "__main__":
    main()
