"""The ``yilu`` command line: one sub-command per party (DESIGN.md, "Command line contract").

Exit status: 0 success (``verify``: accept), 1 ``verify`` reject, 2 unusable input,
arguments or trust data (``verify``: cannot verify), 3 internal error, 130 interrupted.
Errors are one line on stderr, never a traceback.
"""

from __future__ import annotations

import signal
import sys


def _interrupted(signum: int, frame: object) -> None:
    """Ctrl-C: one line and exit 130, never a traceback. Installed before anything else
    is imported; SystemExit still runs every ``finally`` and the atomic writes' cleanup."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C while cleaning up: still one line
    sys.stderr.write("yilu: interrupted\n")
    raise SystemExit(130)


if __name__ == "__main__" or sys.argv[0].endswith("yilu"):
    signal.signal(signal.SIGINT, _interrupted)

import argparse
import json
import os
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final, NoReturn

from protocol.errors import YiluError
from protocol.reasons import LANGS, Lang
from yilu import __version__

EXIT_OK: Final = 0
EXIT_REJECT: Final = 1
EXIT_USAGE: Final = 2
EXIT_UNVERIFIABLE: Final = 2
EXIT_INTERNAL: Final = 3
EXIT_INTERRUPTED: Final = 130
#: Where ``yilu trust`` keeps the pinned root and the installed snapshot (DESIGN.md,
#: "Command line contract"): ``$YILU_DATA_DIR/trust``, ``./yilu-data`` by default.
DATA_DIR_ENV: Final = "YILU_DATA_DIR"
DEFAULT_DATA_DIR: Final = "yilu-data"
#: Largest file ``yilu verify`` reads (a photo); larger is refused before reading.
MAX_INPUT_FILE: Final = 20 * 1024 * 1024


class UsageError(Exception):
    """Bad arguments or unusable input: exit 2 with one line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _now(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    from protocol.encoding import parse_time

    try:
        return parse_time(value, "--at")
    except YiluError as exc:
        raise UsageError(str(exc)) from exc


def _seconds(value: str) -> int:
    if not value.isdigit() or int(value) > 86_400:
        raise argparse.ArgumentTypeError("a whole number of seconds from 0 to 86400")
    return int(value)


def _print_json(obj: Any) -> None:
    """JSON on stdout, UTF-8; a value that cannot be UTF-8 (a lone surrogate from an
    untrusted ``\\ud800`` escape) makes the whole document ASCII with escapes instead."""
    text = json.dumps(obj, ensure_ascii=False, indent=2)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(obj, ensure_ascii=True, indent=2)
    sys.stdout.write(text + "\n")


def _err(text: str) -> None:
    sys.stderr.write(text + "\n")


def _warn(text: str) -> None:
    """A ``yilu: warning:`` line: the command succeeded, but something needs acting on."""
    _err(f"yilu: warning: {_shown(text)}")


def _shown(value: object) -> str:
    """An error's text made safe for a terminal: it may quote untrusted data (a list's
    issuer, a file name), so control characters are escaped and the length bounded."""
    from protocol.reasons import safe_text

    return safe_text(value, 600)


# -- issuer -------------------------------------------------------------------------------


def _output_path(value: str) -> Path:
    """Check before any work is done that ``value`` can be written (its folder exists)."""
    path = Path(value)
    if not path.parent.is_dir():
        raise UsageError(f"cannot write {value}: the folder {path.parent} does not exist")
    if path.is_dir():
        raise UsageError(f"cannot write {value}: it is a folder")
    return path


def _writable_file(value: str | None) -> Path | None:
    return None if value is None else _output_path(value)


def _print_certificate(issued: Any, args: argparse.Namespace, verb: str) -> None:
    from issuer import qr_version, write_qr_png

    png = _writable_file(args.qr_png)
    if png is not None:
        write_qr_png(issued.qr, png)
    if args.json:
        _print_json(issued.to_json())
    else:
        print(issued.qr)
    _err(
        f"{verb} {issued.id} (QR version {qr_version(issued.qr)}, {len(issued.qr)} characters"
        + (f", PNG {png})" if png else ")")
    )


def cmd_issue(args: argparse.Namespace) -> int:
    from issuer import LabIssuer
    from protocol.storage import read_json

    _writable_file(args.qr_png)
    report = read_json(Path(args.report))
    if not isinstance(report, dict):
        raise UsageError(f"{args.report} does not hold a JSON object (a test report)")
    lab = LabIssuer.open(Path(args.lab))
    issued = lab.issue(report, now=_now(args.at))
    _print_certificate(issued, args, "already issued, unchanged:" if issued.existing else "issued")
    return EXIT_OK


def cmd_revoke(args: argparse.Namespace) -> int:
    from issuer import LabIssuer

    lab = LabIssuer.open(Path(args.lab))
    if args.suspend or args.unsuspend:
        changed = lab.set_status(args.id, purpose="suspension", value=bool(args.suspend), now=_now(None))
        what = "suspended" if args.suspend else "unsuspended"
    else:
        changed = lab.set_status(args.id, purpose="revocation", value=True, now=_now(None))
        what = "revoked"
    if changed:
        _err(f"{what} {args.id}; the lab's status list is re-signed: {Path(args.lab) / 'status/list.jwt'}")
    else:
        _err(f"{args.id} was already {what}; nothing changed")
    return EXIT_OK


def cmd_lab(args: argparse.Namespace) -> int:
    from issuer import LabIssuer
    from protocol.encoding import format_time
    from protocol.storage import passphrase

    if args.action == "init":
        from protocol.names import check_lab_id
        from protocol.vocabulary import check_country

        check_lab_id(args.id)  # before asking for the passphrase
        check_country(args.country)
        names = {"en": args.name}
        for item in args.local_name or []:
            lang, sep, text = item.partition("=")
            if not sep or not lang or not text.strip():
                raise UsageError(f"--local-name takes LANG=NAME, e.g. zh=青岛检测中心, not {item!r}")
            names[lang] = text
        lab = LabIssuer.create(
            Path(args.dir),
            lab_id=args.id,
            names=names,
            country=args.country,
            passphrase_text=passphrase(),
            alg=args.alg,
            now=_now(None),
            scopes=tuple(args.scope or ()),
        )
        _err(
            f"created lab {lab.id} with key {lab.kid}; give {Path(args.dir) / 'public.json'} to your registry"
        )
    elif args.action == "show":  # public data: no key, no passphrase needed
        _print_certificate(LabIssuer.open(Path(args.lab), key=False).show(args.id), args, "certificate")
    elif args.action == "republish":
        lab = LabIssuer.open(Path(args.lab))
        until = lab.republish(now=_now(args.at), force=args.force)
        if until is None:
            current = lab.status_list_expiry()
            shown = format_time(current) if current is not None else "-"
            _err(
                f"the status list of {lab.id} is valid until {shown}; nothing to do "
                "(it is re-signed when fewer than 10 days remain; --force re-signs now)"
            )
        else:
            _err(
                f"re-signed the status list of {lab.id}, valid until {format_time(until)}; "
                f"give {Path(args.lab) / 'status/list.jwt'} to your registry (yilu registry mirror)"
            )
    return EXIT_OK


# -- registry and root ----------------------------------------------------------------------


def cmd_registry(args: argparse.Namespace) -> int:
    from protocol.lists import Scope
    from protocol.storage import passphrase, read_json
    from trust_registry import Registry, list_warnings

    directory = Path(args.dir)
    now = _now(getattr(args, "at", None))
    if args.action == "init":
        reg = Registry.create(
            directory,
            registry_id=args.id,
            country=args.country,
            accreditation_body=args.body,
            publication_url=args.url,
            passphrase_text=passphrase(),
            now=now,
            lab_ids=args.lab_ids,
        )
        _err(f"created registry {reg.id}; it will list lab ids {', '.join(reg.state['labIds'])}")
        return EXIT_OK
    reg = Registry.open(directory)
    if args.action == "add-lab":
        lab_dir = Path(args.lab)
        config = read_json(lab_dir / "lab.json")
        reg.add_lab(
            lab_id=config["id"],
            names=config["names"],
            country=config["country"],
            accreditation_number=args.number,
            scopes=[Scope(s) for s in args.scope],
            key=read_json(lab_dir / "public.json"),
            accredited_since=now,
        )
        _err(f"accredited {config['id']} for {', '.join(args.scope)}")
    elif args.action == "lab-status":
        reg.set_lab_status(args.lab_id, args.status, since=now, for_cause=args.for_cause)
        cause = " for cause: everything it signed is void" if args.for_cause else ""
        _err(f"{args.lab_id} is {args.status} from {args.at or 'now'}{cause}; publish to make it known")
    elif args.action == "revoke-key":
        reg.revoke_lab_key(args.lab_id, args.kid, at=now, reason=args.reason)
        _err(f"revoked key {args.kid} of {args.lab_id} ({args.reason}); publish to make it known")
    elif args.action == "mirror":
        tokens = [Path(p).read_text().strip() for p in args.files]
        changed = reg.mirror_status_lists(tokens, now=now)
        _err(f"mirrored {len(args.files)} status lists ({len(changed)} changed)")
        for warning in list_warnings(status_lists=tokens, now=now):
            _warn(f"{warning} (the lab must republish: yilu lab republish)")
    elif args.action in ("publish", "republish"):
        _publish(reg, args, now, "trust list")
    return EXIT_OK


def _publish(party: Any, args: argparse.Namespace, now: datetime, what: str) -> None:
    """``publish`` always signs a new list; ``republish`` only when the last one expires within
    10 days (for a daily job: docs/operating.md)."""
    from protocol.encoding import format_time

    path = party.directory / "published" / party.published_file
    if args.action == "publish":
        party.publish(now=now)
    elif party.republish(now=now, force=args.force) is None:
        until = format_time(party.published_expiry())
        _err(f"the {what} {path} is valid until {until}; nothing to do (--force signs one now)")
        return
    until = format_time(party.published_expiry())
    _err(f"published {path} (sequence {party.state['sequence']}, valid until {until})")


def cmd_root(args: argparse.Namespace) -> int:
    from protocol.storage import passphrase, write_atomic
    from trust_registry import FederationRoot, Registry

    directory = Path(args.dir)
    now = _now(getattr(args, "at", None))
    if args.action == "init":
        FederationRoot.create(directory, federation_id=args.id, passphrase_text=passphrase(), now=now)
        _err(f"created federation root; verifiers pin {directory / 'root-keys.json'}")
        return EXIT_OK
    root = FederationRoot.open(directory)
    if args.action == "admit":
        reg = Registry.open(Path(args.registry))
        member = reg.member_record(since=now, permitted_lab_ids=args.lab_ids)
        root.admit(member)
        _err(f"admitted {reg.id}; it may list lab ids {', '.join(p.text for p in member.permitted_lab_ids)}")
    elif args.action == "member-status":
        root.set_member_status(args.registry_id, args.status, since=now)
        _err(f"{args.registry_id} is {args.status} from now; publish to make it known")
    elif args.action == "agree":
        root.agree(country=args.country, accepts=args.accepts, scopes=args.scope, since=now)
        _err(
            f"{args.country.upper()} accepts {', '.join(args.accepts)} for {', '.join(args.scope)} from now; "
            "publish to make it known"
        )
    elif args.action in ("publish", "republish"):
        _publish(root, args, now, "federation list")
    elif args.action == "bundle":
        out = _output_path(args.out)
        regs = [Registry.open(Path(r)) for r in args.registry]
        trust_lists = [r.trust_list_token() for r in regs]
        status_lists = [t for r in regs for t in r.status_list_tokens()]
        for warning in root.bundle_warnings(trust_lists=trust_lists, status_lists=status_lists, now=now):
            _warn(warning)
        delta_out = _output_path(args.delta_out) if args.delta_out else None
        full, delta = root.build_bundle(trust_lists=trust_lists, status_lists=status_lists, now=now)
        write_atomic(out, full)
        _err(f"wrote bundle {args.out} (sequence {root.state['bundleSequence']}, {len(full)} bytes)")
        if delta_out is not None and delta is None:
            _warn("no delta: this root has built no bundle before to build it from")
        elif delta_out is not None and delta is not None:
            write_atomic(delta_out, delta)
            _err(f"wrote delta {args.delta_out} ({len(delta)} bytes)")
    return EXIT_OK


# -- demo -----------------------------------------------------------------------------------


def cmd_demo(args: argparse.Namespace) -> int:
    from yilu import demo

    directory = Path(args.dir)
    if args.action == "init":
        info = demo.init(directory, now=_now(None))
        if args.json:
            _print_json(info)
        else:
            print(f"demo federation in {directory}")
            for lab in info["labs"]:
                print(f"  lab {lab['id']} ({lab['country']}: {', '.join(lab['scopes'])}) -> {lab['dir']}")
            print(f"  verifier bundle: {info['bundle']}")
            print(f"  root keys to pin: {info['rootKeys']}")
    else:
        bundle = demo.refresh(directory, now=_now(None))
        print(f"republished the demo lists; bundle: {bundle}")
    return EXIT_OK


# -- verifier -------------------------------------------------------------------------------


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


def _store(args: argparse.Namespace, roots: tuple[Any, ...] | None = None) -> Any:
    from verifier.store import SnapshotStore

    base = Path(args.data_dir or os.environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR)
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


def _snapshot_for_verify(args: argparse.Namespace) -> Any:
    """The snapshot ``yilu verify`` checks against: ``--bundle`` (verified from ``--root``,
    ``$YILU_ROOT_KEYS`` or the installed pin) or the installed one. Raises TrustDataError."""
    from protocol.errors import TrustDataError
    from protocol.reasons import ReasonCode
    from verifier import load_bundle

    given = _given_roots(args.root)
    store = _store(args)
    if args.bundle:
        data = _read_bundle(args.bundle)
        pinned = store.stored_roots()
        snapshot = load_bundle(data, pinned_roots=given if given is not None else store.roots())
        if given is None or (pinned is not None and {k.kid for k in pinned} == {k.kid for k in given}):
            store.check_not_older(snapshot)
        return snapshot
    if given is not None:
        store = _store(args, given)
    snapshot = store.current()
    if snapshot is None:
        raise TrustDataError(
            f"nothing is installed in {store.directory}: run yilu trust install BUNDLE --root KEYS "
            "(or give --bundle)",
            code=ReasonCode.TRUST_DATA_MISSING,
        )
    return snapshot


def cmd_verify(args: argparse.Namespace) -> int:
    from protocol.errors import TrustDataError
    from protocol.reasons import ReasonCode
    from protocol.vocabulary import check_country
    from verifier import VerificationResult, Verifier
    from verifier.render import render_text

    country = check_country(args.country, "--country")
    at = _now(args.at)
    data = _read_input(args.input)
    try:
        snapshot = _snapshot_for_verify(args)
    except TrustDataError as exc:
        result = VerificationResult.reject(exc.code or ReasonCode.TRUST_DATA_INVALID, detail=str(exc))
    else:
        skew = timedelta(seconds=args.clock_skew)
        result = Verifier(snapshot, country=country, clock_skew=skew).verify(data, at=at)
    lang: Lang = args.lang
    if args.json:
        _print_json(result.to_json(lang))
    else:
        sys.stdout.write(render_text(result, lang, now=at))
    return {"accept": EXIT_OK, "reject": EXIT_REJECT}.get(result.verdict, EXIT_UNVERIFIABLE)


def cmd_trust(args: argparse.Namespace) -> int:
    if args.action == "install":
        store, now = _store(args, _given_roots(args.root)), _now(args.at)
        installed = store.install(_read_bundle(args.bundle), now=now)
        summary = _trust_summary(store, installed.snapshot, now)
        if args.json:
            _print_json({**summary, "changed": installed.changed, "warnings": list(installed.warnings)})
        else:
            verb = "installed" if installed.changed else "already installed"
            for warning in installed.warnings:
                _warn(warning)
            _err(
                f"{verb}: bundle sequence {summary['sequence']} of {_shown(summary['federation'])} "
                f"in {store.directory}"
            )
            for line in _trust_lines(summary):
                print(line)
        return EXIT_OK
    store = _store(args)
    snapshot = store.current()
    if snapshot is None:
        raise UsageError(
            f"nothing is installed in {store.directory}: run yilu trust install BUNDLE --root KEYS"
        )
    summary = _trust_summary(store, snapshot, _now(args.at))
    if args.json:
        _print_json(summary)
    else:
        for line in _trust_lines(summary):
            print(line)
    return EXIT_OK


#: ``yilu trust show`` warns about lists that expire within this many days.
_SOON_DAYS: Final = 7


def _trust_summary(store: Any, snapshot: Any, now: datetime) -> dict[str, Any]:
    """What is installed and how fresh each part is (``yilu trust show --json``)."""
    from protocol.encoding import format_time, shift

    soon = shift(now, timedelta(days=_SOON_DAYS))
    status = sorted(snapshot.status_validity(), key=lambda s: s[1] or now)
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


# -- wiring ---------------------------------------------------------------------------------


def _add_issue(sub: Any) -> None:
    s = sub.add_parser("issue", help="sign a test report as a certificate")
    s.add_argument("report", help="the test report (JSON)")
    s.add_argument("--lab", required=True, help="the lab directory")
    s.add_argument("--qr-png", help="also write the QR code as a PNG")
    s.add_argument("--at", help=argparse.SUPPRESS)
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_issue)


