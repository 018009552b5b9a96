"""The scan's fast paths give exactly what the general paths give (DESIGN.md, "Performance
budget"; docs/verifying.md, "Verification order" and "Status entries").

``Verifier._paired_status`` answers the usual two status entries without the general
loop; the per-verifier caches (lab facts, ``is_under``, formatted times) are keyed by
exactly what they are computed from. Each test compares a verifier with the fast path to
one forced onto the general path, result object for result object.
"""

from __future__ import annotations

from datetime import timedelta
from functools import cache
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from propkit import fast
from protocol import yl1
from protocol.reasons import ReasonCode as R
from testkit import NOW, World
from verifier import VerificationResult, Verifier, load_bundle


class _General(Verifier):
    """A verifier that never takes the paired-status fast path."""

    def _paired_status(self, *args: Any) -> None:  # type: ignore[override]
        return None


@cache
def _world() -> tuple[World, bytes | str]:
    world = World()
    spec = world.labs["cn-food"]
    spec.revoked.update({5, 6})  # slots: revocation bit 2k, suspension bit 2k + 1
    spec.suspended.update({5, 7})
    return world, world.bundle()


def _both(world: World, bundle: bytes | str, token: str, at: Any = NOW) -> tuple[VerificationResult, ...]:
    snapshot = load_bundle(bundle, pinned_roots=[world.root.public])
    fast_one = Verifier(snapshot, country="KZ")
    general = _General(snapshot, country="KZ")
    out = []
    for data in (token, yl1.encode(token)):
        a, b = fast_one.verify(data, at=at), general.verify(data, at=at)
        assert a == b
        assert a.to_json("ru") == b.to_json("ru")
        out.append(a)
    # a second scan (every cache warm) answers as the first
    assert fast_one.verify(token, at=at) == out[0]
    return tuple(out)


def _entry(purpose: object, index: object, url: object) -> dict[str, Any]:
    return {
        "type": "BitstringStatusListEntry",
        "statusPurpose": purpose,
        "statusListIndex": index,
        "statusListCredential": url,
    }


@pytest.mark.parametrize(
    ("slot", "expected"),
    [
        (0, (R.ACCEPTED,)),
        (5, (R.REVOKED, R.SUSPENDED)),
        (6, (R.REVOKED,)),
        (7, (R.SUSPENDED,)),
    ],
)
def test_usual_entries_answer_as_the_general_path(slot: int, expected: tuple[R, ...]) -> None:
    world, bundle = _world()
    assert _both(world, bundle, world.issue(slot=slot))[0].codes == expected


def test_an_expired_list_is_one_reason_beside_a_revocation() -> None:
    world = World()
    world.labs["cn-food"].revoked.add(10)
    world.labs["cn-food"].status_valid_until = NOW - timedelta(minutes=1)
    bundle = world.bundle()
    revoked = _both(world, bundle, world.issue(slot=10))[0]
    assert revoked.codes == (R.REVOKED, R.STATUS_UNAVAILABLE) and revoked.verdict == "reject"
    plain = _both(world, bundle, world.issue(slot=11))[0]
    assert plain.codes == (R.STATUS_UNAVAILABLE,) and plain.verdict == "unverifiable"


_URL = "https://qdtc.example.cn/status"
_INDICES = st.sampled_from(
    ["10", "11", "12", "13", "14", "15", "0", "1", "010", "-2", "abc", 10, None, "131072", "131073"]
)
_URLS = st.sampled_from([_URL, _URL, _URL + "/other", "https://other.example.cn/status", 42])
_PURPOSES = st.sampled_from(["revocation", "revocation", "suspension", "suspension", "refresh", None])


@fast(60)
@given(
    first=st.tuples(_PURPOSES, _INDICES, _URLS),
    second=st.tuples(_PURPOSES, _INDICES, _URLS),
    not_a_dict=st.booleans(),
)
def test_any_two_entries_answer_as_the_general_path(
    first: tuple[object, object, object], second: tuple[object, object, object], not_a_dict: bool
) -> None:
    world, bundle = _world()
    entries: list[Any] = [_entry(*first), _entry(*second)]
    if not_a_dict:
        entries[1] = "suspension"
    _both(world, bundle, world.issue(overrides={"credentialStatus": entries}))


def test_a_cached_lab_fact_never_answers_for_another_lab() -> None:
    """Two labs scanned in turn through one verifier: each result names its own lab."""
    world = World()
    snapshot = load_bundle(world.bundle(), pinned_roots=[world.root.public])
    verifier = Verifier(snapshot, country="KZ")
    for _ in range(2):
        for lab in ("cn-food", "cn-metals"):
            result = verifier.verify(world.issue(lab), at=NOW)
            assert result.issuer is not None and result.issuer["id"] == world.labs[lab].id
    a, b = verifier.verify(world.issue(), at=NOW), verifier.verify(world.issue(), at=NOW)
    assert a.issuer == b.issuer and a.issuer is not b.issuer
    assert a.issuer is not None and b.issuer is not None
    assert a.issuer["registry"] is not b.issuer["registry"] and a.issuer["names"] is not b.issuer["names"]
