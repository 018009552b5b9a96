"""The package boundaries of docs/architecture.md, checked on the source itself."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
WEB_OR_DB = {"fastapi", "starlette", "uvicorn", "sqlmodel", "sqlalchemy", "psycopg", "alembic", "httpx"}
PARTIES = {"issuer", "trust_registry", "verifier"}


def imports(package: str) -> set[str]:
    found: set[str] = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                found.add(node.module)
    return found


def test_protocol_imports_no_web_or_database_code() -> None:
    roots = {name.split(".")[0] for name in imports("protocol")}
    assert not roots & WEB_OR_DB
    others = PARTIES | {"yilu", "service"}
    assert not {n for n in imports("protocol") if n.split(".")[0] in others}


def test_service_imports_protocol_never_a_party_or_the_command_line() -> None:
    found = imports("service")
    bad = {n for n in found if n.split(".")[0] in PARTIES | {"yilu"}}
    assert not bad, f"service imports {bad}"
    assert any(n == "protocol" or n.startswith("protocol.") for n in found)


@pytest.mark.parametrize("party", sorted(PARTIES))
def test_parties_import_protocol_never_each_other(party: str) -> None:
    others = PARTIES - {party} | {"yilu"}
    bad = {n for n in imports(party) if any(n == o or n.startswith(o + ".") for o in others)}
    assert not bad, f"{party} imports {bad}"
    assert any(n == "protocol" or n.startswith("protocol.") for n in imports(party))

