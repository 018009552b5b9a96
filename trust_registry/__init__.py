"""Registries (accreditation bodies) and the federation root: lists, agreements, bundles.

The registry service (docs/architecture.md, "Registry service"): :func:`create_app` and
the local set-up functions in :mod:`trust_registry.registry`; the root service in
:mod:`trust_registry.root`.
"""

from trust_registry._warnings import list_warnings
from trust_registry.registry import create_app as create_registry_app
from trust_registry.registry import init_registry

__all__ = ["create_registry_app", "init_registry", "list_warnings"]

