"""Trust lists and the federation list: their payloads, signing and strict parsing.

Formats: docs/formats.md, "Trust list" and "Federation list". Every list carries a
monotonically increasing ``sequence`` (rollback protection) and an ``expiresAt``
(freeze protection), as in TUF. Parsing never trusts a list: it only checks shape;
signatures and the chain are checked by the verifier's snapshot loader.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, TypeVar

from protocol.encoding import dumps_compact, format_time, parse_time
from protocol.errors import InputError, MalformedInputError, TrustDataError
from protocol.jws import Signer, sign_compact
from protocol.keys import VerifyKey
from protocol.names import NamePattern, parse_patterns
from protocol.vocabulary import (
    ACCREDITATION_STATUSES,
    KEY_REVOCATION_REASONS,
    MEMBER_STATUSES,
    SCOPES,
)

TYP_TRUST_LIST: Final = "yilu-trust-list+jwt"
TYP_FEDERATION_LIST: Final = "yilu-federation-list+jwt"
FORMAT_VERSION: Final = 1

T = TypeVar("T")


def is_version(obj: Mapping[str, Any], version: int) -> bool:
    """True if ``obj["version"]`` is exactly the integer ``version`` (not ``true``, not ``1.0``)."""
    value = obj.get("version")
    return type(value) is int and value == version


def _get(obj: Mapping[str, Any], name: str, kind: type[T], where: str) -> T:
    value = obj.get(name)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise MalformedInputError(f"{where}.{name} must be a {kind.__name__}")
    return value


def _opt_time(obj: Mapping[str, Any], name: str, where: str) -> datetime | None:
    value = obj.get(name)
    return None if value is None else parse_time(value, f"{where}.{name}")


def _obj(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise MalformedInputError(f"{where} must be an object")
    return value


def _list(obj: Mapping[str, Any], name: str, where: str) -> list[Any]:
    return _get(obj, name, list, where)


#: Most keys one root version may have.
MAX_ROOT_KEYS: Final = 16


def parse_root_keys(value: Any, where: str) -> tuple[VerifyKey, ...]:
    """A root version's public keys: a list of 1 to :data:`MAX_ROOT_KEYS` public JWKs, no key
    twice (``rootKeys`` of a federation list or a root rotation statement)."""
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_ROOT_KEYS:
        raise MalformedInputError(f"{where} must be a list of 1 to {MAX_ROOT_KEYS} public JWKs")
    try:
        keys = tuple(VerifyKey.from_jwk(_obj(jwk, f"{where}[{i}]")) for i, jwk in enumerate(value))
    except InputError as exc:
        raise MalformedInputError(f"{where}: {exc}") from exc
    if len(key_set(keys)) != len(keys):
        raise MalformedInputError(f"{where} names a key twice")
    return keys


def key_set(keys: Iterable[VerifyKey]) -> frozenset[tuple[tuple[str, str], ...]]:
    """Keys as a set of their public JWKs: two root versions have the same keys if equal."""
    return frozenset(tuple(sorted(k.jwk.items())) for k in keys)


@dataclass(frozen=True, slots=True)
class StatusEvent:
    """One entry of a status history: from ``since`` on, the party is ``status``.

    A lab's ``withdrawn`` event may be **for cause** (``forCause: true``): the registry
    no longer trusts anything the lab signed, whatever date it bears, as with a key
    compromise (docs/verifying.md, "Back-dating").
    """

    status: str
    since: datetime
    for_cause: bool = False

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status, "since": format_time(self.since)}
        if self.for_cause:
            out["forCause"] = True
        return out

    @classmethod
    def from_json(cls, obj: Any, where: str, allowed: Sequence[str]) -> StatusEvent:
        o = _obj(obj, where)
        status = _get(o, "status", str, where)
        if status not in allowed:
            raise MalformedInputError(f"{where}.status {status!r} is not one of {list(allowed)}")
        for_cause = o.get("forCause", False)
        if for_cause is not False and (for_cause is not True or status != "withdrawn"):
            raise MalformedInputError(f"{where}.forCause may only be true, on a withdrawal")
        return cls(status, parse_time(o.get("since"), f"{where}.since"), for_cause)


def status_at(history: Iterable[StatusEvent], when: datetime) -> str | None:
    """The status in force at ``when``: the latest event with ``since <= when``."""
    current: StatusEvent | None = None
    for event in history:
        if event.since <= when and (current is None or event.since >= current.since):
            current = event
    return None if current is None else current.status


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """A public key with its validity window and, if revoked, when and why."""

    key: VerifyKey
    valid_from: datetime
    valid_until: datetime | None = None
    revoked_at: datetime | None = None
    revocation_reason: str | None = None

    @property
    def kid(self) -> str:
        return self.key.kid

    def valid_at(self, when: datetime) -> bool:
        """Inside its validity window at ``when`` (revocation is checked separately)."""
        return self.valid_from <= when and (self.valid_until is None or when <= self.valid_until)

    def revoked_for(self, when: datetime) -> bool:
        """True if the revocation voids what claims to be signed at ``when``: always after a
        ``keyCompromise``, otherwise from ``revokedAt`` on (docs/formats.md, "Keys")."""
        return self.revoked_at is not None and (
            self.revocation_reason == "keyCompromise" or self.revoked_at <= when
        )

    def unusable_at(self, when: datetime) -> str | None:
        """Why this key may not have signed something dated ``when``, or None if it may."""
        if not self.valid_at(when):
            return f"signed with key {self.kid} outside its validity"
        if self.revoked_for(when):
            return f"signed with key {self.kid}, which was revoked ({self.revocation_reason})"
        return None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kid": self.key.kid,
            "jwk": dict(self.key.jwk),
            "validFrom": format_time(self.valid_from),
        }
        if self.valid_until is not None:
            out["validUntil"] = format_time(self.valid_until)
        if self.revoked_at is not None:
            out["revokedAt"] = format_time(self.revoked_at)
            out["revocationReason"] = self.revocation_reason
        return out

    @classmethod
    def from_json(cls, obj: Any, where: str) -> KeyRecord:
        o = _obj(obj, where)
        key = VerifyKey.from_jwk(_obj(o.get("jwk"), f"{where}.jwk"))
        if o.get("kid") != key.kid:
            raise MalformedInputError(f"{where}.kid does not match the key's thumbprint")
        reason = o.get("revocationReason")
        revoked_at = _opt_time(o, "revokedAt", where)
        if revoked_at is not None and reason not in KEY_REVOCATION_REASONS:
            raise MalformedInputError(
                f"{where}.revocationReason must be one of {list(KEY_REVOCATION_REASONS)}"
            )
        return cls(
            key,
            parse_time(o.get("validFrom"), f"{where}.validFrom"),
            _opt_time(o, "validUntil", where),
            revoked_at,
            reason if revoked_at else None,
        )


@dataclass(frozen=True, slots=True)
class Scope:
    """An accredited scope: a category of the controlled vocabulary, optionally standards,
    in force from ``since`` to ``until`` (both optional, inclusive). A scope added or
    removed keeps its history: a verifier judges it at the certificate's ``validFrom``,
    not today (docs/formats.md, "Trust list"; docs/verifying.md, step 8)."""

    category: str
    standards: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None

    def in_force(self, when: datetime) -> bool:
        """True if the lab was accredited for this scope at ``when``."""
        return (self.since is None or self.since <= when) and (self.until is None or when <= self.until)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"category": self.category}
        if self.standards:
            out["standards"] = list(self.standards)
        if self.since is not None:
            out["from"] = format_time(self.since)
        if self.until is not None:
            out["until"] = format_time(self.until)
        return out

    @classmethod
    def from_json(cls, obj: Any, where: str) -> Scope:
        o = _obj(obj, where)
        category = _get(o, "category", str, where)
        if category not in SCOPES:
            raise MalformedInputError(f"{where}.category {category!r} is not in the scope vocabulary")
        standards = o.get("standards", [])
        if not isinstance(standards, list) or not all(isinstance(s, str) for s in standards):
            raise MalformedInputError(f"{where}.standards must be a list of strings")
        since, until = _opt_time(o, "from", where), _opt_time(o, "until", where)
        if since is not None and until is not None and until < since:
            raise MalformedInputError(f"{where}.until is before its from")
        return cls(category, tuple(standards), since, until)


@dataclass(frozen=True, slots=True)
class Lab:
    """An accredited lab as its registry publishes it."""

    id: str
    names: Mapping[str, str]
    country: str
    accreditation_number: str
    scopes: tuple[Scope, ...]
    status: tuple[StatusEvent, ...]
    keys: tuple[KeyRecord, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "names": dict(self.names),
            "country": self.country,
            "accreditationNumber": self.accreditation_number,
            "scopes": [s.to_json() for s in self.scopes],
            "status": [e.to_json() for e in self.status],
            "keys": [k.to_json() for k in self.keys],
        }

    @classmethod
    def from_json(cls, obj: Any, where: str) -> Lab:
        o = _obj(obj, where)
        names = _get(o, "names", dict, where)
        if not names or not all(isinstance(v, str) for v in names.values()):
            raise MalformedInputError(f"{where}.names must map languages to names")
        return cls(
            id=_get(o, "id", str, where),
            names=names,
            country=_get(o, "country", str, where),
            accreditation_number=_get(o, "accreditationNumber", str, where),
            scopes=tuple(
                Scope.from_json(s, f"{where}.scopes[{i}]") for i, s in enumerate(_list(o, "scopes", where))
            ),
            status=tuple(
                StatusEvent.from_json(s, f"{where}.status[{i}]", ACCREDITATION_STATUSES)
                for i, s in enumerate(_list(o, "status", where))
            ),
            keys=tuple(
                KeyRecord.from_json(k, f"{where}.keys[{i}]") for i, k in enumerate(_list(o, "keys", where))
            ),
        )

    def name(self, lang: str = "en") -> str:
        """The lab's name in ``lang``, falling back to English, then any name."""
        return self.names.get(lang) or self.names.get("en") or next(iter(self.names.values()))


