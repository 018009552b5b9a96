"""The registry service's tables (SQLModel) and their request / public views (pydantic, so
that each carries its OpenAPI examples); a table row is never returned as is.

docs/architecture.md, "Registry service". Histories are append-only: a scope period, a
status change or a key decision is a new row or closes an open one; nothing is deleted.
Child rows reference the lab by its id (the URL), so a bulk import inserts every table
at once without waiting for generated keys.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator
from pydantic import Field as PField
from sqlalchemy import JSON, Column, DateTime, ForeignKey, String, Text
from sqlmodel import Field, SQLModel

from protocol.errors import InputError
from protocol.names import check_lab_id
from protocol.vocabulary import (
    ACCREDITATION_STATUSES,
    KEY_REVOCATION_REASONS,
    check_country,
    check_names,
    check_scope,
)


def _tz(nullable: bool = False) -> Any:
    return Column(DateTime(timezone=True), nullable=nullable)


def _lab_fk() -> Any:
    return Column(String(200), ForeignKey("lab.id"), nullable=False, index=True)


def _checked(check: Any, value: Any) -> Any:
    """Run a protocol check inside a pydantic validator: its one line becomes the message."""
    try:
        return check(value)
    except InputError as exc:
        raise ValueError(str(exc)) from None


# --- tables ------------------------------------------------------------------------------


class RegistryIdentity(SQLModel, table=True):
    """The one row saying who this registry is (set by ``init_registry``)."""

    __tablename__ = "registry_identity"

    id: int = Field(default=1, primary_key=True)
    registry_id: str = Field(max_length=200)
    country: str = Field(max_length=2)
    accreditation_body: str = Field(max_length=300)
    publication_url: str = Field(max_length=400)
    lab_ids: list[str] = Field(sa_column=Column(JSON, nullable=False))
    #: The registry's public signing key and when it became valid (the private key is in
    #: the data directory, encrypted).
    key_jwk: dict[str, str] = Field(sa_column=Column(JSON, nullable=False))
    key_valid_from: datetime = Field(sa_column=_tz())
    created_at: datetime = Field(sa_column=_tz())
    #: True when something changed since the last trust list was signed.
    unpublished_changes: bool = True


class LabRow(SQLModel, table=True):
    __tablename__ = "lab"

    id: str = Field(primary_key=True, max_length=200)
    names: dict[str, str] = Field(sa_column=Column(JSON, nullable=False))
    country: str = Field(max_length=2)
    accreditation_number: str = Field(max_length=200)
    created_at: datetime = Field(sa_column=_tz())


class ScopePeriod(SQLModel, table=True):
    """A lab accredited for ``category`` from ``since`` until ``until`` (open when None)."""

    __tablename__ = "lab_scope"

    pk: int | None = Field(default=None, primary_key=True)
    lab_id: str = Field(sa_column=_lab_fk())
    category: str = Field(max_length=60)
    standards: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    since: datetime = Field(sa_column=_tz())
    until: datetime | None = Field(default=None, sa_column=_tz(True))


class StatusChange(SQLModel, table=True):
    __tablename__ = "lab_status"

    pk: int | None = Field(default=None, primary_key=True)
    lab_id: str = Field(sa_column=_lab_fk())
    status: str = Field(max_length=20)
    since: datetime = Field(sa_column=_tz())
    for_cause: bool = False
    recorded_at: datetime = Field(sa_column=_tz())


class LabKey(SQLModel, table=True):
    """A lab key: pending until an operator approves or rejects it."""

    __tablename__ = "lab_key"

    pk: int | None = Field(default=None, primary_key=True)
    lab_id: str = Field(sa_column=_lab_fk())
    kid: str = Field(max_length=20, index=True)
    jwk: dict[str, str] = Field(sa_column=Column(JSON, nullable=False))
    #: What the lab's key request said the key will sign.
    scopes: list[str] = Field(sa_column=Column(JSON, nullable=False))
    state: str = Field(max_length=20, index=True)  # pending / approved / rejected
    #: How possession was shown: ``request`` (a verified key request) or ``import``.
    proof: str = Field(max_length=20)
    requested_at: datetime = Field(sa_column=_tz())
    decided_at: datetime | None = Field(default=None, sa_column=_tz(True))
    valid_from: datetime | None = Field(default=None, sa_column=_tz(True))
    valid_until: datetime | None = Field(default=None, sa_column=_tz(True))
    revoked_at: datetime | None = Field(default=None, sa_column=_tz(True))
    revocation_reason: str | None = Field(default=None, max_length=40)


class UsedKeyRequest(SQLModel, table=True):
    """The ``jti`` of every key request accepted: a replay is refused."""

    __tablename__ = "key_request_jti"

    jti: str = Field(primary_key=True, max_length=128)
    lab_id: str = Field(max_length=200)
    used_at: datetime = Field(sa_column=_tz())


class MirroredList(SQLModel, table=True):
    """The newest copy of one lab status list, verified before it was kept."""

    __tablename__ = "mirrored_status_list"

    url: str = Field(primary_key=True, max_length=300)
    issuer: str = Field(max_length=200, index=True)
    name: str = Field(max_length=24, unique=True)
    valid_from: datetime = Field(sa_column=_tz())
    token: str = Field(sa_column=Column(Text, nullable=False))
    sha256: str = Field(max_length=64)


# --- requests ----------------------------------------------------------------------------

#: Example keys of the OpenAPI examples, each with the kid protocol.keys.kid_for gives it.
_LAB_JWK: dict[str, Any] = {
    "kty": "OKP",
    "crv": "Ed25519",
    "x": "pRFG04B3_5kuuoTPHV6bJJBzUD63SGhpkBYVOwMaOPc",
}
_LAB_KID = "DaFq453JVgx"
_REGISTRY_JWK: dict[str, Any] = {
    "kty": "OKP",
    "crv": "Ed25519",
    "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
}
_REGISTRY_KID = "kPrK_qmxVWa"

_LAB_EXAMPLE: dict[str, Any] = {
    "id": "https://qdtc.example.cn",
    "names": {"en": "Qingdao Tea Testing Centre", "zh": "青岛茶叶检测中心"},
    "country": "CN",
    "accreditationNumber": "CNAS L1234",
    "scopes": [{"category": "food", "standards": ["GB 2763-2021"], "since": "2026-01-01T00:00:00Z"}],
    "accreditedSince": "2026-01-01T00:00:00Z",
}


class ScopeIn(BaseModel):
    """A scope to accredit, from ``since`` (default: the lab's accreditation date / now)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"category": "food", "standards": ["GB 2763-2021"]}]}
    )

    category: str
    standards: list[str] = PField(default_factory=list, max_length=50)
    since: datetime | None = None

    @field_validator("category")
    @classmethod
    def _category(cls, value: str) -> str:
        return str(_checked(check_scope, value))


