"""The lab's commands: ``yilu issue``, ``yilu revoke`` and ``yilu lab …``.

Composed into ``yilu`` by ``yilu/cli.py``; heavy imports wait inside each command.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from protocol.cli import (
    EXIT_OK,
    Command,
    UsageError,
    at_option,
    err,
    group,
    json_option,
    now,
    print_json,
    writable_file,
)

if TYPE_CHECKING:
    from protocol.keys import Alg

LAB_DIR_HELP = "the lab directory (made by yilu lab init)"
QR_PNG_HELP = "also write the QR code as a PNG"


def _print_certificate(issued: Any, qr_png: str | None, as_json: bool, verb: str) -> None:
    from issuer import qr_version, write_qr_png

    png = writable_file(qr_png)
    if png is not None:
        write_qr_png(issued.qr, png)
    if as_json:
        print_json(issued.to_json())
    else:
        print(issued.qr)
    err(
        f"{verb} {issued.id} (QR version {qr_version(issued.qr)}, {len(issued.qr)} characters"
        + (f", PNG {png})" if png else ")")
    )


@click.command(
    "issue",
    cls=Command,
    help="Sign a test report as a certificate and print its YL1: text (the QR code's content). "
    "The same report again gives the same certificate; a changed report under the same "
    "number is refused.",
    short_help="sign a test report as a certificate",
    example="YILU_KEY_PASSPHRASE=… yilu issue green-tea-8.json --lab labs/cn-food --qr-png tea.png",
)
@click.argument("report", help="the test report (JSON)")
@click.option("--lab", required=True, metavar="LABDIR", help=LAB_DIR_HELP)
@click.option("--qr-png", metavar="FILE", help=QR_PNG_HELP)
@at_option()
@json_option('{"id", "jws", "qr", "statusListIndex"}')
def issue(report: str, lab: str, qr_png: str | None, at: str | None, as_json: bool) -> int:
    from issuer import LabIssuer
    from protocol.storage import read_json

    writable_file(qr_png)
    body = read_json(Path(report))
    if not isinstance(body, dict):
        raise UsageError(f"{report} does not hold a JSON object (a test report)")
    issued = LabIssuer.open(Path(lab)).issue(body, now=now(at))
    _print_certificate(issued, qr_png, as_json, "already issued, unchanged:" if issued.existing else "issued")
    return EXIT_OK


@click.command(
    "revoke",
    cls=Command,
    help="Revoke a certificate (final), or suspend / unsuspend it, and re-sign the lab's "
    "status list. A command that changes nothing says so.",
    short_help="revoke or (un)suspend a certificate",
    example="yilu revoke https://qdtc.example.cn/certificates/QDTC-2026-FT-004512 --lab labs/cn-food",
)
@click.argument("certificate_id", metavar="ID", help="certificate id (or report number)")
@click.option("--lab", required=True, metavar="LABDIR", help=LAB_DIR_HELP)
@click.option("--suspend", is_flag=True, help="suspend it instead (reversible with --unsuspend)")
@click.option("--unsuspend", is_flag=True, help="lift a suspension")
@at_option()
def revoke(certificate_id: str, lab: str, suspend: bool, unsuspend: bool, at: str | None) -> int:
    from issuer import LabIssuer

    if suspend and unsuspend:
        raise UsageError("--suspend and --unsuspend cannot be given together")
    when = now(at)
    issuer = LabIssuer.open(Path(lab))
    if suspend or unsuspend:
        changed = issuer.set_status(certificate_id, purpose="suspension", value=suspend, now=when)
        what = "suspended" if suspend else "unsuspended"
    else:
        changed = issuer.set_status(certificate_id, purpose="revocation", value=True, now=when)
        what = "revoked"
    if changed:
        err(f"{what} {certificate_id}; the lab's status list is re-signed: {Path(lab) / 'status/list.jwt'}")
    else:
        err(f"{certificate_id} was already {what}; nothing changed")
    return EXIT_OK


lab = group(
    "lab",
    help="Lab administration: create a lab, print a certificate again, keep its status list fresh.",
    example="yilu lab init labs/qdtc --id https://qdtc.example.cn --name 'Qingdao Testing' --country CN",
)


@lab.command(
    "init",
    help="Create a lab directory with an encrypted signing key (passphrase from "
    "$YILU_KEY_PASSPHRASE); give its public.json to your registry.",
    short_help="create a lab directory with an encrypted key",
    example="YILU_KEY_PASSPHRASE=… yilu lab init labs/qdtc --id https://qdtc.example.cn \\\n"
    "    --name 'Qingdao Testing Centre' --local-name zh=青岛检测中心 --country CN --scope food",
)
@click.argument("directory", metavar="DIR", help="the new lab directory (empty or absent)")
@click.option("--id", "lab_id", required=True, help="the lab's stable URI, e.g. https://qdtc.example.cn")
@click.option("--name", required=True, help="the lab's name in English")
@click.option(
    "--local-name", multiple=True, metavar="LANG=NAME", help="the name in another language (repeat)"
)
@click.option("--country", required=True, metavar="CC", help="the lab's country (ISO 3166-1 alpha-2)")
@click.option(
    "--alg", type=click.Choice(("EdDSA", "ES256")), default="EdDSA", help="signature algorithm (EdDSA)"
)
@click.option("--scope", multiple=True, help="accredited scope (repeat); issue refuses others")
@at_option()
def lab_init(
    directory: str,
    lab_id: str,
    name: str,
    local_name: tuple[str, ...],
    country: str,
    alg: Alg,
    scope: tuple[str, ...],
    at: str | None,
) -> int:
    from issuer import LabIssuer
    from protocol.names import check_lab_id
    from protocol.storage import passphrase
    from protocol.vocabulary import check_country

    when = now(at)  # a bad --at, like a bad id, before asking for the passphrase
    check_lab_id(lab_id)
    check_country(country)
    names = {"en": name}
    for item in local_name:
        lang, sep, text = item.partition("=")
        if not sep or not lang or not text.strip():
            raise UsageError(f"--local-name takes LANG=NAME, e.g. zh=青岛检测中心, not {item!r}")
        names[lang] = text
    created = LabIssuer.create(
        Path(directory),
        lab_id=lab_id,
        names=names,
        country=country,
        passphrase_text=passphrase(),
        alg=alg,
        now=when,
        scopes=scope,
    )
    err(
        f"created lab {created.id} with key {created.kid}; give your registry its key request: "
        f"yilu lab key-request --lab {directory}"
    )
    return EXIT_OK


@lab.command(
    "key-request",
    help="Print a key request for the lab's key: a JWS carrying its public key, the lab id "
    "and the scopes it will sign, signed by that key itself (proof of possession). The "
    "registry accepts it for 10 minutes; an operator then approves the key.",
    short_help="print a key request (proof of possession) for the registry",
    example="yilu lab key-request --lab labs/qdtc > qdtc-key.jwt\n"
    "yilu registry key submit https://qdtc.example.cn qdtc-key.jwt",
)
@click.option("--lab", required=True, metavar="LABDIR", help=LAB_DIR_HELP)
@click.option(
    "--scope", multiple=True, help="a scope the key will sign (repeat; default the lab's own scopes)"
)
@at_option()
def lab_key_request(lab: str, scope: tuple[str, ...], at: str | None) -> int:
    from issuer import LabIssuer
    from protocol.enrolment import sign_key_request

    issuer = LabIssuer.open(Path(lab))
    scopes = scope or tuple(issuer.config.get("scopes") or ())
    if not scopes:
        raise UsageError("name the scopes this key will sign: --scope food (repeat)")
    request = sign_key_request(issuer.key, lab_id=issuer.id, scopes=scopes, now=now(at))
    sys.stdout.write(request + "\n")
    err(f"key request for {issuer.kid} of {issuer.id} ({', '.join(scopes)}); submit it within 10 minutes")
    return EXIT_OK


@lab.command(
    "show",
    help="Print an issued certificate again, as yilu issue did (public data: no passphrase needed).",
    short_help="print an issued certificate again",
    example="yilu lab show QDTC-2026-FT-004512 --lab labs/cn-food --qr-png tea.png",
)
@click.argument("certificate_id", metavar="ID", help="certificate id or report number")
@click.option("--lab", required=True, metavar="LABDIR", help=LAB_DIR_HELP)
@click.option("--qr-png", metavar="FILE", help=QR_PNG_HELP)
@json_option('{"id", "jws", "qr", "statusListIndex"}')
def lab_show(certificate_id: str, lab: str, qr_png: str | None, as_json: bool) -> int:
    from issuer import LabIssuer

    shown = LabIssuer.open(Path(lab), key=False).show(certificate_id)
    _print_certificate(shown, qr_png, as_json, "certificate")
    return EXIT_OK


@lab.command(
    "republish",
    help="Re-sign the lab's status list when fewer than 10 days of its 30 remain (or always, "
    "with --force), so that verifiers never see it expire. Run it daily.",
    short_help="re-sign the status list before it expires (run daily)",
    example="yilu lab republish --lab labs/cn-food",
)
@click.option("--lab", required=True, metavar="LABDIR", help=LAB_DIR_HELP)
@click.option("--force", is_flag=True, help="re-sign now, however long the list remains valid")
@at_option()
def lab_republish(lab: str, force: bool, at: str | None) -> int:
    from issuer import LabIssuer
    from protocol.encoding import format_time

    issuer = LabIssuer.open(Path(lab))
    until = issuer.republish(now=now(at), force=force)
    if until is None:
        current = issuer.status_list_expiry()
        shown = format_time(current) if current is not None else "-"
        err(
            f"the status list of {issuer.id} is valid until {shown}; nothing to do "
            "(it is re-signed when fewer than 10 days remain; --force re-signs now)"
        )
    else:
        err(
            f"re-signed the status list of {issuer.id}, valid until {format_time(until)}; "
            f"give {Path(lab) / 'status/list.jwt'} to your registry (yilu registry push)"
        )
    return EXIT_OK
