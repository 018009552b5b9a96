"""Fixtures for the protocol tests: reference reports and signed reference certificates."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from protocol.credential import build_credential, certificate_id, status_entries
from protocol.encoding import dumps_compact
from protocol.jws import TYP_VC, sign_compact
from protocol.keys import SigningKey

DATA = Path(__file__).resolve().parent.parent / "data"
REFERENCE_REPORTS = ("green-tea-3", "green-tea-8", "green-tea-8-fail", "green-tea-40", "steel-rebar-6")
ISSUER = "https://qdtc.example.cn"
ISSUED_AT = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
#: The certificates' slot: revocation index 96426, suspension 96427.
STATUS_SLOT = 48213


def load_report(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))
    return loaded


def credential_for(report: dict[str, Any], slot: int = STATUS_SLOT) -> dict[str, Any]:
    return build_credential(
        report,
        credential_id=certificate_id(ISSUER, report["reportNumber"]),
        issuer=ISSUER,
        valid_from=ISSUED_AT,
        status=status_entries(slot, f"{ISSUER}/status"),
    )


def sign_credential(credential: dict[str, Any], key: SigningKey) -> str:
    return sign_compact(dumps_compact(credential), key, kid=key.public.kid, typ=TYP_VC)


@pytest.fixture(scope="session")
def ed_key() -> SigningKey:
    return SigningKey.generate()


@pytest.fixture(scope="session")
def es_key() -> SigningKey:
    return SigningKey.generate("ES256")


@pytest.fixture(scope="session")
def keys(ed_key: SigningKey, es_key: SigningKey) -> dict[str, SigningKey]:
    return {"EdDSA": ed_key, "ES256": es_key}


@pytest.fixture(scope="session")
def reference_vc(keys: dict[str, SigningKey]) -> Callable[..., str]:
    """``reference_vc(name, alg="EdDSA")``: the compact VC-JWT of a reference report."""
    cache: dict[tuple[str, str], str] = {}

    def make(name: str, alg: str = "EdDSA") -> str:
        if (name, alg) not in cache:
            cache[name, alg] = sign_credential(credential_for(load_report(name)), keys[alg])
        return cache[name, alg]

    return make


class Reference:
    """Helpers and constants, handed to tests as the ``ref`` fixture.

    (Test modules cannot import this conftest under ``--import-mode=importlib``.)
    """

    DATA = DATA
    REPORTS = REFERENCE_REPORTS
    ISSUER = ISSUER
    ISSUED_AT = ISSUED_AT
    STATUS_SLOT = STATUS_SLOT
    load_report = staticmethod(load_report)
    credential_for = staticmethod(credential_for)
    sign_credential = staticmethod(sign_credential)


@pytest.fixture(scope="session")
def ref() -> type[Reference]:
    return Reference
