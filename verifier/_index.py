"""The verified index: a snapshot written once to SQLite at install, read lazily to scan.

Installing verifies every signature once (docs/verifying.md, "Trust data"); what that
proved is written here, so that a verifier process is ready in milliseconds whatever the
federation's size and holds in memory only what its scans touch: the federation list,
each trust list's header, and the labs, keys and status lists it looks up (decoded on
first use, then cached). The index is local data the device wrote itself, like the pinned
root beside it: whoever can change one can change the other (docs/security.md).

Tables (all text is UTF-8 JSON unless said otherwise):

``meta(name, value)``           bundle header, federation list, trust list headers, skipped parts
``labs(id, registry, lab)``     each bound lab's listing as its registry signed it
``keys(kid, lab, idx)``         kid -> (lab, position in the lab's keys)
``status(lab, url, ...)``       each usable status list: purposes, size, validity, set bits
``dropped_kids / dropped_status / dropped_labs``  what was dropped, and why
``revoked(lab, url, idx)``      every revocation this device has seen (revocation is final)
``verified(token)``             signatures already checked (part digest + key), not checked again
"""

from __future__ import annotations

import json
import lzma
import sqlite3
import zlib
from collections.abc import Iterator, Mapping, MutableMapping, Sequence
from dataclasses import replace
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Final, TypeVar

from protocol.bundle import Bundle, decode_records
from protocol.encoding import format_time, parse_time
from protocol.errors import InputError, TrustDataError
from protocol.keys import VerifyKey
from protocol.lists import FederationList, Lab, TrustList, parse_root_keys
from protocol.names import NameIndex
from protocol.status_list import SparseBits, StatusList
from verifier._snapshot import KeyEntry, LabEntry, Skipped, Snapshot

K = TypeVar("K")
V = TypeVar("V")

#: Bumped whenever a table changes: an index of another schema is not read, but its version
#: record still is, so installing a full bundle over it keeps the rollback protection.
SCHEMA_VERSION: Final = 3
_SCHEMA: Final = """
CREATE TABLE meta(name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE labs(id TEXT PRIMARY KEY, registry TEXT NOT NULL, lab TEXT NOT NULL);
CREATE TABLE keys(kid TEXT NOT NULL, lab TEXT NOT NULL, idx INTEGER NOT NULL);
CREATE INDEX keys_by_kid ON keys(kid);
CREATE TABLE status(
    lab TEXT NOT NULL, url TEXT NOT NULL, purposes TEXT NOT NULL, size INTEGER NOT NULL,
    valid_from TEXT NOT NULL, valid_until TEXT, bits TEXT NOT NULL, PRIMARY KEY(lab, url));
CREATE TABLE dropped_kids(kid TEXT PRIMARY KEY, part TEXT NOT NULL, reason TEXT NOT NULL, kind TEXT NOT NULL);
CREATE TABLE dropped_status(
    lab TEXT NOT NULL, url TEXT NOT NULL, part TEXT NOT NULL, reason TEXT NOT NULL, kind TEXT NOT NULL,
    PRIMARY KEY(lab, url));
CREATE TABLE dropped_labs(id TEXT PRIMARY KEY);
CREATE TABLE revoked(lab TEXT NOT NULL, url TEXT NOT NULL, idx INTEGER NOT NULL, PRIMARY KEY(lab, url, idx));
CREATE TABLE verified(token TEXT PRIMARY KEY);
CREATE TABLE parts(encoding TEXT NOT NULL, body BLOB NOT NULL);
"""
#: Skipped parts kept for ``trust show`` and results (the count is always kept).
MAX_SKIPPED_KEPT: Final = 1000


