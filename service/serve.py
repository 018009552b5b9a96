"""Run a role's app with uvicorn: ``yilu serve registry|root|issuer|verifier``.

DESIGN "Command line contract"; docs/architecture.md, "Service layer". uvicorn[standard]
(uvloop + httptools): the plain asyncio loop stalls requests by ~44 ms under
``--workers`` (DESIGN "Facts measured"). TLS is on when both a certificate and a key are
given; either alone is refused, so a typo never silently serves plain HTTP.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from protocol.errors import InputError
from service.logs import configure_logging
from service.settings import ServiceSettings


def check_tls(tls_cert: Path | None, tls_key: Path | None) -> None:
    """Both or neither, and readable: one line saying what to fix otherwise."""
    if (tls_cert is None) != (tls_key is None):
        raise InputError("TLS needs both --tls-cert and --tls-key (PEM files); give both or neither")
    for what, path in (("certificate", tls_cert), ("key", tls_key)):
        if path is not None and not path.is_file():
            raise InputError(f"TLS {what} {path} is not a readable file")


def run(
    app: FastAPI,
    settings: ServiceSettings,
    *,
    role: str,
    tls_cert: Path | None = None,
    tls_key: Path | None = None,
) -> None:
    """Serve ``app`` until interrupted, on ``settings.host`` and the role's port."""
    import uvicorn

    check_tls(tls_cert, tls_key)
    configure_logging(json_lines=settings.log_json)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port_for(role),
        log_config=None,
        access_log=False,  # the service middleware writes one access line per request
        ssl_certfile=str(tls_cert) if tls_cert else None,
        ssl_keyfile=str(tls_key) if tls_key else None,
        server_header=False,
    )
