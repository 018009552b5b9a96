"""The federation root's logic over its database: the one source of truth for what the
root does (docs/architecture.md, "Root service").

Every function is keyword-only, takes the ``session`` it works in and ``now`` from the
caller (the clock is never read here), only flushes (the caller's session commits), and
records every change in the audit log in the same transaction. Every change also counts
as an *unpublished change* until the next federation list is signed, so that a bundle is
never built from a federation list that misses one.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final

import httpx
from pydantic import ValidationError
from sqlalchemy import Engine, event, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from protocol.bundle import Bundle, make_delta, read_unchecked
from protocol.encoding import format_time, shift
from protocol.errors import InputError
from protocol.keys import SigningKey, VerifyKey
from protocol.lists import Agreement, FederationList, KeyRecord, Member, StatusEvent, status_at
from protocol.names import NamePattern, check_lab_id
from protocol.rootchain import sign_rotation
from protocol.storage import check_passphrase, load_key, save_key, write_json
from service import audit
from service import publication as pub
from service.db import Migrations, make_engine, migrate, utc
from service.db import session as db_session
from service.models import Role
from service.tokens import create_token
from trust_registry._root_models import (
    AgreementCreate,
    AgreementPublic,
    AgreementRow,
    BundlePublic,
    BundleRow,
    FetchedListRow,
    FetchStateRow,
    KeyIn,
    KeyPublic,
    MemberCreate,
    MemberKeyRow,
    MemberPublic,
    MemberRow,
    MemberStatusRow,
    PublishedPublic,
    RootIdentity,
    RootPublic,
    RotationPublic,
    StatusPublic,
)
from trust_registry._root_rules import check_patterns_disjoint
from trust_registry._warnings import list_warnings

#: The root's migration tree, with its own version table (service/db.py, "Migrations").
ROOT_MIGRATIONS: Final = Migrations(Path(__file__).parent / "root_migrations", "alembic_version_root")
#: The kind of the root's published list (service/publication.py).
KIND: Final = "federation-list"
#: The encrypted root signing key and the public keys devices pin, in the data directory.
KEY_FILE: Final = "root-key.pem"
ROOT_KEYS_FILE: Final = "root-keys.json"
SYSTEM: Final = "system"

_log = logging.getLogger(__name__)


class NotSetUpError(InputError):
    """The root has no identity yet: ``yilu root init`` was not run on its data."""


class UnpublishedChangesError(InputError):
    """A bundle was asked for while the federation list misses changes (answered 409)."""


# -- setup ------------------------------------------------------------------------------------


def init_root(
    *, data_dir: Path, database_url: str | None, federation_id: str, passphrase: str, now: datetime
) -> str:
    """Set up a new root on an empty database: migrate, generate the root signing key
    (saved encrypted in ``data_dir``, never in clear), write ``root-keys.json`` (what
    devices pin), record the identity and create the first admin token, whose secret is
    returned (shown once)."""
    check_lab_id(federation_id, "federation id")
    if len(passphrase) < 12:
        # protocol.storage has no passphrase-strength check yet: the minimum lives here for now.
        raise InputError("the key passphrase must have at least 12 characters")
    engine = make_engine(database_url, data_dir=data_dir)
    try:
        migrate(engine, ROOT_MIGRATIONS)
        with db_session(engine) as session:
            if session.get(RootIdentity, 1) is not None:
                raise InputError("this root is already set up; its data stays as it is")
            key = SigningKey.generate()
            data_dir.mkdir(parents=True, exist_ok=True)
            save_key(data_dir / KEY_FILE, key, passphrase)
            jwks = [dict(key.public.jwk)]
            write_json(data_dir / ROOT_KEYS_FILE, jwks)
            session.add(
                RootIdentity(federation_id=federation_id, root_keys=jwks, key_file=KEY_FILE, created_at=now)
            )
            session.flush()
            audit.record(
                session=session,
                actor=SYSTEM,
                action="root.init",
                subject=federation_id,
                details={"kid": key.public.kid},
                at=now,
            )
            secret, _ = create_token(
                session=session, name="first admin", role=Role.ADMIN, actor=SYSTEM, at=now
            )
        return secret
    finally:
        engine.dispose()


def identity(*, session: Session, lock: bool = False) -> RootIdentity:
    """The root's identity row (locked for update with ``lock``, so that changes and
    publications take turns); :class:`NotSetUpError` if there is none."""
    query = select(RootIdentity).where(col(RootIdentity.id) == 1)
    row = session.exec(query.with_for_update() if lock else query).first()
    if row is None:
        raise NotSetUpError(
            "this root is not set up: run `yilu root init --federation-id URL` on its data first"
        )
    return row


def is_set_up(engine: Engine) -> bool:
    with db_session(engine) as session:
        return session.get(RootIdentity, 1) is not None


def load_signer(data_dir: Path, row: RootIdentity, passphrase: str) -> SigningKey:
    """The root signing key from its encrypted file; its public key must be a root key."""
    key = load_key(data_dir / row.key_file, passphrase)
    if dict(key.public.jwk) not in row.root_keys:
        raise InputError(f"{data_dir / row.key_file} is not a key of this root")
    return key


def root_public(*, session: Session) -> RootPublic:
    row = identity(session=session)
    return RootPublic(
        federation_id=row.federation_id,
        root_keys=row.root_keys,
        root_version=row.root_version,
        chain_length=len(row.root_chain),
        published_sequence=pub.latest_sequence(session=session, kind=KIND),
        unpublished_changes=row.change_count - row.published_change,
        bundle_sequence=row.bundle_sequence,
    )


def key_file_for(version: int, kid: str) -> str:
    """The file of root version ``version``'s encrypted key: a new name at every rotation
    (the kid makes it unique even if an earlier attempt left a file behind), so a rotation
    never overwrites a key file."""
    return f"root-key-v{version}-{kid}.pem"


def rotate_root_key(
    *,
    session: Session,
    data_dir: Path,
    old_signer: SigningKey,
    new_passphrase: str,
    actor: str,
    now: datetime,
    validity: timedelta,
) -> RotationPublic:
    """Rotate the root key in the TUF manner (docs/formats.md, "Root rotation"): a new key,
    a statement making it root version N+1 signed by the current key (``old_signer``) and
    the new one, the statement appended to the chain every later bundle carries, and the
    first federation list of version N+1 published at once, signed by the new key only.

    Crash-safe order (docs/architecture.md, "Root service"): the new key is saved,
    encrypted with ``new_passphrase``, to a new file first; the row that points to it is
    committed by the caller afterwards; ``root-keys.json`` is rewritten only once that
    commit succeeded. A crash in between leaves an unused key file and the root at
    version N. The old key file stays until an operator deletes it."""
    row = identity(session=session, lock=True)
    if dict(old_signer.public.jwk) not in row.root_keys:
        raise InputError(
            f"key {old_signer.public.kid} is not a key of this root's version {row.root_version}: "
            "restart the service so that it reads its current key file"
        )
    check_passphrase(new_passphrase)
    old_keys = tuple(VerifyKey.from_jwk(k) for k in row.root_keys)
    new = SigningKey.generate()
    version = row.root_version + 1
    statement = sign_rotation(
        row.federation_id,
        version,
        old_keys,
        [new.public],
        old_signer=old_signer,
        old_kid=old_signer.public.kid,
        new_signer=new,
        new_kid=new.public.kid,
        issued_at=now,
    )
    name = key_file_for(version, new.public.kid)
    save_key(data_dir / name, new, new_passphrase)
    jwks = [dict(new.public.jwk)]
    row.root_keys = jwks
    row.root_version = version
    row.root_chain = [*row.root_chain, statement]
    row.key_file = name
    session.add(row)
    _changed(
        session=session,
        actor=actor,
        action="root.rotate",
        subject=row.federation_id,
        details={
            "oldKid": old_signer.public.kid,
            "newKid": new.public.kid,
            "rootVersion": version,
            "keyFile": name,
        },
        now=now,
    )
    published = publish_federation_list(session=session, signer=new, actor=actor, now=now, validity=validity)
    after_commit(session, lambda: write_root_keys(data_dir, jwks))
    return RotationPublic(
        root_version=version, kid=new.public.kid, federation_list_sequence=published.sequence
    )


def write_root_keys(data_dir: Path, jwks: list[dict[str, Any]]) -> None:
    """Rewrite ``root-keys.json`` (atomically) unless it already holds ``jwks``. It is derived
    from the committed identity row, which stays the truth (GET /root-keys serves it)."""
    path = data_dir / ROOT_KEYS_FILE
    try:
        if json.loads(path.read_text(encoding="utf-8")) == jwks:
            return
    except (OSError, ValueError):
        pass
    try:
        write_json(path, jwks)
    except OSError as exc:
        _log.warning("cannot rewrite %s (%s): GET /root-keys serves the current keys", path, exc)


def sync_root_keys(engine: Engine, data_dir: Path) -> None:
    """On start: ``root-keys.json`` says what the database says (it may lag behind a
    rotation committed just before a crash)."""
    with db_session(engine) as session:
        row = session.get(RootIdentity, 1)
        if row is not None:
            write_root_keys(data_dir, list(row.root_keys))


def after_commit(session: Session, action: Callable[[], None]) -> None:
    """Run ``action`` once the caller's transaction has committed, never if it rolls back:
    for files derived from rows (a file written before the commit could name keys the
    database never took)."""
    done = False

    def committed(_: Session) -> None:
        nonlocal done
        if not done:
            done = True
            action()

    def rolled_back(_: Session) -> None:
        nonlocal done
        done = True

    event.listen(session, "after_commit", committed, once=True)
    event.listen(session, "after_rollback", rolled_back, once=True)


def _changed(
    *, session: Session, actor: str, action: str, subject: str, details: dict[str, Any], now: datetime
) -> None:
    """Count an unpublished change and audit it, in the caller's transaction."""
    row = identity(session=session, lock=True)
    row.change_count += 1
    session.add(row)
    audit.record(session=session, actor=actor, action=action, subject=subject, details=details, at=now)


