"""The hash-chained audit log on SQLite and PostgreSQL: intact, then tampered with."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Connection, Engine, text

from service.audit import GENESIS, entry_hash, head, list_entries, record, verify_chain
from service.db import session

T0 = datetime(2025, 3, 1, 8, 0, 0, 123456, tzinfo=UTC)
ROWS = 30


def fill(engine: Engine, n: int = ROWS) -> None:
    with session(engine) as db:
        for i in range(n):
            record(
                session=db,
                actor=f"token:{i % 3}",
                action="lab.add",
                subject=f"https://lab{i}.example.cn",
                details={"names": {"zh": "青岛检测", "en": f"Lab {i}"}, "n": i, "scopes": ["food"]},
                at=T0 + timedelta(seconds=i),
            )


def test_intact_chain_has_no_problems(engine: Engine) -> None:
    with session(engine) as db:
        assert verify_chain(session=db) == []
        assert head(session=db) is None
    fill(engine)
    with session(engine) as db:
        entries = list_entries(session=db, limit=1000)
        assert [e.seq for e in entries] == list(range(1, ROWS + 1))
        assert entries[0].prev_hash == GENESIS
        assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(entries))
        assert entries[5].at == T0 + timedelta(seconds=5)
        assert entries[5].details["names"]["zh"] == "青岛检测"
        assert verify_chain(session=db) == []
        assert head(session=db) == (ROWS, entries[-1].hash)
    # Appending after a restart (a new session) continues the same chain.
    fill(engine, 2)
    with session(engine) as db:
        assert verify_chain(session=db) == []
        assert list_entries(session=db, after=ROWS)[0].prev_hash == entries[-1].hash


def test_hash_is_sha256_of_the_documented_canonical_json() -> None:
    import hashlib

    expected = hashlib.sha256(
        b'{"action":"a","actor":"me","at":"2025-03-01T08:00:00.123456Z","details":{"k":1},'
        b'"prev_hash":"' + GENESIS.encode() + b'","seq":1,"subject":"s"}'
    ).hexdigest()
    assert entry_hash(
        seq=1, at=T0, actor="me", action="a", subject="s", details={"k": 1}, prev_hash=GENESIS
    ) == expected


def _update_details(c: Connection) -> None:
    c.execute(text("UPDATE audit_entry SET details = :d WHERE seq = 12"), {"d": '{"n": 999}'})


def _delete_middle(c: Connection) -> None:
    c.execute(text("DELETE FROM audit_entry WHERE seq = 15"))


def _swap_seq(c: Connection) -> None:
    c.execute(text("UPDATE audit_entry SET seq = -1 WHERE seq = 7"))
    c.execute(text("UPDATE audit_entry SET seq = 7 WHERE seq = 8"))
    c.execute(text("UPDATE audit_entry SET seq = 8 WHERE seq = -1"))


def _first_link(c: Connection) -> None:
    c.execute(text("UPDATE audit_entry SET prev_hash = :h WHERE seq = 1"), {"h": "f" * 64})


def _change_actor_and_rehash(c: Connection) -> None:
    # A forger who recomputes the changed row's hash still breaks the next link.
    row = c.execute(text("SELECT * FROM audit_entry WHERE seq = 20")).mappings().one()
    at = row["at"] if isinstance(row["at"], datetime) else datetime.fromisoformat(row["at"])
    at = at if at.tzinfo else at.replace(tzinfo=UTC)
    details = row["details"] if isinstance(row["details"], dict) else json.loads(row["details"])
    forged = entry_hash(
        seq=20, at=at, actor="nobody", action=row["action"], subject=row["subject"], details=details,
        prev_hash=row["prev_hash"],
    )
    c.execute(text("UPDATE audit_entry SET actor = 'nobody', hash = :h WHERE seq = 20"), {"h": forged})


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        (_update_details, ["row 12: content does not match its hash: the row was changed"]),
        (
            _delete_middle,
            [
                "row 15 missing: the log jumps from row 14 to row 16",
                "row 16: prev_hash does not match the hash of the row before it: "
                "a row before it was removed or changed",
            ],
        ),
        (
            _swap_seq,
            [
                "row 7: links to row 8, not to the row before it: rows reordered",
                "row 7: content does not match its hash: the row was changed",
                "row 8: links to row 6, not to the row before it: rows reordered",
                "row 8: content does not match its hash: the row was changed",
                "row 9: links to row 7, not to the row before it: rows reordered",
            ],
        ),
        (
            _first_link,
            [
                "row 1: first link broken: prev_hash is ffffffffffffffff…, not the genesis value (64 zeros)",
                "row 1: content does not match its hash: the row was changed",
            ],
        ),
        (
            _change_actor_and_rehash,
            [
                "row 21: prev_hash does not match the hash of the row before it: "
                "a row before it was removed or changed"
            ],
        ),
    ],
    ids=["update-details", "delete-middle", "swap-seq", "first-link", "rehashed-change"],
)
def test_each_tamper_is_detected(
    engine: Engine, tamper: Callable[[Connection], None], expected: list[str]
) -> None:
    fill(engine)
    with session(engine) as db:
        assert verify_chain(session=db) == []
    with engine.begin() as connection:
        tamper(connection)
    with session(engine) as db:
        assert verify_chain(session=db) == expected


def test_removing_the_first_row_is_detected(engine: Engine) -> None:
    fill(engine, 3)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_entry WHERE seq = 1"))
    with session(engine) as db:
        problems = verify_chain(session=db)
    assert problems[0] == "row 1 missing: the log jumps from row 0 to row 2"


def test_naive_times_are_refused(engine: Engine) -> None:
    with session(engine) as db, pytest.raises(ValueError, match="aware"):
        record(session=db, actor="a", action="b", subject="c", details={}, at=datetime(2025, 1, 1))
