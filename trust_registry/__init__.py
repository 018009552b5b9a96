"""Registries (accreditation bodies) and the federation root: lists, agreements, bundles.

The registry service (docs/architecture.md, "Registry service"): :func:`create_app` and
the local set-up functions in :mod:`trust_registry.registry`; the root service in
:mod:`trust_registry.root`.
"""

from typing import Any

from trust_registry._warnings import list_warnings
from trust_registry.registry import create_app as create_registry_app
from trust_registry.registry import init_registry

__all__ = ["create_registry_app", "init_registry", "list_warnings"]


def __getattr__(name: str) -> Any:
    """The file-based ``Registry`` / ``FederationRoot``, for trust_registry/_cli.py alone
    until its rewrite onto the services lands (then both go, with this function). Nothing
    else imports them: the services' domain is the one source of truth (issue 7, §2)."""
    if name in ("Registry", "FederationRoot"):
        from trust_registry import _registry

        return getattr(_registry, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
