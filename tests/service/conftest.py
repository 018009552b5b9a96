"""Fixtures of the service tests: servers on loopback and the log capture (servekit.py)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI

from servekit import LogCapture, Served
from service.logs import LOGGER_NAME, log_handler


@pytest.fixture
def serve() -> Iterator[Callable[[FastAPI], Served]]:
    """Start servers for the test; every one is stopped at its end."""
    started: list[Served] = []

    def start(app: FastAPI) -> Served:
        served = Served(app)
        started.append(served)
        return served

    yield start
    for served in started:
        served.stop()


@pytest.fixture
def logs() -> Iterator[LogCapture]:
    capture = LogCapture()
    handler = log_handler(json_lines=True, stream=capture.stream)
    logger = logging.getLogger(LOGGER_NAME)
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield capture
    logger.removeHandler(handler)
    logger.setLevel(old_level)
