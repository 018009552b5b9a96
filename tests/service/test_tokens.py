"""Bearer tokens on SQLite and PostgreSQL: created, authenticated, listed, revoked."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import Engine, text

from service import tokens
from service.audit import list_entries, verify_chain
from service.db import session
from service.models import Role
from service.tokens import TokenNotFoundError, authenticate, create_token, list_tokens, revoke_token
from testkit import NOW

LAB = "https://qdtc.example.cn"
LATER = NOW + timedelta(hours=1)


def test_secret_format_and_public_view(engine: Engine) -> None:
    with session(engine) as db:
        secret, public = create_token(session=db, name="qdtc", role="lab", lab_id=LAB, at=NOW)
    assert re.fullmatch(r"yl_[A-Za-z0-9_-]{43}", secret)
    assert len(base64.urlsafe_b64decode(secret[3:] + "=")) == 32
    assert public.role is Role.LAB and public.lab_id == LAB and public.revoked_at is None
    assert public.prefix == secret[:10]
    assert "secret" not in public.model_dump() and "secret_sha256" not in public.model_dump()


def test_authenticate_accepts_the_secret_and_refuses_others(engine: Engine) -> None:
    with session(engine) as db:
        secret, public = create_token(session=db, name="admin", role="admin", at=NOW)
        other, _ = create_token(session=db, name="ops", role="operator", at=NOW)
    with session(engine) as db:
        found = authenticate(session=db, secret=secret)
        assert found is not None and found.id == public.id and found.role is Role.ADMIN
        assert authenticate(session=db, secret=other) is not None
        wrong = secret[:-1] + ("A" if secret[-1] != "A" else "B")
        assert authenticate(session=db, secret=wrong) is None
        assert authenticate(session=db, secret="") is None
        assert authenticate(session=db, secret="yl_") is None
        assert authenticate(session=db, secret=secret + "x") is None
        assert authenticate(session=db, secret=hashlib.sha256(secret.encode()).hexdigest()) is None


def test_revoked_token_is_refused_and_listed_as_revoked(engine: Engine) -> None:
    with session(engine) as db:
        secret, public = create_token(session=db, name="gone", role="operator", at=NOW)
        keep, _ = create_token(session=db, name="kept", role="operator", at=NOW)
    with session(engine) as db:
        revoked = revoke_token(session=db, token_id=public.id, at=LATER)
        assert revoked.revoked_at == LATER and revoked.created_at == NOW
    with session(engine) as db:
        assert authenticate(session=db, secret=secret) is None
        assert authenticate(session=db, secret=keep) is not None
        listed = list_tokens(session=db)
        assert [(t.name, t.revoked_at is not None) for t in listed] == [("gone", True), ("kept", False)]
        assert [t.name for t in list_tokens(session=db, include_revoked=False)] == ["kept"]
        # Revoking again, later, keeps the first revocation time and records nothing new.
        again = revoke_token(session=db, token_id=public.id, at=LATER + timedelta(days=1))
        assert again.revoked_at == revoked.revoked_at
        actions = [e.action for e in list_entries(session=db)]
        assert actions == ["token.create", "token.create", "token.revoke"]
        with pytest.raises(TokenNotFoundError):
            revoke_token(session=db, token_id=9999, at=LATER)


def test_secret_is_never_stored(engine: Engine) -> None:
    with session(engine) as db:
        secret, _ = create_token(session=db, name="qdtc", role="lab", lab_id=LAB, at=NOW)
    random_part = secret[3:]
    with engine.connect() as connection:
        dumped = []
        for table in ("token", "audit_entry"):
            for row in connection.execute(text(f"SELECT * FROM {table}")):  # noqa: S608 (fixed names)
                dumped.append(" ".join(str(value) for value in row))
    everything = "\n".join(dumped)
    assert hashlib.sha256(secret.encode()).hexdigest() in everything  # the dump does see the rows
    assert random_part not in everything
    assert random_part[:20] not in everything


def test_authenticate_compares_in_constant_time(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    with session(engine) as db:
        secret, _ = create_token(session=db, name="admin", role="admin", at=NOW)
    calls: list[tuple[object, object]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(tokens.hmac, "compare_digest", spy)
    with session(engine) as db:
        assert authenticate(session=db, secret=secret) is not None
    assert len(calls) == 1
    # And its answer is the one that counts: a compare that says no refuses the token.
    monkeypatch.setattr(tokens.hmac, "compare_digest", lambda a, b: False)
    with session(engine) as db:
        assert authenticate(session=db, secret=secret) is None


@pytest.mark.parametrize(
    ("role", "lab_id", "message"),
    [
        ("lab", None, "needs the lab id"),
        ("admin", LAB, "not bound to a lab"),
        ("operator", LAB, "not bound to a lab"),
        ("lab", "qdtc", "is not valid"),
        ("root", None, "role"),
    ],
)
def test_role_and_lab_binding_are_checked(
    engine: Engine, role: str, lab_id: str | None, message: str
) -> None:
    with session(engine) as db:
        with pytest.raises(ValidationError, match=message):
            create_token(session=db, name="x", role=role, lab_id=lab_id, at=NOW)
        assert list_tokens(session=db) == []


def test_token_changes_are_audited(engine: Engine) -> None:
    with session(engine) as db:
        _, public = create_token(session=db, name="qdtc", role="lab", lab_id=LAB, actor="token:1", at=NOW)
        revoke_token(session=db, token_id=public.id, actor="token:1", at=LATER)
    with session(engine) as db:
        entries = list_entries(session=db)
        assert [(e.actor, e.action, e.subject) for e in entries] == [
            ("token:1", "token.create", f"token/{public.id}"),
            ("token:1", "token.revoke", f"token/{public.id}"),
        ]
        assert [e.at for e in entries] == [NOW, LATER]  # the times the callers gave
        assert entries[0].details == {"name": "qdtc", "role": "lab", "labId": LAB, "prefix": public.prefix}
        assert verify_chain(session=db) == []