@dataclass(frozen=True, slots=True)
class TrustList:
    """A registry's signed list of accredited labs."""

    registry: str
    country: str
    accreditation_body: str
    sequence: int
    issued_at: datetime
    expires_at: datetime
    labs: tuple[Lab, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "TrustList",
            "version": FORMAT_VERSION,
            "registry": self.registry,
            "country": self.country,
            "accreditationBody": self.accreditation_body,
            "sequence": self.sequence,
            "issuedAt": format_time(self.issued_at),
            "expiresAt": format_time(self.expires_at),
            "labs": [lab.to_json() for lab in self.labs],
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> TrustList:
        w = "trustList"
        if obj.get("type") != "TrustList" or not is_version(obj, FORMAT_VERSION):
            raise MalformedInputError("not a version 1 trust list")
        return cls(
            registry=_get(obj, "registry", str, w),
            country=_get(obj, "country", str, w),
            accreditation_body=_get(obj, "accreditationBody", str, w),
            sequence=_get(obj, "sequence", int, w),
            issued_at=parse_time(obj.get("issuedAt"), f"{w}.issuedAt"),
            expires_at=parse_time(obj.get("expiresAt"), f"{w}.expiresAt"),
            labs=tuple(Lab.from_json(lab, f"{w}.labs[{i}]") for i, lab in enumerate(_list(obj, "labs", w))),
        )

    def sign(self, signer: Signer, kid: str) -> str:
        return sign_compact(dumps_compact(self.to_json()), signer, kid=kid, typ=TYP_TRUST_LIST)


@dataclass(frozen=True, slots=True)
class Member:
    """A registry admitted to the federation, with its keys, status history and the lab
    ids it may list (``permittedLabIds``, its name constraints: protocol/names.py)."""

    id: str
    country: str
    accreditation_body: str
    publication_url: str
    keys: tuple[KeyRecord, ...]
    status: tuple[StatusEvent, ...]
    permitted_lab_ids: tuple[NamePattern, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "country": self.country,
            "accreditationBody": self.accreditation_body,
            "publicationUrl": self.publication_url,
            "permittedLabIds": [p.text for p in self.permitted_lab_ids],
            "keys": [k.to_json() for k in self.keys],
            "status": [e.to_json() for e in self.status],
        }

    @classmethod
    def from_json(cls, obj: Any, where: str) -> Member:
        o = _obj(obj, where)
        return cls(
            id=_get(o, "id", str, where),
            country=_get(o, "country", str, where),
            accreditation_body=_get(o, "accreditationBody", str, where),
            publication_url=_get(o, "publicationUrl", str, where),
            keys=tuple(
                KeyRecord.from_json(k, f"{where}.keys[{i}]") for i, k in enumerate(_list(o, "keys", where))
            ),
            status=tuple(
                StatusEvent.from_json(s, f"{where}.status[{i}]", MEMBER_STATUSES)
                for i, s in enumerate(_list(o, "status", where))
            ),
            permitted_lab_ids=parse_patterns(_list(o, "permittedLabIds", where), f"{where}.permittedLabIds"),
        )


@dataclass(frozen=True, slots=True)
class Agreement:
    """``country`` accepts results of the ``accepts`` registries for ``scopes`` from ``since``."""

    country: str
    accepts: tuple[str, ...]
    scopes: tuple[str, ...]
    since: datetime
    until: datetime | None = None

    def covers(self, registry: str, scope: str, when: datetime) -> bool:
        return (
            registry in self.accepts
            and scope in self.scopes
            and self.since <= when
            and (self.until is None or when <= self.until)
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "country": self.country,
            "accepts": list(self.accepts),
            "scopes": list(self.scopes),
            "from": format_time(self.since),
        }
        if self.until is not None:
            out["until"] = format_time(self.until)
        return out

    @classmethod
    def from_json(cls, obj: Any, where: str) -> Agreement:
        o = _obj(obj, where)
        accepts = _list(o, "accepts", where)
        scopes = _list(o, "scopes", where)
        if not all(isinstance(a, str) for a in accepts) or not all(s in SCOPES for s in scopes):
            raise MalformedInputError(f"{where}: accepts must be registry ids and scopes from the vocabulary")
        return cls(
            _get(o, "country", str, where),
            tuple(accepts),
            tuple(scopes),
            parse_time(o.get("from"), f"{where}.from"),
            _opt_time(o, "until", where),
        )


@dataclass(frozen=True, slots=True)
class FederationList:
    """The federation root's signed list of member registries and recognition agreements."""

    federation: str
    sequence: int
    issued_at: datetime
    expires_at: datetime
    registries: tuple[Member, ...] = ()
    agreements: tuple[Agreement, ...] = ()
    #: The root version that signs this list (1, then +1 at every root rotation) and its
    #: public keys: the list is valid only if signed by one of them (docs/formats.md,
    #: "Root rotation"). Required on the wire; :meth:`sign` refuses a list without keys.
    root_version: int = 1
    root_keys: tuple[VerifyKey, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "FederationList",
            "version": FORMAT_VERSION,
            "federation": self.federation,
            "sequence": self.sequence,
            "issuedAt": format_time(self.issued_at),
            "expiresAt": format_time(self.expires_at),
            "rootVersion": self.root_version,
            "rootKeys": [dict(k.jwk) for k in self.root_keys],
            "registries": [m.to_json() for m in self.registries],
            "agreements": [a.to_json() for a in self.agreements],
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> FederationList:
        w = "federationList"
        if obj.get("type") != "FederationList" or not is_version(obj, FORMAT_VERSION):
            raise MalformedInputError("not a version 1 federation list")
        root_version = _get(obj, "rootVersion", int, w)
        if root_version < 1:
            raise MalformedInputError(f"{w}.rootVersion must be 1 or more")
        return cls(
            federation=_get(obj, "federation", str, w),
            sequence=_get(obj, "sequence", int, w),
            issued_at=parse_time(obj.get("issuedAt"), f"{w}.issuedAt"),
            expires_at=parse_time(obj.get("expiresAt"), f"{w}.expiresAt"),
            root_version=root_version,
            root_keys=parse_root_keys(obj.get("rootKeys"), f"{w}.rootKeys"),
            registries=tuple(
                Member.from_json(m, f"{w}.registries[{i}]") for i, m in enumerate(_list(obj, "registries", w))
            ),
            agreements=tuple(
                Agreement.from_json(a, f"{w}.agreements[{i}]")
                for i, a in enumerate(_list(obj, "agreements", w))
            ),
        )

    def sign(self, signer: Signer, kid: str) -> str:
        if not self.root_keys or kid not in {k.kid for k in self.root_keys}:
            raise MalformedInputError("a federation list is signed by one of its own rootKeys")
        return sign_compact(dumps_compact(self.to_json()), signer, kid=kid, typ=TYP_FEDERATION_LIST)

    def member(self, registry_id: str) -> Member:
        for m in self.registries:
            if m.id == registry_id:
                return m
        raise TrustDataError(f"registry {registry_id!r} is not in the federation list")
