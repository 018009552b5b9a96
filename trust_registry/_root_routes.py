"""The root service's HTTP routes (docs/architecture.md, "Root service").

Thin: each route validates its input (the request models), asks for a token of the
right role, and calls one function of :mod:`trust_registry._root_domain`, which holds
the logic. Publication routes are public and read-only; every write needs a token.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy import Engine

from protocol.keys import SigningKey
from protocol.storage import passphrase
from service import audit
from service import publication as pub
from service.deps import DbSession, Principal, get_engine, requires
from service.models import AuditEntryPublic, Role
from service.problems import PROBLEM_MEDIA_TYPE, problem
from trust_registry import _root_domain as domain
from trust_registry._root_fetch import Fetcher, fetch_members
from trust_registry._root_models import (
    AgreementCreate,
    AgreementEnd,
    AgreementPublic,
    BundlePublic,
    FetchReport,
    KeyIn,
    KeyRetire,
    KeyRevoke,
    LabIdsUpdate,
    MemberCreate,
    MemberFromUrl,
    MemberPublic,
    PublishedPublic,
    RootIdentity,
    RootPublic,
    RotationPublic,
    StatusCreate,
)

BUNDLE_MEDIA_TYPE: Final = "application/vnd.yilu.bundle"

Admin = Annotated[Principal, Depends(requires(Role.ADMIN))]
Operator = Annotated[Principal, Depends(requires(Role.ADMIN, Role.OPERATOR))]
Number = Annotated[int, Path(ge=1, description="The member's number (GET /members)", examples=[1])]


def now(request: Request) -> datetime:
    """The app's clock (tests move it)."""
    clock = request.app.state.clock
    value: datetime = clock()
    return value


Now = Annotated[datetime, Depends(now)]


def set_up(engine: Annotated[Engine, Depends(get_engine)]) -> None:
    """Writes on a root that was never set up answer one line saying what to run."""
    if not domain.is_set_up(engine):
        raise domain.NotSetUpError(
            "this root is not set up: run `yilu root init --federation-id URL` on its data directory first"
        )


def cached_signer(state: Any, row: RootIdentity) -> SigningKey:
    """The current root version's signing key, read once from its encrypted file
    (YILU_KEY_PASSPHRASE) and kept on ``app.state.signer``; read again when it is no longer
    a key of the committed row (a root key rotation, here or on another node)."""
    key = getattr(state, "signer", None)
    if not isinstance(key, SigningKey) or dict(key.public.jwk) not in row.root_keys:
        key = domain.load_signer(state.settings.data_dir, row, passphrase())
        state.signer = key
    return key


def signer(request: Request, session: DbSession) -> SigningKey:
    """The root signing key of the current root version (:func:`cached_signer`)."""
    return cached_signer(request.app.state, domain.identity(session=session))


Signer = Annotated[SigningKey, Depends(signer)]


Responses = dict[int | str, dict[str, Any]]


def _problem(status: int, detail: str) -> dict[str, Any]:
    return {
        "description": detail,
        "content": {PROBLEM_MEDIA_TYPE: {"example": {"status": status, "detail": detail}}},
    }


_AUTH: Responses = {
    401: _problem(401, "The bearer token is unknown or revoked."),
    403: _problem(403, "A token with the role lab may not do this; it needs: admin."),
}
_WRITE: Responses = {
    **_AUTH,
    400: _problem(
        400,
        "lab ids https://*.example.cn overlap https://*.example.cn of CNAS (https://registry.example.cn): "
        "every lab id must belong to one registry",
    ),
    503: _problem(
        503, "this root is not set up: run `yilu root init --federation-id URL` on its data directory first"
    ),
}
_NOT_FOUND: Responses = {404: _problem(404, "no member number 7: GET /members lists them")}