# -- members ----------------------------------------------------------------------------------


def _member_row(session: Session, number: int) -> MemberRow:
    row = session.get(MemberRow, number)
    if row is None:
        raise LookupError(f"no member number {number}: GET /members lists them")
    return row


def _key_records(session: Session, number: int) -> list[MemberKeyRow]:
    return list(
        session.exec(
            select(MemberKeyRow).where(col(MemberKeyRow.member) == number).order_by(col(MemberKeyRow.id))
        )
    )


def _status_rows(session: Session, number: int) -> list[MemberStatusRow]:
    return list(
        session.exec(
            select(MemberStatusRow)
            .where(col(MemberStatusRow.member) == number)
            .order_by(col(MemberStatusRow.id))
        )
    )


def _record(row: MemberKeyRow) -> KeyRecord:
    return KeyRecord(
        VerifyKey.from_jwk(row.jwk),
        utc(row.valid_from),
        None if row.valid_until is None else utc(row.valid_until),
        None if row.revoked_at is None else utc(row.revoked_at),
        row.revocation_reason,
    )


def member_object(session: Session, row: MemberRow) -> Member:
    """The member as the federation list carries it (protocol.lists.Member)."""
    assert row.number is not None
    return Member(
        row.registry_id,
        row.country,
        row.accreditation_body,
        row.publication_url,
        tuple(_record(k) for k in _key_records(session, row.number)),
        tuple(StatusEvent(s.status, utc(s.since)) for s in _status_rows(session, row.number)),
        tuple(NamePattern(p) for p in row.lab_ids),
    )