def _add_revoke(sub: Any) -> None:
    s = sub.add_parser("revoke", help="revoke or (un)suspend a certificate")
    s.add_argument("id", help="certificate id (or report number)")
    s.add_argument("--lab", required=True)
    g = s.add_mutually_exclusive_group()
    g.add_argument("--suspend", action="store_true")
    g.add_argument("--unsuspend", action="store_true")
    s.set_defaults(func=cmd_revoke)


def _add_verify(sub: Any) -> None:
    s = sub.add_parser(
        "verify",
        help="verify a certificate offline",
        description="Verify a certificate offline against the installed trust data (yilu trust "
        "install) or a --bundle. Exit status: 0 accept, 1 reject, 2 cannot verify (bad input, "
        "arguments or trust data).",
    )
    s.add_argument("input", help="YL1: text, a compact VC-JWT, a PNG/JPEG photo, or - for stdin")
    s.add_argument("--bundle", help="verify against this bundle instead of the installed trust data")
    s.add_argument("--country", required=True, help="the inspector's country (two letters)")
    s.add_argument("--at", help="verify as of this RFC 3339 time (default: now)")
    s.add_argument("--lang", choices=LANGS, default="en")
    s.add_argument(
        "--clock-skew",
        type=_seconds,
        default=300,
        metavar="SECONDS",
        help="tolerated difference between this device's clock and the lab's (default 300)",
    )
    s.add_argument(
        "--root",
        help="JSON file of the federation root public keys to verify --bundle with "
        "(or $YILU_ROOT_KEYS; default: the pin of yilu trust install)",
    )
    s.add_argument(
        "--data-dir", help=f"where trust data is installed (default ${DATA_DIR_ENV} or ./{DEFAULT_DATA_DIR})"
    )
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_verify)


