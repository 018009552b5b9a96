"""Decisions of protocol/credential.py not pinned elsewhere: the report size bound at the
documented 256 KiB (docs/formats.md, "Credential": report input), error paths, validUntil."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from protocol.credential import build_credential, credential_schema, validate_report, yilu_context
from protocol.encoding import dumps_compact
from protocol.errors import MalformedInputError
from tests.testkit import report

LIMIT = 256 * 1024
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def report_of(size: int) -> dict[str, Any]:
    """The reference report padded (in ``standards``, which has no length bound) to ``size`` bytes."""
    padded = report()
    padded["standards"] = [""]
    padded["standards"] = ["s" * (size - len(dumps_compact(padded)))]
    assert len(dumps_compact(padded)) == size
    return padded


def test_a_report_of_exactly_256_kib_is_accepted_and_one_byte_more_refused() -> None:
    validate_report(report_of(LIMIT))
    expected = f"^report is {LIMIT + 1} bytes; the most a certificate carries is {LIMIT}$"
    with pytest.raises(MalformedInputError, match=expected):
        validate_report(report_of(LIMIT + 1))


def test_a_report_with_non_json_values_is_refused() -> None:
    with pytest.raises(MalformedInputError, match="only JSON values"):
        validate_report({**report(), "extra": {1, 2}})


def test_errors_name_the_path_or_the_top_level() -> None:
    broken = report()
    del broken["conclusion"]
    with pytest.raises(MalformedInputError, match=r"^report invalid at \(top level\): 'conclusion' is a"):
        validate_report(broken)
    broken = report()
    broken["results"][1]["verdict"] = "maybe"
    with pytest.raises(MalformedInputError, match=r"^report invalid at results/1/verdict: "):
        validate_report(broken)


@pytest.mark.parametrize("until", ["next week", "2027-13-01T00:00:00Z", 20270101, None])
def test_valid_until_must_be_a_time(until: object) -> None:
    with pytest.raises(MalformedInputError, match="validUntil"):
        validate_report({**report(), "validUntil": until})


def test_a_report_without_valid_until_is_refused() -> None:
    without = report()
    del without["validUntil"]
    with pytest.raises(MalformedInputError, match=r"^report invalid at validUntil: the report must say"):
        validate_report(without)


def test_build_credential_checks_the_report_before_anything_else() -> None:
    broken = report()
    del broken["results"]
    with pytest.raises(MalformedInputError, match="'results' is a required"):
        build_credential(
            broken, credential_id="https://l.cn/c/1", issuer="https://l.cn", valid_from=NOW, status=[]
        )


def test_valid_until_one_second_after_issuance_is_accepted_and_equal_refused() -> None:
    def build(until: datetime) -> dict[str, Any]:
        return build_credential(
            {**report(), "validUntil": until.strftime("%Y-%m-%dT%H:%M:%SZ")},
            credential_id="https://l.cn/c/1",
            issuer="https://l.cn",
            valid_from=NOW,
            status=[],
        )

    built = build(NOW + timedelta(seconds=1))
    assert (built["validFrom"], built["validUntil"]) == ("2026-11-27T09:00:00Z", "2026-11-27T09:00:01Z")
    assert "validUntil" not in built["credentialSubject"]
    with pytest.raises(MalformedInputError, match="not after the issuance time"):
        build(NOW)


def test_the_shipped_schema_and_context_are_the_documented_ones() -> None:
    assert credential_schema()["$id"] == "https://w3id.org/yilu/schemas/test-certificate-v1.json"
    assert "@context" in yilu_context()