class LabCreate(BaseModel):
    """A lab to accredit."""

    model_config = ConfigDict(populate_by_name=True, json_schema_extra={"examples": [_LAB_EXAMPLE]})

    id: str
    names: dict[str, str]
    country: str
    accreditation_number: str = PField(alias="accreditationNumber", min_length=1, max_length=200)
    scopes: list[ScopeIn] = PField(default_factory=list, max_length=20)
    accredited_since: datetime = PField(alias="accreditedSince")

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        return str(_checked(check_lab_id, value))

    @field_validator("names")
    @classmethod
    def _names(cls, value: dict[str, str]) -> dict[str, str]:
        return dict(_checked(check_names, value))

    @field_validator("country")
    @classmethod
    def _country(cls, value: str) -> str:
        return str(_checked(check_country, value))

    @field_validator("accreditation_number")
    @classmethod
    def _number(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the accreditation number is empty: give the lab's certificate number")
        return value.strip()


class ScopeEnd(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"until": "2026-06-30T00:00:00Z"}]})

    until: datetime | None = None


class StatusIn(BaseModel):
    """An accreditation status change, effective ``since`` (default now)."""

    model_config = ConfigDict(
        populate_by_name=True,
        json_schema_extra={
            "examples": [{"status": "suspended", "since": "2026-03-01T00:00:00Z", "forCause": False}]
        },
    )

    status: str
    since: datetime | None = None
    for_cause: bool = PField(default=False, alias="forCause")

    @field_validator("status")
    @classmethod
    def _status(cls, value: str) -> str:
        if value not in ACCREDITATION_STATUSES:
            raise ValueError(f"status must be one of {', '.join(ACCREDITATION_STATUSES)}")
        return value