def write_index(
    path: Path,
    snap: Snapshot,
    *,
    parts: tuple[str, bytes],
    record: Mapping[str, Any],
    verified: set[str],
    retired: Sequence[VerifyKey] = (),
) -> None:
    """Write ``snap`` (just verified from ``parts``: its body records, compressed, and how) and its version
    ``record`` as a new index file at ``path``; the caller renames it over the installed one."""
    path.unlink(missing_ok=True)
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=OFF")
        db.execute("PRAGMA synchronous=OFF")
        db.executescript(_SCHEMA)
        db.execute("BEGIN")
        meta = {
            "schema": SCHEMA_VERSION,
            "federation": snap.bundle.federation,
            "sequence": snap.bundle.sequence,
            "createdAt": format_time(snap.bundle.created_at),
            "rootKeys": list(snap.bundle.root_keys),
            # The root this snapshot was verified with: what the next install walks from.
            "pin": {
                "rootVersion": snap.root_version,
                "rootKeys": [dict(k.jwk) for k in snap.root_keys],
                # Keys of earlier root versions this device trusted: given again with --root,
                # they name this federation (the pin wins), not another one.
                "retiredKeys": [dict(k.jwk) for k in retired],
            },
            "federationList": snap.federation.to_json(),
            "trustLists": [replace(tl, labs=()).to_json() for tl in snap.trust_lists.values()],
            "skipped": [[s.part, s.reason, s.kind] for s in snap.skipped[:MAX_SKIPPED_KEPT]],
            "skippedCount": len(snap.skipped),
            "versions": record,
        }
        db.executemany("INSERT INTO meta VALUES(?, ?)", ((k, json.dumps(v)) for k, v in meta.items()))
        db.executemany(
            "INSERT INTO labs VALUES(?, ?, ?)",
            (
                # The listing as its registry's JSON had it, not serialised from objects again.
                (lab_id, e.member.id, _dumps(snap.lab_json.get(lab_id) or e.lab.to_json()))
                for lab_id, e in snap.labs.items()
            ),
        )
        db.executemany(
            "INSERT INTO keys VALUES(?, ?, ?)",
            (
                (kid, e.owner.lab.id, e.owner.lab.keys.index(e.record))
                for kid, entries in snap.keys_by_kid.items()
                for e in entries
            ),
        )
        db.executemany(
            "INSERT INTO status VALUES(?, ?, ?, ?, ?, ?, ?)",
            (
                (
                    lab,
                    url,
                    " ".join(sl.purposes),
                    len(sl.bits),
                    format_time(sl.valid_from),
                    None if sl.valid_until is None else format_time(sl.valid_until),
                    " ".join(map(str, sl.bits.set_indices())),
                )
                for (lab, url), sl in snap.status_lists.items()
            ),
        )
        db.executemany(
            "INSERT INTO dropped_kids VALUES(?, ?, ?, ?)",
            ((kid, s.part, s.reason, s.kind) for kid, s in snap.dropped_kids.items()),
        )
        db.executemany(
            "INSERT INTO dropped_status VALUES(?, ?, ?, ?, ?)",
            ((lab, url, s.part, s.reason, s.kind) for (lab, url), s in snap.dropped_status.items()),
        )
        db.executemany("INSERT INTO dropped_labs VALUES(?)", ((lab,) for lab in snap.dropped_labs))
        db.executemany(
            "INSERT INTO revoked VALUES(?, ?, ?)",
            # Every revocation on record (the record's revoked indices only ever grow).
            (
                (*key.split(" ", 1), i)
                for key, version in record["statusLists"].items()
                for i in version.get("revoked", ())
            ),
        )
        db.executemany("INSERT INTO verified VALUES(?)", ((t,) for t in verified))
        db.execute("INSERT INTO parts VALUES(?, ?)", parts)
        db.execute("COMMIT")
    finally:
        db.close()


def damaged(path: Path | None, why: str = "is damaged") -> str:
    """The message for an index that cannot be read: what to do, and what it costs."""
    where = f"the installed index {path}" if path is not None else "the installed index"
    return (
        f"{where} {why}: delete it and install a full bundle (this device then forgets which "
        "versions and revocations it had seen)"
    )


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def _connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)


def _meta(db: sqlite3.Connection, name: str) -> Any:
    row = db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
    if row is None:
        raise KeyError(name)
    return json.loads(row[0])


