"""FastAPI dependencies every stateful role shares: the database session and the caller.

docs/architecture.md, "Service layer". The engine lives on ``app.state.engine`` (set by
the role's ``create_app``), never in a module global. A request's session commits when
the endpoint returns normally and rolls back if it raises, so a change and its audit
entry land together or not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy import Engine
from sqlmodel import Session

from service import db as _db
from service.models import Role, TokenPublic
from service.tokens import authenticate


def get_engine(request: Request) -> Engine:
    engine = getattr(request.app.state, "engine", None)
    if not isinstance(engine, Engine):
        raise RuntimeError("this app has no database: its create_app must set app.state.engine")
    return engine


def db_session(engine: Annotated[Engine, Depends(get_engine)]) -> Iterator[Session]:
    with _db.session(engine) as session:
        yield session


#: ``scope="function"``: the session commits when the endpoint returns, *before* the
#: response is sent. With the default (request) scope FastAPI sends the response first,
#: so a client could read its own write before it was committed, and a failed commit
#: would go unanswered.
DbSession = Annotated[Session, Depends(db_session, scope="function")]


class Principal(TokenPublic):
    """Who is calling: the token that authenticated the request (never its secret)."""

    @property
    def actor(self) -> str:
        """How the audit log names the caller: ``token:<id>:<name>``."""
        return f"token:{self.id}:{self.name}"

    def require_lab(self, lab_id: str) -> None:
        """A lab token acts only for its own lab (403 otherwise); admin and operator tokens
        act for any lab."""
        if self.role is Role.LAB and self.lab_id != lab_id:
            raise HTTPException(403, f"this lab token acts for {self.lab_id}, not for {lab_id}")


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise HTTPException(
            401,
            "This needs a bearer token: send 'Authorization: Bearer yl_…' "
            "(an operator creates one with yilu registry token create, or yilu root token create).",
            headers={"WWW-Authenticate": 'Bearer realm="yilu"'},
        )
    return secret.strip()


def requires(*roles: Role) -> Callable[..., Principal]:
    """A dependency admitting tokens of ``roles`` only: 401 without a valid token (unknown,
    malformed or revoked alike), 403 with a token of another role."""
    allowed = frozenset(roles)
    names = ", ".join(sorted(r.value for r in allowed))

    def dependency(request: Request, session: DbSession) -> Principal:
        token = authenticate(session=session, secret=_bearer(request))
        if token is None:
            raise HTTPException(
                401,
                "The bearer token is unknown or revoked.",
                headers={"WWW-Authenticate": 'Bearer realm="yilu", error="invalid_token"'},
            )
        if token.role not in allowed:
            raise HTTPException(
                403, f"A token with the role {token.role.value} may not do this; it needs: {names}."
            )
        return Principal(**token.model_dump())

    dependency.allowed_roles = allowed  # type: ignore[attr-defined]  # read by the route-table test
    return dependency