_ROOT_JWK: Final = {"kty": "OKP", "crv": "Ed25519", "x": "SBNJTRN-FjG7owHVrKtue7eqdM4RhdRWVl71HXN2d7I"}
_FEDERATION_LIST_EXAMPLE: Final = pub.example_jws(
    typ="yilu-federation-list+jwt",
    kid="_gjWLDsruhe",
    payload={
        "type": "FederationList",
        "federation": "https://federation.example.org",
        "sequence": 3,
        "issuedAt": "2026-11-27T09:00:00Z",
        "expiresAt": "2026-12-04T09:00:00Z",
        "members": [],
        "agreements": [],
    },
)
_LIST_RESPONSES: Responses = {
    200: pub.jwt_response(
        "The signed federation list (compact JWS), with ETag and X-Yilu-Sequence", _FEDERATION_LIST_EXAMPLE
    ),
    304: {"description": "Not modified (If-None-Match)"},
}
_ROTATION_EXAMPLE: Final = (
    '{"payload":"eyJ0eXBlIjoiUm9vdFJvdGF0aW9uIiwicm9vdFZlcnNpb24iOjJ9",'
    '"signatures":[{"protected":"eyJhbGciOiJFZERTQSIsImtpZCI6Il9naldMRHNydWhlIn0","signature":"'
    + "c2ln" * 21
    + 'Yg"}]}'
)

public = APIRouter(tags=["publication"])
members = APIRouter(tags=["members"], dependencies=[Depends(set_up)], responses=_WRITE)
operations = APIRouter(tags=["operations"], dependencies=[Depends(set_up)], responses=_WRITE)


# -- public -----------------------------------------------------------------------------------


@public.get("/root", summary="Who this root is", response_model=RootPublic)
def get_root(db: DbSession) -> RootPublic:
    """The federation id, the root public keys and their root version, how many rotation
    statements lead there, the sequence last published and how many changes the
    federation list does not hold yet."""
    return domain.root_public(session=db)


@public.get(
    "/root/chain",
    summary="The root rotation statements",
    responses={
        200: {
            "description": "The rotation statements in order (empty before the first rotation)",
            "content": {"application/json": {"example": [_ROTATION_EXAMPLE]}},
        }
    },
)
def get_root_chain(db: DbSession) -> list[str]:
    """Every root rotation statement (JWS, general JSON serialization), to root versions
    2, 3 … in order (docs/formats.md, "Root rotation"): what a device pinned at an older
    root walks forward. Empty before the first rotation; every bundle carries the same."""
    return list(domain.identity(session=db).root_chain)


@public.get(
    "/root-keys",
    summary="The root public keys devices pin",
    responses={
        200: {
            "description": "The root public keys (JWKs)",
            "content": {"application/json": {"example": [_ROOT_JWK]}},
        }
    },
)
def get_root_keys(db: DbSession) -> list[dict[str, Any]]:
    """The JSON list of root public JWKs (the same as ``root-keys.json``): what a verifier
    is given once, out of band, to pin."""
    return list(domain.identity(session=db).root_keys)


@public.get(
    "/federation-list",
    summary="The current federation list",
    response_class=Response,
    responses=_LIST_RESPONSES,
)
def get_federation_list(request: Request, db: DbSession) -> Response:
    """The newest signed federation list (compact JWS) with ``ETag``; ``If-None-Match``
    with that ETag answers 304. ``X-Yilu-Sequence`` carries its sequence."""
    return pub.respond(request, pub.current(session=db, kind=domain.KIND), what="federation list")


