"""Reason codes, what each says about a certificate, and their texts in en / zh / ru.

The codes, the order in which they are checked and the three outcomes are documented in
docs/verifying.md. Messages are templates: ``{name}`` placeholders are filled from a
reason's details, each value made safe to show first (:func:`safe_text`), and a missing
detail leaves the placeholder's name visible rather than failing. Every code also has
*advice*: what the inspector should do.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Final, Literal

Lang = Literal["en", "zh", "ru"]
LANGS: Final[tuple[Lang, ...]] = ("en", "zh", "ru")
Verdict = Literal["accept", "reject", "unverifiable"]


class ReasonCode(StrEnum):
    """Why a certificate was rejected or could not be verified (``ACCEPTED``: why accepted)."""

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
    LAB_WITHDRAWN_FOR_CAUSE = "LAB_WITHDRAWN_FOR_CAUSE"
    SCOPE_NOT_ACCREDITED = "SCOPE_NOT_ACCREDITED"
    REGISTRY_NOT_MEMBER = "REGISTRY_NOT_MEMBER"
    STATUS_ENTRY_INVALID = "STATUS_ENTRY_INVALID"
    REVOKED = "REVOKED"
    SUSPENDED = "SUSPENDED"
    STATUS_UNAVAILABLE = "STATUS_UNAVAILABLE"
    NOT_RECOGNISED = "NOT_RECOGNISED"
    TRUST_DATA_STALE = "TRUST_DATA_STALE"
    TRUST_DATA_INVALID = "TRUST_DATA_INVALID"
    TRUST_DATA_MISSING = "TRUST_DATA_MISSING"


#: Facts about the certificate itself that no newer trust data can change: any of them
#: makes the verdict ``reject`` whatever else is found.
FINAL_CODES: Final = frozenset(
    {
        ReasonCode.MALFORMED,
        ReasonCode.UNSUPPORTED_FORMAT,
        ReasonCode.UNSUPPORTED_ALG,
        ReasonCode.SIGNATURE_INVALID,
        ReasonCode.NOT_YET_VALID,
        ReasonCode.EXPIRED,
        ReasonCode.KEY_NOT_VALID_AT_ISSUANCE,
        ReasonCode.KEY_REVOKED,
        ReasonCode.LAB_WITHDRAWN_FOR_CAUSE,
        ReasonCode.STATUS_ENTRY_INVALID,
        ReasonCode.REVOKED,
    }
)
#: Problems of the verifier's own trust data: they say nothing about the certificate, so
#: without a final reason the verdict is ``unverifiable`` (a device problem never turns
#: goods back), even beside reasons judged from that same data.
TRUST_CODES: Final = frozenset(
    {
        ReasonCode.STATUS_UNAVAILABLE,
        ReasonCode.TRUST_DATA_STALE,
        ReasonCode.TRUST_DATA_INVALID,
        ReasonCode.TRUST_DATA_MISSING,
    }
)


def verdict_for(codes: Iterable[ReasonCode]) -> Verdict:
    """The verdict for a set of reasons (docs/verifying.md, "Three outcomes").

    A final reason rejects; otherwise a trust-data problem makes the certificate
    unverifiable; otherwise any reason rejects; no reason (or only ACCEPTED) accepts.
    """
    found = set(codes) - {ReasonCode.ACCEPTED}
    if found & FINAL_CODES:
        return "reject"
    if found & TRUST_CODES:
        return "unverifiable"
    return "reject" if found else "accept"


# (message, advice) per code and language.
_TEXTS: Final[Mapping[ReasonCode, Mapping[Lang, tuple[str, str]]]] = {
    ReasonCode.ACCEPTED: {
        "en": (
            "Genuine, valid and recognised in {country}.",
            "Compare the product, HS code, batch, quantity and destination shown with the consignment "
            "and its papers: the certificate is about one consignment.",
        ),
        "zh": (
            "证书真实有效，并获 {country} 承认。",
            "请将显示的产品、HS 编码、批号、数量和目的地与货物及其单证核对：证书只对应一批货物。",
        ),
        "ru": (
            "Подлинный, действительный и признаётся в {country}.",
            "Сверьте показанные продукцию, код ТН ВЭД, партию, количество и назначение с грузом и "
            "документами: сертификат относится к одной партии.",
        ),
    },
    ReasonCode.MALFORMED: {
        "en": (
            "The code could not be read as a certificate: {detail}",
            "Rescan, or take a sharper, closer photo; if it still fails, ask for the original document. "
            "Do not accept.",
        ),
        "zh": (
            "无法将该码读取为证书：{detail}",
            "请重新扫描或拍摄更清晰、更近的照片；仍失败时请索取原件。不予通过。",
        ),
        "ru": (
            "Код не удалось прочитать как сертификат: {detail}",
            "Отсканируйте ещё раз или сделайте более чёткое фото; если не помогает, запросите оригинал. "
            "Не принимать.",
        ),
    },
    ReasonCode.UNSUPPORTED_FORMAT: {
        "en": (
            "This is not a certificate format this verifier supports: {detail}",
            "Check that this is a Yilu certificate; if it is, update the verifier software. "
            "Do not accept meanwhile.",
        ),
        "zh": (
            "本验证程序不支持该证书格式：{detail}",
            "请确认这是一路证书；如是，请更新验证软件。在此之前不予通过。",
        ),
        "ru": (
            "Этот формат сертификата не поддерживается: {detail}",
            "Убедитесь, что это сертификат Yilu; если да, обновите программу проверки. Пока не принимать.",
        ),
    },
    ReasonCode.UNSUPPORTED_ALG: {
        "en": (
            "The certificate's signature algorithm is not allowed: {detail}",
            "Treat as not genuine; refer to your supervisor.",
        ),
        "zh": ("证书的签名算法不被允许：{detail}", "按非真实证书处理；请报告上级。"),
        "ru": (
            "Алгоритм подписи сертификата недопустим: {detail}",
            "Считать неподлинным; доложите руководителю.",
        ),
    },
    ReasonCode.UNKNOWN_KEY: {
        "en": (
            "The signing key ({kid}) is not in the trust data: the issuer is unknown.",
            "Sync the trust data and verify again. If it persists, the issuer is not an accredited lab "
            "of the federation: do not accept.",
        ),
        "zh": (
            "信任数据中没有该签名密钥（{kid}）：签发机构未知。",
            "请同步信任数据后重新验证。仍然如此则签发者不是联盟认可的实验室：不予通过。",
        ),
        "ru": (
            "Ключ подписи ({kid}) отсутствует в данных доверия: издатель неизвестен.",
            "Синхронизируйте данные доверия и проверьте снова. Если не помогает, издатель не является "
            "аккредитованной лабораторией федерации: не принимать.",
        ),
    },
    ReasonCode.SIGNATURE_INVALID: {
        "en": (
            "The signature does not match: the certificate was altered or forged.",
            "Do not accept. Keep the document and the scan; report a suspected forgery.",
        ),
        "zh": ("签名不匹配：证书已被篡改或伪造。", "不予通过。保留单证和扫描结果；按涉嫌伪造上报。"),
        "ru": (
            "Подпись не совпадает: сертификат изменён или подделан.",
            "Не принимать. Сохраните документ и скан; сообщите о возможной подделке.",
        ),
    },
    ReasonCode.NOT_YET_VALID: {
        "en": (
            "The certificate is valid only from {validFrom}; check this device's clock.",
            "Check the device's date, time and time zone first: a wrong clock is the usual cause.",
        ),
        "zh": (
            "证书自 {validFrom} 起才生效；请检查本设备的时钟。",
            "请先检查设备的日期、时间和时区：时钟错误是常见原因。",
        ),
        "ru": (
            "Сертификат действует только с {validFrom}; проверьте часы устройства.",
            "Сначала проверьте дату, время и часовой пояс устройства: обычно причина в неверных часах.",
        ),
    },
    ReasonCode.EXPIRED: {
        "en": ("The certificate expired on {validUntil}.", "Ask for a current certificate (a new test)."),
        "zh": ("证书已于 {validUntil} 过期。", "请索取有效证书（重新检测）。"),
        "ru": (
            "Срок действия сертификата истёк {validUntil}.",
            "Запросите действующий сертификат (новое испытание).",
        ),
    },
    ReasonCode.KEY_NOT_VALID_AT_ISSUANCE: {
        "en": (
            "The lab's key was not valid when the certificate was issued ({validFrom}).",
            "Do not accept; ask the lab to re-issue. Possible back-dating or a wrong lab clock.",
        ),
        "zh": (
            "证书签发时（{validFrom}）实验室密钥不在有效期内。",
            "不予通过；请实验室重新签发。可能倒签日期或实验室时钟错误。",
        ),
        "ru": (
            "Ключ лаборатории не действовал на момент выдачи сертификата ({validFrom}).",
            "Не принимать; попросите лабораторию переоформить. Возможна подделка даты или неверные часы.",
        ),
    },
    ReasonCode.KEY_REVOKED: {
        "en": (
            "The lab's signing key was revoked ({reason}, {revokedAt}).",
            "Do not accept; ask the lab for a certificate signed with its current key.",
        ),
        "zh": ("实验室签名密钥已被撤销（{reason}，{revokedAt}）。", "不予通过；请实验室用现行密钥签发证书。"),
        "ru": (
            "Ключ подписи лаборатории отозван ({reason}, {revokedAt}).",
            "Не принимать; запросите сертификат, подписанный действующим ключом лаборатории.",
        ),
    },
    ReasonCode.LAB_NOT_ACCREDITED: {
        "en": (
            "The lab {lab} was not accredited when the certificate was issued ({status}).",
            "Do not accept under the federation; apply national procedure.",
        ),
        "zh": ("证书签发时实验室 {lab} 未获认可（{status}）。", "不按联盟互认通过；按本国程序处理。"),
        "ru": (
            "Лаборатория {lab} не была аккредитована на момент выдачи ({status}).",
            "Не принимать в рамках федерации; действуйте по национальной процедуре.",
        ),
    },
    ReasonCode.LAB_WITHDRAWN_FOR_CAUSE: {
        "en": (
            "The lab {lab} lost its accreditation for cause on {since}: nothing it signed is trusted.",
            "Do not accept, whatever date the certificate bears; apply national procedure.",
        ),
        "zh": (
            "实验室 {lab} 已于 {since} 因故被撤销认可：其签发的任何证书均不可信。",
            "无论证书日期如何，均不予通过；按本国程序处理。",
        ),
        "ru": (
            "Лаборатория {lab} лишена аккредитации по основаниям {since}: ничему, что она подписала, "
            "доверять нельзя.",
            "Не принимать, какой бы датой ни был помечен сертификат; действуйте по национальной процедуре.",
        ),
    },
    ReasonCode.SCOPE_NOT_ACCREDITED: {
        "en": (
            "The lab {lab} is not accredited for {scope}.",
            "Do not accept; the lab may test this kind of goods only outside its accreditation.",
        ),
        "zh": (
            "实验室 {lab} 未获 {scope} 领域的认可。",
            "不予通过；该实验室对此类货物的检测不在认可范围内。",
        ),
        "ru": (
            "Лаборатория {lab} не аккредитована в области {scope}.",
            "Не принимать; такие испытания лаборатория проводит вне своей аккредитации.",
        ),
    },
    ReasonCode.REGISTRY_NOT_MEMBER: {
        "en": (
            "The accreditation body {registry} is not a member in good standing ({status}).",
            "Do not accept under the federation; apply national procedure.",
        ),
        "zh": ("认可机构 {registry} 不是正常状态的成员（{status}）。", "不按联盟互认通过；按本国程序处理。"),
        "ru": (
            "Орган по аккредитации {registry} не является действующим членом ({status}).",
            "Не принимать в рамках федерации; действуйте по национальной процедуре.",
        ),
    },
    ReasonCode.STATUS_ENTRY_INVALID: {
        "en": (
            "The certificate's revocation entry is invalid: {detail}",
            "Do not accept: such a certificate could never be checked for revocation. "
            "Ask the lab to re-issue.",
        ),
        "zh": (
            "证书的撤销状态条目无效：{detail}",
            "不予通过：此类证书无法核查是否被撤销。请实验室重新签发。",
        ),
        "ru": (
            "Запись о статусе отзыва в сертификате недействительна: {detail}",
            "Не принимать: такой сертификат нельзя проверить на отзыв. Попросите лабораторию переоформить.",
        ),
    },
    ReasonCode.REVOKED: {
        "en": ("The lab has revoked this certificate.", "Do not accept. Revocation is final."),
        "zh": ("实验室已撤销该证书。", "不予通过。撤销是最终的。"),
        "ru": ("Лаборатория отозвала этот сертификат.", "Не принимать. Отзыв окончательный."),
    },
    ReasonCode.SUSPENDED: {
        "en": (
            "The lab has suspended this certificate.",
            "Do not accept now; the lab may lift the suspension. Verify again after the next sync.",
        ),
        "zh": ("实验室已暂停该证书。", "目前不予通过；实验室可能解除暂停。下次同步后再验证。"),
        "ru": (
            "Лаборатория приостановила действие этого сертификата.",
            "Пока не принимать; лаборатория может снять приостановку. "
            "Проверьте после следующей синхронизации.",
        ),
    },
    ReasonCode.STATUS_UNAVAILABLE: {
        "en": (
            "The certificate's status could not be checked: {detail}",
            "Cannot verify: sync the trust data and verify again. This says nothing against the certificate.",
        ),
        "zh": ("无法核查证书状态：{detail}", "无法验证：请同步信任数据后重新验证。这并不表明证书有问题。"),
        "ru": (
            "Не удалось проверить статус сертификата: {detail}",
            "Проверка невозможна: синхронизируйте данные доверия и проверьте снова. Это ничего не говорит "
            "против сертификата.",
        ),
    },
    ReasonCode.NOT_RECOGNISED: {
        "en": (
            "{country} does not recognise {registry} results for {scope}.",
            "The certificate may be genuine, but your country has not agreed to accept it: apply national "
            "procedure (e.g. own sampling and testing).",
        ),
        "zh": (
            "{country} 不承认 {registry} 在 {scope} 领域的结果。",
            "证书可能真实，但贵国未同意接受：按本国程序处理（如自行抽样检测）。",
        ),
        "ru": (
            "{country} не признаёт результаты {registry} в области {scope}.",
            "Сертификат может быть подлинным, но ваша страна не согласилась его принимать: действуйте по "
            "национальной процедуре (например, собственный отбор проб и испытания).",
        ),
    },
    ReasonCode.TRUST_DATA_STALE: {
        "en": (
            "The trust data on this device is out of date ({detail}).",
            "Cannot verify: install a current bundle (yilu trust install) and verify again. "
            "This says nothing against the certificate.",
        ),
        "zh": (
            "本设备的信任数据已过期（{detail}）。",
            "无法验证：请安装最新的信任包（yilu trust install）后重新验证。这并不表明证书有问题。",
        ),
        "ru": (
            "Данные доверия на устройстве устарели ({detail}).",
            "Проверка невозможна: установите актуальный пакет (yilu trust install) и проверьте снова. "
            "Это ничего не говорит против сертификата.",
        ),
    },
    ReasonCode.TRUST_DATA_INVALID: {
        "en": (
            "The trust data cannot be used: {detail}",
            "Cannot verify: get a current bundle from your agency and install it. "
            "This says nothing against the certificate.",
        ),
        "zh": (
            "信任数据无法使用：{detail}",
            "无法验证：请从主管机构获取最新信任包并安装。这并不表明证书有问题。",
        ),
        "ru": (
            "Данные доверия нельзя использовать: {detail}",
            "Проверка невозможна: получите актуальный пакет у своего ведомства и установите его. "
            "Это ничего не говорит против сертификата.",
        ),
    },
    ReasonCode.TRUST_DATA_MISSING: {
        "en": (
            "There is no trust data to verify with: {detail}",
            "Cannot verify: install your agency's bundle once with its root keys "
            "(yilu trust install BUNDLE --root KEYS).",
        ),
        "zh": (
            "没有可用于验证的信任数据：{detail}",
            "无法验证：请使用根密钥安装主管机构的信任包（yilu trust install BUNDLE --root KEYS）。",
        ),
        "ru": (
            "Нет данных доверия для проверки: {detail}",
            "Проверка невозможна: один раз установите пакет своего ведомства с его корневыми ключами "
            "(yilu trust install BUNDLE --root KEYS).",
        ),
    },
}

#: Longest untrusted value shown inside a message (a kid, a detail, a name).
MAX_SHOWN_CHARS: Final = 200
_INVISIBLE: Final = frozenset("\u200b\u200c\u200d\u2060\ufeff")


def safe_text(value: object, limit: int = MAX_SHOWN_CHARS) -> str:
    """``value`` as one line that is safe to show a person.

    Control characters (C0, C1, DEL), line and paragraph separators, bidirectional
    controls, zero-width characters and lone surrogates (which no terminal can even encode)
    are written as ``\\uXXXX`` escapes, so that no
    untrusted string can start a new line, reorder text or draw a fake verdict; the
    result is cut to ``limit`` characters with an ellipsis (docs/security.md).
    """
    text = str(value)
    if len(text) > limit * 4:
        text = text[: limit * 4]
    out = []
    for ch in text:
        if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp") or ch in _INVISIBLE:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    shown = "".join(out)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


class _Keep(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def message(code: ReasonCode, lang: Lang = "en", details: Mapping[str, object] | None = None) -> str:
    """The human message for ``code`` in ``lang``, filled from ``details`` (made safe)."""
    template = _TEXTS[code][lang][0]
    values = _Keep({k: safe_text(v) for k, v in (details or {}).items()})
    return template.format_map(values)


def advice(code: ReasonCode, lang: Lang = "en") -> str:
    """What the inspector should do about ``code``, in ``lang``."""
    return _TEXTS[code][lang][1]