def read_record(path: Path) -> dict[str, Any] | None:
    """The version record of the installed snapshot (None if nothing is installed)."""
    if not path.exists():
        return None
    try:
        db = _connect(path)
        try:
            record = _meta(db, "versions")
        finally:
            db.close()
    except (sqlite3.Error, KeyError, ValueError) as exc:
        raise TrustDataError(damaged(path)) from exc
    if not isinstance(record, dict):
        raise TrustDataError(damaged(path))
    return record


def read_pin(path: Path) -> tuple[tuple[VerifyKey, ...], int] | None:
    """The root keys and version the installed snapshot was verified with (None if nothing
    is installed, or the index predates root rotation)."""
    value = _pin_meta(path)
    try:
        return None if value is None else _pin(value)
    except (KeyError, TypeError, ValueError, InputError) as exc:
        raise TrustDataError(damaged(path)) from exc


def read_retired(path: Path) -> tuple[VerifyKey, ...]:
    """The keys of the earlier root versions this device trusted (see :func:`write_index`)."""
    value = _pin_meta(path)
    try:
        return () if value is None else tuple(VerifyKey.from_jwk(j) for j in value.get("retiredKeys", ()))
    except (AttributeError, TypeError, InputError) as exc:
        raise TrustDataError(damaged(path)) from exc


def _pin_meta(path: Path) -> Any:
    if not path.exists():
        return None
    try:
        db = _connect(path)
        try:
            row = db.execute("SELECT value FROM meta WHERE name = 'pin'").fetchone()
        finally:
            db.close()
        return None if row is None else json.loads(row[0])
    except (sqlite3.Error, ValueError) as exc:
        raise TrustDataError(damaged(path)) from exc


def _pin(value: Any) -> tuple[tuple[VerifyKey, ...], int]:
    version = value["rootVersion"]
    if type(version) is not int or version < 1:
        raise ValueError("rootVersion")
    return parse_root_keys(value["rootKeys"], "pin.rootKeys"), version


def read_installed_at(path: Path) -> str | None:
    """The record's ``installedAt``, read by SQLite itself: not worth parsing a record that
    lists every status list of the federation (``yilu trust show``)."""
    if not path.exists():
        return None
    try:
        db = _connect(path)
        try:
            row = db.execute(
                "SELECT json_extract(value, '$.installedAt') FROM meta WHERE name = 'versions'"
            ).fetchone()
        finally:
            db.close()
    except sqlite3.Error:
        return None
    return row[0] if row is not None and isinstance(row[0], str) else None


def read_parts(path: Path) -> Bundle:
    """The parts of the installed snapshot, to apply a delta to."""
    try:
        db = _connect(path)
        try:
            head = _head({n: _meta(db, n) for n in ("federation", "sequence", "createdAt", "rootKeys")})
            row = db.execute("SELECT encoding, body FROM parts").fetchone()
        finally:
            db.close()
        if row is None:
            raise KeyError("parts")
        encoding, body = row
        raw = lzma.decompress(body, format=lzma.FORMAT_XZ) if encoding == "xz" else zlib.decompress(body)
        return decode_records(head, raw)
    except (sqlite3.Error, KeyError, ValueError, TypeError, zlib.error, lzma.LZMAError, InputError) as exc:
        raise TrustDataError(damaged(path)) from exc


def _head(meta: Mapping[str, Any]) -> Bundle:
    """The installed snapshot's bundle head (federation, sequence, date, root keys), no parts."""
    return Bundle(
        meta["federation"],
        meta["sequence"],
        parse_time(meta["createdAt"], "createdAt"),
        tuple(meta["rootKeys"]),
        "",
        (),
        (),
    )


def read_verified(path: Path) -> set[str]:
    """The signature checks an index remembers (empty if there is none or it is unreadable:
    opened read-only, a missing file is an error like a damaged one)."""
    try:
        db = _connect(path)
        try:
            return {row[0] for row in db.execute("SELECT token FROM verified")}
        finally:
            db.close()
    except sqlite3.Error:
        return set()


