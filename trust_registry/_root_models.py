"""The root service's tables and the shapes its API reads and answers (SQLModel families).

docs/architecture.md, "Root service". Tables hold what the root decided (its identity,
members with their keys, status history and lab id patterns, agreements), what it
fetched from its members (the last good copy of each list) and the bundles it built.
Rows are never returned as they are: the routes answer the ``…Public`` models.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator, model_validator
from pydantic.alias_generators import to_camel
from sqlalchemy import JSON, BigInteger, Column, DateTime, LargeBinary, Text
from sqlmodel import Field, SQLModel

from protocol import names
from protocol.errors import InputError, MalformedInputError
from protocol.keys import VerifyKey
from protocol.names import NamePattern, check_lab_id
from protocol.vocabulary import KEY_REVOCATION_REASONS, MEMBER_STATUSES, SCOPES, check_country


def _time(nullable: bool = False) -> Any:
    return Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=nullable))


class RootIdentity(SQLModel, table=True):
    """The one row that says who this root is; absent until ``init_root`` ran."""

    __tablename__ = "root_identity"

    id: int = Field(default=1, primary_key=True)
    federation_id: str = Field(max_length=200)
    #: The root's public keys as JWKs (what devices pin; ``root-keys.json`` holds the same).
    root_keys: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    #: The file in the data directory holding the encrypted signing key (of the current
    #: root version: ``root-key.pem`` at 1, ``root-key-v<N>-<kid>.pem`` after rotations).
    key_file: str = Field(max_length=200)
    #: 1, +1 at every root key rotation (docs/formats.md, "Root rotation").
    root_version: int = 1
    #: Every root rotation statement so far, to versions 2, 3 ... in order: every bundle
    #: carries them, so that a device pinned at any earlier version walks forward.
    root_chain: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = _time()
    #: Counts every change; ``published_change`` is the count the newest federation list holds.
    change_count: int = 0
    published_change: int = 0
    #: The bundle sequence last built (0 before the first).
    bundle_sequence: int = 0


class MemberRow(SQLModel, table=True):
    """A member registry: what the federation list says of it (its keys and status history
    are rows of their own, append only)."""

    __tablename__ = "root_member"

    number: int | None = Field(default=None, primary_key=True)
    registry_id: str = Field(max_length=200, unique=True, index=True)
    country: str = Field(max_length=2)
    accreditation_body: str = Field(max_length=200)
    publication_url: str = Field(max_length=400)
    #: The binding rule: the lab id patterns this member may list (docs/formats.md).
    lab_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    admitted_at: datetime = _time()


class MemberKeyRow(SQLModel, table=True):
    """One key of a member registry, with its validity and, if revoked, when and why."""

    __tablename__ = "root_member_key"

    id: int | None = Field(default=None, primary_key=True)
    member: int = Field(foreign_key="root_member.number", index=True)
    kid: str = Field(max_length=100)
    jwk: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    valid_from: datetime = _time()
    valid_until: datetime | None = _time(nullable=True)
    revoked_at: datetime | None = _time(nullable=True)
    revocation_reason: str | None = Field(default=None, max_length=40)


class MemberStatusRow(SQLModel, table=True):
    """One entry of a member's status history (append only)."""

    __tablename__ = "root_member_status"

    id: int | None = Field(default=None, primary_key=True)
    member: int = Field(foreign_key="root_member.number", index=True)
    status: str = Field(max_length=20)
    since: datetime = _time()
    recorded_at: datetime = _time()


class AgreementRow(SQLModel, table=True):
    """A recognition agreement; never deleted, ended by setting ``until``."""

    __tablename__ = "root_agreement"

    id: int | None = Field(default=None, primary_key=True)
    country: str = Field(max_length=2)
    accepts: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    scopes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    since: datetime = _time()
    until: datetime | None = _time(nullable=True)
    created_at: datetime = _time()


class FetchedListRow(SQLModel, table=True):
    """The last good copy of one list a member published (its trust list, or one status
    list of one of its labs), verified before it was kept."""

    __tablename__ = "root_fetched_list"

    id: int | None = Field(default=None, primary_key=True)
    member: int = Field(foreign_key="root_member.number", index=True)
    #: ``trust`` or ``status``.
    kind: str = Field(max_length=10)
    #: The trust list's registry id, or the status list's URL.
    name: str = Field(max_length=400)
    #: The list's own sequence (trust list) or validFrom as a POSIX second (status list).
    version: int = Field(sa_column=Column(BigInteger, nullable=False))
    token: str = Field(sa_column=Column(Text, nullable=False))
    fetched_at: datetime = _time()