def _public(session: Session, row: MemberRow) -> MemberPublic:
    assert row.number is not None
    state = session.get(FetchStateRow, row.number)
    return MemberPublic(
        number=row.number,
        id=row.registry_id,
        country=row.country,
        accreditation_body=row.accreditation_body,
        publication_url=row.publication_url,
        lab_ids=list(row.lab_ids),
        keys=[
            KeyPublic.model_validate(_record(k).to_json() | {"jwk": k.jwk})
            for k in _key_records(session, row.number)
        ],
        status=[StatusPublic(status=s.status, since=utc(s.since)) for s in _status_rows(session, row.number)],
        admitted_at=utc(row.admitted_at),
        fetch_problems=[] if state is None else list(state.problems),
    )


def _others(session: Session, but: int | None) -> list[tuple[str, str, list[NamePattern]]]:
    return [
        (m.registry_id, m.accreditation_body, [NamePattern(p) for p in m.lab_ids])
        for m in session.exec(select(MemberRow))
        if m.number != but
    ]


def _add_key(session: Session, number: int, key: KeyIn, now: datetime) -> MemberKeyRow:
    verify = VerifyKey.from_jwk(key.jwk)
    if any(k.kid == verify.kid for k in _key_records(session, number)):
        raise InputError(f"the member already has key {verify.kid}")
    row = MemberKeyRow(member=number, kid=verify.kid, jwk=dict(verify.jwk), valid_from=key.valid_from or now)
    session.add(row)
    return row


