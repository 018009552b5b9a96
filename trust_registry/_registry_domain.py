"""The registry's domain logic over the database: the one source of truth of its rules.

docs/architecture.md, "Registry service"; issue 7, §3. Every function is keyword-only,
takes the ``session`` (the caller commits) and the time ``now`` (never read here), records
each change in the audit log in the same transaction, and marks the trust list as having
unpublished changes when the change shows in it. Bad input raises a one-line
:class:`InputError` (400), an unknown lab or key :class:`NotFoundError` (404), a change
that conflicts with what is stored :class:`ConflictError` (409).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, Final

from pydantic import ValidationError
from sqlalchemy import Table, insert, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, SQLModel, col, select

from protocol.encoding import format_time
from protocol.enrolment import verify_key_request
from protocol.errors import InputError, YiluError
from protocol.jws import parse_compact
from protocol.keys import SigningKey, VerifyKey
from protocol.lists import KeyRecord, Lab, Scope, StatusEvent, TrustList
from protocol.names import NamePattern
from protocol.status_list import StatusList
from service import audit, publication
from service.db import utc, utc_or_none
from service.models import PublishedList
from trust_registry._mirror import check_status_lists
from trust_registry._registry_models import (
    ImportResult,
    KeyPublic,
    LabCreate,
    LabKey,
    LabPage,
    LabPublic,
    LabRow,
    MirroredList,
    MirroredListPublic,
    RegistryIdentity,
    RegistryPublic,
    ScopeIn,
    ScopePeriod,
    StatusChange,
    StatusIn,
    UsedKeyRequest,
)

#: The kind of list this role publishes (service/publication.py).
TRUST_LIST: Final = "trust-list"
NOT_SET_UP: Final = "this registry is not set up: run `yilu registry init …` on its data directory"
MAX_IMPORT_ERRORS: Final = 50
#: An import of at most this many rows checks its own ids and keys with a query each
#: instead of reading every lab id and key of the registry.
SMALL_IMPORT: Final = 100


class NotSetUpError(YiluError):
    """The registry has no identity yet (answered 503: the operator must run init)."""


class NotFoundError(InputError):
    """No such lab or key (404)."""


class ConflictError(InputError):
    """The change conflicts with what is stored (409)."""


class ForbiddenError(InputError):
    """A lab token acting for another lab (403)."""


class ImportRowsError(InputError):
    """Rows of a bulk import are invalid; nothing was imported (400, one line per row)."""

    def __init__(self, rows: list[str]) -> None:
        more = f" (and {len(rows) - 1} more {'row' if len(rows) == 2 else 'rows'})" if len(rows) > 1 else ""
        super().__init__(f"nothing imported: {rows[0]}{more}")
        self.rows = rows


# --- identity ----------------------------------------------------------------------------


def identity(*, session: Session) -> RegistryIdentity:
    """The registry's identity row, or :class:`NotSetUpError`."""
    row = session.get(RegistryIdentity, 1)
    if row is None:
        raise NotSetUpError(NOT_SET_UP)
    return row


def registry_public(*, session: Session) -> RegistryPublic:
    row = identity(session=session)
    record = KeyRecord(VerifyKey.from_jwk(row.key_jwk), utc(row.key_valid_from))
    return RegistryPublic(
        id=row.registry_id,
        country=row.country,
        accreditationBody=row.accreditation_body,
        publicationUrl=row.publication_url,
        labIds=list(row.lab_ids),
        keys=[record.to_json()],
    )


def _changed(session: Session, ident: RegistryIdentity) -> None:
    ident.unpublished_changes = True
    session.add(ident)


# --- labs --------------------------------------------------------------------------------


def _ancestors(lab_id: str) -> list[str]:
    """The ids a lab id is nested under: ``https://h/a/b`` -> ``https://h``, ``https://h/a``."""
    parts = lab_id.split("/")  # ["https:", "", host, seg, ...]
    return ["/".join(parts[:i]) for i in range(3, len(parts))]


def _check_fits(ident: RegistryIdentity, lab_id: str) -> None:
    patterns = [NamePattern(p) for p in ident.lab_ids]
    if patterns and not any(p.matches(lab_id) for p in patterns):
        raise InputError(
            f"lab id {lab_id} is outside the lab ids this registry may list "
            f"({', '.join(p.text for p in patterns)}): verifiers would drop it"
        )


