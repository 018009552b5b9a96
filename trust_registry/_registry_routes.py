"""The registry service's HTTP routes (docs/architecture.md, "Registry service").

Thin: each route validates its body with a pydantic model, checks the caller's token
(``requires``; a lab token only for its own lab) and calls one domain function of
``_registry_domain``. Labs are addressed by their id without ``https://``:
``/labs/qdtc.example.cn/keys`` is the keys of ``https://qdtc.example.cn``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy import Engine

from protocol.keys import SigningKey
from service import db as _db
from service import publication
from service.db import utc
from service.deps import DbSession, Principal, requires
from service.models import PublishedListPublic, Role
from service.problems import problem
from service.settings import ServiceSettings
from trust_registry import _registry_domain as domain
from trust_registry._registry_models import (
    Changed,
    ImportResult,
    KeyDecision,
    KeyPublic,
    KeyRequestIn,
    KeyRetire,
    KeyRevoke,
    LabCreate,
    LabPage,
    LabPublic,
    MirroredListPublic,
    PublishResult,
    RegistryPublic,
    ScopeEnd,
    ScopeIn,
    StatusIn,
    StatusListsIn,
)

Operator = Annotated[Principal, Depends(requires(Role.ADMIN, Role.OPERATOR))]
Admin = Annotated[Principal, Depends(requires(Role.ADMIN))]
AnyRole = Annotated[Principal, Depends(requires(Role.ADMIN, Role.OPERATOR, Role.LAB))]
LAB_REF = "Lab id without `https://`, e.g. `qdtc.example.cn` for `https://qdtc.example.cn`."


@dataclass(frozen=True, slots=True)
class Context:
    """What the routes need besides the request: the engine, settings, clock and key."""

    engine: Engine
    settings: ServiceSettings
    clock: Callable[[], datetime]
    key: Callable[[], SigningKey]


def _lab(lab_ref: str) -> str:
    return "https://" + lab_ref


def _published(row: Any) -> PublishResult:
    return PublishResult(
        sequence=row.sequence, issuedAt=utc(row.issued_at), expiresAt=utc(row.expires_at)
    )


_TRUST_LIST_EXAMPLE = publication.example_jws(
    typ="yilu-trust-list+jwt",
    kid="kPrK_qmxVWa",
    payload={
        "type": "TrustList",
        "registry": "https://cnas.example.cn",
        "country": "CN",
        "accreditationBody": "CNAS",
        "sequence": 12,
        "issuedAt": "2026-11-27T09:00:00Z",
        "expiresAt": "2026-12-04T09:00:00Z",
        "labs": [],
    },
)
_STATUS_LIST_EXAMPLE = publication.example_jws(
    typ="vc+jwt",
    kid="DaFq453JVgx",
    payload={
        "iss": "https://qdtc.example.cn",
        "sub": "https://qdtc.example.cn/status/1",
        "nbf": 1795770000,
        "vc": {"type": ["VerifiableCredential", "BitstringStatusListCredential"]},
    },
)


def _list_responses(what: str, example: str) -> dict[int | str, dict[str, Any]]:
    return {
        200: publication.jwt_response(f"{what} (compact JWS), with ETag and X-Yilu-Sequence", example),
        304: {"description": "Not modified: the If-None-Match ETag is the current one"},
        404: {"description": "Nothing published yet (problem details)"},
    }


_LIST_RESPONSES = _list_responses("The signed trust list", _TRUST_LIST_EXAMPLE)
_STATUS_RESPONSES = _list_responses("The lab's signed status list", _STATUS_LIST_EXAMPLE)


def make_router(ctx: Context) -> APIRouter:
    public = APIRouter(tags=["public"])
    labs = APIRouter(tags=["labs"])
    keys = APIRouter(tags=["keys"])
    lists = APIRouter(tags=["publication"])

    # --- public reads ---------------------------------------------------------------------

    @public.get("/registry", response_model=RegistryPublic, summary="Who this registry is")
    def get_registry(db: DbSession) -> RegistryPublic:
        """The registry's id, country, accreditation body, publication URL, public keys and
        lab id patterns: what the federation root needs to admit it."""
        return domain.registry_public(session=db)

    @lists.get(
        "/trust-list", summary="The current trust list", response_class=Response, responses=_LIST_RESPONSES
    )
    def get_trust_list(request: Request, db: DbSession) -> Response:
        """The newest signed trust list; `If-None-Match` with its ETag answers 304."""
        row = publication.current(session=db, kind=domain.TRUST_LIST)
        return publication.respond(request, row, what="trust list")

    @lists.get(
        "/trust-list/versions", response_model=list[PublishedListPublic], summary="Published trust lists"
    )
    def get_versions(
        db: DbSession,
        before: Annotated[int | None, Query(description="Page back: versions below this sequence")] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> list[PublishedListPublic]:
        """Every version ever published, newest first (sequence, issuedAt, expiresAt, sha256)."""
        return publication.list_versions(session=db, kind=domain.TRUST_LIST, before=before, limit=limit)

    @lists.get(
        "/trust-list/{sequence}",
        summary="One trust list version",
        response_class=Response,
        responses=_LIST_RESPONSES,
    )
    def get_version(request: Request, sequence: int, db: DbSession) -> Response:
        """The trust list with this sequence: every version stays retrievable."""
        row = publication.at_sequence(session=db, kind=domain.TRUST_LIST, sequence=sequence)
        return publication.respond(request, row, what=f"trust list {sequence}")

    @lists.post("/trust-list/publish", response_model=PublishResult, summary="Publish now")
    def publish_now(db: DbSession, who: Operator) -> PublishResult:
        """Sign a new trust list at once (sequence + 1) instead of waiting for the publish job."""
        row = domain.publish_trust_list(
            session=db, now=ctx.clock(), actor=who.actor, key=ctx.key(), validity=ctx.settings.list_validity()
        )
        return _published(row)

    @lists.get("/status-lists", response_model=list[MirroredListPublic], summary="Mirrored status lists")
    def get_status_lists(db: DbSession) -> list[MirroredListPublic]:
        """The index of the labs' status lists this registry mirrors; fetch each at `href`,
        a path relative to the registry's publication URL (the federation root does, and
        fetches again only the lists whose `sha256` changed)."""
        return domain.status_list_index(session=db)

    @lists.get(
        "/status-lists/{name}",
        summary="One mirrored status list",
        response_class=Response,
        responses=_STATUS_RESPONSES,
    )
    def get_status_list(request: Request, name: str, db: DbSession) -> Response:
        """The lab's signed status list as it pushed it, with ETag (304 on If-None-Match)."""
        row = domain.mirrored_list(session=db, name=name)
        if row is None:
            return problem(404, f"No mirrored status list is named {name[:40]}.", instance=request.url.path)
        return publication.serve(request, row.token, row.sha256)

    @lists.put("/status-lists", response_model=Changed, summary="Push signed status lists")
    def put_status_lists(body: StatusListsIn, db: DbSession, who: AnyRole) -> Changed:
        """Mirror the labs' signed status lists, all or nothing: each must be signed by a
        current key of a lab of this registry, lie inside its id, not be dated ahead, not
        be older than the kept copy, and not clear a revocation. A lab token pushes only
        its own lab's lists."""
        changed = domain.mirror_status_lists(
            session=db,
            now=ctx.clock(),
            actor=who.actor,
            lists=body.lists,
            for_lab=who.lab_id if who.role is Role.LAB else None,
        )
        return Changed(changed=changed)

    # --- labs -----------------------------------------------------------------------------

    @labs.get("/labs", response_model=LabPage, summary="List labs")
    def get_labs(
        db: DbSession,
        after: Annotated[str | None, Query(description="The `next` of the previous page")] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> LabPage:
        """Labs in id order with scopes, status history and keys, a page at a time."""
        return domain.list_labs(session=db, after=after, limit=limit)

    @labs.post("/labs", response_model=LabPublic, status_code=201, summary="Accredit a lab")
    def post_lab(body: LabCreate, db: DbSession, who: Operator) -> LabPublic:
        """Add a lab: its id must be an https id inside this registry's lab id patterns and
        not nested with another lab's; names keyed by language; an ISO country code; scopes
        from the vocabulary. It is active from `accreditedSince`; it enrols its key next."""
        return domain.create_lab(session=db, now=ctx.clock(), actor=who.actor, lab=body)

    @labs.post(
        "/labs/import",
        response_model=ImportResult,
        summary="Import labs in bulk (CSV or JSON)",
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "text/csv": {
                        "example": "id,name_en,name_zh,country,accreditation_number,scopes,"
                        "accredited_since,key_jwk\n"
                        "https://qdtc.example.cn,Qingdao Lab,青岛实验室,CN,CNAS L1234,food;chemicals,"
                        '2026-01-01T00:00:00Z,"{""kty"":""OKP"",""crv"":""Ed25519"",""x"":""pRFG04B3_5kuuoTPHV6bJJBzUD63SGhpkBYVOwMaOPc""}"\n'
                    },
                    "application/json": {
                        "example": [
                            {
                                "id": "https://qdtc.example.cn",
                                "name_en": "Qingdao Lab",
                                "country": "CN",
                                "accreditation_number": "CNAS L1234",
                                "scopes": "food;chemicals",
                                "accredited_since": "2026-01-01T00:00:00Z",
                            }
                        ]
                    },
                },
            }
        },
    )
    async def post_import(request: Request, who: Admin) -> ImportResult:
        """Accredit many labs at once, all or nothing: a bad row is named by its number
        (from 1) with what to fix, and nothing is imported. A `key_jwk` is approved at once
        by the importing admin, audited as imported without proof of possession."""
        data = await request.body()
        media_type = request.headers.get("content-type", "application/json")

        def run() -> ImportResult:
            rows = domain.parse_import(data, media_type=media_type)
            with _db.session(ctx.engine) as db:
                return domain.import_labs(session=db, now=ctx.clock(), actor=who.actor, rows=rows)

        return await anyio.to_thread.run_sync(run)

    @labs.post("/labs/{lab_ref:path}/scopes", response_model=LabPublic, summary="Add a scope")
    def post_scope(lab_ref: str, body: ScopeIn, db: DbSession, who: Operator) -> LabPublic:
        """Accredit the lab for one more scope from `since` (a new period in its history).
        Refused if none of the lab's approved key requests covers the scope."""
        return domain.add_scope(
            session=db, now=ctx.clock(), actor=who.actor, lab_id=_lab(lab_ref), scope=body
        )

    @labs.post("/labs/{lab_ref:path}/scopes/{category}/end", response_model=LabPublic, summary="End a scope")
    def post_scope_end(
        lab_ref: str, category: str, body: ScopeEnd, db: DbSession, who: Operator
    ) -> LabPublic:
        """Close the lab's open period of `category` at `until` (default now); the history
        stays, so certificates issued while it held still verify."""
        return domain.end_scope(
            session=db,
            now=ctx.clock(),
            actor=who.actor,
            lab_id=_lab(lab_ref),
            category=category,
            until=body.until,
        )

    @labs.post("/labs/{lab_ref:path}/status", response_model=LabPublic, summary="Change accreditation status")
    def post_status(lab_ref: str, body: StatusIn, db: DbSession, who: Operator) -> LabPublic:
        """Append a status change (active / suspended / withdrawn) effective `since`.
        Suspending or withdrawing ends the lab's keys at that date; re-activating does not
        re-open them (the lab enrols a new key). A withdrawal for cause is final."""
        return domain.set_status(
            session=db, now=ctx.clock(), actor=who.actor, lab_id=_lab(lab_ref), change=body
        )

    # --- keys -----------------------------------------------------------------------------

    @keys.get("/keys/pending", response_model=list[KeyPublic], summary="Keys awaiting approval")
    def get_pending(db: DbSession, who: Operator) -> list[KeyPublic]:
        """Every key request verified and waiting for an operator's decision."""
        return domain.list_keys(session=db, state="pending")

    @keys.get("/labs/{lab_ref:path}/keys", response_model=list[KeyPublic], summary="A lab's keys")
    def get_keys(lab_ref: str, db: DbSession) -> list[KeyPublic]:
        """The lab's keys in every state (pending, approved, rejected) with their windows."""
        return domain.list_keys(session=db, lab_id=_lab(lab_ref))

    @keys.post("/labs/{lab_ref:path}/keys", response_model=KeyPublic, status_code=201, summary="Enrol a key")
    def post_key(lab_ref: str, body: KeyRequestIn, db: DbSession, who: AnyRole) -> KeyPublic:
        """Submit a key request (a JWS signed by the key it carries: proof of possession,
        protocol/enrolment.py). It waits as pending until an operator approves it. A lab
        token submits only for its own lab."""
        lab_id = _lab(lab_ref)
        who.require_lab(lab_id)
        return domain.submit_key_request(
            session=db, now=ctx.clock(), actor=who.actor, lab_id=lab_id, request=body.request
        )

    @keys.post("/labs/{lab_ref:path}/keys/{kid}/approve", response_model=KeyPublic, summary="Approve a key")
    def post_approve(lab_ref: str, kid: str, body: KeyDecision, db: DbSession, who: Operator) -> KeyPublic:
        """Approve a pending key, valid from `validFrom` (default now). Refused if the lab
        would be listed for a scope none of its approved key requests covers."""
        return domain.approve_key(
            session=db,
            now=ctx.clock(),
            actor=who.actor,
            lab_id=_lab(lab_ref),
            kid=kid,
            valid_from=body.valid_from,
        )

    @keys.post("/labs/{lab_ref:path}/keys/{kid}/reject", response_model=KeyPublic, summary="Reject a key")
    def post_reject(lab_ref: str, kid: str, db: DbSession, who: Operator) -> KeyPublic:
        """Reject a pending key request; it stays in the lab's history."""
        return domain.reject_key(session=db, now=ctx.clock(), actor=who.actor, lab_id=_lab(lab_ref), kid=kid)

    @keys.post("/labs/{lab_ref:path}/keys/{kid}/retire", response_model=KeyPublic, summary="Retire a key")
    def post_retire(lab_ref: str, kid: str, body: KeyRetire, db: DbSession, who: Operator) -> KeyPublic:
        """End the key's validity at `until` (default now), e.g. after rotating to a new
        key: what it signed before then still verifies."""
        return domain.retire_key(
            session=db, now=ctx.clock(), actor=who.actor, lab_id=_lab(lab_ref), kid=kid, until=body.until
        )

    @keys.post("/labs/{lab_ref:path}/keys/{kid}/revoke", response_model=KeyPublic, summary="Revoke a key")
    def post_revoke(lab_ref: str, kid: str, body: KeyRevoke, db: DbSession, who: Operator) -> KeyPublic:
        """Revoke the key with a reason: `keyCompromise` voids everything it ever signed;
        `superseded` and `cessationOfOperation` only what is dated from `at` on."""
        return domain.revoke_key(
            session=db,
            now=ctx.clock(),
            actor=who.actor,
            lab_id=_lab(lab_ref),
            kid=kid,
            reason=body.reason,
            at=body.at,
        )

    @labs.get("/labs/{lab_ref:path}", response_model=LabPublic, summary="One lab", description=LAB_REF)
    def get_lab(lab_ref: str, db: DbSession) -> LabPublic:
        return domain.get_lab(session=db, lab_id=_lab(lab_ref))

    router = APIRouter()
    for part in (public, lists, keys, labs):
        router.include_router(part)
    return router
