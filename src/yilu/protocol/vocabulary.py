"""Controlled vocabularies shared by every party (docs/formats.md, "Vocabularies")."""

from __future__ import annotations

from typing import Final

#: Accreditation scope categories (DESIGN.md, "Lists").
SCOPES: Final[tuple[str, ...]] = (
    "food",
    "agricultural",
    "chemicals",
    "energy",
    "minerals-metals",
    "environment",
    "medical-protective",
    "consumer-goods",
    "machinery-electrical",
    "textiles",
)

ACCREDITATION_STATUSES: Final[tuple[str, ...]] = ("active", "suspended", "withdrawn")
MEMBER_STATUSES: Final[tuple[str, ...]] = ("active", "suspended", "withdrawn")
KEY_REVOCATION_REASONS: Final[tuple[str, ...]] = (
    "keyCompromise",
    "superseded",
    "cessationOfOperation",
)
STATUS_PURPOSES: Final[tuple[str, ...]] = ("revocation", "suspension")

VC_CONTEXT: Final = "https://www.w3.org/ns/credentials/v2"
YILU_CONTEXT: Final = "https://w3id.org/yilu/v1"
CREDENTIAL_TYPE: Final = "TestCertificateCredential"
SCHEMA_ID: Final = "https://w3id.org/yilu/schemas/test-certificate-v1.json"