def admit_member(*, session: Session, request: MemberCreate, actor: str, now: datetime) -> MemberPublic:
    """Admit a registry with its keys, an active status and the lab ids it may list; those
    may not overlap another member's (the binding rule, docs/formats.md)."""
    identity(session=session, lock=True)
    if session.exec(select(MemberRow).where(col(MemberRow.registry_id) == request.id)).first() is not None:
        raise InputError(f"registry {request.id} is already a member")
    patterns = [NamePattern(p) for p in request.lab_ids]
    check_patterns_disjoint(patterns, _others(session, None))
    row = MemberRow(
        registry_id=request.id,
        country=request.country,
        accreditation_body=request.accreditation_body,
        publication_url=request.publication_url,
        lab_ids=[p.text for p in patterns],
        admitted_at=now,
    )
    session.add(row)
    session.flush()
    assert row.number is not None
    kids = len({VerifyKey.from_jwk(k.jwk).kid for k in request.keys})
    if kids != len(request.keys):
        raise InputError("the same key is given twice")
    for key in request.keys:
        _add_key(session, row.number, key, now)
    session.add(
        MemberStatusRow(
            member=row.number, status="active", since=request.active_since or now, recorded_at=now
        )
    )
    session.flush()
    public = _public(session, row)
    _changed(
        session=session,
        actor=actor,
        action="member.admit",
        subject=request.id,
        details={"number": row.number, "labIds": row.lab_ids, "kids": [k.kid for k in public.keys]},
        now=now,
    )
    return public


def get_member(*, session: Session, number: int) -> MemberPublic:
    return _public(session, _member_row(session, number))


def list_members(*, session: Session) -> list[MemberPublic]:
    return [_public(session, m) for m in session.exec(select(MemberRow).order_by(col(MemberRow.number)))]


def set_member_lab_ids(
    *, session: Session, number: int, lab_ids: Iterable[str], actor: str, now: datetime
) -> MemberPublic:
    """Change the lab ids a member may list (an audited change, overlap-checked again)."""
    identity(session=session, lock=True)
    row = _member_row(session, number)
    patterns = [NamePattern(p) for p in lab_ids]
    check_patterns_disjoint(patterns, _others(session, number))
    before = list(row.lab_ids)
    row.lab_ids = [p.text for p in patterns]
    session.add(row)
    session.flush()
    _changed(
        session=session,
        actor=actor,
        action="member.lab-ids",
        subject=row.registry_id,
        details={"before": before, "after": row.lab_ids},
        now=now,
    )
    return _public(session, row)


