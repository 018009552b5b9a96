"""Run one measurement in a fresh process: wall time, peak RSS, a timeout, a memory cap.

Each child is waited for with ``os.wait4``, which returns that child's own resource
usage, so its peak RSS (``ru_maxrss``) is exact and no polling adds to its wall time.
A child that runs out of time is killed; one that runs out of memory fails; either way
the caller gets a result that says so instead of an exception.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Run:
    """What one child process did."""

    returncode: int
    seconds: float
    max_rss: int  # bytes
    stdout: str
    stderr: str
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out

    def failure(self) -> str:
        """One line saying why the run failed (empty if it did not)."""
        if self.timed_out:
            return f"timed out after {self.seconds:.0f} s"
        if self.returncode < 0:
            return f"killed by signal {-self.returncode}" + (
                " (out of memory?)" if self.returncode == -9 else ""
            )
        if self.returncode:
            last = (self.stderr.strip().splitlines() or ["no output"])[-1]
            if "MemoryError" in self.stderr:
                return "out of memory (MemoryError)"
            return f"exit {self.returncode}: {last[:200]}"
        return ""

    def json(self) -> dict[str, Any]:
        """The JSON object the child printed as its last line of output."""
        lines = self.stdout.strip().splitlines()
        return json.loads(lines[-1]) if lines else {}


def env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This checkout's sources first on the path, and nothing from the caller's Yilu setup."""
    out = {k: v for k, v in os.environ.items() if not k.startswith("YILU_")}
    out["PYTHONPATH"] = str(ROOT)
    out.update(extra or {})
    return out


def run(
    args: list[str],
    *,
    timeout: float,
    extra_env: dict[str, str] | None = None,
    max_memory: int | None = None,
) -> Run:
    """Run ``args`` (a full command line) and measure it."""

    def limit() -> None:  # pragma: no cover - runs in the child
        if max_memory is not None:
            resource.setrlimit(resource.RLIMIT_AS, (max_memory, max_memory))

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            args,
            stdout=out,
            stderr=err,
            env=env(extra_env),
            cwd=ROOT,
            preexec_fn=limit if max_memory else None,
        )
        fired = threading.Event()

        def kill() -> None:
            fired.set()
            proc.send_signal(signal.SIGKILL)

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Run(
            proc.returncode,
            seconds,
            usage.ru_maxrss * 1024,  # Linux reports kilobytes
            out.read().decode(errors="replace"),
            err.read().decode(errors="replace"),
            fired.is_set(),
        )


def python(*args: str, timeout: float, max_memory: int | None = None) -> Run:
    """``python ARGS`` with this interpreter."""
    return run([sys.executable, *args], timeout=timeout, max_memory=max_memory)


def available_memory() -> int:
    """MemAvailable from /proc/meminfo, in bytes (0 if unknown)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0
