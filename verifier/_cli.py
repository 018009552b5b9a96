"""The verifier's commands: ``yilu verify`` and ``yilu trust install|show``.

Composed into ``yilu`` by ``yilu/cli.py``. ``yilu verify`` is the hot command (DESIGN.md,
"Performance budget": one process <= 120 ms), so this module imports only click and the
shared command-line kit at the top; everything else waits inside the commands, and rich
never runs for a verdict (``tests/cli/test_cli_imports.py``).
"""

from __future__ import annotations

import os
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final

import click

from protocol.cli import (
    DATA_DIR_ENV,
    DEFAULT_DATA_DIR,
    EXIT_OK,
    EXIT_REJECT,
    EXIT_UNVERIFIABLE,
    Command,
    UsageError,
    at_option,
    data_dir_option,
    err,
    group,
    json_option,
    now,
    on_terminal,
    print_json,
    progress,
    shown,
    table,
    warn,
)
from protocol.reasons import LANGS, Lang

#: Largest file ``yilu verify`` reads (a photo); larger is refused before reading.
MAX_INPUT_FILE: Final = 20 * 1024 * 1024
#: The colour of each verdict's first line on a terminal.
_VERDICT_COLOUR: Final = {"accept": "green", "reject": "red"}


def _read_input(value: str) -> str | bytes:
    from protocol.jws import looks_like_compact

    if value == "-":
        data = sys.stdin.buffer.read(MAX_INPUT_FILE + 1)
        if len(data) > MAX_INPUT_FILE:
            raise UsageError("standard input is larger than any certificate or photo")
        return data
    stripped = value.strip()
    # A compact JWS is too long and odd to be a file name, so it is never looked up as a path.
    if stripped.startswith("YL1:") or (looks_like_compact(stripped) and len(stripped) > 64):
        return stripped
    path = Path(value)
    if not path.is_file():
        raise UsageError(f"{value[:80]!r} is neither YL1: text, a compact VC-JWT nor a readable file")
    if path.stat().st_size > MAX_INPUT_FILE:
        raise UsageError(f"{value} is larger than {MAX_INPUT_FILE // (1024 * 1024)} MB")
    return path.read_bytes()


def _given_roots(option: str | None) -> tuple[Any, ...] | None:
    """Root keys given on this command line (``--root``) or by ``$YILU_ROOT_KEYS``."""
    from verifier.store import read_root_keys

    source = option or os.environ.get("YILU_ROOT_KEYS")
    if not source:
        return None
    if not Path(source).is_file():
        raise UsageError(f"root keys file {source} does not exist")
    from protocol.errors import TrustDataError

    try:
        return read_root_keys(Path(source))
    except TrustDataError as exc:
        raise UsageError(str(exc)) from exc


def _store(data_dir: str | None, roots: tuple[Any, ...] | None = None) -> Any:
    from verifier.store import SnapshotStore

    base = Path(data_dir or os.environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR)
    return SnapshotStore(base / "trust", pinned_roots=roots)


def _read_bundle(value: str) -> bytes:
    """A bundle file's bytes, refusing one larger than any bundle before reading it."""
    from protocol.bundle import MAX_BUNDLE_BYTES
    from protocol.errors import TrustDataError

    path = Path(value)
    if not path.is_file():
        raise UsageError(f"bundle {value} does not exist")
    if path.stat().st_size > MAX_BUNDLE_BYTES:
        raise TrustDataError(
            f"{value} is {path.stat().st_size} bytes, larger than any bundle ({MAX_BUNDLE_BYTES} at most)"
        )
    return path.read_bytes()


def _snapshot_for_verify(bundle: str | None, root: str | None, data_dir: str | None) -> Any:
    """The snapshot ``yilu verify`` checks against: ``--bundle`` (verified from ``--root``,
    ``$YILU_ROOT_KEYS`` or the installed pin) or the installed one. Raises TrustDataError."""
    from protocol.errors import TrustDataError
    from protocol.reasons import ReasonCode
    from verifier import load_bundle

    given = _given_roots(root)
    store = _store(data_dir)
    if bundle:
        data = _read_bundle(bundle)
        pinned = store.stored_roots()
        snapshot = load_bundle(data, pinned_roots=given if given is not None else store.roots())
        if given is None or (pinned is not None and {k.kid for k in pinned} == {k.kid for k in given}):
            store.check_not_older(snapshot)
        return snapshot
    if given is not None:
        store = _store(data_dir, given)
    snapshot = store.current()
    if snapshot is None:
        raise TrustDataError(
            f"nothing is installed in {store.directory}: run yilu trust install BUNDLE --root KEYS "
            "(or give --bundle)",
            code=ReasonCode.TRUST_DATA_MISSING,
        )
    return snapshot


def _seconds(ctx: click.Context, param: click.Parameter, value: str) -> int:
    if not value.isdigit() or int(value) > 86_400:
        raise click.BadParameter("a whole number of seconds from 0 to 86400", ctx, param)
    return int(value)


ROOT_KEYS_HELP = "JSON file of the federation root public keys"