def open_index(path: Path, roots: tuple[VerifyKey, ...]) -> Snapshot:
    """A :class:`Snapshot` whose large maps are read from the index at ``path`` on demand."""
    try:
        db = _connect(path)
        meta = {
            name: json.loads(value)
            for name, value in db.execute("SELECT name, value FROM meta WHERE name != 'versions'")
        }
        if meta.get("schema") != SCHEMA_VERSION:
            raise TrustDataError(
                f"the installed index {path} was written by another version of Yilu: install a full "
                "bundle again (the versions and revocations it had seen are kept)"
            )
        federation = FederationList.from_json(meta["federationList"])
        trust_lists = {tl["registry"]: TrustList.from_json(tl) for tl in meta["trustLists"]}
        bundle = _head(meta)
        skipped = [Skipped(p, r, k) for p, r, k in meta["skipped"]]
        pin = _pin(meta["pin"]) if "pin" in meta else (roots, federation.root_version)
    except (sqlite3.Error, KeyError, TypeError, ValueError, InputError) as exc:
        raise TrustDataError(damaged(path)) from exc
    snap = Snapshot(bundle, pin[0], federation, trust_lists=trust_lists, skipped=skipped)
    snap.root_version = snap.pinned_version = pin[1]
    snap.skipped_count = int(meta.get("skippedCount", len(skipped)))
    snap.names = NameIndex((m, m.permitted_lab_ids) for m in federation.registries)
    reader = _Reader(db, snap)
    snap.labs = _Labs(reader)
    snap.keys_by_kid = _Keys(reader)
    snap.status_lists = _StatusLists(reader)
    snap.dropped_kids = _DroppedKids(reader)
    snap.dropped_status = _DroppedStatus(reader)
    snap.revoked_before = _Revoked(reader)
    snap.index = reader
    return snap


class _Reader:
    """Queries one index, caching what it decodes (a node scans the same labs again and again)."""

    def __init__(self, db: sqlite3.Connection, snap: Snapshot) -> None:
        self.db = db
        self.members = {m.id: m for m in snap.federation.registries}
        self.trust_lists = snap.trust_lists
        self.lab_entry = lru_cache(maxsize=4096)(self._lab_entry)
        self.status_list = lru_cache(maxsize=4096)(self._status_list)
        self.keys = lru_cache(maxsize=4096)(self._keys)
        self.revoked = lru_cache(maxsize=4096)(self._revoked)

    def rows(self, sql: str, *args: Any) -> list[Any]:
        try:
            return self.db.execute(sql, args).fetchall()
        except UnicodeEncodeError:  # a lone surrogate from a certificate: no stored text is like that
            return []
        except sqlite3.Error as exc:
            raise TrustDataError(damaged(None)) from exc

    def _lab_entry(self, lab_id: str) -> LabEntry | None:
        rows = self.rows("SELECT registry, lab FROM labs WHERE id = ?", lab_id)
        if not rows:
            return None
        registry, text = rows[0]
        try:
            lab = Lab.from_json(json.loads(text), "lab")
            return LabEntry(lab, self.members[registry], self.trust_lists[registry])
        except (InputError, KeyError, ValueError) as exc:
            raise TrustDataError(damaged(None)) from exc

    def _status_list(self, lab: str, url: str) -> StatusList | None:
        rows = self.rows(
            "SELECT purposes, size, valid_from, valid_until, bits FROM status WHERE lab = ? AND url = ?",
            lab,
            url,
        )
        if not rows:
            return None
        purposes, size, valid_from, valid_until, bits = rows[0]
        try:
            return StatusList(
                url,
                lab,
                tuple(purposes.split()),
                SparseBits(int(size), map(int, bits.split())),
                parse_time(valid_from, "validFrom"),
                None if valid_until is None else parse_time(valid_until, "validUntil"),
            )
        except (AttributeError, TypeError, ValueError, InputError) as exc:
            raise TrustDataError(damaged(None)) from exc

    def _keys(self, kid: str) -> tuple[KeyEntry, ...]:
        out = []
        for lab_id, idx in self.rows("SELECT lab, idx FROM keys WHERE kid = ?", kid):
            entry = self.lab_entry(lab_id)
            if entry is not None and 0 <= idx < len(entry.lab.keys):
                out.append(KeyEntry(entry.lab.keys[idx], entry))
        return tuple(out)

    def _revoked(self, lab: str, url: str) -> frozenset[int]:
        return frozenset(
            r[0] for r in self.rows("SELECT idx FROM revoked WHERE lab = ? AND url = ?", lab, url)
        )

    def lab_counts(self) -> dict[str, int]:
        return dict(self.rows("SELECT registry, count(*) FROM labs GROUP BY registry"))

    def status_validity(self) -> list[tuple[str, datetime | None]]:
        return [
            (url, None if until is None else parse_time(until, "validUntil"))
            for url, until in self.rows("SELECT url, valid_until FROM status")
        ]