@public.get(
    "/federation-list/versions",
    summary="Every published federation list",
    response_model=list[PublishedPublic],
)
def get_versions(
    db: DbSession, before: int | None = None, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[PublishedPublic]:
    """Versions newest first (sequence, issuedAt, expiresAt, SHA-256); ``before`` pages back."""
    return [
        PublishedPublic(sequence=v.sequence, issued_at=v.issued_at, expires_at=v.expires_at, sha256=v.sha256)
        for v in pub.list_versions(session=db, kind=domain.KIND, before=before, limit=limit)
    ]


@public.get(
    "/federation-list/{sequence}",
    summary="One federation list by sequence",
    response_class=Response,
    responses={**_LIST_RESPONSES, 404: _problem(404, "No federation list 9 has been published yet.")},
)
def get_federation_list_version(
    request: Request, db: DbSession, sequence: Annotated[int, Path(ge=1, examples=[3])]
) -> Response:
    """Every version stays retrievable by its sequence, with its ETag."""
    row = pub.at_sequence(session=db, kind=domain.KIND, sequence=sequence)
    return pub.respond(request, row, what=f"federation list {sequence}")


@public.get("/members", summary="The member registries", response_model=list[MemberPublic])
def get_members(db: DbSession) -> list[MemberPublic]:
    """Every member with its keys, status history, the lab ids it may list (the binding
    rule) and what the last fetch of its lists found."""
    return domain.list_members(session=db)


@public.get(
    "/members/{number}", summary="One member registry", response_model=MemberPublic, responses=_NOT_FOUND
)
def get_member(db: DbSession, number: Number) -> MemberPublic:
    """One member by its number."""
    return domain.get_member(session=db, number=number)


@public.get("/agreements", summary="The recognition agreements", response_model=list[AgreementPublic])
def get_agreements(db: DbSession) -> list[AgreementPublic]:
    """Every agreement, ended ones too (country, members, scopes, from and until)."""
    return domain.list_agreements(session=db)


@public.get("/bundles", summary="The bundles built", response_model=list[BundlePublic])
def get_bundles(db: DbSession) -> list[BundlePublic]:
    """The bundles newest first, with their sizes and the warnings of their build."""
    return domain.list_bundles(session=db)


def _bytes(request: Request, data: bytes | None, sha256: str | None, sequence: int, what: str) -> Response:
    if data is None or sha256 is None:
        return problem(404, f"There is no {what}.", instance=request.url.path)
    return pub.serve(request, data, sha256, media_type=BUNDLE_MEDIA_TYPE, sequence=sequence)


#: A bundle file begins with its magic line, then the root-signed manifest (protocol/bundle.py).
_BUNDLE_EXAMPLE: Final = (
    "YILU-BUNDLE/3\n"
    + pub.example_jws(
        typ="yilu-bundle+jwt",
        kid="_gjWLDsruhe",
        payload={
            "type": "Bundle",
            "sequence": 4,
            "federationSequence": 3,
            "createdAt": "2026-11-27T09:05:00Z",
        },
    )
    + "\n"
)
_BUNDLE_BYTES: Responses = {
    200: {
        "description": "The bundle file (binary), with ETag and X-Yilu-Sequence",
        "content": {
            BUNDLE_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}, "example": _BUNDLE_EXAMPLE}
        },
    },
    304: {"description": "Not modified (If-None-Match)"},
    404: _problem(404, "There is no bundle 9."),
}


@public.get(
    "/bundles/latest", summary="The newest bundle file", response_class=Response, responses=_BUNDLE_BYTES
)
def get_latest_bundle(request: Request, db: DbSession) -> Response:
    """The ``.ylb`` bytes of the newest bundle, with ``ETag`` (304 on ``If-None-Match``)."""
    row = domain.get_bundle(session=db, sequence=None)
    return _bytes(
        request,
        None if row is None else row.data,
        None if row is None else row.sha256,
        0 if row is None else row.sequence,
        "bundle yet",
    )


@public.get(
    "/bundles/{sequence}", summary="One bundle file", response_class=Response, responses=_BUNDLE_BYTES
)
def get_bundle(
    request: Request, db: DbSession, sequence: Annotated[int, Path(ge=1, examples=[4])]
) -> Response:
    """The ``.ylb`` bytes of bundle ``sequence``."""
    row = domain.get_bundle(session=db, sequence=sequence)
    return _bytes(
        request,
        None if row is None else row.data,
        None if row is None else row.sha256,
        sequence,
        f"bundle {sequence}",
    )


@public.get(
    "/bundles/{sequence}/delta",
    summary="The delta to one bundle",
    response_class=Response,
    responses=_BUNDLE_BYTES,
)
def get_delta(
    request: Request, db: DbSession, sequence: Annotated[int, Path(ge=1, examples=[4])]
) -> Response:
    """The delta that turns bundle ``sequence - 1`` into bundle ``sequence`` (much smaller
    than the whole bundle when little changed)."""
    row = domain.get_bundle(session=db, sequence=sequence)
    return _bytes(
        request,
        None if row is None else row.delta,
        None if row is None else row.delta_sha256,
        sequence,
        f"delta to bundle {sequence}",
    )


# -- members and agreements (admin) --------------------------------------------------------


