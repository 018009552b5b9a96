"""The audit log: append-only and hash-chained, so a changed, removed or reordered row shows.

Every row holds ``seq`` (1, 2, 3, … without gaps), ``at``, ``actor``, ``action``,
``subject``, ``details`` (a JSON object), ``prev_hash`` (the previous row's ``hash``;
64 zeros for the first row) and ``hash``: the hex SHA-256 of the canonical JSON (sorted
keys, no spaces, UTF-8) of every other field, ``prev_hash`` included::

    {"action":…,"actor":…,"at":"2025-01-02T03:04:05.000000Z","details":{…},"prev_hash":…,"seq":…,"subject":…}

:func:`verify_chain` recomputes every hash and link. What it cannot see on its own is the
removal of the *last* rows: compare :func:`head` with a value kept elsewhere for that.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any, Final

from sqlmodel import Session, col, select

from service.db import utc
from service.models import AuditEntry, AuditEntryPublic

#: The ``prev_hash`` of the first row.
GENESIS: Final = "0" * 64


def _time_text(at: datetime) -> str:
    t = utc(at)
    return (
        f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}"
        f".{t.microsecond:06d}Z"
    )


def entry_hash(
    *, seq: int, at: datetime, actor: str, action: str, subject: str, details: dict[str, Any], prev_hash: str
) -> str:
    """The hash of a row with this content (the module docstring gives the bytes hashed)."""
    content = {
        "seq": seq,
        "at": _time_text(at),
        "actor": actor,
        "action": action,
        "subject": subject,
        "details": details,
        "prev_hash": prev_hash,
    }
    data = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(data.encode()).hexdigest()


def _row_hash(row: AuditEntry) -> str:
    return entry_hash(
        seq=row.seq,
        at=row.at,
        actor=row.actor,
        action=row.action,
        subject=row.subject,
        details=row.details,
        prev_hash=row.prev_hash,
    )


def record(
    *, session: Session, actor: str, action: str, subject: str, details: dict[str, Any], at: datetime
) -> AuditEntryPublic:
    """Append one entry after the last one and flush it (committed with the session).

    ``seq`` is the primary key: if another writer appended in between, the flush fails
    with an IntegrityError instead of forking the chain, and the caller's whole change
    rolls back with it."""
    if at.tzinfo is None:
        raise ValueError("audit times must be aware (UTC)")
    # Round-trip the details through JSON now, so what is hashed is what is stored.
    details = json.loads(json.dumps(details, allow_nan=False))
    last = session.exec(select(AuditEntry).order_by(col(AuditEntry.seq).desc()).limit(1)).first()
    seq, prev_hash = (1, GENESIS) if last is None else (last.seq + 1, last.hash)
    at = utc(at)
    row = AuditEntry(
        seq=seq,
        at=at,
        actor=actor,
        action=action,
        subject=subject,
        details=details,
        prev_hash=prev_hash,
        hash=entry_hash(
            seq=seq, at=at, actor=actor, action=action, subject=subject, details=details, prev_hash=prev_hash
        ),
    )
    session.add(row)
    session.flush()
    return _public(row)


def _public(row: AuditEntry) -> AuditEntryPublic:
    return AuditEntryPublic.model_validate(row.model_dump() | {"at": utc(row.at)})


def list_entries(*, session: Session, after: int = 0, limit: int = 100) -> list[AuditEntryPublic]:
    """The entries with ``seq > after``, oldest first, at most ``limit``."""
    rows = session.exec(
        select(AuditEntry).where(col(AuditEntry.seq) > after).order_by(col(AuditEntry.seq)).limit(limit)
    ).all()
    return [_public(row) for row in rows]


def head(*, session: Session) -> tuple[int, str] | None:
    """``(seq, hash)`` of the last entry, to keep outside the database: it shows a removed tail."""
    last = session.exec(select(AuditEntry).order_by(col(AuditEntry.seq).desc()).limit(1)).first()
    return None if last is None else (last.seq, last.hash)


def verify_chain(*, session: Session) -> list[str]:
    """Every problem of the chain, one line each, oldest first; empty if it is intact."""
    rows = session.exec(select(AuditEntry).order_by(col(AuditEntry.seq))).all()
    seq_of_hash = {row.hash: row.seq for row in rows}
    problems: list[str] = []
    expected_seq, expected_prev = 1, GENESIS
    for row in rows:
        if row.seq != expected_seq:
            gap = row.seq - expected_seq
            missing = f"row {expected_seq}" if gap == 1 else f"rows {expected_seq}-{row.seq - 1}"
            problems.append(f"{missing} missing: the log jumps from row {expected_seq - 1} to row {row.seq}")
        if row.prev_hash != expected_prev:
            if expected_prev == GENESIS and row.seq == 1:
                problems.append(
                    f"row 1: first link broken: prev_hash is {row.prev_hash[:16]}…, "
                    "not the genesis value (64 zeros)"
                )
            elif row.prev_hash in seq_of_hash:
                problems.append(
                    f"row {row.seq}: links to row {seq_of_hash[row.prev_hash]}, not to the row before it: "
                    "rows reordered"
                )
            else:
                problems.append(
                    f"row {row.seq}: prev_hash does not match the hash of the row before it: "
                    "a row before it was removed or changed"
                )
        if _row_hash(row) != row.hash:
            problems.append(f"row {row.seq}: content does not match its hash: the row was changed")
        expected_seq, expected_prev = row.seq + 1, row.hash
    return problems