def _check_free(session: Session, lab_id: str) -> None:
    """Not taken, and not nested with another lab's id (docs/formats.md, "Lab ids")."""
    if session.get(LabRow, lab_id) is not None:
        raise ConflictError(f"lab {lab_id} is already in this registry")
    ancestors = _ancestors(lab_id)
    clash = session.exec(
        select(LabRow.id).where(
            or_(col(LabRow.id).in_(ancestors), col(LabRow.id).startswith(lab_id + "/", autoescape=True))
        )
    ).first()
    if clash is not None:
        raise ConflictError(f"lab id {lab_id} is nested with the id of lab {clash}: use a separate id")


def _scope_rows(lab_id: str, scopes: Sequence[ScopeIn], default_since: datetime) -> list[dict[str, Any]]:
    seen: set[str] = set()
    rows = []
    for scope in scopes:
        if scope.category in seen:
            raise InputError(f"scope {scope.category} is given twice: list each scope once")
        seen.add(scope.category)
        rows.append(
            {
                "lab_id": lab_id,
                "category": scope.category,
                "standards": list(scope.standards),
                "since": utc(scope.since or default_since),
                "until": None,
            }
        )
    return rows


def create_lab(*, session: Session, now: datetime, actor: str, lab: LabCreate) -> LabPublic:
    """Accredit a lab: its scopes and an active status from ``accreditedSince``; no key yet
    (the lab enrols one with a key request)."""
    ident = identity(session=session)
    _check_fits(ident, lab.id)
    _check_free(session, lab.id)
    since = utc(lab.accredited_since)
    session.add(
        LabRow(
            id=lab.id,
            names=lab.names,
            country=lab.country,
            accreditation_number=lab.accreditation_number,
            created_at=now,
        )
    )
    session.flush()
    for row in _scope_rows(lab.id, lab.scopes, since):
        session.add(ScopePeriod(**row))
    session.add(StatusChange(lab_id=lab.id, status="active", since=since, recorded_at=now))
    _changed(session, ident)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="lab.create",
        subject=lab.id,
        details=lab.model_dump(mode="json", by_alias=True),
        at=now,
    )
    return get_lab(session=session, lab_id=lab.id)


def _lab_row(session: Session, lab_id: str) -> LabRow:
    row = session.get(LabRow, lab_id)
    if row is None:
        raise NotFoundError(f"no lab {lab_id[:200]} in this registry")
    return row


def _key_public(row: LabKey) -> KeyPublic:
    return KeyPublic(
        labId=row.lab_id,
        kid=row.kid,
        jwk=dict(row.jwk),
        scopes=list(row.scopes),
        state=row.state,
        proof=row.proof,
        requestedAt=utc(row.requested_at),
        decidedAt=utc_or_none(row.decided_at),
        validFrom=utc_or_none(row.valid_from),
        validUntil=utc_or_none(row.valid_until),
        revokedAt=utc_or_none(row.revoked_at),
        revocationReason=row.revocation_reason,
    )


def _scope(row: ScopePeriod) -> Scope:
    return Scope(row.category, tuple(row.standards), utc(row.since), utc_or_none(row.until))


def _event(row: StatusChange) -> StatusEvent:
    return StatusEvent(row.status, utc(row.since), row.for_cause)


def _record(row: LabKey) -> KeyRecord:
    if row.valid_from is None:
        raise RuntimeError("an approved key has a validFrom")
    return KeyRecord(
        VerifyKey.from_jwk(row.jwk),
        utc(row.valid_from),
        utc_or_none(row.valid_until),
        utc_or_none(row.revoked_at),
        row.revocation_reason,
    )