class FetchStateRow(SQLModel, table=True):
    """What the last fetch from a member found: the ETags to send next time and problems."""

    __tablename__ = "root_fetch_state"

    member: int = Field(foreign_key="root_member.number", primary_key=True)
    trust_etag: str | None = Field(default=None, max_length=200)
    status_etag: str | None = Field(default=None, max_length=200)
    attempted_at: datetime = _time()
    problems: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class BundleRow(SQLModel, table=True):
    """A bundle the root built, kept in the database (several nodes may serve it), with the
    delta from the bundle before it."""

    __tablename__ = "root_bundle"

    sequence: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    created_at: datetime = _time()
    federation_sequence: int
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    sha256: str = Field(max_length=64)
    delta: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    delta_sha256: str | None = Field(default=None, max_length=64)
    warnings: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


# -- what callers send and what they are shown ----------------------------------------------
#
# camelCase on the wire, as in the signed lists (docs/formats.md); validators raise
# ValueError with one line saying what to do, which the service answers as a 422 problem.


def _one_line(check: Any, value: Any) -> Any:
    try:
        return check(value)
    except InputError as exc:
        raise ValueError(str(exc)) from None


def _aware(value: datetime | None, what: str) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError(f"{what} needs a time zone, e.g. 2026-11-27T09:00:00Z")
    return value


#: The member key of the examples (kid as protocol.keys.kid_for gives it).
_MEMBER_JWK: dict[str, Any] = {
    "kty": "OKP",
    "crv": "Ed25519",
    "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
}
_MEMBER_KID = "kPrK_qmxVWa"
_KEY_EXAMPLE: dict[str, Any] = {
    "kid": _MEMBER_KID,
    "jwk": _MEMBER_JWK,
    "validFrom": "2026-11-27T09:00:00Z",
    "validUntil": None,
    "revokedAt": None,
    "revocationReason": None,
}
_STATUS_EXAMPLE: dict[str, Any] = {"status": "active", "since": "2026-11-27T09:00:00Z"}
_MEMBER_EXAMPLE: dict[str, Any] = {
    "number": 1,
    "id": "https://cnas.example.cn",
    "country": "CN",
    "accreditationBody": "CNAS",
    "publicationUrl": "https://cnas.example.cn/yilu/",
    "labIds": ["https://*.example.cn"],
    "keys": [_KEY_EXAMPLE],
    "status": [_STATUS_EXAMPLE],
    "admittedAt": "2026-11-27T09:00:00Z",
    "fetchProblems": [],
}


class Api(BaseModel):
    """Base of the request and answer shapes: camelCase names, unknown fields refused."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class KeyIn(Api):
    """A member registry's public key (JWK) and from when it is valid."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"jwk": _MEMBER_JWK, "validFrom": "2027-01-01T00:00:00Z"}]}
    )

    jwk: dict[str, Any]
    valid_from: datetime | None = None

    @field_validator("jwk")
    @classmethod
    def _jwk(cls, value: dict[str, Any]) -> dict[str, Any]:
        return dict(_one_line(VerifyKey.from_jwk, value).jwk)

    @field_validator("valid_from")
    @classmethod
    def _tz(cls, value: datetime | None) -> datetime | None:
        return _aware(value, "validFrom")


def _lab_id_patterns(values: list[str]) -> list[str]:
    if not values:
        raise ValueError("give at least one lab id pattern this member may list, e.g. https://*.example.cn")
    return [_one_line(NamePattern, v).text for v in values]


class MemberCreate(Api):
    """A registry to admit: who it is, where it publishes, its keys and the lab ids it may list."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "https://registry.example.cn",
                    "country": "CN",
                    "accreditationBody": "CNAS",
                    "publicationUrl": "https://registry.example.cn/yilu/",
                    "keys": [
                        {
                            "jwk": {
                                "kty": "OKP",
                                "crv": "Ed25519",
                                "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
                            },
                            "validFrom": "2026-11-27T09:00:00Z",
                        }
                    ],
                    "labIds": ["https://*.example.cn"],
                    "activeSince": "2026-11-27T09:00:00Z",
                }
            ]
        }
    )

    id: str
    country: str
    accreditation_body: str
    publication_url: str
    keys: list[KeyIn]
    lab_ids: list[str]
    active_since: datetime | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        return str(_one_line(lambda v: check_lab_id(v, "registry id"), value))

    @field_validator("country")
    @classmethod
    def _country(cls, value: str) -> str:
        return str(_one_line(check_country, value))

    @field_validator("accreditation_body")
    @classmethod
    def _body(cls, value: str) -> str:
        if not value.strip() or len(value) > 200:
            raise ValueError(
                "give the name of the registry's accreditation body (1-200 characters), e.g. CNAS"
            )
        return value.strip()

    @field_validator("publication_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return check_publication_url(value)

    @field_validator("keys")
    @classmethod
    def _keys(cls, value: list[KeyIn]) -> list[KeyIn]:
        if not value:
            raise ValueError("give at least one public key (JWK) of the registry")
        return value

    @field_validator("lab_ids")
    @classmethod
    def _patterns(cls, value: list[str]) -> list[str]:
        return _lab_id_patterns(value)

    @field_validator("active_since")
    @classmethod
    def _tz(cls, value: datetime | None) -> datetime | None:
        return _aware(value, "activeSince")


def check_publication_url(value: str) -> str:
    """protocol.names.check_publication_url, as a pydantic validator's ValueError."""
    try:
        return names.check_publication_url(value)
    except MalformedInputError as exc:
        raise ValueError(str(exc)) from None