def add_member_status(
    *, session: Session, number: int, status: str, since: datetime, actor: str, now: datetime
) -> MemberPublic:
    """Append a status change (active / suspended / withdrawn from ``since``); the history
    is never rewritten. A withdrawal is final."""
    row = _member_row(session, number)
    history = _status_rows(session, number)
    if any(s.status == "withdrawn" for s in history):
        raise InputError(
            f"registry {row.registry_id} was withdrawn; that is final (admit it again under a new id)"
        )
    session.add(MemberStatusRow(member=number, status=status, since=since, recorded_at=now))
    session.flush()
    _changed(
        session=session,
        actor=actor,
        action="member.status",
        subject=row.registry_id,
        details={"status": status, "since": format_time(since)},
        now=now,
    )
    return _public(session, row)


def add_member_key(*, session: Session, number: int, key: KeyIn, actor: str, now: datetime) -> MemberPublic:
    """Add a key to a member (a registry rotating its key: both verify while both are valid)."""
    row = _member_row(session, number)
    added = _add_key(session, number, key, now)
    session.flush()
    _changed(
        session=session,
        actor=actor,
        action="member.key.add",
        subject=row.registry_id,
        details={"kid": added.kid},
        now=now,
    )
    return _public(session, row)


def _key_row(session: Session, number: int, kid: str) -> MemberKeyRow:
    found = next((k for k in _key_records(session, number) if k.kid == kid), None)
    if found is None:
        raise LookupError(f"member {number} has no key {kid[:60]!r}")
    return found


def retire_member_key(
    *, session: Session, number: int, kid: str, until: datetime, actor: str, now: datetime
) -> MemberPublic:
    """End a member key's validity at ``until`` (what it signed before stays valid)."""
    row = _member_row(session, number)
    key = _key_row(session, number, kid)
    if until < utc(key.valid_from):
        raise InputError(f"until is before the key's validFrom {format_time(utc(key.valid_from))}")
    if key.revoked_at is not None:
        raise InputError(f"key {kid} is revoked already")
    key.valid_until = until
    session.add(key)
    session.flush()
    _changed(
        session=session,
        actor=actor,
        action="member.key.retire",
        subject=row.registry_id,
        details={"kid": kid, "until": format_time(until)},
        now=now,
    )
    return _public(session, row)


def revoke_member_key(
    *, session: Session, number: int, kid: str, at: datetime, reason: str, actor: str, now: datetime
) -> MemberPublic:
    """Revoke a member key; ``keyCompromise`` voids every list it ever signed."""
    row = _member_row(session, number)
    key = _key_row(session, number, kid)
    if key.revoked_at is not None:
        raise InputError(f"key {kid} is revoked already ({key.revocation_reason})")
    key.revoked_at, key.revocation_reason = at, reason
    session.add(key)
    session.flush()
    _changed(
        session=session,
        actor=actor,
        action="member.key.revoke",
        subject=row.registry_id,
        details={"kid": kid, "at": format_time(at), "reason": reason},
        now=now,
    )
    return _public(session, row)


# -- agreements -------------------------------------------------------------------------------


def _agreement_public(row: AgreementRow) -> AgreementPublic:
    assert row.id is not None
    return AgreementPublic(
        id=row.id,
        country=row.country,
        accepts=list(row.accepts),
        scopes=list(row.scopes),
        since=utc(row.since),
        until=None if row.until is None else utc(row.until),
        created_at=utc(row.created_at),
    )


def create_agreement(
    *, session: Session, request: AgreementCreate, actor: str, now: datetime
) -> AgreementPublic:
    """Record that ``country`` accepts the named members' results for ``scopes``."""
    identity(session=session, lock=True)
    known = {m.registry_id for m in session.exec(select(MemberRow))}
    unknown = [a for a in request.accepts if a not in known]
    if unknown:
        raise InputError(f"not a member registry: {unknown[0][:120]} (admit it first, or check GET /members)")
    row = AgreementRow(
        country=request.country,
        accepts=request.accepts,
        scopes=request.scopes,
        since=request.since,
        until=request.until,
        created_at=now,
    )
    session.add(row)
    session.flush()
    public = _agreement_public(row)
    _changed(
        session=session,
        actor=actor,
        action="agreement.create",
        subject=f"agreement/{row.id}",
        details=public.model_dump(mode="json", by_alias=True),
        now=now,
    )
    return public