class _Children:
    """Scopes, status changes and keys of many labs, read in three queries (no N+1)."""

    def __init__(self, session: Session, lab_ids: Iterable[str] | None, *, approved_only: bool) -> None:
        ids = None if lab_ids is None else list(lab_ids)
        # Plain rows, not ORM objects: hydrating 70,000 objects would cost most of a
        # publication of 18,000 labs (issue 7, §6). Rows have the same attribute names.
        self.scopes: dict[str, list[Any]] = defaultdict(list)
        self.status: dict[str, list[Any]] = defaultdict(list)
        self.keys: dict[str, list[Any]] = defaultdict(list)
        tables: dict[str, tuple[Table, dict[str, list[Any]]]] = {
            "scopes": (SQLModel.metadata.tables["lab_scope"], self.scopes),
            "status": (SQLModel.metadata.tables["lab_status"], self.status),
            "keys": (SQLModel.metadata.tables["lab_key"], self.keys),
        }
        for name, (table, into) in tables.items():
            query = sa_select(table).order_by(table.c.pk)
            if ids is not None:
                query = query.where(table.c.lab_id.in_(ids))
            if name == "keys" and approved_only:
                query = query.where(table.c.state == "approved")
            for row in session.execute(query):
                into[row.lab_id].append(row)

    def lab(self, row: LabRow) -> Lab:
        """The lab as the trust list publishes it (approved keys only)."""
        return Lab(
            row.id,
            dict(row.names),
            row.country,
            row.accreditation_number,
            tuple(_scope(s) for s in self.scopes[row.id]),
            tuple(_event(e) for e in self.status[row.id]),
            tuple(_record(k) for k in self.keys[row.id] if k.state == "approved"),
        )

    def public(self, row: LabRow) -> LabPublic:
        return LabPublic(
            id=row.id,
            names=dict(row.names),
            country=row.country,
            accreditationNumber=row.accreditation_number,
            scopes=[_scope(s).to_json() for s in self.scopes[row.id]],
            status=[_event(e).to_json() for e in self.status[row.id]],
            keys=[_key_public(k) for k in self.keys[row.id]],
        )


def get_lab(*, session: Session, lab_id: str) -> LabPublic:
    row = _lab_row(session, lab_id)
    return _Children(session, [lab_id], approved_only=False).public(row)


def list_labs(*, session: Session, after: str | None = None, limit: int = 100) -> LabPage:
    """Labs in id order, ``limit`` at a time; pass the page's ``next`` as ``after``."""
    query = select(LabRow).order_by(col(LabRow.id)).limit(limit + 1)
    if after is not None:
        query = query.where(col(LabRow.id) > after)
    rows = list(session.exec(query))
    page, more = rows[:limit], len(rows) > limit
    children = _Children(session, [r.id for r in page], approved_only=False)
    return LabPage(labs=[children.public(r) for r in page], next=page[-1].id if more and page else None)


def _open_scopes(session: Session, lab_id: str) -> dict[str, ScopePeriod]:
    rows = session.exec(
        select(ScopePeriod).where(col(ScopePeriod.lab_id) == lab_id, col(ScopePeriod.until).is_(None))
    )
    return {r.category: r for r in rows}


def _signable(session: Session, lab_id: str, now: datetime) -> set[str] | None:
    """The scopes the lab's usable approved keys may sign, or None if it has no such key."""
    keys = session.exec(select(LabKey).where(col(LabKey.lab_id) == lab_id, col(LabKey.state) == "approved"))
    usable = [k for k in keys if k.revoked_at is None and (k.valid_until is None or utc(k.valid_until) > now)]
    if not usable:
        return None
    return {s for k in usable for s in k.scopes}


def _check_covered(listed: Iterable[str], signable: set[str] | None, lab_id: str, doing: str) -> None:
    """A lab may not be listed for scopes its own key cannot sign (issue 7, §2)."""
    if signable is None:
        return
    missing = sorted(set(listed) - signable)
    if missing:
        raise InputError(
            f"{doing} would list lab {lab_id} for {', '.join(missing)}, which none of its approved key "
            f"requests covers: enrol a key whose request lists {', '.join(missing)} first"
        )


def add_scope(*, session: Session, now: datetime, actor: str, lab_id: str, scope: ScopeIn) -> LabPublic:
    """Accredit the lab for one more scope from ``since``: a new period in its history."""
    ident = identity(session=session)
    _lab_row(session, lab_id)
    if scope.category in _open_scopes(session, lab_id):
        raise ConflictError(f"lab {lab_id} is already accredited for {scope.category}: end that period first")
    _check_covered([scope.category], _signable(session, lab_id, now), lab_id, "this scope")
    session.add(ScopePeriod(**_scope_rows(lab_id, [scope], now)[0]))
    _changed(session, ident)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="lab.scope.add",
        subject=lab_id,
        details=scope.model_dump(mode="json"),
        at=now,
    )
    return get_lab(session=session, lab_id=lab_id)