class MemberFromUrl(Api):
    """Admit a registry from the ``GET /registry`` document it serves at ``url``; the root
    still sets the lab ids it may list unless ``labIds`` is left out (then its own claim)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"url": "https://registry.example.cn/registry", "labIds": ["https://*.example.cn"]}]
        }
    )

    url: str
    lab_ids: list[str] | None = None
    active_since: datetime | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return check_publication_url(value)

    @field_validator("lab_ids")
    @classmethod
    def _patterns(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _lab_id_patterns(value)


class LabIdsUpdate(Api):
    """The lab id patterns a member may list from now on (the binding rule)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"labIds": ["https://*.example.cn"]}]})

    lab_ids: list[str]

    @field_validator("lab_ids")
    @classmethod
    def _patterns(cls, value: list[str]) -> list[str]:
        return _lab_id_patterns(value)


class StatusCreate(Api):
    """A member's status from ``since`` on: active, suspended or withdrawn."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"status": "suspended", "since": "2026-12-01T00:00:00Z"}]}
    )

    status: str
    since: datetime

    @field_validator("status")
    @classmethod
    def _status(cls, value: str) -> str:
        if value not in MEMBER_STATUSES:
            raise ValueError(f"status {value[:40]!r} is not one of {', '.join(MEMBER_STATUSES)}")
        return value

    @field_validator("since")
    @classmethod
    def _tz(cls, value: datetime) -> datetime:
        _aware(value, "since")
        return value


class KeyRetire(Api):
    """The member key stays valid until ``until`` (then it verifies nothing newer)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"until": "2027-01-01T00:00:00Z"}]})

    until: datetime

    @field_validator("until")
    @classmethod
    def _tz(cls, value: datetime) -> datetime:
        _aware(value, "until")
        return value


