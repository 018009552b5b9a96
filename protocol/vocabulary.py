"""Controlled vocabularies shared by every party (docs/formats.md, "Vocabularies")."""

from __future__ import annotations

import re
from collections.abc import Mapping
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


#: Names (lowercase English and a few native spellings) people type instead of the code,
#: so that the refusal can say "did you mean CN?" (issue 7, "Validation at every door").
COUNTRY_HINTS: Final[dict[str, str]] = {
    "china": "CN",
    "prc": "CN",
    "zhongguo": "CN",
    "中国": "CN",
    "kazakhstan": "KZ",
    "qazaqstan": "KZ",
    "kyrgyzstan": "KG",
    "russia": "RU",
    "russian federation": "RU",
    "россия": "RU",
    "uzbekistan": "UZ",
    "tajikistan": "TJ",
    "turkmenistan": "TM",
    "mongolia": "MN",
    "pakistan": "PK",
    "iran": "IR",
    "turkey": "TR",
    "turkiye": "TR",
    "georgia": "GE",
    "azerbaijan": "AZ",
    "belarus": "BY",
    "poland": "PL",
    "germany": "DE",
    "hong kong": "HK",
    "united kingdom": "GB",
    "uk": "GB",
    "england": "GB",
    "usa": "US",
    "united states": "US",
}


def check_country(value: str, what: str = "country") -> str:
    """``value`` as an ISO 3166-1 alpha-2 code (case-insensitive), or a one-line error that
    suggests the code when ``value`` is a country's name (:data:`COUNTRY_HINTS`)."""
    code = value.strip().upper()
    if code not in COUNTRIES:
        hint = COUNTRY_HINTS.get(value.strip().lower())
        suggestion = f"did you mean {hint}?" if hint else "use two letters such as CN, KZ, RU or UZ"
        raise MalformedInputError(
            f"{what} {value[:40]!r} is not an ISO 3166-1 alpha-2 country code: {suggestion}"
        )
    return code


#: A BCP 47 language tag as names are keyed by: a 2-3 letter language, then optional
#: script / region / variant subtags (``en``, ``zh-Hans``, ``zh-CN``, ``kk-Cyrl-KZ``); a variant
#: is 5-8 letters or digits, or 4 starting with a digit (RFC 5646: ``de-CH-1996``).
_LANGUAGE_TAG: Final = re.compile(
    r"[a-z]{2,3}(?:-[A-Za-z]{4})?(?:-(?:[A-Z]{2}|[0-9]{3}))?(?:-(?:[A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*"
)
MAX_NAME_CHARS: Final = 300


def check_language_tag(tag: str) -> str:
    """``tag`` if it is a BCP 47 language tag as Yilu keys names by, else a one-line error."""
    if not isinstance(tag, str) or _LANGUAGE_TAG.fullmatch(tag) is None:
        shown = tag[:20] if isinstance(tag, str) else tag
        raise MalformedInputError(
            f"name language {shown!r} is not a BCP 47 language tag: use e.g. en, zh, ru, kk or zh-Hans"
        )
    return tag


def check_names(names: Mapping[str, str]) -> dict[str, str]:
    """A lab's names: at least one, each keyed by a language tag, each a non-empty line."""
    if not isinstance(names, Mapping) or not names:
        raise MalformedInputError(
            'a lab needs at least one name with its language, e.g. {"en": "Qingdao Lab"}'
        )
    out: dict[str, str] = {}
    for tag, value in names.items():
        check_language_tag(tag)
        if not isinstance(value, str) or not value.strip():
            raise MalformedInputError(f"the {tag} name is empty: give the lab's name in that language")
        if len(value) > MAX_NAME_CHARS or any(c in value for c in "\r\n\t"):
            raise MalformedInputError(
                f"the {tag} name must be one line of at most {MAX_NAME_CHARS} characters"
            )
        out[tag] = value.strip()
    return out


def check_scope(category: str) -> str:
    """``category`` if it is in the scope vocabulary, else a one-line error listing it."""
    if category not in SCOPES:
        raise MalformedInputError(f"unknown scope {str(category)[:40]!r}: use one of {', '.join(SCOPES)}")
    return category