def end_scope(
    *, session: Session, now: datetime, actor: str, lab_id: str, category: str, until: datetime | None
) -> LabPublic:
    """End the lab's open period of ``category`` at ``until`` (default now); kept in history."""
    ident = identity(session=session)
    _lab_row(session, lab_id)
    period = _open_scopes(session, lab_id).get(category)
    if period is None:
        raise NotFoundError(f"lab {lab_id} has no open accreditation for scope {category[:40]}")
    end = utc(until or now)
    if end < utc(period.since):
        raise InputError(f"the scope cannot end before it began ({format_time(utc(period.since))})")
    period.until = end
    session.add(period)
    _changed(session, ident)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="lab.scope.end",
        subject=lab_id,
        details={"category": category, "until": format_time(end)},
        at=now,
    )
    return get_lab(session=session, lab_id=lab_id)


def set_status(*, session: Session, now: datetime, actor: str, lab_id: str, change: StatusIn) -> LabPublic:
    """Append an accreditation status change; never overwrites one.

    Suspending or withdrawing ends every approved key's validity at ``since``
    (``validUntil`` = min(its own, since)). Re-activating does not re-open them: the lab
    enrols a new key, which an operator approves (docs/architecture.md, "Registry service").
    A withdrawal for cause voids all the lab signed and is final."""
    ident = identity(session=session)
    _lab_row(session, lab_id)
    if change.for_cause and change.status != "withdrawn":
        raise InputError("only a withdrawal can be for cause")
    history = list(session.exec(select(StatusChange).where(col(StatusChange.lab_id) == lab_id)))
    if any(e.for_cause for e in history):
        raise ConflictError(f"lab {lab_id} was withdrawn for cause; that is final")
    since = utc(change.since or now)
    session.add(
        StatusChange(
            lab_id=lab_id, status=change.status, since=since, for_cause=change.for_cause, recorded_at=now
        )
    )
    ended = []
    if change.status != "active":
        keys = session.exec(
            select(LabKey).where(col(LabKey.lab_id) == lab_id, col(LabKey.state) == "approved")
        )
        for key in keys:
            if key.valid_until is None or utc(key.valid_until) > since:
                key.valid_until = since
                session.add(key)
                ended.append(key.kid)
    _changed(session, ident)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="lab.status",
        subject=lab_id,
        details=change.model_dump(mode="json", by_alias=True)
        | {"since": format_time(since), "keysEnded": ended},
        at=now,
    )
    return get_lab(session=session, lab_id=lab_id)


# --- keys --------------------------------------------------------------------------------


def submit_key_request(
    *, session: Session, now: datetime, actor: str, lab_id: str, request: str
) -> KeyPublic:
    """Verify a key request (proof of possession, protocol/enrolment.py) and keep it pending."""
    identity(session=session)
    _lab_row(session, lab_id)
    verified = verify_key_request(request, lab_id=lab_id, now=now)
    if session.get(UsedKeyRequest, verified.jti) is not None:
        raise ConflictError("this key request was submitted before (its jti is used): sign a fresh one")
    same = session.exec(
        select(LabKey).where(col(LabKey.kid) == verified.key.kid, col(LabKey.state) != "rejected")
    ).all()
    for other in same:
        if dict(other.jwk) == dict(verified.key.jwk):
            whose = "this lab" if other.lab_id == lab_id else f"lab {other.lab_id}"
            raise ConflictError(f"key {verified.key.kid} is already enrolled for {whose}: generate a new key")
    session.add(UsedKeyRequest(jti=verified.jti, lab_id=lab_id, used_at=now))
    row = LabKey(
        lab_id=lab_id,
        kid=verified.key.kid,
        jwk=dict(verified.key.jwk),
        scopes=list(verified.scopes),
        state="pending",
        proof="request",
        requested_at=now,
    )
    session.add(row)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="lab.key.request",
        subject=lab_id,
        details={"kid": row.kid, "jwk": row.jwk, "scopes": row.scopes, "jti": verified.jti},
        at=now,
    )
    return _key_public(row)


