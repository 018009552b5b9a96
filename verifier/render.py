"""Readable rendering of a verification result for inspectors, in en / zh / ru / kk.

Everything shown that comes from outside this program (the certificate, the trust data,
a key id from an unsigned header) goes through :func:`protocol.reasons.safe_text`:
one line, control and bidirectional characters escaped, length bounded, so that no
input can draw a verdict of its own (docs/security.md, "Display injection").
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from protocol.encoding import parse_time
from protocol.errors import MalformedInputError
from protocol.reasons import Lang, safe_text
from verifier.result import VerificationResult

_LABELS: Final[dict[str, dict[Lang, str]]] = {
    "accept": {"en": "ACCEPT", "zh": "通过", "ru": "ПРИНЯТ", "kk": "ҚАБЫЛДАНДЫ"},
    "reject": {"en": "REJECT", "zh": "拒绝", "ru": "ОТКЛОНЁН", "kk": "ҚАБЫЛДАНБАДЫ"},
    "unverifiable": {
        "en": "CANNOT VERIFY (this says nothing against the certificate)",
        "zh": "无法验证（这并不表明证书有问题）",
        "ru": "ПРОВЕРКА НЕВОЗМОЖНА (это ничего не говорит против сертификата)",
        "kk": "ТЕКСЕРУ МҮМКІН ЕМЕС (бұл сертификаттың жарамсыз екенін білдірмейді)",
    },
    "certificate": {"en": "Certificate", "zh": "证书", "ru": "Сертификат", "kk": "Сертификат"},
    "product": {"en": "Product", "zh": "产品", "ru": "Продукция", "kk": "Өнім"},
    "consignment": {
        "en": "Batch / quantity",
        "zh": "批号 / 数量",
        "ru": "Партия / количество",
        "kk": "Партия / саны",
    },
    "issuer": {"en": "Issued by", "zh": "签发机构", "ru": "Выдан", "kk": "Берген ұйым"},
    "valid": {"en": "Valid", "zh": "有效期", "ru": "Действителен", "kk": "Жарамдылық мерзімі"},
    "conclusion": {"en": "Conclusion", "zh": "结论", "ru": "Заключение", "kk": "Қорытынды"},
    "trust": {"en": "Trust data", "zh": "信任数据", "ru": "Данные доверия", "kk": "Сенім деректері"},
    "sequence": {"en": "sequence", "zh": "序号", "ru": "версия", "kk": "нұсқа"},
    "age": {"en": "old", "zh": "前", "ru": "назад", "kk": "бұрын"},
    "until": {
        "en": "valid until",
        "zh": "有效至",
        "ru": "действительны до",
        "kk": "жарамдылық мерзімінің соңы",
    },
    "expired": {"en": "EXPIRED", "zh": "已过期", "ru": "ИСТЕКЛИ", "kk": "МЕРЗІМІ ӨТКЕН"},
    "soon": {
        "en": "expires soon: install a current bundle",
        "zh": "即将过期：请安装最新信任包",
        "ru": "скоро истекают: установите актуальный пакет",
        "kk": "мерзімі жақында бітеді: өзекті пакетті орнатыңыз",
    },
    "failed": {
        "en": "THE LAB'S CONCLUSION IS {conclusion}: the goods did not pass its tests",
        "zh": "实验室结论为 {conclusion}：货物未通过检测",
        "ru": "ЗАКЛЮЧЕНИЕ ЛАБОРАТОРИИ: {conclusion} — продукция не прошла испытания",
        "kk": "ЗЕРТХАНАНЫҢ ҚОРЫТЫНДЫСЫ: {conclusion} — өнім сынақтан өтпеді",
    },
    "results": {"en": "results", "zh": "项结果", "ru": "результатов", "kk": "нәтиже"},
    "advice": {"en": "What to do", "zh": "处理建议", "ru": "Что делать", "kk": "Не істеу керек"},
    "skipped": {
        "en": "parts of the trust data were dropped",
        "zh": "部分信任数据已被剔除",
        "ru": "часть данных доверия отброшена",
        "kk": "сенім деректерінің бір бөлігі алынып тасталды",
    },
}
_MARKS: Final = {"accept": "✔", "reject": "✘", "unverifiable": "?"}
#: Warn when the trust data used expires within this many seconds (3 days).
_SOON: Final = 3 * 86400


def _label(name: str, lang: Lang) -> str:
    return _LABELS[name][lang]


def _age(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    if seconds < 172800:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _s(value: Any, limit: int = 120) -> str:
    return safe_text("?" if value is None else value, limit)


def render_text(result: VerificationResult, lang: Lang = "en", *, now: datetime | None = None) -> str:
    """A few aligned lines: verdict and reasons first, then what was checked.

    ``now`` (the verification time) lets the trust line say how long the data stays valid.
    """
    lines = [f"{_MARKS[result.verdict]} {_label(result.verdict, lang)}"]
    cred = _obj(result.credential)
    subject = _obj(cred.get("credentialSubject"))
    conclusion = subject.get("conclusion")
    if result.accepted and conclusion != "pass":
        # A genuine certificate may certify a failure: say so before anything else.
        lines.append(f"  ! {_label('failed', lang).format(conclusion=_s(conclusion, 40).upper())}")
    lines += [f"  - [{r.code}] {r.message(lang)}" for r in result.reasons]
    advice = list(dict.fromkeys(r.advice(lang) for r in result.reasons))
    lines += [f"  {_label('advice', lang)}: {a}" for a in advice]
    if subject:
        product = _obj(subject.get("product"))
        local = _obj(product.get("nameLocal"))
        quantity = _obj(product.get("quantity"))
        results: Any = subject.get("results")
        results = results if isinstance(results, list) else []
        lines.append(
            f"  {_label('certificate', lang)}: {_s(subject.get('reportNumber'))} · {_s(subject.get('scope'))}"
        )
        lines.append(
            f"  {_label('product', lang)}: {_s(local.get(lang) or product.get('name'))} · "
            f"HS {_s(product.get('hsCode'))} · {_s(product.get('origin'))} → {_s(product.get('destination'))}"
        )
        lines.append(
            f"  {_label('consignment', lang)}: {_s(product.get('batch'))} · "
            f"{_s(quantity.get('value'))} {_s(quantity.get('unit'), 20) if quantity else ''}".rstrip()
        )
        lines.append(
            f"  {_label('conclusion', lang)}: {_s(subject.get('conclusion'))} "
            f"({len(results)} {_label('results', lang)})"
        )
        lines.append(f"  {_label('valid', lang)}: {_s(cred.get('validFrom'))} → {_s(cred.get('validUntil'))}")
    if result.issuer:
        issuer = result.issuer
        names = _obj(issuer.get("names"))
        registry = _obj(issuer.get("registry"))
        lines.append(
            f"  {_label('issuer', lang)}: {_s(names.get(lang) or issuer.get('name'))} "
            f"({_s(issuer.get('country'))}, {_s(issuer.get('accreditationNumber'))}, "
            f"{_s(registry.get('accreditationBody'))})"
        )
    if result.trust:
        lines.append(_trust_line(result.trust, lang, now))
        if result.trust.get("skipped"):
            lines.append(f"  ! {_label('skipped', lang)}: {len(result.trust['skipped'])} (--json)")
    return "\n".join(lines) + "\n"


def _trust_line(trust: Any, lang: Lang, now: datetime | None) -> str:
    line = (
        f"  {_label('trust', lang)}: {_label('sequence', lang)} {_s(trust.get('sequence'))}, "
        f"{_age(max(0, int(trust.get('ageSeconds', 0))))} {_label('age', lang)}"
    )
    try:
        expires = parse_time(trust.get("expiresAt"), "expiresAt")
    except MalformedInputError:
        return line
    line += f", {_label('until', lang)} {_s(trust.get('expiresAt'))}"
    if now is not None:
        left = (expires - now).total_seconds()
        if left < 0:
            line += f" — {_label('expired', lang)}"
        elif left < _SOON:
            line += f" — {_label('soon', lang)}"
    return line