@click.command(
    "verify",
    cls=Command,
    help="Verify a certificate offline against the installed trust data (yilu trust "
    "install) or a --bundle. Exit status: 0 accept, 1 reject, 2 cannot verify (bad input, "
    "arguments or trust data).",
    short_help="verify a certificate offline",
    example="yilu verify certificate.png --country KZ\n"
    "yilu verify 'YL1:…' --country KZ --lang ru --json\n"
    "yilu verify - --country KZ --bundle bundle.ylb --root root-keys.json < certificate.txt",
)
@click.argument(
    "certificate", metavar="INPUT", help="YL1: text, a compact VC-JWT, a PNG/JPEG photo, or - for stdin"
)
@click.option(
    "--bundle", metavar="FILE", help="verify against this bundle instead of the installed trust data"
)
@click.option("--country", required=True, metavar="CC", help="the inspector's country (two letters)")
@at_option("verify as of this RFC 3339 time (default: now)", hidden=False)
@click.option(
    "--lang", type=click.Choice(LANGS), default="en", show_default=True, help="language of the reasons"
)
@click.option(
    "--clock-skew",
    default="300",
    metavar="SECONDS",
    callback=_seconds,
    help="tolerated difference between this device's clock and the lab's (default 300)",
)
@click.option(
    "--root",
    metavar="KEYS",
    help=f"{ROOT_KEYS_HELP} to verify --bundle with "
    "(or $YILU_ROOT_KEYS; default: the pin of yilu trust install)",
)
@data_dir_option()
@json_option('{"verdict", "reasons", "credential", "issuer", "trust"}')
def verify(
    certificate: str,
    bundle: str | None,
    country: str,
    at: str | None,
    lang: Lang,
    clock_skew: int,
    root: str | None,
    data_dir: str | None,
    as_json: bool,
) -> int:
    from protocol.errors import TrustDataError
    from protocol.vocabulary import check_country
    from verifier import VerificationResult, Verifier
    from verifier.render import render_text

    country = check_country(country, "--country")
    when = now(at)
    data = _read_input(certificate)
    try:
        snapshot = _snapshot_for_verify(bundle, root, data_dir)
    except TrustDataError as exc:
        result = VerificationResult.reject(exc.code, detail=str(exc))
    else:
        skew = timedelta(seconds=clock_skew)
        result = Verifier(snapshot, country=country, clock_skew=skew).verify(data, at=when)
    if as_json:
        print_json(result.to_json(lang))
    else:
        text = render_text(result, lang, now=when)
        if on_terminal(sys.stdout):  # the verdict line in colour: plain ANSI, no rich to import
            first, _, rest = text.partition("\n")
            text = (
                click.style(first, fg=_VERDICT_COLOUR.get(result.verdict, "yellow"), bold=True) + "\n" + rest
            )
        sys.stdout.write(text)
    return {"accept": EXIT_OK, "reject": EXIT_REJECT}.get(result.verdict, EXIT_UNVERIFIABLE)


trust = group(
    "trust",
    help="Install and inspect the verifier's trust data: the pinned federation root and the "
    "installed snapshot, under $YILU_DATA_DIR/trust (default ./yilu-data/trust).",
    example="yilu trust install bundle.ylb --root root-keys.json\nyilu trust show",
)


@trust.command(
    "install",
    help="Verify BUNDLE against the pinned federation root and install it, refusing "
    "a bundle that is older in any part than the installed one (rollback) or whose "
    "federation list has expired (freeze). The first install pins --root.",
    short_help="verify a bundle and install it",
    example="yilu trust install bundle.ylb --root root-keys.json   # the first time: pins the root\n"
    "yilu trust install delta.ylb                             # later: a full bundle or a delta",
)
@click.argument("bundle", help="the bundle (*.ylb) or a delta to the installed snapshot")
@click.option("--root", metavar="KEYS", help=f"{ROOT_KEYS_HELP} (pinned on first install)")
@data_dir_option()
@at_option()
@json_option("what is installed, with changed and warnings,")
def trust_install(bundle: str, root: str | None, data_dir: str | None, at: str | None, as_json: bool) -> int:
    store, when = _store(data_dir, _given_roots(root)), now(at)
    data = _read_bundle(bundle)
    with progress("verifying and installing the bundle…"):
        installed = store.install(data, now=when)
    summary = _trust_summary(store, installed.snapshot, when)
    if as_json:
        print_json({**summary, "changed": installed.changed, "warnings": list(installed.warnings)})
        return EXIT_OK
    verb = "installed" if installed.changed else "already installed"
    for warning in installed.warnings:
        warn(warning)
    federation = shown(summary["federation"])
    err(f"{verb}: bundle sequence {summary['sequence']} of {federation} in {store.directory}")
    _print_summary(summary)
    return EXIT_OK