def list_keys(*, session: Session, lab_id: str | None = None, state: str | None = None) -> list[KeyPublic]:
    """Keys, oldest first; e.g. ``state="pending"`` for the requests awaiting an operator."""
    query = select(LabKey).order_by(col(LabKey.pk))
    if lab_id is not None:
        _lab_row(session, lab_id)
        query = query.where(col(LabKey.lab_id) == lab_id)
    if state is not None:
        query = query.where(col(LabKey.state) == state)
    return [_key_public(r) for r in session.exec(query)]


def _key(session: Session, lab_id: str, kid: str, state: str) -> LabKey:
    _lab_row(session, lab_id)
    row = session.exec(
        select(LabKey).where(col(LabKey.lab_id) == lab_id, col(LabKey.kid) == kid, col(LabKey.state) == state)
    ).first()
    if row is None:
        raise NotFoundError(f"lab {lab_id} has no {state} key {kid[:20]}")
    return row


def _key_change(
    session: Session, now: datetime, actor: str, row: LabKey, action: str, **details: Any
) -> KeyPublic:
    session.add(row)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action=action,
        subject=row.lab_id,
        details={"kid": row.kid, **details},
        at=now,
    )
    return _key_public(row)


def approve_key(
    *, session: Session, now: datetime, actor: str, lab_id: str, kid: str, valid_from: datetime | None = None
) -> KeyPublic:
    """Approve a pending key, valid from ``valid_from`` (default now). Refused if the lab
    would then be listed for a scope none of its approved key requests covers."""
    ident = identity(session=session)
    row = _key(session, lab_id, kid, "pending")
    signable = (_signable(session, lab_id, now) or set()) | set(row.scopes)
    _check_covered(_open_scopes(session, lab_id), signable, lab_id, "approving this key")
    history = session.exec(select(StatusChange).where(col(StatusChange.lab_id) == lab_id))
    if any(e.for_cause for e in history):
        raise ConflictError(f"lab {lab_id} was withdrawn for cause: it can have no new key")
    row.state, row.decided_at, row.valid_from = "approved", now, utc(valid_from or now)
    _changed(session, ident)
    return _key_change(session, now, actor, row, "lab.key.approve", validFrom=format_time(row.valid_from))


def reject_key(*, session: Session, now: datetime, actor: str, lab_id: str, kid: str) -> KeyPublic:
    row = _key(session, lab_id, kid, "pending")
    row.state, row.decided_at = "rejected", now
    return _key_change(session, now, actor, row, "lab.key.reject")


def retire_key(
    *, session: Session, now: datetime, actor: str, lab_id: str, kid: str, until: datetime | None = None
) -> KeyPublic:
    """End an approved key's validity at ``until`` (default now), e.g. after a rotation:
    what it signed before then still verifies."""
    ident = identity(session=session)
    row = _key(session, lab_id, kid, "approved")
    end = utc(until or now)
    if row.valid_from is not None and end < utc(row.valid_from):
        raise InputError(
            f"key {kid} cannot be retired before it became valid ({format_time(utc(row.valid_from))})"
        )
    if row.valid_until is None or utc(row.valid_until) > end:
        row.valid_until = end
    _changed(session, ident)
    return _key_change(session, now, actor, row, "lab.key.retire", until=format_time(end))


def revoke_key(
    *,
    session: Session,
    now: datetime,
    actor: str,
    lab_id: str,
    kid: str,
    reason: str,
    at: datetime | None = None,
) -> KeyPublic:
    """Revoke an approved key: ``keyCompromise`` voids everything it signed, other reasons
    only what claims a date from ``at`` on. A revocation may only be raised to keyCompromise."""
    ident = identity(session=session)
    row = _key(session, lab_id, kid, "approved")
    if row.revoked_at is not None and not (reason == "keyCompromise" != row.revocation_reason):
        raise ConflictError(f"key {kid} is already revoked ({row.revocation_reason})")
    row.revoked_at, row.revocation_reason = utc(at or now), reason
    _changed(session, ident)
    return _key_change(
        session, now, actor, row, "lab.key.revoke", reason=reason, at=format_time(utc(row.revoked_at))
    )


# --- status lists ------------------------------------------------------------------------


def _mirror_name(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:24]