def end_agreement(
    *, session: Session, agreement_id: int, until: datetime, actor: str, now: datetime
) -> AgreementPublic:
    """Set when an agreement ends (it is never deleted: verifiers judge certificates issued
    while it held by it)."""
    row = session.get(AgreementRow, agreement_id)
    if row is None:
        raise LookupError(f"no agreement {agreement_id}: GET /agreements lists them")
    if until < utc(row.since):
        raise InputError(f"until is before the agreement's from {format_time(utc(row.since))}")
    before = None if row.until is None else format_time(utc(row.until))
    row.until = until
    session.add(row)
    session.flush()
    _changed(
        session=session,
        actor=actor,
        action="agreement.end",
        subject=f"agreement/{agreement_id}",
        details={"before": before, "until": format_time(until)},
        now=now,
    )
    return _agreement_public(row)


def list_agreements(*, session: Session) -> list[AgreementPublic]:
    return [_agreement_public(r) for r in session.exec(select(AgreementRow).order_by(col(AgreementRow.id)))]


# -- publication ------------------------------------------------------------------------------


def federation_list(*, session: Session, sequence: int, now: datetime, validity: timedelta) -> FederationList:
    """The federation list as the data says now, numbered ``sequence``."""
    row = identity(session=session)
    members = tuple(
        member_object(session, m) for m in session.exec(select(MemberRow).order_by(col(MemberRow.number)))
    )
    agreements = tuple(
        Agreement(
            a.country,
            tuple(a.accepts),
            tuple(a.scopes),
            utc(a.since),
            None if a.until is None else utc(a.until),
        )
        for a in session.exec(select(AgreementRow).order_by(col(AgreementRow.id)))
    )
    return FederationList(
        row.federation_id,
        sequence,
        now,
        shift(now, validity),
        members,
        agreements,
        root_version=row.root_version,
        root_keys=tuple(VerifyKey.from_jwk(k) for k in row.root_keys),
    )


def _published(row: Any) -> PublishedPublic:
    return PublishedPublic(
        sequence=row.sequence, issued_at=utc(row.issued_at), expires_at=utc(row.expires_at), sha256=row.sha256
    )


def publish_federation_list(
    *, session: Session, signer: SigningKey, actor: str, now: datetime, validity: timedelta
) -> PublishedPublic:
    """Sign the next federation list (sequence + 1) holding every change so far."""
    row = identity(session=session, lock=True)

    def sign(sequence: int) -> tuple[str, datetime, datetime]:
        fed = federation_list(session=session, sequence=sequence, now=now, validity=validity)
        return fed.sign(signer, signer.public.kid), fed.issued_at, fed.expires_at

    published = pub.publish(session=session, kind=KIND, sign=sign)
    row.published_change = row.change_count
    session.add(row)
    audit.record(
        session=session,
        actor=actor,
        action="federation-list.publish",
        subject=f"federation-list/{published.sequence}",
        details={"sha256": published.sha256, "expiresAt": format_time(utc(published.expires_at))},
        at=now,
    )
    return _published(published)


def publish_if_needed(
    *, session: Session, signer: SigningKey, now: datetime, validity: timedelta, margin: timedelta
) -> str | None:
    """The publish job: sign a new list when there are unpublished changes, or when the
    current one expires within ``margin`` (lists never lapse without anyone acting)."""
    row = identity(session=session, lock=True)
    expires = pub.expires_at(session=session, kind=KIND)
    pending = row.change_count - row.published_change
    if pending == 0 and expires is not None and expires > shift(now, margin):
        return None
    done = publish_federation_list(session=session, signer=signer, actor=SYSTEM, now=now, validity=validity)
    why = (
        f"{pending} unpublished change(s)"
        if pending
        else "first list"
        if expires is None
        else "renewed before expiry"
    )
    return f"federation list {done.sequence} signed ({why}), expires {format_time(done.expires_at)}"


