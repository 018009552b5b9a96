"""The snapshot measurements, each run by the harness in a fresh process.

``python -m bench.workers install STORE CACHE``  install CACHE/bundle.ylb into the store;
``python -m bench.workers ready STORE CACHE [SCANS]``  open the installed store, build a
Verifier, verify the sample certificate (and time SCANS more scans at this size).

Each prints one JSON line with its own timings; the harness adds wall time and peak RSS.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

T0 = time.perf_counter()

from protocol.encoding import parse_time  # noqa: E402 - T0 must include the imports
from protocol.keys import VerifyKey  # noqa: E402
from verifier import Verifier  # noqa: E402
from verifier.store import SnapshotStore  # noqa: E402


def install(
    store_dir: Path, cache: Path, bundle_name: str = "bundle.ylb", at: str = "install_at"
) -> dict[str, Any]:
    meta = json.loads((cache / "meta.json").read_text())
    roots = [VerifyKey.from_jwk(j) for j in json.loads((cache / "root-keys.json").read_text())]
    data = (cache / bundle_name).read_bytes()
    t_imported = time.perf_counter()
    installed = SnapshotStore(store_dir, pinned_roots=roots).install(data, now=parse_time(meta[at], at))
    return {
        "import_s": round(t_imported - T0, 4),
        "install_s": round(time.perf_counter() - t_imported, 4),
        "changed": installed.changed,
        "skipped": len(installed.snapshot.skipped),
        "warnings": list(installed.warnings),
    }


def ready(store_dir: Path, cache: Path, scans: int) -> dict[str, Any]:
    meta = json.loads((cache / "meta.json").read_text())
    text = (cache / "certificate.txt").read_text()
    at = parse_time(meta["scan_at"], "scan_at")
    t_imported = time.perf_counter()
    snapshot = SnapshotStore(store_dir).current()
    if snapshot is None:
        raise SystemExit("nothing installed")
    t_open = time.perf_counter()
    verifier = Verifier(snapshot, country=meta["inspector"])
    result = verifier.verify(text, at=at)
    t_verdict = time.perf_counter()
    out: dict[str, Any] = {
        "import_s": round(t_imported - T0, 4),
        "open_s": round(t_open - t_imported, 4),
        "first_verify_s": round(t_verdict - t_open, 4),
        "ready_s": round(t_verdict - T0, 4),
        "verdict": result.verdict,
        "codes": [r.code.value for r in result.reasons],
    }
    if scans:
        from bench.scan import time_cases

        out["scan"] = time_cases({"yilu": lambda: verifier.verify(text, at=at)}, scans)["yilu"]
    return out


def main() -> None:
    action, store, cache = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    if action == "install":
        result = install(store, cache)
    elif action == "update":  # the delta when the format has one, else the whole next bundle
        name = "delta.ylb" if (cache / "delta.ylb").exists() else "update.ylb"
        result = {**install(store, cache, name, "update_at"), "file": name}
    elif action == "ready":
        result = ready(store, cache, int(sys.argv[4]) if len(sys.argv) > 4 else 0)
    else:
        raise SystemExit(f"unknown action {action}")
    print(json.dumps(result))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