def mirror_status_lists(
    *, session: Session, now: datetime, actor: str, lists: Sequence[str], for_lab: str | None = None
) -> list[str]:
    """Verify and keep the labs' signed status lists (trust_registry/_mirror.py, all or
    nothing); ``for_lab`` (a lab token's lab) may push only its own lists. Returns the URLs
    whose copy changed."""
    ident = identity(session=session)
    labs: dict[str, Lab | None] = {}

    def lab_of(lab_id: str) -> Lab | None:
        if for_lab is not None and lab_id != for_lab:
            raise ForbiddenError(f"this lab token acts for {for_lab}, not for {lab_id[:120]}")
        if lab_id not in labs:
            row = session.get(LabRow, lab_id)
            labs[lab_id] = None if row is None else _Children(session, [lab_id], approved_only=True).lab(row)
        return labs[lab_id]

    def kept(_issuer: str, url: str) -> StatusList | None:
        row = session.get(MirroredList, url)
        return None if row is None else StatusList.from_credential(parse_compact(row.token).payload_json())

    accepted = check_status_lists(lists, registry_id=ident.registry_id, lab_of=lab_of, kept=kept, now=now)
    changed = []
    for (issuer, url), (status_list, token) in accepted.items():
        row = session.get(MirroredList, url)
        digest = hashlib.sha256(token.encode()).hexdigest()
        if row is not None and row.sha256 == digest:
            continue
        if row is None:
            row = MirroredList(
                url=url, issuer=issuer, name=_mirror_name(url), valid_from=now, token="", sha256=""
            )
        row.issuer, row.valid_from, row.token, row.sha256 = issuer, status_list.valid_from, token, digest
        session.add(row)
        changed.append(url)
    if changed:
        session.flush()
        audit.record(
            session=session,
            actor=actor,
            action="status-list.mirror",
            subject=ident.registry_id,
            details={"changed": changed},
            at=now,
        )
    return changed


def mirrored_lists(*, session: Session) -> list[MirroredList]:
    return list(session.exec(select(MirroredList).order_by(col(MirroredList.url))))


def status_list_index(*, session: Session) -> list[MirroredListPublic]:
    """What ``GET status-lists`` serves: each mirrored list's URL, issuer, date, digest and
    ``href``, a path relative to the publication URL (the root fetches each whose
    ``sha256`` changed: trust_registry/_root_fetch.py)."""
    return [
        MirroredListPublic(
            url=r.url,
            issuer=r.issuer,
            validFrom=utc(r.valid_from),
            href=f"status-lists/{r.name}",
            sha256=r.sha256,
        )
        for r in mirrored_lists(session=session)
    ]


def mirrored_list(*, session: Session, name: str) -> MirroredList | None:
    return session.exec(select(MirroredList).where(col(MirroredList.name) == name)).first()


# --- publication -------------------------------------------------------------------------


def build_trust_list(*, session: Session, sequence: int, now: datetime, validity: timedelta) -> TrustList:
    """The trust list of every lab, read in four queries whatever the number of labs."""
    ident = identity(session=session)
    rows = list(session.exec(select(LabRow).order_by(col(LabRow.id))))
    children = _Children(session, None, approved_only=True)
    return TrustList(
        ident.registry_id,
        ident.country,
        ident.accreditation_body,
        sequence,
        now,
        now + validity,
        tuple(children.lab(r) for r in rows),
    )


def publish_trust_list(
    *, session: Session, now: datetime, actor: str, key: SigningKey, validity: timedelta
) -> PublishedList:
    """Sign the trust list with the next sequence (service/publication.py keeps them all)."""
    ident = identity(session=session)

    def sign(sequence: int) -> tuple[str, datetime, datetime]:
        trust_list = build_trust_list(session=session, sequence=sequence, now=now, validity=validity)
        return trust_list.sign(key, key.public.kid), trust_list.issued_at, trust_list.expires_at

    row = publication.publish(session=session, kind=TRUST_LIST, sign=sign)
    ident.unpublished_changes = False
    session.add(ident)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="trust-list.publish",
        subject=ident.registry_id,
        details={
            "sequence": row.sequence,
            "expiresAt": format_time(utc(row.expires_at)),
            "sha256": row.sha256,
        },
        at=now,
    )
    return row


