"""Machine-readable reason codes and their messages in English, Chinese and Russian.

The codes and the order in which they are checked are documented in docs/verifying.md.
Messages are templates: ``{name}`` placeholders are filled from a reason's details, and
a missing detail leaves the placeholder's name visible rather than failing.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Final, Literal

Lang = Literal["en", "zh", "ru"]
LANGS: Final[tuple[Lang, ...]] = ("en", "zh", "ru")


class ReasonCode(StrEnum):
    """Why a certificate was rejected (or, for ``ACCEPTED``, why it was accepted)."""

    ACCEPTED = "ACCEPTED"
    MALFORMED = "MALFORMED"
    UNSUPPORTED_FORMAT = "UNSUPPORTED_FORMAT"
    UNSUPPORTED_ALG = "UNSUPPORTED_ALG"
    UNKNOWN_KEY = "UNKNOWN_KEY"
    SIGNATURE_INVALID = "SIGNATURE_INVALID"
    NOT_YET_VALID = "NOT_YET_VALID"
    EXPIRED = "EXPIRED"
    KEY_NOT_VALID_AT_ISSUANCE = "KEY_NOT_VALID_AT_ISSUANCE"
    KEY_REVOKED = "KEY_REVOKED"
    LAB_NOT_ACCREDITED = "LAB_NOT_ACCREDITED"
    SCOPE_NOT_ACCREDITED = "SCOPE_NOT_ACCREDITED"
    REGISTRY_NOT_MEMBER = "REGISTRY_NOT_MEMBER"
    REVOKED = "REVOKED"
    SUSPENDED = "SUSPENDED"
    STATUS_UNAVAILABLE = "STATUS_UNAVAILABLE"
    NOT_RECOGNISED = "NOT_RECOGNISED"
    TRUST_DATA_STALE = "TRUST_DATA_STALE"
    TRUST_DATA_INVALID = "TRUST_DATA_INVALID"


_MESSAGES: Final[Mapping[ReasonCode, Mapping[Lang, str]]] = {
    ReasonCode.ACCEPTED: {
        "en": "Genuine, valid and recognised in {country}.",
        "zh": "证书真实有效，并获 {country} 承认。",
        "ru": "Подлинный, действительный и признаётся в {country}.",
    },
    ReasonCode.MALFORMED: {
        "en": "The code could not be read as a certificate: {detail}",
        "zh": "无法将该码读取为证书：{detail}",
        "ru": "Код не удалось прочитать как сертификат: {detail}",
    },
    ReasonCode.UNSUPPORTED_FORMAT: {
        "en": "This is not a certificate format this verifier supports: {detail}",
        "zh": "本验证程序不支持该证书格式：{detail}",
        "ru": "Этот формат сертификата не поддерживается: {detail}",
    },
    ReasonCode.UNSUPPORTED_ALG: {
        "en": "The certificate's signature algorithm is not allowed: {detail}",
        "zh": "证书的签名算法不被允许：{detail}",
        "ru": "Алгоритм подписи сертификата недопустим: {detail}",
    },
    ReasonCode.UNKNOWN_KEY: {
        "en": "The signing key ({kid}) is not in the trust data: the issuer is unknown.",
        "zh": "信任数据中没有该签名密钥（{kid}）：签发机构未知。",
        "ru": "Ключ подписи ({kid}) отсутствует в данных доверия: издатель неизвестен.",
    },
    ReasonCode.SIGNATURE_INVALID: {
        "en": "The signature does not match: the certificate was altered or forged.",
        "zh": "签名不匹配：证书已被篡改或伪造。",
        "ru": "Подпись не совпадает: сертификат изменён или подделан.",
    },
    ReasonCode.NOT_YET_VALID: {
        "en": "The certificate is valid only from {validFrom}; check this device's clock.",
        "zh": "证书自 {validFrom} 起才生效；请检查本设备的时钟。",
        "ru": "Сертификат действует только с {validFrom}; проверьте часы устройства.",
    },
    ReasonCode.EXPIRED: {
        "en": "The certificate expired on {validUntil}.",
        "zh": "证书已于 {validUntil} 过期。",
        "ru": "Срок действия сертификата истёк {validUntil}.",
    },
    ReasonCode.KEY_NOT_VALID_AT_ISSUANCE: {
        "en": "The lab's key was not valid when the certificate was issued ({validFrom}).",
        "zh": "证书签发时（{validFrom}）实验室密钥不在有效期内。",
        "ru": "Ключ лаборатории не действовал на момент выдачи сертификата ({validFrom}).",
    },
    ReasonCode.KEY_REVOKED: {
        "en": "The lab's signing key was revoked ({reason}, {revokedAt}).",
        "zh": "实验室签名密钥已被撤销（{reason}，{revokedAt}）。",
        "ru": "Ключ подписи лаборатории отозван ({reason}, {revokedAt}).",
    },
    ReasonCode.LAB_NOT_ACCREDITED: {
        "en": "The lab {lab} was not accredited when the certificate was issued ({status}).",
        "zh": "证书签发时实验室 {lab} 未获认可（{status}）。",
        "ru": "Лаборатория {lab} не была аккредитована на момент выдачи ({status}).",
    },
    ReasonCode.SCOPE_NOT_ACCREDITED: {
        "en": "The lab {lab} is not accredited for {scope}.",
        "zh": "实验室 {lab} 未获 {scope} 领域的认可。",
        "ru": "Лаборатория {lab} не аккредитована в области {scope}.",
    },
    ReasonCode.REGISTRY_NOT_MEMBER: {
        "en": "The accreditation body {registry} is not a member in good standing ({status}).",
        "zh": "认可机构 {registry} 不是正常状态的成员（{status}）。",
        "ru": "Орган по аккредитации {registry} не является действующим членом ({status}).",
    },
    ReasonCode.REVOKED: {
        "en": "The lab has revoked this certificate.",
        "zh": "实验室已撤销该证书。",
        "ru": "Лаборатория отозвала этот сертификат.",
    },
    ReasonCode.SUSPENDED: {
        "en": "The lab has suspended this certificate.",
        "zh": "实验室已暂停该证书。",
        "ru": "Лаборатория приостановила действие этого сертификата.",
    },
    ReasonCode.STATUS_UNAVAILABLE: {
        "en": "The certificate's status could not be checked: {detail}",
        "zh": "无法核查证书状态：{detail}",
        "ru": "Не удалось проверить статус сертификата: {detail}",
    },
    ReasonCode.NOT_RECOGNISED: {
        "en": "{country} does not recognise {registry} results for {scope}.",
        "zh": "{country} 不承认 {registry} 在 {scope} 领域的结果。",
        "ru": "{country} не признаёт результаты {registry} в области {scope}.",
    },
    ReasonCode.TRUST_DATA_STALE: {
        "en": "The trust data on this device is out of date ({detail}); sync it.",
        "zh": "本设备的信任数据已过期（{detail}）；请同步。",
        "ru": "Данные доверия на устройстве устарели ({detail}); синхронизируйте их.",
    },
    ReasonCode.TRUST_DATA_INVALID: {
        "en": "The trust data on this device is invalid or tampered with: {detail}",
        "zh": "本设备的信任数据无效或被篡改：{detail}",
        "ru": "Данные доверия на устройстве недействительны или изменены: {detail}",
    },
}


class _Keep(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def message(code: ReasonCode, lang: Lang = "en", details: Mapping[str, object] | None = None) -> str:
    """The human message for ``code`` in ``lang``, filled from ``details``."""
    template = _MESSAGES[code][lang]
    values = _Keep({k: str(v) for k, v in (details or {}).items()})
    return template.format_map(values)
