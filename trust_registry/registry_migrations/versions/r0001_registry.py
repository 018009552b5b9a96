"""The registry: its identity, labs with scope and status histories, keys, key request
ids and mirrored status lists.

Revision ID: r0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def _tz(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _lab_fk() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column("lab_id", sa.String(200), sa.ForeignKey("lab.id"), nullable=False, index=True)


def upgrade() -> None:
    op.create_table(
        "registry_identity",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("registry_id", sa.String(200), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("accreditation_body", sa.String(300), nullable=False),
        sa.Column("publication_url", sa.String(400), nullable=False),
        sa.Column("lab_ids", sa.JSON(), nullable=False),
        sa.Column("key_jwk", sa.JSON(), nullable=False),
        _tz("key_valid_from"),
        _tz("created_at"),
        sa.Column("unpublished_changes", sa.Boolean(), nullable=False),
    )
    op.create_table(
        "lab",
        sa.Column("id", sa.String(200), primary_key=True),
        sa.Column("names", sa.JSON(), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("accreditation_number", sa.String(200), nullable=False),
        _tz("created_at"),
    )
    op.create_table(
        "lab_scope",
        sa.Column("pk", sa.Integer(), primary_key=True),
        _lab_fk(),
        sa.Column("category", sa.String(60), nullable=False),
        sa.Column("standards", sa.JSON(), nullable=False),
        _tz("since"),
        _tz("until", True),
    )
    op.create_table(
        "lab_status",
        sa.Column("pk", sa.Integer(), primary_key=True),
        _lab_fk(),
        sa.Column("status", sa.String(20), nullable=False),
        _tz("since"),
        sa.Column("for_cause", sa.Boolean(), nullable=False),
        _tz("recorded_at"),
    )
    op.create_table(
        "lab_key",
        sa.Column("pk", sa.Integer(), primary_key=True),
        _lab_fk(),
        sa.Column("kid", sa.String(20), nullable=False, index=True),
        sa.Column("jwk", sa.JSON(), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(20), nullable=False, index=True),
        sa.Column("proof", sa.String(20), nullable=False),
        _tz("requested_at"),
        _tz("decided_at", True),
        _tz("valid_from", True),
        _tz("valid_until", True),
        _tz("revoked_at", True),
        sa.Column("revocation_reason", sa.String(40), nullable=True),
    )
    op.create_table(
        "key_request_jti",
        sa.Column("jti", sa.String(128), primary_key=True),
        sa.Column("lab_id", sa.String(200), nullable=False),
        _tz("used_at"),
    )
    op.create_table(
        "mirrored_status_list",
        sa.Column("url", sa.String(300), primary_key=True),
        sa.Column("issuer", sa.String(200), nullable=False, index=True),
        sa.Column("name", sa.String(24), nullable=False, unique=True),
        _tz("valid_from"),
        sa.Column("token", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "mirrored_status_list",
        "key_request_jti",
        "lab_key",
        "lab_status",
        "lab_scope",
        "lab",
        "registry_identity",
    ):
        op.drop_table(table)