@members.post("/members", status_code=201, summary="Admit a member registry", response_model=MemberPublic)
def post_member(db: DbSession, who: Admin, at: Now, body: MemberCreate) -> MemberPublic:
    """Admit a registry with its keys and the lab ids it may list (the binding rule: no
    two members' patterns may overlap). The change is pending until the federation list
    is published."""
    return domain.admit_member(session=db, request=body, actor=who.actor, now=at)


@members.post(
    "/members/from-url",
    status_code=201,
    summary="Admit a registry from its own document",
    response_model=MemberPublic,
)
def post_member_from_url(
    request: Request, db: DbSession, who: Admin, at: Now, body: MemberFromUrl
) -> MemberPublic:
    """Fetch the registry's ``GET /registry`` document (its id, country, body, publication
    URL, public keys and claimed lab ids) and admit it; ``labIds`` given here override its
    claim (the root sets the binding rule)."""
    fetch: Fetcher = request.app.state.fetch
    candidate = domain.member_from_document(
        fetch=fetch, url=body.url, lab_ids=body.lab_ids, active_since=body.active_since
    )
    return domain.admit_member(session=db, request=candidate, actor=who.actor, now=at)


@members.put(
    "/members/{number}/lab-ids",
    summary="Change the lab ids a member may list",
    response_model=MemberPublic,
    responses=_NOT_FOUND,
)
def put_lab_ids(db: DbSession, who: Admin, at: Now, number: Number, body: LabIdsUpdate) -> MemberPublic:
    """Replace the member's lab id patterns (audited; refused if they overlap another member's)."""
    return domain.set_member_lab_ids(session=db, number=number, lab_ids=body.lab_ids, actor=who.actor, now=at)


@members.post(
    "/members/{number}/status",
    summary="Record a member's status change",
    response_model=MemberPublic,
    responses=_NOT_FOUND,
)
def post_status(db: DbSession, who: Admin, at: Now, number: Number, body: StatusCreate) -> MemberPublic:
    """Append active / suspended / withdrawn from ``since`` to the member's history."""
    return domain.add_member_status(
        session=db, number=number, status=body.status, since=body.since, actor=who.actor, now=at
    )


@members.post(
    "/members/{number}/keys",
    status_code=201,
    summary="Add a member key",
    response_model=MemberPublic,
    responses=_NOT_FOUND,
)
def post_key(db: DbSession, who: Admin, at: Now, number: Number, body: KeyIn) -> MemberPublic:
    """Add a public key of the registry (key rotation: the old one keeps verifying until retired)."""
    return domain.add_member_key(session=db, number=number, key=body, actor=who.actor, now=at)


@members.post(
    "/members/{number}/keys/{kid}/retire",
    summary="Retire a member key at a date",
    response_model=MemberPublic,
    responses=_NOT_FOUND,
)
def post_retire(
    db: DbSession, who: Admin, at: Now, number: Number, kid: str, body: KeyRetire
) -> MemberPublic:
    """The key verifies what it signed up to ``until``, nothing newer."""
    return domain.retire_member_key(
        session=db, number=number, kid=kid, until=body.until, actor=who.actor, now=at
    )


@members.post(
    "/members/{number}/keys/{kid}/revoke",
    summary="Revoke a member key",
    response_model=MemberPublic,
    responses=_NOT_FOUND,
)
def post_revoke(
    db: DbSession, who: Admin, at: Now, number: Number, kid: str, body: KeyRevoke
) -> MemberPublic:
    """Revoke with a reason; ``keyCompromise`` (a registry key stolen) voids all it signed."""
    return domain.revoke_member_key(
        session=db, number=number, kid=kid, at=body.at, reason=body.reason, actor=who.actor, now=at
    )


@members.post(
    "/agreements", status_code=201, summary="Record a recognition agreement", response_model=AgreementPublic
)
def post_agreement(db: DbSession, who: Admin, at: Now, body: AgreementCreate) -> AgreementPublic:
    """``country`` accepts the named members' results for ``scopes`` from ``from`` until ``until``."""
    return domain.create_agreement(session=db, request=body, actor=who.actor, now=at)


