"""Readable rendering of a verification result for inspectors, in en / zh / ru."""

from __future__ import annotations

from typing import Any, Final

from yilu.protocol.reasons import Lang
from yilu.verifier.result import VerificationResult

_LABELS: Final[dict[str, dict[Lang, str]]] = {
    "accept": {"en": "ACCEPT", "zh": "通过", "ru": "ПРИНЯТ"},
    "reject": {"en": "REJECT", "zh": "拒绝", "ru": "ОТКЛОНЁН"},
    "certificate": {"en": "Certificate", "zh": "证书", "ru": "Сертификат"},
    "product": {"en": "Product", "zh": "产品", "ru": "Продукция"},
    "issuer": {"en": "Issued by", "zh": "签发机构", "ru": "Выдан"},
    "valid": {"en": "Valid", "zh": "有效期", "ru": "Действителен"},
    "conclusion": {"en": "Conclusion", "zh": "结论", "ru": "Заключение"},
    "trust": {"en": "Trust data", "zh": "信任数据", "ru": "Данные доверия"},
    "sequence": {"en": "sequence", "zh": "序号", "ru": "версия"},
    "age": {"en": "old", "zh": "前", "ru": "назад"},
    "results": {"en": "results", "zh": "项结果", "ru": "результатов"},
    "unpinned": {
        "en": "root key not pinned (use --root)",
        "zh": "根密钥未固定（请使用 --root）",
        "ru": "корневой ключ не закреплён (используйте --root)",
    },
}


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


def render_text(result: VerificationResult, lang: Lang = "en") -> str:
    """A few aligned lines: verdict and reasons first, then what was checked."""
    mark = "✔" if result.accepted else "✘"
    lines = [f"{mark} {_label(result.verdict, lang)}"]
    lines += [f"  - [{r.code}] {r.message(lang)}" for r in result.reasons]
    cred: Any = result.credential or {}
    subject: Any = cred.get("credentialSubject") if isinstance(cred, dict) else None
    if isinstance(subject, dict):
        product: Any = subject.get("product") if isinstance(subject.get("product"), dict) else {}
        local: Any = product.get("nameLocal") if isinstance(product.get("nameLocal"), dict) else {}
        name = local.get(lang) or product.get("name", "?")
        results: Any = subject.get("results") if isinstance(subject.get("results"), list) else []
        number, scope = subject.get("reportNumber", "?"), subject.get("scope", "?")
        lines.append(f"  {_label('certificate', lang)}: {number} · {scope}")
        lines.append(
            f"  {_label('product', lang)}: {name} · HS {product.get('hsCode', '?')} · "
            f"{product.get('origin', '?')} → {product.get('destination', '?')}"
        )
        lines.append(
            f"  {_label('conclusion', lang)}: {subject.get('conclusion', '?')} "
            f"({len(results)} {_label('results', lang)})"
        )
        lines.append(
            f"  {_label('valid', lang)}: {cred.get('validFrom', '?')} → {cred.get('validUntil', '?')}"
        )
    if result.issuer:
        issuer = result.issuer
        names = issuer.get("names") or {}
        registry = issuer.get("registry") or {}
        lines.append(
            f"  {_label('issuer', lang)}: {names.get(lang) or issuer.get('name')} "
            f"({issuer.get('country')}, {issuer.get('accreditationNumber')}, "
            f"{registry.get('accreditationBody')})"
        )
    if result.trust:
        trust = result.trust
        pinned = "" if trust.get("rootPinned") else f" · {_label('unpinned', lang)}"
        lines.append(
            f"  {_label('trust', lang)}: {_label('sequence', lang)} {trust.get('sequence')}, "
            f"{_age(max(0, int(trust.get('ageSeconds', 0))))} {_label('age', lang)}{pinned}"
        )
    return "\n".join(lines) + "\n"