def publish_if_due(
    *, session: Session, now: datetime, key: SigningKey, validity: timedelta, margin: timedelta
) -> str | None:
    """Publish when there are unpublished changes, when nothing is published yet, or when
    the current list expires within ``margin``: lists never lapse without anyone acting."""
    ident = identity(session=session)
    expires = publication.expires_at(session=session, kind=TRUST_LIST)
    if expires is not None and not ident.unpublished_changes and expires - now > margin:
        return None
    why = "changes" if ident.unpublished_changes else "first list" if expires is None else "expiry near"
    row = publish_trust_list(session=session, now=now, actor="job:publish", key=key, validity=validity)
    return f"trust list {row.sequence} signed ({why}), expires {format_time(utc(row.expires_at))}"


# --- bulk import -------------------------------------------------------------------------

#: CSV columns of a bulk import (docs/architecture.md, "Registry service"); ``name_<tag>``
#: columns (``name_en``, ``name_zh``, ``name_ru``, …) give the names.
IMPORT_COLUMNS: Final = ("id", "country", "accreditation_number", "scopes", "accredited_since", "key_jwk")


def parse_import(data: bytes, *, media_type: str) -> list[dict[str, Any]]:
    """The rows of a CSV (``text/csv``) or JSON (a list of objects) import body."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("the import is not UTF-8 text: save the file as UTF-8") from None
    if "csv" in media_type:
        reader = csv.DictReader(io.StringIO(text))
        missing = [c for c in IMPORT_COLUMNS[:-1] if c not in (reader.fieldnames or [])]
        if missing:
            header = ", ".join(IMPORT_COLUMNS)
            raise InputError(
                f"the CSV lacks columns {', '.join(missing)}: its header is {header}, name_en, …"
            )
        return [dict(r) for r in reader]
    try:
        rows = json.loads(text)
    except ValueError:
        raise InputError("the import is neither CSV (send text/csv) nor a JSON list of labs") from None
    if isinstance(rows, dict) and isinstance(rows.get("labs"), list):
        rows = rows["labs"]
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise InputError('a JSON import is a list of lab objects (or {"labs": [...]})')
    return rows


def _row_lab(row: dict[str, Any]) -> tuple[LabCreate, VerifyKey | None]:
    names = dict(row.get("names") or {})
    names |= {k[5:].replace("_", "-"): v for k, v in row.items() if k.startswith("name_") and v}
    scopes = row.get("scopes") or []
    if isinstance(scopes, str):
        scopes = [s.strip() for s in scopes.split(";") if s.strip()]
    since = row.get("accredited_since") or row.get("accreditedSince")
    lab = LabCreate.model_validate(
        {
            "id": row.get("id"),
            "names": names,
            "country": row.get("country") or "",
            "accreditationNumber": row.get("accreditation_number") or row.get("accreditationNumber") or "",
            "scopes": [s if isinstance(s, dict) else {"category": s} for s in scopes],
            "accreditedSince": since,
        }
    )
    jwk = row.get("key_jwk") or row.get("keyJwk")
    if not jwk:
        return lab, None
    if isinstance(jwk, str):
        try:
            jwk = json.loads(jwk)
        except ValueError:
            raise InputError("key_jwk is not JSON: give the public JWK as a JSON object") from None
    return lab, VerifyKey.from_jwk(jwk)


def _validation_line(exc: ValidationError) -> str:
    error = exc.errors(include_url=False)[0]
    where = ".".join(str(p) for p in error["loc"]) or "row"
    return f"{where}: {error['msg'].removeprefix('Value error, ')}"


def import_labs(
    *, session: Session, now: datetime, actor: str, rows: Sequence[dict[str, Any]]
) -> ImportResult:
    """Accredit many labs at once, all or nothing (:class:`ImportRowsError` names each bad
    row by its number, from 1, and what to fix). A row's ``key_jwk`` is approved at once,
    valid from ``accredited_since``, and audited as imported without proof of possession."""
    ident = identity(session=session)
    if not rows:
        raise InputError("the import holds no labs")
    errors: list[str] = []
    parsed: list[tuple[LabCreate, VerifyKey | None]] = []
    # A bulk import reads every lab id and key once; a small one asks for its own rows only,
    # so adding a lab costs the same in a registry of 1,000 labs and of 18,000.
    small = len(rows) <= SMALL_IMPORT
    existing: set[str] = set() if small else set(session.exec(select(LabRow.id)))
    new_ids: set[str] = set()
    known_keys = (
        set() if small else {(k.kid, json.dumps(k.jwk, sort_keys=True)) for k in session.exec(select(LabKey))}
    )
    for number, row in enumerate(rows, start=1):
        try:
            lab, key = _row_lab(row)
            _check_fits(ident, lab.id)
            taken = session.get(LabRow, lab.id) is not None if small else lab.id in existing
            if taken or lab.id in new_ids:
                raise InputError(f"lab {lab.id} is already in this registry or earlier in the import")
            _scope_rows(lab.id, lab.scopes, utc(lab.accredited_since))
            if key is not None:
                if small:
                    same_kid = session.exec(select(LabKey).where(col(LabKey.kid) == key.kid))
                    known_keys |= {(k.kid, json.dumps(k.jwk, sort_keys=True)) for k in same_kid}
                fingerprint = (key.kid, json.dumps(dict(key.jwk), sort_keys=True))
                if fingerprint in known_keys:
                    raise InputError(
                        f"key {key.kid} is already enrolled for another lab: each lab needs its own key"
                    )
                known_keys.add(fingerprint)
        except ValidationError as exc:
            errors.append(f"row {number}: {_validation_line(exc)}")
        except InputError as exc:
            errors.append(f"row {number}: {exc}")
        else:
            new_ids.add(lab.id)
            parsed.append((lab, key))
        if len(errors) >= MAX_IMPORT_ERRORS:
            break
    if small and new_ids:  # the existing ids a new one could be nested with, no others
        related = {a for lab_id in new_ids for a in _ancestors(lab_id)}
        existing = set(
            session.exec(
                select(LabRow.id).where(
                    or_(
                        col(LabRow.id).in_(related),
                        *(col(LabRow.id).startswith(lab_id + "/", autoescape=True) for lab_id in new_ids),
                    )
                )
            )
        )
    every = existing | new_ids
    for lab, _ in parsed:
        clash = next((a for a in _ancestors(lab.id) if a in every), None)
        if clash is not None:
            errors.append(f"lab {lab.id}: its id is nested with the id of lab {clash}: use a separate id")
    for lab_id in existing:
        clash = next((a for a in _ancestors(lab_id) if a in new_ids), None)
        if clash is not None:
            errors.append(f"lab {clash}: its id is nested with the id of lab {lab_id}: use a separate id")
    if errors:
        raise ImportRowsError(errors)
    labs, scopes, status, keys = [], [], [], []
    for lab, key in parsed:
        since = utc(lab.accredited_since)
        labs.append(
            {
                "id": lab.id,
                "names": lab.names,
                "country": lab.country,
                "accreditation_number": lab.accreditation_number,
                "created_at": now,
            }
        )
        scopes += _scope_rows(lab.id, lab.scopes, since)
        status.append(
            {"lab_id": lab.id, "status": "active", "since": since, "for_cause": False, "recorded_at": now}
        )
        if key is not None:
            keys.append(
                {
                    "lab_id": lab.id,
                    "kid": key.kid,
                    "jwk": dict(key.jwk),
                    "scopes": [s.category for s in lab.scopes],
                    "state": "approved",
                    "proof": "import",
                    "requested_at": now,
                    "decided_at": now,
                    "valid_from": since,
                    "valid_until": None,
                    "revoked_at": None,
                    "revocation_reason": None,
                }
            )
    session.execute(insert(LabRow), labs)
    for table, values in ((ScopePeriod, scopes), (StatusChange, status), (LabKey, keys)):
        if values:
            session.execute(insert(table), values)
    _changed(session, ident)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="lab.import",
        subject=ident.registry_id,
        details={
            "labs": len(labs),
            "keysImportedWithoutProofOfPossession": len(keys),
            "first": labs[0]["id"],
            "last": labs[-1]["id"],
            "sha256": hashlib.sha256(json.dumps(sorted(r["id"] for r in labs)).encode()).hexdigest(),
        },
        at=now,
    )
    return ImportResult(labs=len(labs), keys=len(keys))
