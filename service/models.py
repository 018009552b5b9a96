"""The service tables and their public views, as SQLModel families.

Each family has the fields a caller sends (``…Create``), the table (``table=True``,
what is stored) and what is shown (``…Public``): a table row is never returned as
is, so a stored secret hash cannot leak through an API or a listing.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import ConfigDict, model_validator
from sqlalchemy import JSON, Column, DateTime, String, Text
from sqlmodel import Field, SQLModel

from protocol.errors import MalformedInputError
from protocol.names import check_lab_id


class Role(StrEnum):
    """What a bearer token may do: administer the service, operate it, or act for one lab."""

    ADMIN = "admin"
    OPERATOR = "operator"
    LAB = "lab"


class TokenBase(SQLModel):
    name: str = Field(min_length=1, max_length=200)
    role: Role
    lab_id: str | None = Field(default=None, max_length=200)


class TokenCreate(TokenBase):
    """A request for a token: a lab token names its lab, no other token does."""

    @model_validator(mode="after")
    def _lab_binding(self) -> TokenCreate:
        if self.role is Role.LAB:
            if self.lab_id is None:
                raise ValueError("a lab token needs the lab id it acts for (e.g. https://qdtc.example.cn)")
            try:
                check_lab_id(self.lab_id)
            except MalformedInputError as exc:
                raise ValueError(str(exc)) from exc
        elif self.lab_id is not None:
            raise ValueError(f"a {self.role.value} token is not bound to a lab: leave the lab id out")
        return self


class Token(TokenBase, table=True):
    """A stored token: the SHA-256 of its secret, never the secret."""

    id: int | None = Field(default=None, primary_key=True)
    #: Plain text, not a database enum type: a new role needs no type migration.
    role: Role = Field(sa_type=String(20))
    #: The first characters of the secret, to tell tokens apart in a listing.
    prefix: str = Field(max_length=16)
    #: Hex SHA-256 of the whole secret (service/tokens.py says why no slow hash).
    secret_sha256: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))


class TokenPublic(TokenBase):
    id: int
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


class AuditEntryBase(SQLModel):
    seq: int
    at: datetime
    actor: str
    action: str
    subject: str
    details: dict[str, Any]
    prev_hash: str
    hash: str


class AuditEntry(SQLModel, table=True):
    """One row of the append-only, hash-chained audit log (service/audit.py)."""

    __tablename__ = "audit_entry"

    #: 1, 2, 3, … with no gap; the primary key, so two writers cannot fork the chain.
    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    actor: str = Field(max_length=200)
    action: str = Field(max_length=100)
    subject: str = Field(max_length=400)
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64, unique=True)


class AuditEntryPublic(AuditEntryBase):
    model_config = ConfigDict(  # type: ignore[assignment]
        json_schema_extra={
            "examples": [
                {
                    "seq": 42,
                    "at": "2026-11-27T09:00:00Z",
                    "actor": "token:1:secretariat-admin",
                    "action": "member.admit",
                    "subject": "https://cnas.example.cn",
                    "details": {"number": 1, "labIds": ["https://*.example.cn"]},
                    "prev_hash": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                    "hash": "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752",
                }
            ]
        }
    )


class PublishedListBase(SQLModel):
    kind: str
    sequence: int
    issued_at: datetime
    expires_at: datetime
    sha256: str


class PublishedList(SQLModel, table=True):
    """One signed list a service published (a trust list, a federation list): every
    version is kept, so that each stays retrievable by its sequence (service/publication.py)."""

    __tablename__ = "published_list"

    #: What list this is, e.g. ``trust-list`` or ``federation-list``.
    kind: str = Field(primary_key=True, max_length=100)
    #: 1, 2, 3, … per kind; the primary key, so two publishers cannot take one sequence.
    sequence: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    issued_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    #: The compact JWS exactly as served.
    token: str = Field(sa_column=Column(Text, nullable=False))
    #: Hex SHA-256 of the token: the ETag.
    sha256: str = Field(max_length=64)


class PublishedListPublic(PublishedListBase):
    model_config = ConfigDict(  # type: ignore[assignment]
        json_schema_extra={
            "examples": [
                {
                    "kind": "trust-list",
                    "sequence": 12,
                    "issued_at": "2026-11-27T09:00:00Z",
                    "expires_at": "2026-12-04T09:00:00Z",
                    "sha256": "e3b7c4d1a9f20c5b6e8d7a1f3c2b4e6d8a0f1c3e5b7d9a2c4e6f8b0d1a3c5e7f",
                }
            ]
        }
    )
