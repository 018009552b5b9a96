"""The ``TestCertificateCredential`` (W3C VC Data Model 2.0) and its shipped schema/context.

Member order is part of the format (docs/formats.md, "Credential"): the issuer writes
members in :data:`MEMBER_ORDER` so that the ``YL1`` preset dictionary matches them;
verifiers never re-serialise, they check the signed bytes as they are.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any, Final
from urllib.parse import quote

import jsonschema

from protocol.encoding import dumps_compact, format_time, parse_time
from protocol.errors import MalformedInputError
from protocol.status_list import slot_indices
from protocol.vocabulary import CREDENTIAL_TYPE, SCHEMA_ID, VC_CONTEXT, YILU_CONTEXT

#: Canonical member order for every object in a credential; unknown members follow
#: in the order the report gave them.
MEMBER_ORDER: Final[tuple[str, ...]] = (
    "@context",
    "id",
    "type",
    "issuer",
    "validFrom",
    "validUntil",
    "credentialSubject",
    "reportNumber",
    "scope",
    "applicant",
    "manufacturer",
    "product",
    "name",
    "nameLocal",
    "en",
    "zh",
    "ru",
    "kk",
    "country",
    "hsCode",
    "batch",
    "quantity",
    "origin",
    "destination",
    "sampling",
    "date",
    "standards",
    "results",
    "parameter",
    "method",
    "value",
    "unit",
    "limit",
    "verdict",
    "conclusion",
    "credentialStatus",
    "statusPurpose",
    "statusListIndex",
    "statusListCredential",
    "credentialSchema",
)
_RANK: Final = {name: i for i, name in enumerate(MEMBER_ORDER)}
MAX_REPORT_BYTES: Final = 256 * 1024


def order_members(value: Any) -> Any:
    """Return ``value`` with every object's members in canonical order (recursively)."""
    if isinstance(value, Mapping):
        keys = sorted(value, key=lambda k: _RANK.get(k, len(_RANK)))
        return {k: order_members(value[k]) for k in keys}
    if isinstance(value, list):
        return [order_members(v) for v in value]
    return value


@cache
def credential_schema() -> dict[str, Any]:
    """The JSON Schema shipped in the package (nothing is fetched)."""
    text = resources.files("protocol").joinpath("data/test-certificate-v1.schema.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def yilu_context() -> dict[str, Any]:
    """The JSON-LD context for ``https://w3id.org/yilu/v1`` shipped in the package."""
    text = resources.files("protocol").joinpath("data/yilu-v1.context.jsonld").read_text()
    context: dict[str, Any] = json.loads(text)
    return context


@cache
def _report_validator() -> jsonschema.protocols.Validator:
    schema = credential_schema()
    subschema = {"$defs": schema["$defs"], "$ref": "#/$defs/report"}
    cls = jsonschema.validators.validator_for(schema)
    validator: jsonschema.protocols.Validator = cls(subschema, format_checker=cls.FORMAT_CHECKER)
    return validator


def validate_report(report: Mapping[str, Any]) -> None:
    """Raise :class:`MalformedInputError` naming the first problem in a lab's report."""
    if not isinstance(report, Mapping):
        raise MalformedInputError("a report must be a JSON object")
    try:
        size = len(dumps_compact(report))
    except (TypeError, ValueError) as exc:
        raise MalformedInputError("a report must hold only JSON values") from exc
    if size > MAX_REPORT_BYTES:
        raise MalformedInputError(
            f"report is {size} bytes; the most a certificate carries is {MAX_REPORT_BYTES}"
        )
    error = jsonschema.exceptions.best_match(_report_validator().iter_errors(report))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        raise MalformedInputError(f"report invalid at {where}: {error.message}")
    if "validUntil" not in report:
        raise MalformedInputError("report invalid at validUntil: the report must say until when it is valid")
    parse_time(report["validUntil"], "validUntil")


def certificate_id(issuer: str, report_number: str) -> str:
    """A certificate's id: the lab URI, ``/certificates/``, the percent-encoded report number.

    One report is certified once (docs/formats.md, "Credential"); deriving the id from
    the report number also costs almost nothing in the QR, where the number appears anyway.
    """
    return f"{issuer}/certificates/{quote(report_number, safe='-._~')}"


def status_entry(purpose: str, index: int, list_url: str) -> dict[str, str]:
    """A ``BitstringStatusListEntry`` (no ``id``: it is optional and costs QR space)."""
    return {
        "type": "BitstringStatusListEntry",
        "statusPurpose": purpose,
        "statusListIndex": str(index),
        "statusListCredential": list_url,
    }


def status_entries(slot: int, list_url: str) -> list[dict[str, str]]:
    """A certificate's two entries for slot ``slot`` of its lab's one list (``list_url``):
    revocation at index 2k, then suspension at 2k + 1 (docs/formats.md, "Status lists")."""
    revocation, suspension = slot_indices(slot)
    return [
        status_entry("revocation", revocation, list_url),
        status_entry("suspension", suspension, list_url),
    ]


def build_credential(
    report: Mapping[str, Any],
    *,
    credential_id: str,
    issuer: str,
    valid_from: datetime,
    status: list[dict[str, str]],
) -> dict[str, Any]:
    """Turn a lab's report into an unsigned credential.

    The report's ``validUntil`` moves up to the credential; everything else becomes
    ``credentialSubject`` unchanged apart from member order.
    """
    validate_report(report)
    subject = {k: v for k, v in report.items() if k != "validUntil"}
    valid_until = parse_time(report["validUntil"], "validUntil")
    if valid_until <= valid_from:
        raise MalformedInputError("report invalid at validUntil: it is not after the issuance time")
    credential = {
        "@context": [VC_CONTEXT, YILU_CONTEXT],
        "id": credential_id,
        "type": ["VerifiableCredential", CREDENTIAL_TYPE],
        "issuer": issuer,
        "validFrom": format_time(valid_from),
        "validUntil": format_time(valid_until),
        "credentialSubject": order_members(subject),
        "credentialStatus": status,
        "credentialSchema": {"id": SCHEMA_ID, "type": "JsonSchema"},
    }
    ordered: dict[str, Any] = order_members(credential)
    return ordered
