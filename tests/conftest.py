"""Fixtures shared by every test package (the helpers themselves live in testkit.py)."""

from __future__ import annotations

import pytest

from testkit import World


@pytest.fixture
def world() -> World:
    """A fresh in-memory federation with new keys."""
    return World()
