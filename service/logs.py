"""Structured JSON logs with the request id (docs/architecture.md, "Service layer").

Every record logged while a request is handled carries that request's id: the service
middleware sets :data:`request_id_var`, and :class:`RequestIdFilter` copies it onto the
record, so the id reaches handlers installed anywhere.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from datetime import UTC, datetime
from typing import IO, Any

#: The id of the request being handled in this context, or ``None`` outside a request.
request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("yilu_request_id", default=None)

#: The logger every service logs under; access lines go to ``yilu.service.access``.
LOGGER_NAME = "yilu.service"

# Attributes every LogRecord has; anything else was passed through ``extra=`` and is logged.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "request_id"}


class RequestIdFilter(logging.Filter):
    """Puts the current request id (or ``None``) on every record as ``request_id``."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``time``, ``level``, ``logger``, ``request_id``, ``message``,
    the record's ``extra`` fields, and ``exception`` (the traceback) if there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", None),
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """The readable alternative (``YILU_LOG_JSON=false``), with the request id."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")


def log_handler(*, json_lines: bool = True, stream: IO[str] | None = None) -> logging.Handler:
    """A handler writing JSON lines (or text) to ``stream`` (stderr by default), with the request id."""
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter() if json_lines else TextFormatter())
    handler.addFilter(RequestIdFilter())
    return handler


def configure_logging(*, json_lines: bool = True, stream: IO[str] | None = None) -> logging.Handler:
    """Send the service's logs (and uvicorn's) through one handler; returns it.

    For ``yilu serve``: the process owns its logging. Replaces handlers this function
    installed before, so calling it twice does not double every line.
    """
    handler = log_handler(json_lines=json_lines, stream=stream)
    handler.set_name("yilu-service")
    for name in (LOGGER_NAME, "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        for old in [h for h in logger.handlers if h.get_name() == "yilu-service"]:
            logger.removeHandler(old)
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return handler