class _Lazy(MutableMapping[K, V]):
    """A read-only mapping answered by queries (only lookups are cheap)."""

    def __init__(self, reader: _Reader) -> None:
        self.reader = reader

    def __setitem__(self, key: K, value: V) -> None:
        raise TypeError("an installed index is read-only")

    def __delitem__(self, key: K) -> None:
        raise TypeError("an installed index is read-only")

    def __iter__(self) -> Iterator[Any]:
        return iter(self._keys())

    def __len__(self) -> int:
        return len(self._keys())

    def _keys(self) -> list[Any]:
        raise NotImplementedError


class _Labs(_Lazy[str, LabEntry]):
    def __getitem__(self, lab_id: str) -> LabEntry:
        entry = self.reader.lab_entry(lab_id) if isinstance(lab_id, str) else None
        if entry is None:
            raise KeyError(lab_id)
        return entry

    def _keys(self) -> list[Any]:
        return [r[0] for r in self.reader.rows("SELECT id FROM labs")]


class _Keys(_Lazy[str, list[KeyEntry]]):
    def __getitem__(self, kid: str) -> list[KeyEntry]:
        found = self.reader.keys(kid) if isinstance(kid, str) else ()
        if not found:
            raise KeyError(kid)
        return list(found)

    def _keys(self) -> list[Any]:
        return [r[0] for r in self.reader.rows("SELECT DISTINCT kid FROM keys")]


class _StatusLists(_Lazy[tuple[str, str], StatusList]):
    def __getitem__(self, key: tuple[str, str]) -> StatusList:
        found = self.reader.status_list(*key)
        if found is None:
            raise KeyError(key)
        return found

    def _keys(self) -> list[Any]:
        return [tuple(r) for r in self.reader.rows("SELECT lab, url FROM status")]


class _DroppedKids(_Lazy[str, Skipped]):
    def __getitem__(self, kid: str) -> Skipped:
        rows = self.reader.rows("SELECT part, reason, kind FROM dropped_kids WHERE kid = ?", kid)
        if not rows:
            raise KeyError(kid)
        return Skipped(*rows[0])

    def _keys(self) -> list[Any]:
        return [r[0] for r in self.reader.rows("SELECT kid FROM dropped_kids")]


class _DroppedStatus(_Lazy[tuple[str, str], Skipped]):
    def __getitem__(self, key: tuple[str, str]) -> Skipped:
        rows = self.reader.rows(
            "SELECT part, reason, kind FROM dropped_status WHERE lab = ? AND url = ?", *key
        )
        if not rows:
            raise KeyError(key)
        return Skipped(*rows[0])

    def _keys(self) -> list[Any]:
        return [tuple(r) for r in self.reader.rows("SELECT lab, url FROM dropped_status")]


class _Revoked(_Lazy[tuple[str, str], frozenset[int]]):
    def __getitem__(self, key: tuple[str, str]) -> frozenset[int]:
        found = self.reader.revoked(*key)
        if not found:
            raise KeyError(key)
        return found

    def _keys(self) -> list[Any]:
        return [tuple(r) for r in self.reader.rows("SELECT DISTINCT lab, url FROM revoked")]
