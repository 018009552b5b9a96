"""A real uvicorn server on loopback and a capture of the service's JSON log lines."""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI


class Served:
    """``app`` served by uvicorn in a thread on a free loopback port."""

    def __init__(self, app: FastAPI) -> None:
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self.client = httpx.Client(base_url=self.url, timeout=10)

    def stop(self) -> None:
        self.client.close()
        self.server.should_exit = True
        self.thread.join(10)
        assert not self.thread.is_alive(), "uvicorn did not stop"


class LogCapture:
    """The service's log lines, as the JSON handler writes them."""

    def __init__(self) -> None:
        self.stream = io.StringIO()

    def lines(self) -> list[str]:
        return self.stream.getvalue().splitlines()

    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.lines()]

    def wait_for(self, match: Callable[[dict[str, Any]], bool], timeout: float = 5) -> dict[str, Any]:
        """The first record ``match`` accepts; the access line is written after the response."""
        deadline = time.monotonic() + timeout
        while True:
            found = [r for r in self.records() if match(r)]
            if found:
                return found[0]
            if time.monotonic() > deadline:
                raise AssertionError(f"no such log record in {self.lines()}")
            time.sleep(0.01)
