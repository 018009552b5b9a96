"""The ``yilu`` command line: one sub-command per party (DESIGN.md, "Command line contract").

Exit status: 0 success (``verify``: accept), 1 ``verify`` reject, 2 unusable input or
arguments. Errors are one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final, NoReturn

from yilu import __version__
from yilu.protocol.errors import YiluError
from yilu.protocol.reasons import LANGS, Lang

EXIT_OK: Final = 0
EXIT_REJECT: Final = 1
EXIT_USAGE: Final = 2
EXIT_INTERNAL: Final = 3
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
    from yilu.protocol.encoding import parse_time

    try:
        return parse_time(value, "--at")
    except YiluError as exc:
        raise UsageError(str(exc)) from exc


def _seconds(value: str) -> int:
    if not value.isdigit() or int(value) > 86_400:
        raise argparse.ArgumentTypeError("a whole number of seconds from 0 to 86400")
    return int(value)


def _print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=2) + "\n")


def _err(text: str) -> None:
    sys.stderr.write(text + "\n")


# -- issuer -------------------------------------------------------------------------------


def cmd_issue(args: argparse.Namespace) -> int:
    from yilu.issuer import LabIssuer, qr_version, write_qr_png
    from yilu.protocol.storage import read_json

    report = read_json(Path(args.report))
    if not isinstance(report, dict):
        raise UsageError(f"{args.report} does not hold a JSON object (a test report)")
    lab = LabIssuer.open(Path(args.lab))
    issued = lab.issue(report, now=_now(args.at))
    if args.qr_png:
        write_qr_png(issued.qr, Path(args.qr_png))
    if args.json:
        _print_json(issued.to_json())
    else:
        print(issued.qr)
        _err(
            f"issued {issued.id} (QR version {qr_version(issued.qr)}, {len(issued.qr)} characters"
            + (f", PNG {args.qr_png})" if args.qr_png else ")")
        )
    return EXIT_OK


def cmd_revoke(args: argparse.Namespace) -> int:
    from yilu.issuer import LabIssuer

    lab = LabIssuer.open(Path(args.lab))
    if args.suspend or args.unsuspend:
        lab.set_status(args.id, purpose="suspension", value=bool(args.suspend), now=_now(None))
        what = "suspended" if args.suspend else "unsuspended"
    else:
        lab.set_status(args.id, purpose="revocation", value=True, now=_now(None))
        what = "revoked"
    _err(f"{what} {args.id}; the lab's status lists are re-signed in {Path(args.lab) / 'status'}")
    return EXIT_OK


def cmd_lab_init(args: argparse.Namespace) -> int:
    from yilu.issuer import LabIssuer
    from yilu.protocol.storage import passphrase

    names = {"en": args.name}
    for item in args.local_name or []:
        lang, _, text = item.partition("=")
        names[lang] = text
    lab = LabIssuer.create(
        Path(args.dir),
        lab_id=args.id,
        names=names,
        country=args.country.upper(),
        passphrase_text=passphrase(),
        alg=args.alg,
        now=_now(None),
        scopes=tuple(args.scope or ()),
    )
    _err(f"created lab {lab.id} with key {lab.kid}; give {Path(args.dir) / 'public.json'} to your registry")
    return EXIT_OK


# -- registry and root ----------------------------------------------------------------------


def cmd_registry(args: argparse.Namespace) -> int:
    from yilu.protocol.lists import Scope
    from yilu.protocol.storage import passphrase, read_json
    from yilu.trust_registry import Registry

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
        )
        _err(f"created registry {reg.id}")
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
        reg.set_lab_status(args.lab_id, args.status, since=now)
    elif args.action == "revoke-key":
        reg.revoke_lab_key(args.lab_id, args.kid, at=now, reason=args.reason)
    elif args.action == "mirror":
        reg.mirror_status_lists(Path(p).read_text().strip() for p in args.files)
    elif args.action == "publish":
        reg.publish(now=now)
        _err(f"published {directory / 'published' / 'trust-list.jwt'} (sequence {reg.state['sequence']})")
    return EXIT_OK


def cmd_root(args: argparse.Namespace) -> int:
    from yilu.protocol.storage import passphrase, write_atomic
    from yilu.trust_registry import FederationRoot, Registry

    directory = Path(args.dir)
    now = _now(getattr(args, "at", None))
    if args.action == "init":
        FederationRoot.create(directory, federation_id=args.id, passphrase_text=passphrase(), now=now)
        _err(f"created federation root; verifiers pin {directory / 'root-keys.json'}")
        return EXIT_OK
    root = FederationRoot.open(directory)
    if args.action == "admit":
        reg = Registry.open(Path(args.registry))
        root.admit(reg.member_record(since=now))
    elif args.action == "member-status":
        root.set_member_status(args.registry_id, args.status, since=now)
    elif args.action == "agree":
        root.agree(country=args.country, accepts=args.accepts, scopes=args.scope, since=now)
    elif args.action == "publish":
        root.publish(now=now)
        _err(
            f"published {directory / 'published' / 'federation-list.jwt'} (sequence {root.state['sequence']})"
        )
    elif args.action == "bundle":
        regs = [Registry.open(Path(r)) for r in args.registry]
        token = root.build_bundle(
            trust_lists=[r.trust_list_token() for r in regs],
            status_lists=[t for r in regs for t in r.status_list_tokens()],
            now=now,
        )
        write_atomic(Path(args.out), token)
        _err(f"wrote bundle {args.out}")
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
    else:
        bundle = demo.refresh(directory, now=_now(None))
        print(f"republished the demo lists; bundle: {bundle}")
    return EXIT_OK


# -- verifier -------------------------------------------------------------------------------


def _read_input(value: str) -> str | bytes:
    from yilu.protocol.jws import looks_like_compact

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


def _pinned_roots(option: str | None) -> list[Any] | None:
    from yilu.protocol.keys import VerifyKey
    from yilu.protocol.storage import read_json

    source = option or os.environ.get("YILU_ROOT_KEYS")
    if not source:
        return None
    jwks = read_json(Path(source))
    if not isinstance(jwks, list) or not jwks:
        raise UsageError(f"{source} must hold a JSON list of root public JWKs")
    return [VerifyKey.from_jwk(j) for j in jwks]


def cmd_verify(args: argparse.Namespace) -> int:
    from yilu.protocol.errors import TrustDataError
    from yilu.protocol.reasons import ReasonCode
    from yilu.verifier import VerificationResult, Verifier, load_bundle
    from yilu.verifier.render import render_text

    if len(args.country) != 2 or not args.country.isalpha():
        raise UsageError("--country takes a two-letter country code such as KZ")
    at = _now(args.at)
    data = _read_input(args.input)
    bundle_path = Path(args.bundle)
    if not bundle_path.is_file():
        raise UsageError(f"bundle {args.bundle} does not exist")
    roots = _pinned_roots(args.root)
    try:
        snapshot = load_bundle(bundle_path.read_bytes(), pinned_roots=roots)
    except TrustDataError as exc:
        result = VerificationResult.reject(ReasonCode.TRUST_DATA_INVALID, detail=str(exc))
    else:
        skew = timedelta(seconds=args.clock_skew)
        result = Verifier(snapshot, country=args.country, clock_skew=skew).verify(data, at=at)
    lang: Lang = args.lang
    if args.json:
        _print_json(result.to_json(lang))
    else:
        sys.stdout.write(render_text(result, lang))
    return EXIT_OK if result.accepted else EXIT_REJECT


# -- wiring ---------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="yilu", description="Verifiable cross-border test certificates.")
    p.add_argument("--version", action="version", version=f"yilu {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    s = sub.add_parser("issue", help="sign a test report as a certificate")
    s.add_argument("report", help="the test report (JSON)")
    s.add_argument("--lab", required=True, help="the lab directory")
    s.add_argument("--qr-png", help="also write the QR code as a PNG")
    s.add_argument("--at", help=argparse.SUPPRESS)
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_issue)

    s = sub.add_parser("revoke", help="revoke or (un)suspend a certificate")
    s.add_argument("id", help="certificate id (or report number)")
    s.add_argument("--lab", required=True)
    g = s.add_mutually_exclusive_group()
    g.add_argument("--suspend", action="store_true")
    g.add_argument("--unsuspend", action="store_true")
    s.set_defaults(func=cmd_revoke)

    s = sub.add_parser("verify", help="verify a certificate offline")
    s.add_argument("input", help="YL1: text, a compact VC-JWT, a PNG/JPEG photo, or - for stdin")
    s.add_argument("--bundle", required=True)
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
    s.add_argument("--root", help="JSON file of pinned root public keys (or $YILU_ROOT_KEYS)")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_verify)

    s = sub.add_parser("lab", help="lab administration")
    lab_sub = s.add_subparsers(dest="action", required=True, parser_class=_Parser)
    a = lab_sub.add_parser("init", help="create a lab directory with an encrypted key")
    a.add_argument("dir")
    a.add_argument("--id", required=True, help="the lab's stable URI")
    a.add_argument("--name", required=True)
    a.add_argument("--local-name", action="append", metavar="LANG=NAME")
    a.add_argument("--country", required=True)
    a.add_argument("--alg", choices=("EdDSA", "ES256"), default="EdDSA")
    a.add_argument("--scope", action="append", help="accredited scope (repeat); issue refuses others")
    a.set_defaults(func=cmd_lab_init)

    s = sub.add_parser("registry", help="registry (accreditation body) administration")
    reg_sub = s.add_subparsers(dest="action", required=True, parser_class=_Parser)
    a = reg_sub.add_parser("init")
    a.add_argument("dir")
    a.add_argument("--id", required=True)
    a.add_argument("--country", required=True)
    a.add_argument("--body", required=True, help="accreditation body name, e.g. CNAS")
    a.add_argument("--url", required=True, help="where the registry publishes its lists")
    a = reg_sub.add_parser("add-lab")
    a.add_argument("dir")
    a.add_argument("--lab", required=True, help="the lab directory (reads lab.json and public.json)")
    a.add_argument("--number", required=True, help="accreditation number")
    a.add_argument("--scope", action="append", required=True)
    a = reg_sub.add_parser("lab-status")
    a.add_argument("dir")
    a.add_argument("lab_id")
    a.add_argument("status", choices=("active", "suspended", "withdrawn"))
    a.add_argument("--at")
    a = reg_sub.add_parser("revoke-key")
    a.add_argument("dir")
    a.add_argument("lab_id")
    a.add_argument("kid")
    a.add_argument("--reason", choices=("keyCompromise", "superseded", "cessationOfOperation"), required=True)
    a.add_argument("--at")
    a = reg_sub.add_parser("mirror", help="mirror labs' signed status lists")
    a.add_argument("dir")
    a.add_argument("files", nargs="+")
    a = reg_sub.add_parser("publish")
    a.add_argument("dir")
    s.set_defaults(func=cmd_registry)

    s = sub.add_parser("root", help="federation root administration")
    root_sub = s.add_subparsers(dest="action", required=True, parser_class=_Parser)
    a = root_sub.add_parser("init")
    a.add_argument("dir")
    a.add_argument("--id", required=True)
    a = root_sub.add_parser("admit")
    a.add_argument("dir")
    a.add_argument("--registry", required=True, help="the registry directory")
    a = root_sub.add_parser("member-status")
    a.add_argument("dir")
    a.add_argument("registry_id")
    a.add_argument("status", choices=("active", "suspended", "withdrawn"))
    a = root_sub.add_parser("agree")
    a.add_argument("dir")
    a.add_argument("--country", required=True)
    a.add_argument("--accepts", action="append", required=True, help="registry id")
    a.add_argument("--scope", action="append", required=True)
    a = root_sub.add_parser("publish")
    a.add_argument("dir")
    a = root_sub.add_parser("bundle")
    a.add_argument("dir")
    a.add_argument("--registry", action="append", required=True, help="registry directory")
    a.add_argument("--out", required=True)
    s.set_defaults(func=cmd_root)

    s = sub.add_parser("demo", help="a complete local federation")
    demo_sub = s.add_subparsers(dest="action", required=True, parser_class=_Parser)
    a = demo_sub.add_parser("init")
    a.add_argument("dir")
    a.add_argument("--json", action="store_true")
    a = demo_sub.add_parser("refresh")
    a.add_argument("dir")
    s.set_defaults(func=cmd_demo)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except (UsageError, YiluError) as exc:
        _err(f"yilu: error: {exc}")
        return EXIT_USAGE
    except OSError as exc:
        _err(f"yilu: error: {exc.strerror or exc} ({exc.filename or 'I/O'})")
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the last line of defence: never a traceback to a user
        _err(f"yilu: internal error ({type(exc).__name__}): {exc}; please report it")
        return EXIT_INTERNAL
    return code


if __name__ == "__main__":
    sys.exit(main())