def _add_trust(sub: Any) -> None:
    s = sub.add_parser("trust", help="install and inspect the verifier's trust data")
    trust_sub = s.add_subparsers(dest="action", required=True, parser_class=_Parser)
    a = trust_sub.add_parser(
        "install",
        help="verify a bundle and install it",
        description="Verify BUNDLE against the pinned federation root and install it, refusing "
        "a bundle that is older in any part than the installed one (rollback) or whose "
        "federation list has expired (freeze). The first install pins --root.",
    )
    a.add_argument("bundle")
    a.add_argument("--root", help="JSON file of the federation root public keys (pinned on first install)")
    a.add_argument("--data-dir", help=f"default ${DATA_DIR_ENV} or ./{DEFAULT_DATA_DIR}")
    a.add_argument("--at", help=argparse.SUPPRESS)
    a.add_argument("--json", action="store_true")
    a = trust_sub.add_parser("show", help="what is installed and how fresh it is")
    a.add_argument("--data-dir", help=f"default ${DATA_DIR_ENV} or ./{DEFAULT_DATA_DIR}")
    a.add_argument("--at", help=argparse.SUPPRESS)
    a.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_trust)


def _add_lab(sub: Any) -> None:
    s = sub.add_parser("lab", help="lab administration")
    lab_sub = s.add_subparsers(dest="action", required=True, parser_class=_Parser)
    a = lab_sub.add_parser("init", help="create a lab directory with an encrypted key")
    a.add_argument("dir")
    a.add_argument("--id", required=True, help="the lab's stable URI, e.g. https://qdtc.example.cn")
    a.add_argument("--name", required=True)
    a.add_argument("--local-name", action="append", metavar="LANG=NAME")
    a.add_argument("--country", required=True)
    a.add_argument("--alg", choices=("EdDSA", "ES256"), default="EdDSA")
    a.add_argument("--scope", action="append", help="accredited scope (repeat); issue refuses others")
    a = lab_sub.add_parser("show", help="print an issued certificate again")
    a.add_argument("id", help="certificate id or report number")
    a.add_argument("--lab", required=True)
    a.add_argument("--qr-png", help="also write the QR code as a PNG")
    a.add_argument("--json", action="store_true")
    a = lab_sub.add_parser(
        "republish",
        help="re-sign the status list before it expires (run daily)",
        description="Re-sign the lab's status list when fewer than 10 days of its 30 remain "
        "(or always, with --force), so that verifiers never see them expire.",
    )
    a.add_argument("--lab", required=True)
    a.add_argument("--force", action="store_true", help="re-sign now, however long the list remains valid")
    a.add_argument("--at", help=argparse.SUPPRESS)
    s.set_defaults(func=cmd_lab)


