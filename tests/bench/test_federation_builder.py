"""The benchmark's bulk federation builder must produce trust data the verifier accepts,
so that `make bench` never measures junk."""

from __future__ import annotations

from bench import federation as fb
from protocol import yl1
from verifier import Verifier, load_bundle
from verifier._snapshot import load_bundle as load_bundle_internal


def test_a_small_federation_loads_whole_and_its_certificate_is_accepted() -> None:
    fed = fb.build(20)
    bundle = fb.make_bundle(fb.sign_parts(fed, fb.NOW), fed.root)
    snapshot = load_bundle_internal(bundle, pinned_roots=[fed.root.public])
    assert load_bundle is load_bundle_internal
    assert snapshot.skipped == []
    assert len(snapshot.labs) == 20
    assert len(snapshot.trust_lists) == len(fb.MEMBERS)
    assert {lab for lab, _ in snapshot.status_lists} == {spec.id for spec in fed.labs}

    text = yl1.encode(fb.issue_sample(fed))
    result = Verifier(snapshot, country=fb.INSPECTOR).verify(text, at=fb.SCAN_AT)
    assert result.verdict == "accept", result.reasons


def test_the_daily_update_is_a_newer_whole_snapshot() -> None:
    fed = fb.build(200)
    before = load_bundle(fb.make_bundle(fb.sign_parts(fed, fb.NOW), fed.root), pinned_roots=[fed.root.public])
    changed = fb.change_one_percent(fed)
    after = load_bundle(
        fb.make_bundle(fb.sign_parts(fed, fb.NEXT_DAY), fed.root), pinned_roots=[fed.root.public]
    )
    assert len(changed) == 2
    assert after.skipped == []
    assert after.sequence == before.sequence + 1
