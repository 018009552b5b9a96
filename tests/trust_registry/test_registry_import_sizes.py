"""A small import (a query per row) and a bulk import (every id and key read once) refuse
the same things: a lab already there, an id nested with another lab's either way, and a
key already enrolled for another lab."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from protocol.errors import InputError
from protocol.keys import SigningKey
from regkit import NOW, PASSPHRASE
from service.db import session
from trust_registry import _registry_domain as domain
from trust_registry.registry import init_registry, open_engine

TAKEN = SigningKey.generate()


def row(lab_id: str, key: SigningKey | None = None) -> dict[str, Any]:
    return {
        "id": lab_id,
        "name_en": "A lab",
        "country": "CN",
        "accreditation_number": "L-" + lab_id[-12:],
        "scopes": "food",
        "accredited_since": "2026-01-01T00:00:00Z",
        "key_jwk": dict((key or SigningKey.generate()).public.jwk),
    }


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    init_registry(
        data_dir=tmp_path,
        database_url=None,
        registry_id="https://cnas.example.cn",
        country="CN",
        accreditation_body="CNAS",
        publication_url="https://cnas.example.cn/trust-list",
        lab_ids=["https://*.example.cn"],
        passphrase=PASSPHRASE,
        now=NOW,
    )
    engine = open_engine(data_dir=tmp_path, database_url=None)
    with session(engine) as db:
        domain.import_labs(
            session=db,
            now=NOW,
            actor="test",
            rows=[row("https://a.example.cn", TAKEN), row("https://b.example.cn/x/y")],
        )
    yield engine
    engine.dispose()


BAD = [
    (row("https://a.example.cn"), "already in this registry"),
    (row("https://a.example.cn/branch"), "nested with the id of lab https://a.example.cn"),
    (row("https://b.example.cn/x"), "nested with the id of lab https://b.example.cn/x/y"),
    (row("https://c.example.cn", TAKEN), "already enrolled for another lab"),
]


@pytest.mark.parametrize("padding", [0, domain.SMALL_IMPORT], ids=["small", "bulk"])
@pytest.mark.parametrize(("bad", "says"), BAD, ids=["taken", "under", "over", "key"])
def test_small_and_bulk_imports_refuse_the_same(
    engine: Engine, padding: int, bad: dict[str, Any], says: str
) -> None:
    rows = [row(f"https://p{i}.example.cn") for i in range(padding)] + [bad]
    with session(engine) as db, pytest.raises(InputError, match=says):
        domain.import_labs(session=db, now=NOW, actor="test", rows=rows)


def test_a_small_import_adds_its_lab(engine: Engine) -> None:
    with session(engine) as db:
        got = domain.import_labs(session=db, now=NOW, actor="test", rows=[row("https://d.example.cn")])
    assert (got.labs, got.keys) == (1, 1)
