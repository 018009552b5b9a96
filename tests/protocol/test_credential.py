"""TestCertificateCredential: member order, schema, context and report validation."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from protocol.credential import (
    MEMBER_ORDER,
    build_credential,
    credential_schema,
    order_members,
    status_entries,
    status_entry,
    validate_report,
    yilu_context,
)
from protocol.errors import MalformedInputError
from protocol.vocabulary import CREDENTIAL_TYPE, SCHEMA_ID, SCOPES, VC_CONTEXT, YILU_CONTEXT

ISSUER = "https://qdtc.example.cn"
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
STATUS = status_entries(7, f"{ISSUER}/status")


def build(report: dict[str, Any], valid_from: datetime = NOW) -> dict[str, Any]:
    return build_credential(
        report,
        credential_id=f"{ISSUER}/certificates/{report.get('reportNumber')}",
        issuer=ISSUER,
        valid_from=valid_from,
        status=copy.deepcopy(STATUS),
    )


def minimal_report(**changes: Any) -> dict[str, Any]:
    report: dict[str, Any] = {
        "reportNumber": "R-1",
        "validUntil": "2027-01-01T00:00:00Z",
        "scope": "food",
        "applicant": {"name": "A"},
        "product": {"name": "P"},
        "results": [{"parameter": "Lead (Pb)", "verdict": "pass"}],
        "conclusion": "pass",
    }
    report.update(changes)
    return report


@pytest.mark.parametrize(
    "name", ["green-tea-3", "green-tea-8", "green-tea-8-fail", "green-tea-40", "steel-rebar-6"]
)
def test_reference_reports_build(ref: Any, name: str) -> None:
    report = ref.load_report(name)
    original = copy.deepcopy(report)
    cred = build(report)
    assert report == original  # the input is not modified
    assert list(cred) == [
        "@context",
        "id",
        "type",
        "issuer",
        "validFrom",
        "validUntil",
        "credentialSubject",
        "credentialStatus",
        "credentialSchema",
    ]
    assert cred["@context"] == ["https://www.w3.org/ns/credentials/v2", "https://w3id.org/yilu/v1"]
    assert cred["type"] == ["VerifiableCredential", "TestCertificateCredential"]
    assert cred["id"] == f"{ISSUER}/certificates/{report['reportNumber']}"
    assert cred["issuer"] == ISSUER
    assert cred["validFrom"] == "2026-11-27T09:00:00Z"
    assert cred["validUntil"] == report["validUntil"]
    assert cred["credentialSchema"] == {
        "id": "https://w3id.org/yilu/schemas/test-certificate-v1.json",
        "type": "JsonSchema",
    }
    subject = cred["credentialSubject"]
    assert "validUntil" not in subject
    assert subject == {k: v for k, v in report.items() if k != "validUntil"}  # content unchanged
    assert list(subject)[:2] == ["reportNumber", "scope"]
    assert list(subject)[-1] == "conclusion"
    for result in subject["results"]:
        keys = list(result)
        assert keys == sorted(keys, key=MEMBER_ORDER.index)
    assert cred["credentialStatus"] == STATUS
    for entry in cred["credentialStatus"]:
        assert list(entry) == ["type", "statusPurpose", "statusListIndex", "statusListCredential"]
    # and the whole credential is valid against the shipped schema
    validator_cls = jsonschema.validators.validator_for(credential_schema())
    validator_cls(credential_schema()).validate(cred)


def test_member_order_is_canonical_regardless_of_input_order() -> None:
    report = minimal_report()
    shuffled = dict(reversed(list(report.items())))
    shuffled["results"] = [
        {"verdict": "pass", "unit": "mg/kg", "value": "1", "parameter": "X", "method": "M"}
    ]
    shuffled["product"] = {"destination": "KZ", "origin": "CN", "hsCode": "0902", "name": "P"}
    subject = build(shuffled)["credentialSubject"]
    assert list(subject) == ["reportNumber", "scope", "applicant", "product", "results", "conclusion"]
    assert list(subject["product"]) == ["name", "hsCode", "origin", "destination"]
    assert list(subject["results"][0]) == ["parameter", "method", "value", "unit", "verdict"]


def test_unknown_members_follow_in_report_order() -> None:
    report = minimal_report(zzz="last?", labNote="kept", aaa={"b": 1, "name": "n"})
    subject = build(report)["credentialSubject"]
    assert list(subject)[-3:] == ["zzz", "labNote", "aaa"]
    assert list(subject["aaa"]) == ["name", "b"]
    assert subject["labNote"] == "kept"


def test_order_members_recurses_into_lists() -> None:
    value = [{"verdict": "x", "parameter": "y"}, [{"unit": 1, "value": 2}], 3, "s"]
    assert order_members(value) == value
    assert list(order_members(value)[0]) == ["parameter", "verdict"]
    assert list(order_members(value)[1][0]) == ["value", "unit"]


def test_valid_until_lifted_and_normalised() -> None:
    for given, expected in [
        ("2027-05-20T00:00:00Z", "2027-05-20T00:00:00Z"),
        ("2027-05-20", "2027-05-20T00:00:00Z"),
        ("2027-05-20T08:00:00+08:00", "2027-05-20T00:00:00Z"),
        ("2027-05-20T00:00:00.75Z", "2027-05-20T00:00:00Z"),
    ]:
        cred = build(minimal_report(validUntil=given))
        assert cred["validUntil"] == expected
        assert "validUntil" not in cred["credentialSubject"]


def test_valid_from_normalised_to_utc() -> None:
    beijing = timezone(timedelta(hours=8))
    cred = build(minimal_report(), valid_from=datetime(2026, 11, 27, 17, 0, 0, 123, tzinfo=beijing))
    assert cred["validFrom"] == "2026-11-27T09:00:00Z"


def test_valid_until_must_follow_issuance() -> None:
    for until in ("2026-11-27T09:00:00Z", "2026-11-27T08:59:59Z", "2020-01-01"):
        with pytest.raises(MalformedInputError, match="validUntil"):
            build(minimal_report(validUntil=until))
    assert build(minimal_report(validUntil="2026-11-27T09:00:01Z"))["validUntil"] == "2026-11-27T09:00:01Z"


def test_status_entry() -> None:
    assert status_entry("revocation", 0, "https://l.example/status/revocation") == {
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "0",
        "statusListCredential": "https://l.example/status/revocation",
    }
    assert status_entry("suspension", 131071, "u")["statusListIndex"] == "131071"


def test_status_entries_are_one_slot_of_one_list() -> None:
    """Revocation at 2k, suspension at 2k + 1, both in the lab's one list (formats.md)."""
    url = "https://l.example/status"
    assert status_entries(2121, url) == [
        status_entry("revocation", 4242, url),
        status_entry("suspension", 4243, url),
    ]
    assert [e["statusListIndex"] for e in status_entries(65535, url)] == ["131070", "131071"]


