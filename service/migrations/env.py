"""Alembic environment of the service's own tables: see :func:`service.db.run_env`."""

from __future__ import annotations

from sqlmodel import SQLModel

import service.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from service.db import run_env

run_env(SQLModel.metadata)
