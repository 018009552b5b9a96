"""Yilu: verifiable cross-border test certificates (see docs/architecture.md)."""

__version__ = "0.1.0"
