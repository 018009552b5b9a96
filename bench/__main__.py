"""``python -m bench``: measure the performance budget and write docs/performance.md.

Every measurement runs in a fresh subprocess with a timeout (and, for the big snapshots,
a memory cap), so a failure or a memory blow-up is recorded in the table instead of
ending the run. Raw results go to bench/results/.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import federation as fb
from bench import proc, report

RESULTS = Path(__file__).parent / "results"
BASELINE = RESULTS / "foundation-baseline.json"
DOC = proc.ROOT / "docs" / "performance.md"
FULL_SIZES = (1_000, 10_000, 120_000)
CLI_RUNS = 20
#: The service benchmarks (issue 7 §6): registry labs imported, the small registry of the
#: add-one comparison, and the root's labs over 50 members; QUICK's sizes in the second.
REGISTRY_LABS, REGISTRY_SMALL, ROOT_LABS = 18_000, 1_000, 120_000
QUICK_REGISTRY_LABS, QUICK_REGISTRY_SMALL, QUICK_ROOT_LABS = 2_000, 200, 1_000
DATABASES = ("sqlite", "postgresql")
SECTIONS = ("scan", "cli", "snapshots", "services")
SCANS_AT_SIZE = 500
GB = 1 << 30


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def _distribution() -> str:
    try:
        return platform.freedesktop_os_release().get("PRETTY_NAME", "")
    except OSError:
        return ""


def verify_command(meta: dict[str, Any], text: str) -> list[str]:
    """One ``yilu verify`` of the sample certificate, as an inspector of the sample country."""
    return [
        sys.executable,
        "-m",
        "yilu.cli",
        "verify",
        text,
        "--country",
        meta["inspector"],
        "--at",
        meta["scan_at"],
    ]


def machine() -> dict[str, Any]:
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            cwd=proc.ROOT,
            check=False,
        ).stdout.strip()
    except OSError:
        commit = ""
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / GB, 1),
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()} ({_distribution()})",
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit,
    }


def failed(run: proc.Run) -> dict[str, Any]:
    return {"error": run.failure(), "seconds": round(run.seconds, 2), "max_rss": run.max_rss}


# --- figure 1 and 2 --------------------------------------------------------------------


def figure_scan(iterations: int) -> dict[str, Any]:
    log(f"scan: {iterations} iterations of each case")
    run = proc.python("-m", "bench.scan", str(iterations), timeout=1800)
    return run.json() if run.ok else failed(run)


def _summary(runs: list[proc.Run]) -> dict[str, Any]:
    ms = sorted(r.seconds * 1000 for r in runs)
    rss = [r.max_rss for r in runs]
    return {
        "median_ms": round(statistics.median(ms), 1),
        "p90_ms": round(ms[int(len(ms) * 0.9)], 1),
        "min_ms": round(ms[0], 1),
        "max_rss": max(rss),
        "median_rss": int(statistics.median(rss)),
        "n": len(runs),
    }


def figure_cli(work: Path) -> dict[str, Any]:
    """``python -c pass`` against one ``yilu verify`` process with an installed snapshot
    of a small federation (20 labs: the process's own cost, not the snapshot's)."""
    log(f"command line: {CLI_RUNS} runs each")
    # As installed: pip writes bytecode for an installed package; an editable checkout under
    # PYTHONDONTWRITEBYTECODE=1 would otherwise compile every module on every run.
    for package in ("protocol", "issuer", "verifier", "trust_registry", "yilu"):
        compileall.compile_dir(str(proc.ROOT / package), quiet=1)
    cache = fb.build_cached(20, xz=False)
    data_dir = work / "cli"
    inst = proc.python("-m", "bench.workers", "install", str(data_dir / "trust"), str(cache), timeout=300)
    if not inst.ok:
        return {"error": "install: " + inst.failure()}
    meta = json.loads((cache / "meta.json").read_text())
    text = (cache / "certificate.txt").read_text()
    verify = verify_command(meta, text)
    bare: list[proc.Run] = []
    yilu: list[proc.Run] = []
    for _ in range(CLI_RUNS + 2):  # interleaved; the first two of each are warm-up
        bare.append(proc.run([sys.executable, "-c", "pass"], timeout=60))
        yilu.append(proc.run(verify, timeout=120, extra_env={"YILU_DATA_DIR": str(data_dir)}))
    if not all(r.returncode == 0 for r in yilu):
        bad = next(r for r in yilu if r.returncode)
        return {"error": f"yilu verify exit {bad.returncode}: {bad.stdout.strip()[:200]}"}
    return {"python_pass": _summary(bare[2:]), "yilu_verify": _summary(yilu[2:])}


# --- figure 3 --------------------------------------------------------------------------


def figure_snapshot(n: int, work: Path, previous: dict[int, dict[str, Any]]) -> dict[str, Any]:
    """Build (or reuse) the federation of ``n`` labs and measure install, ready to scan,
    one ``yilu verify`` process and the daily update, each in a fresh process."""
    out: dict[str, Any] = {"n": n}
    log(f"{n} labs: building (or reusing bench/.cache)")
    build = proc.python("-m", "bench.federation", str(n), timeout=max(600, n / 1000 * 30))
    if not build.ok:
        out["error"] = "build: " + build.failure()
        return out
    cache = Path(build.stdout.strip().splitlines()[-1])
    meta = json.loads((cache / "meta.json").read_text())
    out["federation"] = {k: meta[k] for k in ("labs", "keys", "status_lists", "revoked", "changed_labs")}
    out["sizes"] = meta["sizes"]
    out["build_seconds"] = meta["build_seconds"] + meta["sign_seconds"]

    # Will it fit? Scale the peak RSS of the largest size measured so far, with margin.
    available = proc.available_memory()
    measured = [
        (m, r["install"]["max_rss"]) for m, r in previous.items() if "max_rss" in r.get("install", {})
    ]
    if measured:
        m, rss = max(measured)
        need = int(rss * n / m * 1.3)
        if available and need > available - GB:
            out["skipped"] = (
                f"not run: it would need about {need / GB:.1f} GB, {available / GB:.1f} GB are available"
            )
            log(f"{n} labs: {out['skipped']}")
            return out
    cap = int(available * 0.85) if available else None
    timeout = max(300, n / 1000 * 8)
    store = work / f"n{n}" / "trust"
    text = (cache / "certificate.txt").read_text()

    log(f"{n} labs: install")
    run = proc.python(
        "-m", "bench.workers", "install", str(store), str(cache), timeout=timeout, max_memory=cap
    )
    out["install"] = (
        {**run.json(), "seconds": round(run.seconds, 3), "max_rss": run.max_rss} if run.ok else failed(run)
    )
    if not run.ok:
        return out

    log(f"{n} labs: ready to scan")
    run = proc.python(
        "-m",
        "bench.workers",
        "ready",
        str(store),
        str(cache),
        str(SCANS_AT_SIZE),
        timeout=timeout,
        max_memory=cap,
    )
    if run.ok:
        # The wall time and RSS are of the process up to the first verdict; the scans after
        # it use no more memory than the snapshot already holds.
        out["ready"] = {**run.json(), "max_rss": run.max_rss}
    else:
        out["ready"] = failed(run)

    log(f"{n} labs: one yilu verify process")
    verify = verify_command(meta, text)
    run = proc.run(verify, timeout=timeout, extra_env={"YILU_DATA_DIR": str(store.parent)}, max_memory=cap)
    out["verify"] = (
        {"seconds": round(run.seconds, 3), "max_rss": run.max_rss, "exit": run.returncode}
        if run.returncode == 0 and not run.timed_out
        else failed(run)
    )

    log(f"{n} labs: daily update (1 % of labs changed)")
    run = proc.python(
        "-m", "bench.workers", "update", str(store), str(cache), timeout=timeout, max_memory=cap
    )
    out["update"] = (
        {**run.json(), "seconds": round(run.seconds, 3), "max_rss": run.max_rss} if run.ok else failed(run)
    )
    shutil.rmtree(store.parent, ignore_errors=True)
    return out


# --- figure 4: the services --------------------------------------------------------------


def _child(run: proc.Run) -> dict[str, Any]:
    if not run.ok:
        return failed(run)
    return {**run.json(), "wall_s": round(run.seconds, 2), "max_rss": run.max_rss}


def figure_services(
    registry_labs: int,
    registry_small: int,
    root_labs: int,
    databases: tuple[str, ...] = DATABASES,
    previous: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The registry (import, add one at two sizes, publish) and the root (50 members,
    fetch, bundle, delta), each database in its own process with a timeout. A database
    not in ``databases`` keeps its figures from ``previous`` (each names its own sizes)."""
    out: dict[str, Any] = {
        "machine": machine(),
        "registry_labs": registry_labs,
        "registry_small": registry_small,
        "root_labs": root_labs,
        "registry": {},
        "root": {},
    }
    available = proc.available_memory()
    cap = int(available * 0.85) if available else None
    for part in ("registry", "root"):
        for db in DATABASES:
            if db not in databases and db in (previous or {}).get(part, {}):
                out[part][db] = previous[part][db]  # type: ignore[index]
    for db in databases:
        log(f"registry service on {db}: {registry_labs:,} labs (add one at {registry_small:,} and there)")
        run = proc.python(
            "-m", "bench.registry", str(registry_labs), "--small", str(registry_small), "--db", db,
            timeout=max(300, registry_labs / 1000 * 60), max_memory=cap,
        )  # fmt: skip
        out["registry"][db] = _child(run)
    for db in databases:
        log(f"root service on {db}: 50 members, {root_labs:,} labs")
        args = ["-m", "bench.root_service", str(root_labs)] + (["--postgres"] if db == "postgresql" else [])
        run = proc.python(*args, timeout=max(300, root_labs / 1000 * 12), max_memory=cap)
        out["root"][db] = _child(run)
    return out