class KeyRequestIn(BaseModel):
    """A key request: a compact JWS signed by the key it enrols (protocol/enrolment.py)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"request": "eyJhbGciOiJFZERTQSIsImtpZCI6Ii4uLiJ9.eyJsYWJJZCI6Li4ufQ.c2ln"}]
        }
    )

    request: str = PField(min_length=1, max_length=8000)


class KeyDecision(BaseModel):
    """Approve a pending key: valid from ``validFrom`` (default: now)."""

    model_config = ConfigDict(
        populate_by_name=True, json_schema_extra={"examples": [{"validFrom": "2026-02-01T00:00:00Z"}]}
    )

    valid_from: datetime | None = PField(default=None, alias="validFrom")


class KeyRetire(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"until": "2026-12-31T00:00:00Z"}]})

    until: datetime | None = None


class KeyRevoke(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"reason": "keyCompromise", "at": "2026-05-01T00:00:00Z"}]}
    )

    reason: str
    at: datetime | None = None

    @field_validator("reason")
    @classmethod
    def _reason(cls, value: str) -> str:
        if value not in KEY_REVOCATION_REASONS:
            raise ValueError(f"reason must be one of {', '.join(KEY_REVOCATION_REASONS)}")
        return value


class StatusListsIn(BaseModel):
    """Signed status lists to mirror (all or nothing)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"lists": ["eyJhbGciOiJFZERTQSJ9.eyJ9.c2ln"]}]})

    lists: list[str] = PField(min_length=1, max_length=1000)


# --- public views ------------------------------------------------------------------------

_KEY_PUBLIC_EXAMPLE: dict[str, Any] = {
    "labId": "https://qdtc.example.cn",
    "kid": _LAB_KID,
    "jwk": _LAB_JWK,
    "scopes": ["food"],
    "state": "approved",
    "proof": "request",
    "requestedAt": "2026-01-02T09:00:00Z",
    "decidedAt": "2026-01-02T10:00:00Z",
    "validFrom": "2026-01-02T10:00:00Z",
    "validUntil": None,
    "revokedAt": None,
    "revocationReason": None,
}

_LAB_PUBLIC_EXAMPLE: dict[str, Any] = {
    "id": "https://qdtc.example.cn",
    "names": {"en": "Qingdao Tea Testing Centre"},
    "country": "CN",
    "accreditationNumber": "CNAS L1234",
    "scopes": [{"category": "food", "from": "2026-01-01T00:00:00Z"}],
    "status": [{"status": "active", "since": "2026-01-01T00:00:00Z"}],
    "keys": [_KEY_PUBLIC_EXAMPLE],
}


class KeyPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_KEY_PUBLIC_EXAMPLE]})

    labId: str
    kid: str
    jwk: dict[str, str]
    scopes: list[str]
    state: str
    proof: str
    requestedAt: datetime
    decidedAt: datetime | None = None
    validFrom: datetime | None = None
    validUntil: datetime | None = None
    revokedAt: datetime | None = None
    revocationReason: str | None = None


class LabPublic(BaseModel):
    """A lab as the API shows it: the published form plus its pending keys."""

    model_config = ConfigDict(json_schema_extra={"examples": [_LAB_PUBLIC_EXAMPLE]})

    id: str
    names: dict[str, str]
    country: str
    accreditationNumber: str
    scopes: list[dict[str, Any]]
    status: list[dict[str, Any]]
    keys: list[KeyPublic]


class LabPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "labs": [_LAB_PUBLIC_EXAMPLE],
                    "next": "https://qdtc.example.cn",
                }
            ]
        }
    )

    labs: list[LabPublic]
    #: Pass as ``after`` for the next page; None on the last.
    next: str | None = None


class MirroredListPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "url": "https://qdtc.example.cn/status/1",
                    "issuer": "https://qdtc.example.cn",
                    "validFrom": "2026-01-02T09:00:00Z",
                    "href": "status-lists/3f1c2a9e0b7d4e5f8a3b2c1d",
                    "sha256": "5d41402abc4b2a76b9719d911017c592e2f1a6b3c4d5e6f708192a3b4c5d6e7f",
                }
            ]
        }
    )

    url: str
    issuer: str
    validFrom: datetime
    href: str
    sha256: str


class Changed(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"changed": ["https://qdtc.example.cn/status/1"]}]}
    )

    changed: list[str]


class ImportResult(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"labs": 18000, "keys": 18000}]})

    labs: int
    keys: int


class PublishResult(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"sequence": 12, "issuedAt": "2026-01-02T09:00:00Z", "expiresAt": "2026-01-09T09:00:00Z"}
            ]
        }
    )

    sequence: int
    issuedAt: datetime
    expiresAt: datetime


class RegistryPublic(BaseModel):
    """What the federation root needs to admit this registry."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "https://cnas.example.cn",
                    "country": "CN",
                    "accreditationBody": "CNAS",
                    "publicationUrl": "https://cnas.example.cn/yilu/",
                    "labIds": ["https://*.example.cn"],
                    "keys": [
                        {"kid": _REGISTRY_KID, "jwk": _REGISTRY_JWK, "validFrom": "2026-01-01T00:00:00Z"}
                    ],
                }
            ]
        }
    )

    id: str
    country: str
    accreditationBody: str
    publicationUrl: str
    labIds: list[str]
    keys: list[dict[str, Any]]
