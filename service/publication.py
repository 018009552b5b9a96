"""Published lists: numbered, kept forever, served with ETags.

docs/architecture.md, "Publication". A role (the registry's trust list, the root's
federation list) publishes by handing :func:`publish` a function that signs its list for
a given sequence. The sequence is one more than the highest ever stored for that kind,
and the row's primary key is (kind, sequence), so two publishers can never take one
number and a list is never served with a lower sequence than one already served, across
restarts too (the rows are the record; nothing is deleted). ``GET`` answers the newest
version with an ``ETag`` and honours ``If-None-Match`` (304); every version stays
retrievable by its sequence.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Final

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy import func
from sqlmodel import Session, col, select

from service.db import utc
from service.models import PublishedList, PublishedListPublic
from service.problems import problem

#: How long a cache may serve a list without asking again (seconds). Short: a revocation
#: should reach verifiers soon; the ETag makes asking again cheap.
MAX_AGE_SECONDS: Final = 60
#: Media type of a served compact JWS list.
JWT_MEDIA_TYPE: Final = "application/jwt"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def example_jws(*, typ: str, payload: Mapping[str, Any], kid: str = "p3Xq9vT0aBc") -> str:
    """A compact JWS shaped like the lists served (header ``alg``, ``kid``, ``typ``), for
    OpenAPI examples only: its signature verifies under no key."""
    header = json.dumps({"alg": "EdDSA", "kid": kid, "typ": typ}, separators=(",", ":"))
    body = json.dumps(dict(payload), separators=(",", ":"), ensure_ascii=False)
    signature = _b64url(hashlib.sha512(header.encode() + body.encode()).digest())  # 64 bytes, as Ed25519
    return f"{_b64url(header.encode())}.{_b64url(body.encode())}.{signature}"


def jwt_response(description: str, example: str) -> dict[str, Any]:
    """An OpenAPI 200 response serving a compact JWS as ``application/jwt`` (pair it with
    ``response_class=Response`` so that the route does not also claim JSON)."""
    return {
        "description": description,
        "content": {JWT_MEDIA_TYPE: {"schema": {"type": "string"}, "example": example}},
    }


#: Signs a list for the given sequence: (compact JWS, issuedAt, expiresAt).
SignFor = Callable[[int], tuple[str, datetime, datetime]]


def _public(row: PublishedList) -> PublishedListPublic:
    return PublishedListPublic(
        kind=row.kind,
        sequence=row.sequence,
        issued_at=utc(row.issued_at),
        expires_at=utc(row.expires_at),
        sha256=row.sha256,
    )


def latest_sequence(*, session: Session, kind: str) -> int:
    """The highest sequence ever published for ``kind`` (0 before the first)."""
    value = session.exec(
        select(func.max(PublishedList.sequence)).where(col(PublishedList.kind) == kind)
    ).one()
    return int(value or 0)


def publish(*, session: Session, kind: str, sign: SignFor) -> PublishedList:
    """Sign and store the next version of ``kind``; flushed, committed with the session."""
    sequence = latest_sequence(session=session, kind=kind) + 1
    token, issued_at, expires_at = sign(sequence)
    row = PublishedList(
        kind=kind,
        sequence=sequence,
        # As the list says them: RFC 3339 in whole seconds (protocol.encoding.format_time).
        issued_at=issued_at.replace(microsecond=0),
        expires_at=expires_at.replace(microsecond=0),
        token=token,
        sha256=hashlib.sha256(token.encode()).hexdigest(),
    )
    session.add(row)
    session.flush()
    return row


def current(*, session: Session, kind: str) -> PublishedList | None:
    """The newest version of ``kind``, or None before the first publication."""
    return session.exec(
        select(PublishedList)
        .where(col(PublishedList.kind) == kind)
        .order_by(col(PublishedList.sequence).desc())
        .limit(1)
    ).first()


def at_sequence(*, session: Session, kind: str, sequence: int) -> PublishedList | None:
    return session.get(PublishedList, (kind, sequence))


def list_versions(
    *, session: Session, kind: str, before: int | None = None, limit: int = 100
) -> list[PublishedListPublic]:
    """Versions of ``kind``, newest first; ``before`` pages back."""
    query = select(PublishedList).where(col(PublishedList.kind) == kind)
    if before is not None:
        query = query.where(col(PublishedList.sequence) < before)
    rows = session.exec(query.order_by(col(PublishedList.sequence).desc()).limit(limit)).all()
    return [_public(r) for r in rows]


def expires_at(*, session: Session, kind: str) -> datetime | None:
    row = current(session=session, kind=kind)
    return None if row is None else utc(row.expires_at)


def _etag_matches(header: str, etag: str) -> bool:
    """RFC 9110 §13.1.2: ``*`` or any listed tag, compared weakly (a ``W/`` prefix ignored)."""
    for part in header.split(","):
        tag = part.strip()
        if tag == "*" or tag.removeprefix("W/") == etag:
            return True
    return False


def respond(
    request: Request, row: PublishedList | None, *, what: str, media_type: str = JWT_MEDIA_TYPE
) -> Response:
    """The list as served: 200 with ``ETag``, ``Cache-Control`` and the sequence in
    ``X-Yilu-Sequence``; 304 if ``If-None-Match`` names it; a 404 problem if there is none."""
    if row is None:
        return problem(404, f"No {what} has been published yet.", instance=request.url.path)
    return serve(request, row.token, row.sha256, media_type=media_type, sequence=row.sequence)


def serve(
    request: Request,
    body: str | bytes,
    sha256: str,
    *,
    media_type: str = JWT_MEDIA_TYPE,
    sequence: int | None = None,
) -> Response:
    """Any signed file a service publishes (a list, a mirrored status list, a bundle): 200
    with ``ETag`` (its quoted SHA-256), ``Cache-Control`` and, if it has one, its sequence in
    ``X-Yilu-Sequence``; 304 with no body if ``If-None-Match`` names it."""
    etag = f'"{sha256}"'
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={MAX_AGE_SECONDS}"}
    if sequence is not None:
        headers["X-Yilu-Sequence"] = str(sequence)
    if _etag_matches(request.headers.get("if-none-match", ""), etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)
