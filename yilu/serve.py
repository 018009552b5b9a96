"""``yilu serve registry|root``: run a role's service with uvicorn (DESIGN "Command line
contract"; docs/operating-a-registry.md).

Settings come from ``YILU_*`` variables (service/settings.py); the options here override
them. A service with nothing set up yet still starts, and ``/ready`` says what is
missing. The issuer and verifier node services join here in their own issues.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from protocol.cli import EXIT_OK, group

serve = group(
    "serve",
    help="Run a Yilu service on this machine: its data (database, encrypted key) under "
    "--data-dir, settings from YILU_* variables; every error is an RFC 9457 problem, "
    "/openapi.json describes every endpoint.",
    example="YILU_KEY_PASSPHRASE='…' yilu serve registry --data-dir /srv/yilu-registry\n"
    "yilu serve root --port 8711 --tls-cert cert.pem --tls-key key.pem",
)


def _options(f: Callable[..., Any]) -> Callable[..., Any]:
    for decorate in (
        click.option("--tls-key", metavar="FILE", help="TLS private key (PEM); with --tls-cert serves HTTPS"),
        click.option("--tls-cert", metavar="FILE", help="TLS certificate chain (PEM); with --tls-key"),
        click.option(
            "--database-url",
            metavar="URL",
            help="postgresql+psycopg://USER@HOST/DB (default $YILU_DATABASE_URL, else SQLite there)",
        ),
        click.option(
            "--data-dir", metavar="DIR", help="the service's data (default $YILU_DATA_DIR or ./yilu-data)"
        ),
        click.option(
            "--port", type=click.IntRange(0, 65535), help="port (default $YILU_PORT or the role's own)"
        ),
        click.option("--host", metavar="HOST", help="address to listen on (default $YILU_HOST or 127.0.0.1)"),
    ):
        f = decorate(f)
    return f


def _run(role: str, factory: Callable[..., Any], **given: Any) -> int:
    from service.serve import check_tls, run
    from service.settings import load_settings

    tls_cert = Path(given.pop("tls_cert")) if given.get("tls_cert") else None
    tls_key = Path(given.pop("tls_key")) if given.get("tls_key") else None
    given.pop("tls_cert", None), given.pop("tls_key", None)
    check_tls(tls_cert, tls_key)
    settings = load_settings(**{k: v for k, v in given.items() if v is not None})
    app = factory(settings)
    run(app, settings, role=role, tls_cert=tls_cert, tls_key=tls_key)
    return EXIT_OK


@serve.command(
    "registry",
    help="Run the registry service (default port 8710): labs, keys, status lists, the trust list "
    "re-signed on change and before it expires. Set it up first with yilu registry init.",
    short_help="run the registry service",
    example="YILU_KEY_PASSPHRASE='…' yilu serve registry --data-dir /srv/yilu-registry",
)
@_options
def serve_registry(**given: Any) -> int:
    from trust_registry.registry import create_app

    return _run("registry", create_app, **given)


@serve.command(
    "root",
    help="Run the federation root service (default port 8711): members, agreements, the "
    "federation list, bundles. Set it up first with yilu root init.",
    short_help="run the federation root service",
    example="YILU_KEY_PASSPHRASE='…' yilu serve root --data-dir /srv/yilu-root",
)
@_options
def serve_root(**given: Any) -> int:
    from trust_registry.root import create_app

    return _run("root", create_app, **given)
