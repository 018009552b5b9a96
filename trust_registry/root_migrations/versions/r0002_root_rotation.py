"""Root key rotation: the identity's root version and its chain of rotation statements
(docs/formats.md, "Root rotation"). A root set up before this revision is at version 1
with no statement, which is what its rows get.

Revision ID: root0002
Revises: root0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "root0002"
down_revision: str | None = "root0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    # Batch operations: SQLite alters a table by copying it (service/db.py, run_env).
    with op.batch_alter_table("root_identity") as batch:
        batch.add_column(sa.Column("root_version", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("root_chain", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))


def downgrade() -> None:
    with op.batch_alter_table("root_identity") as batch:
        batch.drop_column("root_chain")
        batch.drop_column("root_version")