@members.post(
    "/agreements/{agreement_id}/end",
    summary="End a recognition agreement",
    response_model=AgreementPublic,
    responses={404: _problem(404, "no agreement 7: GET /agreements lists them")},
)
def post_agreement_end(
    db: DbSession, who: Admin, at: Now, agreement_id: Annotated[int, Path(ge=1)], body: AgreementEnd
) -> AgreementPublic:
    """Set ``until``; the agreement is never deleted."""
    return domain.end_agreement(
        session=db, agreement_id=agreement_id, until=body.until, actor=who.actor, now=at
    )


@members.post(
    "/root/keys/rotate",
    summary="Rotate the root key",
    response_model=RotationPublic,
    responses={
        400: _problem(
            400,
            "the passphrase is too weak: use at least 12 characters that are not a repeated "
            "pattern, e.g. four random words",
        )
    },
)
def post_rotate(request: Request, db: DbSession, who: Admin, at: Now, key: Signer) -> RotationPublic:
    """Rotate the root key in the TUF manner (docs/formats.md, "Root rotation"): a new key
    (saved encrypted with the same YILU_KEY_PASSPHRASE to a new file in the data
    directory), a rotation statement signed by the current key and the new one, and the
    first federation list of the new root version, published at once and signed by the new
    key only. Devices that pinned an older root walk the chain of statements every bundle
    carries (GET /root/chain). Answers the new root version, its kid and that list's
    sequence."""
    state = request.app.state
    done = domain.rotate_root_key(
        session=db,
        data_dir=state.settings.data_dir,
        old_signer=key,
        new_passphrase=passphrase(),
        actor=who.actor,
        now=at,
        validity=state.settings.list_validity(),
    )
    state.signer = None  # the next signing request reads the new key file (cached_signer)
    return done


# -- operations (admin, operator) ------------------------------------------------------------


@operations.post(
    "/federation-list/publish", summary="Publish the federation list now", response_model=PublishedPublic
)
def post_publish(request: Request, db: DbSession, who: Operator, at: Now, key: Signer) -> PublishedPublic:
    """Sign the next federation list (sequence + 1) with every change so far."""
    validity = request.app.state.settings.list_validity()
    return domain.publish_federation_list(session=db, signer=key, actor=who.actor, now=at, validity=validity)


@operations.post("/fetch", summary="Fetch the members' published lists", response_model=FetchReport)
def post_fetch(request: Request, db: DbSession, who: Operator, at: Now) -> FetchReport:
    """GET every active member's trust list and status lists (ETag / If-None-Match), verify
    each against the member's keys held here, keep the good ones and report the dropped."""
    return fetch_members(session=db, fetch=request.app.state.fetch, actor=who.actor, now=at)


@operations.post(
    "/bundles",
    status_code=201,
    summary="Build a bundle",
    response_model=BundlePublic,
    responses={
        409: _problem(
            409,
            "the federation list has unpublished changes since sequence 3 (1 of them): "
            "publish it first (yilu root publish, POST /federation-list/publish) or wait for the publish job",
        )
    },
)
def post_bundle(db: DbSession, who: Operator, at: Now, key: Signer) -> BundlePublic:
    """A bundle of the current federation list and the lists kept from the members, and a
    delta from the previous one; warnings say what devices will not be able to use.
    Refused (409) while the federation list has unpublished changes."""
    return domain.build_bundle(session=db, signer=key, actor=who.actor, now=at)


@operations.get("/audit", summary="The audit log", response_model=list[AuditEntryPublic])
def get_audit(
    db: DbSession,
    who: Admin,
    after: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AuditEntryPublic]:
    """Entries after ``after``, oldest first (admin only)."""
    return audit.list_entries(session=db, after=after, limit=limit)


@operations.get(
    "/audit/verify",
    summary="Check the audit chain",
    responses={
        200: {
            "description": "The chain's problems (empty: intact) and its head",
            "content": {
                "application/json": {
                    "example": {
                        "problems": [],
                        "head": {
                            "seq": 42,
                            "hash": "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752",
                        },
                    }
                }
            },
        }
    },
)
def get_audit_verify(db: DbSession, who: Admin) -> dict[str, Any]:
    """Every problem of the hash chain, one line each (none: intact), and its head."""
    head = audit.head(session=db)
    return {
        "problems": audit.verify_chain(session=db),
        "head": None if head is None else {"seq": head[0], "hash": head[1]},
    }