def _previous() -> dict[str, Any] | None:
    latest = RESULTS / "latest.json"
    return json.loads(latest.read_text()) if latest.exists() else None


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="1,000 labs only (CI)")
    parser.add_argument("--sizes", type=int, nargs="+", help="lab counts (default 1000 10000 120000)")
    parser.add_argument("--iterations", type=int, default=2000, help="scans per case in figure 1")
    parser.add_argument(
        "--save-baseline", action="store_true", help=f"also record this run as {BASELINE.name}"
    )
    parser.add_argument(
        "--no-doc",
        action="store_true",
        help=f"do not rewrite {DOC.relative_to(proc.ROOT)} nor bench/results/latest.json it is rendered from",
    )
    parser.add_argument(
        "--only",
        nargs="+",
        choices=SECTIONS,
        help="measure only these sections; the others keep their results from bench/results/latest.json",
    )
    parser.add_argument("--registry-labs", type=int, help=f"registry import size (default {REGISTRY_LABS})")
    parser.add_argument("--root-labs", type=int, help=f"the root's labs, 50 members (default {ROOT_LABS})")
    parser.add_argument(
        "--databases",
        nargs="+",
        choices=DATABASES,
        default=list(DATABASES),
        help="the services' databases to measure; the others keep their last figures",
    )
    parser.add_argument(
        "--render",
        action="store_true",
        help=f"measure nothing: write {DOC.relative_to(proc.ROOT)} from bench/results/latest.json",
    )
    args = parser.parse_args()
    if args.render:
        last = _previous()
        if last is None:
            parser.error("no bench/results/latest.json to render: run the bench first")
        base = json.loads(BASELINE.read_text()) if BASELINE.exists() else None
        DOC.write_text(report.render(last, base))
        log(f"wrote {DOC.relative_to(proc.ROOT)} from bench/results/latest.json")
        return
    sizes = tuple(args.sizes or ((1_000,) if args.quick else FULL_SIZES))
    only = set(args.only or SECTIONS)

    started = time.perf_counter()
    previous = _previous() if args.only else None
    if previous is not None:  # the sections not measured now keep their last results
        results: dict[str, Any] = previous
        results["measured"] = sorted(only)
    else:
        results = {"machine": machine(), "quick": args.quick, "sizes": list(sizes)}
    with tempfile.TemporaryDirectory(prefix="yilu-bench-") as tmp:
        work = Path(tmp)
        if "scan" in only:
            results["scan"] = figure_scan(args.iterations)
        if "cli" in only:
            results["cli"] = figure_cli(work)
        if "snapshots" in only:
            snapshots: dict[int, dict[str, Any]] = {}
            for n in sorted(sizes):
                snapshots[n] = figure_snapshot(n, work, snapshots)
            results["snapshots"] = [snapshots[n] for n in sorted(sizes)]
            results["sizes"], results["quick"] = list(sizes), args.quick
        if "services" in only:
            results["services"] = figure_services(
                args.registry_labs or (QUICK_REGISTRY_LABS if args.quick else REGISTRY_LABS),
                QUICK_REGISTRY_SMALL if args.quick else REGISTRY_SMALL,
                args.root_labs or (QUICK_ROOT_LABS if args.quick else ROOT_LABS),
                tuple(args.databases),
                (previous or {}).get("services"),
            )
            results["services"]["quick"] = args.quick
    if previous is None:
        results["seconds"] = round(time.perf_counter() - started, 1)

    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    body = json.dumps(results, indent=1, ensure_ascii=False)
    (RESULTS / f"run-{stamp}.json").write_text(body)
    if not args.no_doc:
        # latest.json is what docs/performance.md is rendered from (tracked with it): a run
        # that does not write the doc (CI's quick one) leaves both as they are.
        (RESULTS / "latest.json").write_text(body)
    if args.save_baseline:
        BASELINE.write_text(body)
    baseline = json.loads(BASELINE.read_text()) if BASELINE.exists() else None
    if not args.no_doc:
        DOC.write_text(report.render(results, baseline))
        log(f"wrote {DOC.relative_to(proc.ROOT)}")
    log(f"done in {time.perf_counter() - started:.0f} s; raw results in bench/results/run-{stamp}.json")
    failures = report.failures(results)
    for failure in failures:
        log(f"FAILED: {failure}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