# -- bundles ----------------------------------------------------------------------------------


def _bundle_public(row: BundleRow) -> BundlePublic:
    return BundlePublic(
        sequence=row.sequence,
        created_at=utc(row.created_at),
        federation_sequence=row.federation_sequence,
        size=len(row.data),
        sha256=row.sha256,
        delta_size=None if row.delta is None else len(row.delta),
        warnings=list(row.warnings),
    )


def fetched_lists(*, session: Session) -> tuple[list[str], list[str]]:
    """The last good trust lists and status lists of the members in good standing now."""
    trust: list[str] = []
    status: list[str] = []
    # Two columns, not ORM rows: at 120,000 lists the identity map would hold every row
    # (and its token) a second time for the whole build.
    query = sa_select(col(FetchedListRow.kind), col(FetchedListRow.token)).order_by(
        col(FetchedListRow.member), col(FetchedListRow.kind), col(FetchedListRow.name)
    )
    for kind, token in session.connection().execute(query):
        (trust if kind == "trust" else status).append(token)
    return trust, status


def bundle_warnings(
    *,
    session: Session,
    federation_expires: datetime,
    trust_lists: list[str],
    status_lists: list[str],
    now: datetime,
) -> list[str]:
    """What devices cannot use in a bundle built now (bundle warnings):
    an expired federation list, active members without a trust list, unusable lists."""
    out: list[str] = []
    if federation_expires < now:
        out.append(
            f"the federation list expired {format_time(federation_expires)}: devices will refuse the bundle"
        )
    have = set(
        session.exec(select(FetchedListRow.member).where(col(FetchedListRow.kind) == "trust"))
    )  # the member numbers only: each trust list row holds a token of megabytes
    for m in session.exec(select(MemberRow).order_by(col(MemberRow.number))):
        assert m.number is not None
        history = [StatusEvent(s.status, utc(s.since)) for s in _status_rows(session, m.number)]
        if m.number not in have and status_at(history, now) == "active":
            out.append(
                f"no trust list of member {m.registry_id} is kept: "
                "certificates of its labs cannot be verified"
            )
    for state in session.exec(select(FetchStateRow).order_by(col(FetchStateRow.member))):
        out.extend(state.problems)
    return out + list_warnings(trust_lists=trust_lists, status_lists=status_lists, now=now)


def build_bundle(*, session: Session, signer: SigningKey, actor: str, now: datetime) -> BundlePublic:
    """A bundle (sequence + 1) of the current federation list and the lists kept from the
    members, and the delta from the previous bundle. Refused while the federation list
    has unpublished changes: it would silently carry the old one."""
    row = identity(session=session, lock=True)
    current = pub.current(session=session, kind=KIND)
    if current is None:
        raise UnpublishedChangesError(
            "no federation list is published yet: publish it first "
            "(yilu root publish, POST /federation-list/publish) or wait for the publish job"
        )
    pending = row.change_count - row.published_change
    if pending:
        raise UnpublishedChangesError(
            f"the federation list has unpublished changes since sequence {current.sequence} "
            f"({pending} of them): "
            "publish it first (yilu root publish, POST /federation-list/publish) or wait for the publish job"
        )
    trust, status = fetched_lists(session=session)
    previous_row = session.exec(select(BundleRow).order_by(col(BundleRow.sequence).desc()).limit(1)).first()
    sequence = row.bundle_sequence + 1
    bundle = Bundle(
        row.federation_id,
        sequence,
        now,
        tuple(row.root_keys),
        current.token,
        tuple(trust),
        tuple(status),
        root_chain=tuple(row.root_chain),
    )
    full = bundle.sign(signer, signer.public.kid)
    delta = None
    if previous_row is not None:
        previous = read_unchecked(previous_row.data)
        if previous.federation == bundle.federation:
            delta = make_delta(previous, bundle, signer, signer.public.kid)
        del previous  # every list of the previous bundle, once more: not kept past the delta
    warnings = bundle_warnings(
        session=session,
        federation_expires=utc(current.expires_at),
        trust_lists=trust,
        status_lists=status,
        now=now,
    )
    stored = BundleRow(
        sequence=sequence,
        created_at=now,
        federation_sequence=current.sequence,
        data=full,
        sha256=hashlib.sha256(full).hexdigest(),
        delta=delta,
        delta_sha256=None if delta is None else hashlib.sha256(delta).hexdigest(),
        warnings=warnings,
    )
    session.add(stored)
    row.bundle_sequence = sequence
    session.add(row)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="bundle.build",
        subject=f"bundle/{sequence}",
        details={
            "federationSequence": current.sequence,
            "trustLists": len(trust),
            "statusLists": len(status),
            "sha256": stored.sha256,
            "warnings": len(warnings),
        },
        at=now,
    )
    return _bundle_public(stored)


