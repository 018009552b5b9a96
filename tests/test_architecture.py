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


@pytest.mark.parametrize("party", sorted(PARTIES))
def test_each_party_keeps_its_commands_next_to_its_code(party: str) -> None:
    """``yilu`` composes the parties' command groups (docs/architecture.md, "Command line")."""
    from yilu.cli import COMMANDS

    assert (ROOT / party / "_cli.py").is_file()
    assert any(target.startswith(f"{party}._cli:") for target in COMMANDS.values())


def test_the_top_level_app_imports_no_party() -> None:
    """``yilu/cli.py`` names each party's commands in ``COMMANDS`` and imports a party only
    when one of its commands runs: ``yilu verify`` loads no issuer or registry code."""
    tree = ast.parse((ROOT / "yilu" / "cli.py").read_text())
    found = {a.name for n in tree.body if isinstance(n, ast.Import) for a in n.names}
    found |= {n.module for n in tree.body if isinstance(n, ast.ImportFrom) and n.module}
    assert not {n for n in found if n.split(".")[0] in PARTIES}
