"""Alembic environment of the root's tables: see :func:`service.db.run_env`."""

from __future__ import annotations

from sqlmodel import SQLModel

import trust_registry._root_models  # noqa: F401  (registers the tables on SQLModel.metadata)
from service.db import run_env

run_env(SQLModel.metadata)
