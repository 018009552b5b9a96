"""The root service benchmark runs end to end at a small size (120,000 labs is for make bench)."""

from __future__ import annotations

from bench.root_service import MEMBERS, measure


def test_the_root_bench_admits_publishes_and_builds_at_a_small_size() -> None:
    result = measure(150)
    assert result["members"] == MEMBERS and result["bundle_warnings"] == 0
    assert result["bundle_bytes"] > 0 and result["delta_bytes"] is not None