# ---------------------------------------------------------------- validate_report


def test_minimal_report_is_valid() -> None:
    validate_report(minimal_report())


@pytest.mark.parametrize(
    "field", ["reportNumber", "scope", "applicant", "product", "results", "conclusion", "validUntil"]
)
def test_missing_required_field_rejected(field: str) -> None:
    report = minimal_report()
    del report[field]
    with pytest.raises(MalformedInputError, match=field):
        validate_report(report)


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        ({"scope": "weapons"}, "scope"),
        ({"scope": "Food"}, "scope"),
        ({"scope": None}, "scope"),
        ({"applicant": {"name": "A", "country": "cn"}}, "applicant/country"),
        ({"applicant": {"name": "A", "country": "CHN"}}, "applicant/country"),
        ({"applicant": {"name": ""}}, "applicant/name"),
        ({"applicant": {"country": "CN"}}, "applicant"),
        ({"applicant": "A Co."}, "applicant"),
        ({"product": {"name": "P", "origin": "China"}}, "product/origin"),
        ({"product": {"name": "P", "destination": "kz"}}, "product/destination"),
        ({"product": {"name": "P", "hsCode": "09.02"}}, "product/hsCode"),
        ({"product": {"name": "P", "quantity": {"value": -1, "unit": "kg"}}}, "product/quantity/value"),
        ({"product": {"name": "P", "quantity": {"value": "12", "unit": "kg"}}}, "product/quantity/value"),
        ({"product": {"name": "P", "nameLocal": {"Chinese": "茶"}}}, "product/nameLocal"),
        ({"results": {"parameter": "x", "verdict": "pass"}}, "results"),
        ({"results": "all fine"}, "results"),
        ({"results": []}, "results"),
        ({"results": [{"parameter": "x", "verdict": "ok"}]}, "results/0/verdict"),
        ({"results": [{"parameter": "x", "verdict": "pass"}, {"verdict": "pass"}]}, "results/1"),
        ({"results": [{"parameter": "x", "verdict": "pass", "value": 0.5}]}, "results/0/value"),
        ({"conclusion": "passed"}, "conclusion"),
        ({"reportNumber": ""}, "reportNumber"),
        ({"reportNumber": 12345}, "reportNumber"),
        ({"sampling": {"date": "16/11/2026"}}, "sampling/date"),
        ({"standards": "GB/T 1499.2"}, "standards"),
    ],
)
def test_invalid_report_rejected_naming_the_path(changes: dict[str, Any], path: str) -> None:
    with pytest.raises(MalformedInputError, match=f"at {path}") as info:
        validate_report(minimal_report(**changes))
    assert "report invalid" in str(info.value)


def test_too_many_results_rejected() -> None:
    results = [{"parameter": f"p{i}", "verdict": "pass"} for i in range(501)]
    with pytest.raises(MalformedInputError, match="results"):
        validate_report(minimal_report(results=results))
    validate_report(minimal_report(results=results[:500]))


@pytest.mark.parametrize("until", ["", "soon", "2027-13-01", "2027-05-20T00:00:00", 20270520, None])
def test_bad_valid_until_rejected(until: object) -> None:
    with pytest.raises(MalformedInputError, match="validUntil"):
        validate_report(minimal_report(validUntil=until))


