"""configure_logging: what `yilu serve` installs (docs/architecture.md, "Service layer")."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from service.logs import LOGGER_NAME, configure_logging, request_id_var

NAMES = (LOGGER_NAME, "uvicorn", "uvicorn.error")


@pytest.fixture(autouse=True)
def restore_loggers() -> Iterator[None]:
    saved = {
        n: (logging.getLogger(n).handlers[:], logging.getLogger(n).level, logging.getLogger(n).propagate)
        for n in NAMES
    }
    yield
    for name, (handlers, level, propagate) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate


def test_configured_twice_writes_each_line_once_as_json() -> None:
    first, second = io.StringIO(), io.StringIO()
    configure_logging(stream=first)
    configure_logging(stream=second)
    token = request_id_var.set("cfg-1")
    try:
        logging.getLogger(LOGGER_NAME + ".x").info("hello %s", "world", extra={"lab": "cn-1"})
    finally:
        request_id_var.reset(token)
    logging.getLogger("uvicorn.error").warning("from uvicorn")
    assert first.getvalue() == ""
    lines = [json.loads(line) for line in second.getvalue().splitlines()]
    assert [(r["message"], r["request_id"]) for r in lines] == [
        ("hello world", "cfg-1"),
        ("from uvicorn", None),
    ]
    assert lines[0]["lab"] == "cn-1" and lines[0]["level"] == "INFO"


def test_text_lines_when_json_is_off() -> None:
    stream = io.StringIO()
    configure_logging(json_lines=False, stream=stream)
    logging.getLogger(LOGGER_NAME).info("plain")
    assert stream.getvalue().rstrip().endswith("INFO yilu.service [None] plain")