def _add_registry(sub: Any) -> None:
    s = sub.add_parser("registry", help="registry (accreditation body) administration")
    reg_sub = s.add_subparsers(dest="action", required=True, parser_class=_Parser)
    a = reg_sub.add_parser("init", help="create a registry directory with an encrypted key")
    a.add_argument("dir")
    a.add_argument("--id", required=True)
    a.add_argument("--country", required=True)
    a.add_argument("--body", required=True, help="accreditation body name, e.g. CNAS")
    a.add_argument("--url", required=True, help="where the registry publishes its lists")
    a.add_argument(
        "--lab-ids",
        action="append",
        required=True,
        metavar="PATTERN",
        help="lab ids it will list, e.g. https://*.example.cn (repeat); the root must admit it with them",
    )
    a = reg_sub.add_parser("add-lab", help="accredit a lab (from its lab directory) for scopes")
    a.add_argument("dir")
    a.add_argument("--lab", required=True, help="the lab directory (reads lab.json and public.json)")
    a.add_argument("--number", required=True, help="accreditation number")
    a.add_argument("--scope", action="append", required=True)
    a = reg_sub.add_parser("lab-status", help="record a lab's accreditation status change")
    a.add_argument("dir")
    a.add_argument("lab_id")
    a.add_argument("status", choices=("active", "suspended", "withdrawn"))
    a.add_argument(
        "--for-cause",
        action="store_true",
        help="a withdrawal for cause: everything the lab ever signed becomes void (final)",
    )
    a.add_argument("--at")
    a = reg_sub.add_parser(
        "revoke-key", help="revoke a lab's signing key (keyCompromise voids all it signed)"
    )
    a.add_argument("dir")
    a.add_argument("lab_id")
    a.add_argument("kid", type=_kid, help="the key id (it may start with '-')")
    a.add_argument("--reason", choices=("keyCompromise", "superseded", "cessationOfOperation"), required=True)
    a.add_argument("--at")
    a = reg_sub.add_parser("mirror", help="check and keep copies of the labs' signed status lists")
    a.add_argument("dir")
    a.add_argument("files", nargs="+")
    a.add_argument("--at", help=argparse.SUPPRESS)
    a = reg_sub.add_parser("publish", help="sign the trust list with the next sequence")
    a.add_argument("dir")
    a.add_argument("--at", help=argparse.SUPPRESS)
    a = reg_sub.add_parser("republish", help="sign the trust list again if it expires within 10 days (daily)")
    a.add_argument("dir")
    a.add_argument("--force", action="store_true", help="sign one now, however long the last stays valid")
    a.add_argument("--at", help=argparse.SUPPRESS)
    s.set_defaults(func=cmd_registry)