class KeyRevoke(Api):
    """Revoke a member key; ``keyCompromise`` voids everything it ever signed."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"at": "2026-12-01T00:00:00Z", "reason": "keyCompromise"}]}
    )

    at: datetime
    reason: str

    @field_validator("reason")
    @classmethod
    def _reason(cls, value: str) -> str:
        if value not in KEY_REVOCATION_REASONS:
            raise ValueError(f"reason {value[:40]!r} is not one of {', '.join(KEY_REVOCATION_REASONS)}")
        return value

    @field_validator("at")
    @classmethod
    def _tz(cls, value: datetime) -> datetime:
        _aware(value, "at")
        return value


class AgreementCreate(Api):
    """``country`` recognises the results of the ``accepts`` members for ``scopes`` from
    ``from`` (until ``until``, if given)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "country": "KZ",
                    "accepts": ["https://registry.example.cn"],
                    "scopes": ["food", "chemicals"],
                    "from": "2026-11-27T00:00:00Z",
                    "until": None,
                }
            ]
        }
    )

    country: str
    accepts: list[str]
    scopes: list[str]
    since: datetime = Field(alias="from")
    until: datetime | None = None

    @field_validator("country")
    @classmethod
    def _country(cls, value: str) -> str:
        return str(_one_line(check_country, value))

    @field_validator("accepts")
    @classmethod
    def _accepts(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("name at least one member registry whose results are accepted")
        if len(set(value)) != len(value):
            raise ValueError("a member registry is named twice in accepts")
        return value

    @field_validator("scopes")
    @classmethod
    def _scopes(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError(f"name at least one scope: {', '.join(SCOPES)}")
        bad = [s for s in value if s not in SCOPES]
        if bad:
            raise ValueError(f"unknown scope {bad[0][:40]!r}; use one of {', '.join(SCOPES)}")
        return list(dict.fromkeys(value))

    @model_validator(mode="after")
    def _window(self) -> AgreementCreate:
        _aware(self.since, "from")
        _aware(self.until, "until")
        if self.until is not None and self.until < self.since:
            raise ValueError("until is before from: an agreement ends after it begins")
        return self


class AgreementEnd(Api):
    """The agreement holds until ``until`` (not before its ``from``)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"until": "2027-06-30T23:59:59Z"}]})

    until: datetime

    @field_validator("until")
    @classmethod
    def _tz(cls, value: datetime) -> datetime:
        _aware(value, "until")
        return value


class KeyPublic(Api):
    model_config = ConfigDict(json_schema_extra={"examples": [_KEY_EXAMPLE]})

    kid: str
    jwk: dict[str, Any]
    valid_from: datetime
    valid_until: datetime | None = None
    revoked_at: datetime | None = None
    revocation_reason: str | None = None


class StatusPublic(Api):
    model_config = ConfigDict(json_schema_extra={"examples": [_STATUS_EXAMPLE]})

    status: str
    since: datetime


class MemberPublic(Api):
    """A member as the root holds it; ``number`` is its handle in this API's paths."""

    model_config = ConfigDict(json_schema_extra={"examples": [_MEMBER_EXAMPLE]})

    number: int
    id: str
    country: str
    accreditation_body: str
    publication_url: str
    lab_ids: list[str]
    keys: list[KeyPublic]
    status: list[StatusPublic]
    admitted_at: datetime
    fetch_problems: list[str] = []


class AgreementPublic(Api):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 1,
                    "country": "KZ",
                    "accepts": ["https://cnas.example.cn"],
                    "scopes": ["food", "chemicals"],
                    "from": "2026-11-27T00:00:00Z",
                    "until": None,
                    "createdAt": "2026-11-27T09:00:00Z",
                }
            ]
        }
    )

    id: int
    country: str
    accepts: list[str]
    scopes: list[str]
    since: datetime = Field(serialization_alias="from")
    until: datetime | None = None
    created_at: datetime


class RootPublic(Api):
    """Who this root is and whether its federation list holds every change."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "federationId": "https://federation.example.org",
                    "rootKeys": [
                        {"kty": "OKP", "crv": "Ed25519", "x": "SBNJTRN-FjG7owHVrKtue7eqdM4RhdRWVl71HXN2d7I"}
                    ],
                    "rootVersion": 1,
                    "chainLength": 0,
                    "publishedSequence": 3,
                    "unpublishedChanges": 0,
                    "bundleSequence": 4,
                }
            ]
        }
    )

    federation_id: str
    root_keys: list[dict[str, Any]]
    #: The root version of ``rootKeys`` (1, +1 at every rotation) and how many rotation
    #: statements lead there (GET /root/chain serves them).
    root_version: int
    chain_length: int
    published_sequence: int
    unpublished_changes: int
    bundle_sequence: int


class RotationPublic(Api):
    """What a root key rotation did: the new root version, its key and the first federation
    list it signed."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"rootVersion": 2, "kid": "_gjWLDsruhe", "federationListSequence": 7}]
        }
    )

    root_version: int
    kid: str
    federation_list_sequence: int


class PublishedPublic(Api):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "sequence": 3,
                    "issuedAt": "2026-11-27T09:00:00Z",
                    "expiresAt": "2026-12-04T09:00:00Z",
                    "sha256": "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
                }
            ]
        }
    )

    sequence: int
    issued_at: datetime
    expires_at: datetime
    sha256: str


class FetchReport(Api):
    """What one fetch from the members found: lists kept, unchanged, dropped (with why)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "kept": 2,
                    "unchanged": 5,
                    "dropped": [
                        "https://cnas.example.cn: trust list 13 is signed by kid DaFq453JVgx, "
                        "not a current key of this member"
                    ],
                }
            ]
        }
    )

    kept: int
    unchanged: int
    dropped: list[str]


class BundlePublic(Api):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "sequence": 4,
                    "createdAt": "2026-11-27T09:05:00Z",
                    "federationSequence": 3,
                    "size": 48213,
                    "sha256": "fcde2b2edba56bf408601fb721fe9b5c338d10ee429ea04fae5511b68fbf8fb9",
                    "deltaSize": 1890,
                    "warnings": [],
                }
            ]
        }
    )

    sequence: int
    created_at: datetime
    federation_sequence: int
    size: int
    sha256: str
    delta_size: int | None = None
    warnings: list[str] = []