@pytest.mark.parametrize("bad", [[], "report", None, 1])
def test_non_object_report_rejected(bad: object) -> None:
    """Said in the lab's words, before any schema path ("at (top level): [] is not of type")."""
    with pytest.raises(MalformedInputError, match=r"^a report must be a JSON object$"):
        validate_report(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("scope", SCOPES)
def test_every_scope_of_the_vocabulary_accepted(scope: str) -> None:
    validate_report(minimal_report(scope=scope))


def test_extra_unknown_fields_accepted() -> None:
    report = minimal_report(
        labInternalId=42,
        remarks=["sealed", "sample retained"],
        product={"name": "P", "colour": "green", "grade": {"ru": "высший"}},
        results=[{"parameter": "X", "verdict": "info", "uncertainty": "±0.02", "lod": "0.005"}],
    )
    validate_report(report)
    subject = build(report)["credentialSubject"]
    assert subject["labInternalId"] == 42
    assert subject["results"][0]["uncertainty"] == "±0.02"


def test_chinese_and_russian_report_accepted() -> None:
    report = minimal_report(
        reportNumber="报告-2026-001",
        scope="agricultural",
        applicant={
            "name": "ТОО «Алматы Агро»",
            "nameLocal": {"kk": "«Алматы Агро» ЖШС", "ru": "ТОО «Алматы Агро»"},
            "country": "KZ",
        },
        manufacturer={
            "name": "山东某某食品有限公司",
            "nameLocal": {"zh": "山东某某食品有限公司", "zh-Hans": "山东"},
        },
        product={
            "name": "Пшеница мягкая",
            "nameLocal": {"zh": "软质小麦", "ru": "Пшеница мягкая"},
            "hsCode": "100199",
            "quantity": {"value": 65.5, "unit": "т"},
            "origin": "KZ",
            "destination": "CN",
        },
        results=[
            {
                "parameter": "Влажность",
                "method": "ГОСТ 13586.5-2015",
                "value": "12,1",
                "unit": "%",
                "limit": "≤14,0",
                "verdict": "pass",
            },
            {
                "parameter": "黄曲霉毒素B1",
                "method": "GB 5009.22-2016",
                "value": "未检出",
                "unit": "μg/kg",
                "limit": "≤5",
                "verdict": "pass",
            },
        ],
        conclusion="inconclusive",
    )
    validate_report(report)
    cred = build(report)
    assert cred["credentialSubject"]["results"][1]["value"] == "未检出"
    assert json.loads(json.dumps(cred, ensure_ascii=False)) == cred


# ---------------------------------------------------------------- schema and context


def test_credential_schema_loads_from_the_package() -> None:
    schema = credential_schema()
    assert schema["$id"] == SCHEMA_ID
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.validators.validator_for(schema).check_schema(schema)
    assert schema["$defs"]["report"]["properties"]["scope"]["enum"] == list(SCOPES)
    assert credential_schema() is schema  # cached


def test_schema_rejects_a_tampered_credential(ref: Any) -> None:
    cred = build(ref.load_report("green-tea-8"))
    validator = jsonschema.validators.validator_for(credential_schema())(credential_schema())
    validator.validate(cred)
    for mutate in (
        lambda c: c.__setitem__("type", ["VerifiableCredential"]),
        lambda c: c.__setitem__("@context", [YILU_CONTEXT, VC_CONTEXT]),
        lambda c: c["credentialStatus"][0].__setitem__("statusListIndex", "-1"),
        lambda c: c["credentialStatus"][0].__setitem__("statusPurpose", "message"),
        lambda c: c.pop("issuer"),
        lambda c: c["credentialSubject"].__setitem__("conclusion", "ok"),
    ):
        bad = copy.deepcopy(cred)
        mutate(bad)
        assert not validator.is_valid(bad)


def test_yilu_context_loads_and_defines_every_subject_term() -> None:
    context = yilu_context()
    terms = context["@context"]
    assert terms["@protected"] is True
    assert CREDENTIAL_TYPE in terms
    subject_terms = MEMBER_ORDER[MEMBER_ORDER.index("reportNumber") : MEMBER_ORDER.index("credentialStatus")]
    for term in subject_terms:
        if term in ("en", "zh", "ru", "kk"):  # language keys of a @language container
            continue
        assert term in terms, term
    assert terms["nameLocal"]["@container"] == "@language"


def test_report_larger_than_a_certificate_carries_is_refused() -> None:
    from protocol.credential import MAX_REPORT_BYTES, validate_report

    big = json.loads((Path(__file__).parents[1] / "data" / "green-tea-8.json").read_text())
    assert MAX_REPORT_BYTES == 256 * 1024  # docs/formats.md, "Credential"
    big["notes"] = "x" * (256 * 1024)
    with pytest.raises(MalformedInputError, match="bytes"):
        validate_report(big)


def test_certificate_id_percent_encodes_the_report_number() -> None:
    from protocol.credential import certificate_id

    assert (
        certificate_id("https://lab.example", "QDTC-2026_1.a~b")
        == "https://lab.example/certificates/QDTC-2026_1.a~b"
    )
    assert (
        certificate_id("https://lab.example", "No. 12/2026")
        == "https://lab.example/certificates/No.%2012%2F2026"
    )