def get_bundle(*, session: Session, sequence: int | None) -> BundleRow | None:
    if sequence is None:
        return session.exec(select(BundleRow).order_by(col(BundleRow.sequence).desc()).limit(1)).first()
    return session.get(BundleRow, sequence)


def list_bundles(*, session: Session, limit: int = 100) -> list[BundlePublic]:
    """The bundles newest first, without reading their bytes (sizes come from the database)."""
    query = (
        sa_select(
            col(BundleRow.sequence),
            col(BundleRow.created_at),
            col(BundleRow.federation_sequence),
            func.length(col(BundleRow.data)),
            col(BundleRow.sha256),
            func.length(col(BundleRow.delta)),
            col(BundleRow.warnings),
        )
        .order_by(col(BundleRow.sequence).desc())
        .limit(limit)
    )
    return [
        BundlePublic(
            sequence=seq,
            created_at=utc(created),
            federation_sequence=fed,
            size=int(size),
            sha256=sha,
            delta_size=None if delta is None else int(delta),
            warnings=list(warnings),
        )
        for seq, created, fed, size, sha, delta, warnings in session.connection().execute(query)
    ]


def canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


def member_from_document(
    *, fetch: Any, url: str, lab_ids: list[str] | None, active_since: datetime | None
) -> MemberCreate:
    """A member request from the ``GET /registry`` document a registry serves: ``id``,
    ``country``, ``accreditationBody``, ``publicationUrl``, ``keys`` (key records or JWKs)
    and its claimed ``labIds``; ``lab_ids`` given by the root replace the claim."""
    try:
        got = fetch(url, None)
    except httpx.HTTPError as exc:
        # Unreachable, refused, timed out, a bad certificate: the caller's URL to check, not a 500.
        raise InputError(
            f"GET {url} failed ({type(exc).__name__}): is the registry reachable there?"
        ) from None
    if got.status != 200:
        raise InputError(f"GET {url} answered {got.status}: give the registry's document URL")
    try:
        doc = json.loads(got.body)
    except ValueError:
        raise InputError(f"GET {url} did not answer JSON: is it the registry's /registry document?") from None
    if not isinstance(doc, dict):
        raise InputError(f"GET {url} did not answer a JSON object")
    keys = [
        {"jwk": k.get("jwk", k), **({"validFrom": k["validFrom"]} if "validFrom" in k else {})}
        for k in doc.get("keys", [])
        if isinstance(k, dict)
    ]
    claim = doc.get("labIds", doc.get("permittedLabIds"))
    body = {
        "id": doc.get("id"),
        "country": doc.get("country"),
        "accreditationBody": doc.get("accreditationBody"),
        "publicationUrl": doc.get("publicationUrl"),
        "keys": keys,
        "labIds": lab_ids if lab_ids is not None else claim,
        "activeSince": active_since,
    }
    try:
        return MemberCreate.model_validate(body)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InputError(
            f"the registry document at {url} is unusable: "
            f"{where}: {first['msg'].removeprefix('Value error, ')}"
        ) from None