@trust.command(
    "show",
    help="Say what is installed and how fresh each part is, marking what expired and listing "
    "what was dropped.",
    short_help="what is installed and how fresh it is",
    example="yilu trust show\nyilu trust show --json | jq .expiresAt",
)
@data_dir_option()
@at_option()
@json_option("the summary")
def trust_show(data_dir: str | None, at: str | None, as_json: bool) -> int:
    store = _store(data_dir)
    snapshot = store.current()
    if snapshot is None:
        raise UsageError(
            f"nothing is installed in {store.directory}: run yilu trust install BUNDLE --root KEYS"
        )
    summary = _trust_summary(store, snapshot, now(at))
    if as_json:
        print_json(summary)
    else:
        _print_summary(summary)
    return EXIT_OK


def _print_summary(summary: dict[str, Any]) -> None:
    """``yilu trust show``: plain lines to a pipe; on a terminal the trust lists as a table."""
    lines = _trust_lines(summary)
    if not on_terminal(sys.stdout):
        for line in lines:
            print(line)
        return
    from protocol.reasons import safe_text

    head = 4  # federation, bundle, validity, federation list; then one line per trust list
    for line in lines[:head]:
        print(line)
    table(
        "trust lists",
        ("accreditation body", "country", "sequence", "labs", "expires"),
        [
            (
                safe_text(t["accreditationBody"], 80),
                safe_text(t["country"], 8),
                str(t["sequence"]),
                str(t["labs"]),
                t["expiresAt"] + (" EXPIRED" if t["expired"] else ""),
            )
            for t in summary["trustLists"]
        ],
    )
    for line in lines[head + len(summary["trustLists"]) :]:
        print(line)


#: ``yilu trust show`` warns about lists that expire within this many days.
_SOON_DAYS: Final = 7


def _trust_summary(store: Any, snapshot: Any, now: datetime) -> dict[str, Any]:
    """What is installed and how fresh each part is (``yilu trust show --json``)."""
    from protocol.encoding import format_time, shift

    soon = shift(now, timedelta(days=_SOON_DAYS))
    # A list without an expiry never expires: it sorts after every list that does.
    status = sorted(snapshot.status_validity(), key=lambda s: (s[1] is None, s[1] or now))
    installed = store.installed_at()
    labs = snapshot.lab_counts()
    return {
        "dataDir": str(store.directory),
        "federation": snapshot.federation.federation,
        "rootKeys": sorted(k.kid for k in snapshot.root_keys),
        "sequence": snapshot.sequence,
        "createdAt": format_time(snapshot.created_at),
        "installedAt": format_time(installed) if installed else None,
        "ageSeconds": int((now - snapshot.created_at).total_seconds()),
        "expiresAt": format_time(snapshot.expires_at()),
        "federationList": {
            "sequence": snapshot.federation.sequence,
            "expiresAt": format_time(snapshot.federation.expires_at),
            "expired": snapshot.federation.expires_at < now,
            "registries": len(snapshot.federation.registries),
        },
        "trustLists": [
            {
                "registry": tl.registry,
                "accreditationBody": snapshot.federation.member(tl.registry).accreditation_body,
                "country": tl.country,
                "sequence": tl.sequence,
                "expiresAt": format_time(tl.expires_at),
                "expired": tl.expires_at < now,
                "labs": labs.get(tl.registry, 0),
            }
            for tl in snapshot.trust_lists.values()
        ],
        "statusLists": {
            "count": len(status),
            "expiresAt": format_time(status[0][1]) if status and status[0][1] else None,
            "expired": [url for url, until in status if until and until < now],
            "expiringSoon": [url for url, until in status if until and now <= until < soon],
        },
        "skipped": [str(s) for s in snapshot.skipped],
        "skippedCount": snapshot.skipped_total,
    }


def _trust_lines(summary: dict[str, Any]) -> list[str]:
    """``yilu trust show`` as lines; everything that came from trust data is made safe."""
    from protocol.reasons import safe_text

    def expired(part: dict[str, Any]) -> str:
        return " ! EXPIRED: install a current bundle" if part["expired"] else ""

    status, fed = summary["statusLists"], summary["federationList"]
    lines = [
        f"federation {safe_text(summary['federation'])} (root keys {', '.join(summary['rootKeys'])})",
        f"bundle sequence {summary['sequence']}, created {summary['createdAt']}, "
        f"installed {summary['installedAt'] or '-'}",
        f"valid until {summary['expiresAt']} (the earliest expiry of the federation list and trust lists)",
        f"federation list sequence {fed['sequence']}, {fed['registries']} registries, "
        f"expires {fed['expiresAt']}{expired(fed)}",
    ]
    lines += [
        f"  {safe_text(t['accreditationBody'], 80)} ({safe_text(t['country'], 8)}): trust list sequence "
        f"{t['sequence']}, labs: {t['labs']}, expires {t['expiresAt']}{expired(t)}"
        for t in summary["trustLists"]
    ]
    lines.append(f"{status['count']} status lists, the first to expire on {status['expiresAt'] or '-'}")
    lines += [f"  ! expired: {safe_text(url)} (its lab must republish)" for url in status["expired"]]
    lines += [f"  ! expires within {_SOON_DAYS} days: {safe_text(url)}" for url in status["expiringSoon"]]
    lines += [f"! dropped: {safe_text(s, 300)}" for s in summary["skipped"]]
    return lines