def _add_root(sub: Any) -> None:
    s = sub.add_parser("root", help="federation root administration")
    root_sub = s.add_subparsers(dest="action", required=True, parser_class=_Parser)
    a = root_sub.add_parser("init", help="create the federation root (writes root-keys.json to pin)")
    a.add_argument("dir")
    a.add_argument("--id", required=True)
    a = root_sub.add_parser("admit", help="admit a registry, with the lab ids it may list")
    a.add_argument("dir")
    a.add_argument("--registry", required=True, help="the registry directory")
    a.add_argument(
        "--lab-ids",
        action="append",
        metavar="PATTERN",
        help="lab ids this registry may list (repeat; default: those of its registry init); "
        "no two members may overlap",
    )
    a = root_sub.add_parser("member-status", help="record a member registry's status change")
    a.add_argument("dir")
    a.add_argument("registry_id")
    a.add_argument("status", choices=("active", "suspended", "withdrawn"))
    a = root_sub.add_parser("agree", help="record that a country accepts members' results for scopes")
    a.add_argument("dir")
    a.add_argument("--country", required=True)
    a.add_argument("--accepts", action="append", required=True, help="registry id")
    a.add_argument("--scope", action="append", required=True)
    a = root_sub.add_parser("publish", help="sign the federation list with the next sequence")
    a.add_argument("dir")
    a.add_argument("--at", help=argparse.SUPPRESS)
    a = root_sub.add_parser(
        "republish", help="sign the federation list again if it expires within 10 days (daily)"
    )
    a.add_argument("dir")
    a.add_argument("--force", action="store_true", help="sign one now, however long the last stays valid")
    a.add_argument("--at", help=argparse.SUPPRESS)
    a = root_sub.add_parser("bundle", help="build the signed offline bundle for verifiers")
    a.add_argument("dir")
    a.add_argument("--registry", action="append", required=True, help="registry directory")
    a.add_argument("--out", required=True, help="the full bundle (for devices installing from scratch)")
    a.add_argument(
        "--delta-out",
        help="also write the delta from the previous bundle this root built (for devices that have it)",
    )
    a.add_argument("--at", help=argparse.SUPPRESS)
    s.set_defaults(func=cmd_root)


