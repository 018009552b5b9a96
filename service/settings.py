"""Settings every Yilu service reads from ``YILU_*`` environment variables.

docs/architecture.md, "Service layer"; DESIGN.md, "Command line contract" (``yilu serve``
with working defaults under ``$YILU_DATA_DIR``, default ``./yilu-data``).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from protocol.errors import InputError

#: The port each role listens on unless ``YILU_PORT`` or ``--port`` says otherwise.
DEFAULT_PORTS: dict[str, int] = {"registry": 8710, "root": 8711, "issuer": 8712, "verifier": 8713}

MIB = 1024 * 1024


class ServiceSettings(BaseSettings):
    """One service's configuration; every field can be set as ``YILU_<FIELD>``.

    ``database_url`` of ``None`` means the embedded default: a SQLite file under
    ``data_dir`` (the storage layer derives it). ``port`` of ``None`` means the role's
    default (:data:`DEFAULT_PORTS`, see :meth:`port_for`).
    """

    model_config = SettingsConfigDict(env_prefix="YILU_", extra="ignore", frozen=True)

    data_dir: Path = Path("./yilu-data")
    database_url: str | None = None
    host: str = "127.0.0.1"
    port: int | None = Field(default=None, ge=0, le=65535)
    max_body_bytes: int = Field(default=MIB, gt=0)
    log_json: bool = True
    #: How long a list this service signs stays valid (``expiresAt`` - ``issuedAt``).
    list_validity_days: float = Field(default=7.0, gt=0, le=366)
    #: The publish job signs the list again when it expires within this many days, so
    #: that lists never lapse without anyone acting (docs/architecture.md, "Publication").
    republish_margin_days: float = Field(default=2.0, ge=0)
    #: How often the publish job runs: it signs pending changes and renews lists.
    publish_interval_seconds: float = Field(default=60.0, gt=0)

    @model_validator(mode="after")
    def _margin_inside_validity(self) -> ServiceSettings:
        if self.republish_margin_days >= self.list_validity_days:
            raise ValueError(
                "YILU_REPUBLISH_MARGIN_DAYS must be less than YILU_LIST_VALIDITY_DAYS, "
                "or lists are re-signed at every run"
            )
        return self

    def list_validity(self) -> timedelta:
        return timedelta(days=self.list_validity_days)

    def republish_margin(self) -> timedelta:
        return timedelta(days=self.republish_margin_days)

    def port_for(self, role: str) -> int:
        """The port to listen on: ``port`` if set, else the role's default."""
        if self.port is not None:
            return self.port
        try:
            return DEFAULT_PORTS[role]
        except KeyError:
            known = ", ".join(sorted(DEFAULT_PORTS))
            raise InputError(f"unknown service role {role!r}; expected one of {known}") from None


def load_settings(**overrides: Any) -> ServiceSettings:
    """Settings from the environment and ``overrides``, or one :class:`InputError` line.

    Every invalid value is named with its environment variable, for example
    ``invalid service settings: YILU_PORT: Input should be a valid integer (got 'abc')``.
    """
    try:
        return ServiceSettings(**overrides)
    except ValidationError as exc:
        parts = []
        for error in exc.errors(include_url=False):
            name = "YILU_" + "_".join(str(p) for p in error["loc"]).upper() if error["loc"] else "settings"
            shown = error.get("input")
            got = f" (got {shown!r})" if isinstance(shown, str | int | float) else ""
            parts.append(f"{name}: {error['msg'].removeprefix('Value error, ')}{got}")
        raise InputError("invalid service settings: " + "; ".join(parts)) from None
