"""The result's own decisions: its JSON shape (the ``yilu verify --json`` contract,
docs/verifying.md, "The `yilu verify` command"), the verdict it derives from its reasons
(docs/verifying.md, "Three outcomes") and its raising twin.

The CLI tests check the same shape through a subprocess, which no in-process mutant sees;
these check it in-process, one decision at a time.
"""

from __future__ import annotations

import pytest

from protocol.errors import TrustDataError, VerificationError
from protocol.reasons import ReasonCode as R
from protocol.reasons import advice, message
from verifier.result import Reason, VerificationResult


def test_reason_json_has_code_message_advice_and_its_details() -> None:
    reason = Reason(R.EXPIRED, {"validUntil": "2026-01-01T00:00:00Z"})
    assert reason.to_json() == {
        "code": "EXPIRED",
        "message": message(R.EXPIRED, "en", {"validUntil": "2026-01-01T00:00:00Z"}),
        "advice": advice(R.EXPIRED, "en"),
        "details": {"validUntil": "2026-01-01T00:00:00Z"},
    }
    assert "2026-01-01T00:00:00Z" in reason.to_json()["message"]
    assert reason.to_json()["advice"] != ""


def test_reason_json_without_details_has_no_details_member() -> None:
    assert list(Reason(R.REVOKED).to_json()) == ["code", "message", "advice"]


def test_reason_json_details_are_a_copy() -> None:
    details = {"lab": "Lab A", "scope": "food"}
    out = Reason(R.SCOPE_NOT_ACCREDITED, details).to_json()
    assert out["details"] == details and out["details"] is not details


def test_reason_message_and_advice_follow_the_language() -> None:
    reason = Reason(R.REVOKED)
    for lang in ("en", "zh", "ru", "kk"):
        assert reason.message(lang) == message(R.REVOKED, lang, {})
        assert reason.advice(lang) == advice(R.REVOKED, lang)
        assert reason.to_json(lang)["message"] == message(R.REVOKED, lang, {})
        assert reason.to_json(lang)["advice"] == advice(R.REVOKED, lang)
    assert reason.advice("zh") != reason.advice("en")


def test_result_json_members_in_order_and_in_the_language_asked() -> None:
    result = VerificationResult.of([Reason(R.SUSPENDED)], {"id": "c"}, {"id": "lab"}, {"sequence": 3})
    out = result.to_json("ru")
    assert list(out) == ["verdict", "reasons", "credential", "issuer", "trust"]
    assert out == {
        "verdict": "reject",
        "reasons": [Reason(R.SUSPENDED).to_json("ru")],
        "credential": {"id": "c"},
        "issuer": {"id": "lab"},
        "trust": {"sequence": 3},
    }


@pytest.mark.parametrize(
    ("codes", "verdict"),
    [
        ((), "accept"),
        ((R.ACCEPTED,), "accept"),
        ((R.NOT_RECOGNISED,), "reject"),
        ((R.STATUS_UNAVAILABLE,), "unverifiable"),
        ((R.STATUS_UNAVAILABLE, R.REVOKED), "reject"),
        ((R.NOT_RECOGNISED, R.TRUST_DATA_STALE), "unverifiable"),
    ],
)
def test_verdict_follows_from_the_reasons(codes: tuple[R, ...], verdict: str) -> None:
    result = VerificationResult.of(Reason(c) for c in codes)
    assert result.verdict == verdict
    assert result.accepted is (verdict == "accept")
    assert result.codes == codes


def test_reject_holds_one_reason_with_the_details_given() -> None:
    result = VerificationResult.reject(R.MALFORMED, detail="no scope")
    assert result.reasons == (Reason(R.MALFORMED, {"detail": "no scope"}),)
    assert result.verdict == "reject" and result.credential is None and result.trust is None


def test_raise_for_verdict_returns_an_accept() -> None:
    result = VerificationResult.of([Reason(R.ACCEPTED)])
    assert result.raise_for_verdict() is result


def test_raise_for_verdict_raises_verification_error_for_a_reject() -> None:
    result = VerificationResult.of([Reason(R.REVOKED), Reason(R.NOT_RECOGNISED, {"country": "KZ"})])
    with pytest.raises(VerificationError) as info:
        result.raise_for_verdict()
    assert type(info.value) is VerificationError
    assert info.value.codes == (R.REVOKED, R.NOT_RECOGNISED)
    assert str(info.value) == "; ".join(r.message("en") for r in result.reasons)


def test_raise_for_verdict_raises_trust_data_error_when_unverifiable() -> None:
    result = VerificationResult.of([Reason(R.TRUST_DATA_STALE, {"detail": "x"}), Reason(R.NOT_RECOGNISED)])
    with pytest.raises(TrustDataError) as info:
        result.raise_for_verdict()
    assert info.value.code == R.TRUST_DATA_STALE
    assert info.value.codes == (R.TRUST_DATA_STALE, R.NOT_RECOGNISED)
    assert str(info.value) == "; ".join(r.message("en") for r in result.reasons)
