"""Controlled vocabularies shared by every party (docs/formats.md, "Vocabularies")."""

from __future__ import annotations

from typing import Final

from protocol.errors import MalformedInputError

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
STATUS_LIST_TYPE: Final = "BitstringStatusListCredential"
SCHEMA_ID: Final = "https://w3id.org/yilu/schemas/test-certificate-v1.json"

#: ISO 3166-1 alpha-2: the 249 officially assigned codes (countries of labs, registries,
#: agreements and inspectors).
COUNTRIES: Final[frozenset[str]] = frozenset(
    """AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR
    BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC
    EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK
    HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB
    LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ
    NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU
    RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN
    TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW""".split()  # noqa: SIM905 -- 249 codes read best as a block
)


def check_country(value: str, what: str = "country") -> str:
    """``value`` as an ISO 3166-1 alpha-2 code (case-insensitive), or a one-line error."""
    code = value.strip().upper()
    if code not in COUNTRIES:
        raise MalformedInputError(
            f"{what} {value[:40]!r} is not an ISO 3166-1 alpha-2 country code: use two letters such as "
            "CN, KZ, RU or UZ"
        )
    return code
