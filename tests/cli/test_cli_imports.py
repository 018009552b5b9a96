"""``yilu verify`` with installed trust data imports only what a verdict needs.

DESIGN.md, "Performance budget": one process <= 120 ms, so imports are lazy. This runs the
real command under ``-X importtime`` (``PYTHONPROFILEIMPORTTIME``) and fails if a module
that the plain-text path never needs was imported: a JOSE library, X.509, an HTTP
client, JSON Schema, imaging and QR libraries, the web and database stacks, rich.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from testkit import AT_NOW, DATA, run_yilu

FORBIDDEN = (
    "jwt",
    "jwcrypto",
    "cryptography.x509",
    "httpx",
    "requests",
    "urllib3",
    "http.client",
    "jsonschema",
    "PIL",
    "zxingcpp",
    "qrcode",
    "segno",
    "fastapi",
    "starlette",
    "uvicorn",
    "sqlmodel",
    "sqlalchemy",
    "pydantic",
    "rich",
    # Install-time only: a scan never walks the root rotation chain.
    "protocol.rootchain",
    # The other parties' and the services' code.
    "issuer",
    "trust_registry",
    "service",
)


def imported_modules(stderr: str) -> set[str]:
    """Module names from ``-X importtime`` lines: ``import time: self | cumulative | name``."""
    names = set()
    for line in stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip())
    return names


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    base = tmp_path_factory.mktemp("imports")
    proc = run_yilu("demo", "init", str(base / "fed"), "--json", "--at", AT_NOW)
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    data_dir = base / "data"
    proc = run_yilu(
        "trust", "install", info["bundle"], "--root", info["rootKeys"], "--at", AT_NOW, data_dir=data_dir
    )
    assert proc.returncode == 0, proc.stderr
    lab = next(lab["dir"] for lab in info["labs"] if lab["id"] == "https://qdtc.example.cn")
    proc = run_yilu("issue", str(DATA / "green-tea-8.json"), "--lab", lab, "--at", AT_NOW)
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout.strip()
    assert text.startswith("YL1:")
    return data_dir, text


@pytest.mark.parametrize("output", [(), ("--json",)])
def test_verify_imports_only_what_it_needs(installed: tuple[Path, str], output: tuple[str, ...]) -> None:
    data_dir, text = installed
    args = ("verify", text, "--country", "KZ", "--at", AT_NOW, *output)
    proc = run_yilu(*args, data_dir=data_dir, env={"PYTHONPROFILEIMPORTTIME": "1"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    names = imported_modules(proc.stderr)
    assert "verifier._verify" in names  # the profile did run
    assert not forbidden(names), f"yilu verify imported {forbidden(names)}"


def forbidden(names: set[str]) -> list[str]:
    return sorted(n for n in names if any(n == f or n.startswith(f + ".") for f in FORBIDDEN))


def test_the_check_can_fail() -> None:
    """A process that does import such modules is caught by the same parsing."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import jwt, jsonschema"],
        capture_output=True,
        text=True,
        check=True,
    )
    caught = forbidden(imported_modules(proc.stderr))
    assert "jwt" in caught and "jsonschema" in caught and "cryptography.x509" in caught
