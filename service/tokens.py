"""Bearer tokens: created with a role, stored as a SHA-256, compared in constant time.

A secret is ``yl_`` + 32 random bytes in base64url (43 characters), shown once by
:func:`create_token`. The database keeps its SHA-256 and its first characters (to tell
tokens apart in a listing), never the secret. A slow password hash (bcrypt, argon2) is
there to make guessing a *low-entropy* password expensive; a 256-bit random secret
cannot be guessed, so one SHA-256 is as strong and keeps every authenticated request cheap.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime
from typing import Final

from sqlmodel import Session, col, select

from service import audit
from service.db import utc, utc_or_none
from service.models import Role, Token, TokenCreate, TokenPublic

PREFIX: Final = "yl_"
SECRET_BYTES: Final = 32
#: ``yl_`` + the first 7 characters of the random part: enough to tell tokens apart, far
#: too little to guess the rest.
SHOWN_CHARS: Final = len(PREFIX) + 7
_SECRET_CHARS: Final = len(PREFIX) + 43


class TokenNotFoundError(LookupError):
    """No token has this id."""


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _public(token: Token) -> TokenPublic:
    if token.id is None:
        raise RuntimeError("token not flushed yet: it has no id")
    return TokenPublic(
        id=token.id,
        name=token.name,
        role=Role(token.role),
        lab_id=token.lab_id,
        prefix=token.prefix,
        created_at=utc(token.created_at),
        revoked_at=utc_or_none(token.revoked_at),
    )


def create_token(
    *,
    session: Session,
    name: str,
    role: Role | str,
    lab_id: str | None = None,
    actor: str = "system",
    at: datetime,
) -> tuple[str, TokenPublic]:
    """A new token: its secret (shown once, stored nowhere) and what may be shown of it.

    A ``lab`` token needs ``lab_id``, other roles refuse one (pydantic ValidationError).
    Recorded in the audit log as ``token.create`` by ``actor``, ``at`` the caller's clock."""
    request = TokenCreate.model_validate({"name": name, "role": role, "lab_id": lab_id})
    secret = PREFIX + secrets.token_urlsafe(SECRET_BYTES)
    token = Token(
        name=request.name,
        role=request.role,
        lab_id=request.lab_id,
        prefix=secret[:SHOWN_CHARS],
        secret_sha256=_digest(secret),
        created_at=at,
    )
    session.add(token)
    session.flush()
    public = _public(token)
    audit.record(
        session=session,
        actor=actor,
        action="token.create",
        subject=f"token/{public.id}",
        details={
            "name": public.name,
            "role": public.role.value,
            "labId": public.lab_id,
            "prefix": public.prefix,
        },
        at=at,
    )
    return secret, public


def list_tokens(*, session: Session, include_revoked: bool = True) -> list[TokenPublic]:
    """Every token, oldest first (revoked ones too unless ``include_revoked`` is False)."""
    query = select(Token).order_by(col(Token.id))
    if not include_revoked:
        query = query.where(col(Token.revoked_at).is_(None))
    return [_public(token) for token in session.exec(query).all()]


def revoke_token(*, session: Session, token_id: int, at: datetime, actor: str = "system") -> TokenPublic:
    """Revoke a token for good; revoking it again changes nothing and records nothing.

    Raises :class:`TokenNotFoundError` for an unknown id."""
    token = session.get(Token, token_id)
    if token is None:
        raise TokenNotFoundError(f"no token has id {token_id}")
    if token.revoked_at is None:
        token.revoked_at = at
        session.add(token)
        session.flush()
        audit.record(
            session=session,
            actor=actor,
            action="token.revoke",
            subject=f"token/{token_id}",
            details={"name": token.name, "prefix": token.prefix},
            at=at,
        )
    return _public(token)


def authenticate(*, session: Session, secret: str) -> TokenPublic | None:
    """The token whose secret this is, or None if it is unknown, malformed or revoked.

    The row is found by the SHA-256 of the presented secret; timing of that lookup says
    nothing usable about a secret an attacker does not already have (they cannot steer
    a hash's bytes). The final comparison is still constant-time, as the issue asks."""
    if not secret.startswith(PREFIX) or len(secret) != _SECRET_CHARS:
        return None
    digest = _digest(secret)
    token = session.exec(select(Token).where(col(Token.secret_sha256) == digest)).first()
    if token is None or not hmac.compare_digest(token.secret_sha256.encode(), digest.encode()):
        return None
    if token.revoked_at is not None:
        return None
    return _public(token)
