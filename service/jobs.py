"""Jobs a service runs on its own, without anyone acting: e.g. re-signing lists before
they expire (docs/architecture.md, "Publication").

Each :class:`Job` runs once when the service starts (a service that was down for a week
catches up at once) and then every ``every``, in a worker thread so that requests keep
being answered. A failing run is logged and recorded; the next run still happens. What
each job did last and when it runs next is shown by ``GET /health``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import anyio.to_thread
from pydantic import BaseModel, ConfigDict

from service.logs import LOGGER_NAME

log = logging.getLogger(LOGGER_NAME + ".jobs")

#: A clock: the service's idea of now (tests pass their own).
Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class Job:
    """``run(now)`` every ``every``; it returns a short text of what it did (or None)."""

    name: str
    every: timedelta
    run: Callable[[datetime], str | None]


class JobState(BaseModel):
    """One job as ``/health`` shows it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "nextRun": "2026-11-27T10:00:00Z",
                    "lastRun": "2026-11-27T09:00:00Z",
                    "lastResult": "trust list 12 re-signed, expires 2026-12-04T09:00:00Z",
                    "lastError": None,
                }
            ]
        }
    )

    nextRun: datetime | None = None
    lastRun: datetime | None = None
    lastResult: str | None = None
    lastError: str | None = None


@dataclass
class Scheduler:
    """Runs the jobs of one app while it serves."""

    jobs: tuple[Job, ...]
    clock: Clock
    states: dict[str, JobState] = field(default_factory=dict)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.states = {job.name: JobState() for job in self.jobs}

    def start(self) -> None:
        for job in self.jobs:
            self.states[job.name].nextRun = self.clock()
            self._tasks.append(asyncio.create_task(self._loop(job), name=f"yilu-job-{job.name}"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    async def run_now(self, job: Job) -> None:
        state = self.states[job.name]
        now = self.clock()
        try:
            result = await anyio.to_thread.run_sync(job.run, now)
        except Exception as exc:
            log.error("job %s failed", job.name, exc_info=exc)
            state.lastError = f"{type(exc).__name__}: {exc}"[:300]
        else:
            state.lastResult, state.lastError = result, None
        state.lastRun = now
        state.nextRun = self.clock() + job.every

    async def _loop(self, job: Job) -> None:
        while True:
            await self.run_now(job)
            await asyncio.sleep(job.every.total_seconds())
