"""Registries (accreditation bodies) and the federation root: lists, agreements, bundles."""

from trust_registry._registry import LIST_VALIDITY, FederationRoot, Registry, list_warnings

__all__ = ["LIST_VALIDITY", "FederationRoot", "Registry", "list_warnings"]