def _add_demo(sub: Any) -> None:
    s = sub.add_parser("demo", help="a complete local federation")
    demo_sub = s.add_subparsers(dest="action", required=True, parser_class=_Parser)
    a = demo_sub.add_parser("init", help="build a complete local federation in DIR")
    a.add_argument("dir")
    a.add_argument("--json", action="store_true")
    a = demo_sub.add_parser("refresh", help="republish the demo's lists and rebuild its bundle")
    a.add_argument("dir")
    s.set_defaults(func=cmd_demo)


#: Each sub-command's parser, added in this order (``yilu --help`` lists them so).
_COMMANDS: Final[dict[str, Callable[[Any], None]]] = {
    "issue": _add_issue,
    "revoke": _add_revoke,
    "verify": _add_verify,
    "trust": _add_trust,
    "lab": _add_lab,
    "registry": _add_registry,
    "root": _add_root,
    "demo": _add_demo,
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The ``yilu`` parser; with ``only``, just that sub-command's (``yilu verify`` need not
    build the other seven: about 10 ms of a process, DESIGN.md "Performance budget")."""
    p = _Parser(prog="yilu", description="Verifiable cross-border test certificates.")
    p.add_argument("--version", action="version", version=f"yilu {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name, add in _COMMANDS.items():
        if only is None or name == only:
            add(sub)
    return p


#: A key id (11 base64url characters) may start with '-', which argparse would read as an
#: option: such a token after ``revoke-key`` is marked so that it reaches the kid argument.
_KID: Final = re.compile(r"[A-Za-z0-9_-]{11}")
_KID_MARK: Final = "\x00kid:"
_REVOKE_KEY_OPTIONS: Final = frozenset({"--reason", "--at", "--help", "-h"})


def _kid(value: str) -> str:
    return value.removeprefix(_KID_MARK)


def _mark_kids(argv: list[str]) -> list[str]:
    if "revoke-key" not in argv:
        return argv
    start = argv.index("revoke-key")
    return argv[:start] + [
        _KID_MARK + t if t.startswith("-") and _KID.fullmatch(t) and t not in _REVOKE_KEY_OPTIONS else t
        for t in argv[start:]
    ]


def main(argv: Sequence[str] | None = None) -> int:
    given = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(given[0] if given and given[0] in _COMMANDS else None)
    args = parser.parse_args(_mark_kids(given))
    try:
        code: int = args.func(args)
    except (UsageError, YiluError) as exc:
        _err(f"yilu: error: {_shown(exc)}")
        return EXIT_USAGE
    except OSError as exc:
        _err(f"yilu: error: {_shown(exc.strerror or exc)} ({_shown(exc.filename or 'I/O')})")
        return EXIT_USAGE
    except KeyboardInterrupt:
        _err("yilu: interrupted")
        return EXIT_INTERRUPTED
    except Exception as exc:  # the last line of defence: never a traceback to a user
        _err(f"yilu: internal error ({type(exc).__name__}): {_shown(exc)}; please report it")
        return EXIT_INTERNAL
    return code


if __name__ == "__main__":
    sys.exit(main())
