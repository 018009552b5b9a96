"""The federation root: identity, members (keys, status history, lab id patterns),
agreements, fetched lists and bundles.

Revision ID: root0001
Revises:
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "root0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def _time(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "root_identity",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("federation_id", sa.String(200), nullable=False),
        sa.Column("root_keys", sa.JSON(), nullable=False),
        sa.Column("key_file", sa.String(200), nullable=False),
        _time("created_at"),
        sa.Column("change_count", sa.Integer(), nullable=False),
        sa.Column("published_change", sa.Integer(), nullable=False),
        sa.Column("bundle_sequence", sa.Integer(), nullable=False),
    )
    op.create_table(
        "root_member",
        sa.Column("number", sa.Integer(), primary_key=True),
        sa.Column("registry_id", sa.String(200), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("accreditation_body", sa.String(200), nullable=False),
        sa.Column("publication_url", sa.String(400), nullable=False),
        sa.Column("lab_ids", sa.JSON(), nullable=False),
        _time("admitted_at"),
    )
    op.create_index("ix_root_member_registry_id", "root_member", ["registry_id"], unique=True)
    op.create_table(
        "root_member_key",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("member", sa.Integer(), sa.ForeignKey("root_member.number"), nullable=False),
        sa.Column("kid", sa.String(100), nullable=False),
        sa.Column("jwk", sa.JSON(), nullable=False),
        _time("valid_from"),
        _time("valid_until", True),
        _time("revoked_at", True),
        sa.Column("revocation_reason", sa.String(40), nullable=True),
    )
    op.create_index("ix_root_member_key_member", "root_member_key", ["member"])
    op.create_table(
        "root_member_status",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("member", sa.Integer(), sa.ForeignKey("root_member.number"), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        _time("since"),
        _time("recorded_at"),
    )
    op.create_index("ix_root_member_status_member", "root_member_status", ["member"])
    op.create_table(
        "root_agreement",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("accepts", sa.JSON(), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        _time("since"),
        _time("until", True),
        _time("created_at"),
    )
    op.create_table(
        "root_fetched_list",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("member", sa.Integer(), sa.ForeignKey("root_member.number"), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("name", sa.String(400), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        _time("fetched_at"),
    )
    op.create_index("ix_root_fetched_list_member", "root_fetched_list", ["member"])
    op.create_table(
        "root_fetch_state",
        sa.Column("member", sa.Integer(), sa.ForeignKey("root_member.number"), primary_key=True),
        sa.Column("trust_etag", sa.String(200), nullable=True),
        sa.Column("status_etag", sa.String(200), nullable=True),
        _time("attempted_at"),
        sa.Column("problems", sa.JSON(), nullable=False),
    )
    op.create_table(
        "root_bundle",
        sa.Column("sequence", sa.Integer(), primary_key=True, autoincrement=False),
        _time("created_at"),
        sa.Column("federation_sequence", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("delta", sa.LargeBinary(), nullable=True),
        sa.Column("delta_sha256", sa.String(64), nullable=True),
        sa.Column("warnings", sa.JSON(), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "root_bundle",
        "root_fetch_state",
        "root_fetched_list",
        "root_agreement",
        "root_member_status",
        "root_member_key",
        "root_member",
        "root_identity",
    ):
        op.drop_table(table)
