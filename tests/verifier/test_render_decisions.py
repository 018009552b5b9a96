"""What ``render_text`` shows an inspector, line by line (docs/verifying.md, "The `yilu
verify` command" and "Freshness": the trust line, "expires soon" within 3 days, EXPIRED
after): exact lines, so that every choice of the renderer is pinned, in-process.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from protocol.reasons import ReasonCode as R
from verifier.render import _age, render_text
from verifier.result import Reason, VerificationResult

EXPIRES = datetime(2026, 12, 27, 9, 0, tzinfo=UTC)


def credential(**subject: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "reportNumber": "R-1",
        "scope": "food",
        "product": {
            "name": "Green tea",
            "nameLocal": {"zh": "绿茶"},
            "hsCode": "090210",
            "batch": "B-7",
            "quantity": {"value": 12000, "unit": "kg"},
            "origin": "CN",
            "destination": "KZ",
        },
        "results": [{"parameter": "Lead"}, {"parameter": "Moisture"}],
        "conclusion": "pass",
    }
    base.update(subject)
    return {
        "validFrom": "2026-11-26T09:00:00Z",
        "validUntil": "2027-05-20T00:00:00Z",
        "credentialSubject": base,
    }


ISSUER = {
    "name": "Lab A",
    "names": {"en": "Lab A", "zh": "实验室 A"},
    "country": "CN",
    "accreditationNumber": "CN-1",
    "registry": {"accreditationBody": "AB-CN"},
}
TRUST = {"sequence": 7, "ageSeconds": 1800, "expiresAt": "2026-12-27T09:00:00Z"}


def accepted(cred: Any = None, trust: Any = None, issuer: Any = None) -> VerificationResult:
    return VerificationResult.of(
        [Reason(R.ACCEPTED, {"country": "KZ"})],
        credential() if cred is None else cred,
        ISSUER if issuer is None else issuer,
        TRUST if trust is None else trust,
    )


def test_an_accept_in_full() -> None:
    result = accepted()
    reason = result.reasons[0]
    assert render_text(result).splitlines() == [
        "✔ ACCEPT",
        f"  - [ACCEPTED] {reason.message('en')}",
        f"  What to do: {reason.advice('en')}",
        "  Certificate: R-1 · food",
        "  Product: Green tea · HS 090210 · CN → KZ",
        "  Batch / quantity: B-7 · 12000 kg",
        "  Conclusion: pass (2 results)",
        "  Valid: 2026-11-26T09:00:00Z → 2027-05-20T00:00:00Z",
        "  Issued by: Lab A (CN, CN-1, AB-CN)",
        "  Trust data: sequence 7, 30 min old, valid until 2026-12-27T09:00:00Z",
    ]
    assert render_text(result).endswith("\n") and not render_text(result).endswith("\n\n")


def test_local_names_in_the_language_asked_else_the_default() -> None:
    zh = render_text(accepted(), "zh").splitlines()
    assert zh[0] == "✔ 通过"
    assert "  产品: 绿茶 · HS 090210 · CN → KZ" in zh
    assert "  签发机构: 实验室 A (CN, CN-1, AB-CN)" in zh
    ru = render_text(accepted(), "ru").splitlines()  # no Russian names given: the defaults
    assert "  Продукция: Green tea · HS 090210 · CN → KZ" in ru
    assert "  Выдан: Lab A (CN, CN-1, AB-CN)" in ru


def test_a_reject_and_a_cannot_verify_are_marked() -> None:
    reject = VerificationResult.of([Reason(R.REVOKED)])
    assert render_text(reject).splitlines() == [
        "✘ REJECT",
        f"  - [REVOKED] {Reason(R.REVOKED).message()}",
        f"  What to do: {Reason(R.REVOKED).advice()}",
    ]
    unverifiable = VerificationResult.of([Reason(R.TRUST_DATA_STALE, {"detail": "d"})])
    assert render_text(unverifiable).splitlines()[0] == (
        "? CANNOT VERIFY (this says nothing against the certificate)"
    )


def test_advice_is_given_once_per_distinct_text_in_order() -> None:
    reasons = [
        Reason(R.NOT_RECOGNISED, {"country": "KZ"}),
        Reason(R.SCOPE_NOT_ACCREDITED, {"lab": "L", "scope": "s"}),
        Reason(R.NOT_RECOGNISED, {"country": "UZ"}),
        Reason(R.REVOKED),
    ]
    lines = render_text(VerificationResult.of(reasons)).splitlines()
    expected = list(dict.fromkeys(r.advice() for r in reasons))
    assert len(expected) < len(reasons)  # two reasons share one advice
    assert [line for line in lines if line.startswith("  What to do: ")] == [
        f"  What to do: {a}" for a in expected
    ]
    assert [line for line in lines if line.startswith("  - [")] == [
        f"  - [{r.code}] {r.message()}" for r in reasons
    ]


def test_an_accepted_failure_is_said_first() -> None:
    lines = render_text(accepted(credential(conclusion="fail"))).splitlines()
    assert lines[1] == "  ! THE LAB'S CONCLUSION IS FAIL: the goods did not pass its tests"
    assert lines[2].startswith("  - [ACCEPTED]")
    # Its length is bounded (40 characters), like anything the certificate says.
    long = render_text(accepted(credential(conclusion="x" * 50))).splitlines()[1]
    assert long == f"  ! THE LAB'S CONCLUSION IS {'X' * 39}…: the goods did not pass its tests"
    fit = render_text(accepted(credential(conclusion="y" * 40))).splitlines()[1]
    assert fit == f"  ! THE LAB'S CONCLUSION IS {'Y' * 40}: the goods did not pass its tests"


def test_a_rejected_failure_gets_no_conclusion_warning() -> None:
    result = VerificationResult.of([Reason(R.REVOKED)], credential(conclusion="fail"))
    assert not any(line.startswith("  !") for line in render_text(result).splitlines())
    assert "  Conclusion: fail (2 results)" in render_text(result).splitlines()


def test_missing_parts_show_a_question_mark() -> None:
    cred = {"credentialSubject": {"conclusion": "pass"}}
    issuer = {"country": "CN"}
    lines = render_text(accepted(cred, {"sequence": 1}, issuer)).splitlines()
    assert lines[3:] == [
        "  Certificate: ? · ?",
        "  Product: ? · HS ? · ? → ?",
        "  Batch / quantity: ? · ?",
        "  Conclusion: pass (0 results)",
        "  Valid: ? → ?",
        "  Issued by: ? (CN, ?, ?)",
        "  Trust data: sequence 1, 0 s old",
    ]


def test_quantity_without_unit_and_non_list_results() -> None:
    cred = credential(results="many")
    cred["credentialSubject"]["product"]["quantity"] = {"value": 3}
    lines = render_text(accepted(cred)).splitlines()
    assert "  Batch / quantity: B-7 · 3 ?" in lines
    assert "  Conclusion: pass (0 results)" in lines


def test_long_values_are_cut() -> None:
    cred = credential(reportNumber="r" * 130)
    cred["credentialSubject"]["product"]["quantity"] = {"value": 1, "unit": "u" * 25}
    lines = render_text(accepted(cred)).splitlines()
    assert f"  Certificate: {'r' * 119}… · food" in lines
    assert f"  Batch / quantity: B-7 · 1 {'u' * 19}…" in lines


def test_no_subject_no_certificate_lines() -> None:
    for cred in ({"credentialSubject": "text"}, {}):
        lines = render_text(accepted(cred, issuer={}, trust={})).splitlines()
        assert lines[0] == "✔ ACCEPT" and len(lines) == 4
        # No conclusion read: an accept does not claim a pass.
        assert lines[1] == "  ! THE LAB'S CONCLUSION IS ?: the goods did not pass its tests"


def test_skipped_parts_are_counted() -> None:
    lines = render_text(accepted(trust={**TRUST, "skipped": ["a", "b"]})).splitlines()
    assert lines[-2].startswith("  Trust data: sequence 7")
    assert lines[-1] == "  ! parts of the trust data were dropped: 2 (--json)"
    assert not render_text(accepted(trust={**TRUST, "skipped": []})).splitlines()[-1].startswith("  !")


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (0, "0 s"),
        (119, "119 s"),
        (120, "2 min"),
        (7199, "119 min"),
        (7200, "2 h"),
        (172799, "47 h"),
        (172800, "2 d"),
        (10 * 86400 + 5, "10 d"),
    ],
)
def test_age_units(seconds: int, shown: str) -> None:
    assert _age(seconds) == shown
    line = render_text(accepted(trust={**TRUST, "ageSeconds": seconds})).splitlines()[-1]
    assert line == f"  Trust data: sequence 7, {shown} old, valid until 2026-12-27T09:00:00Z"


def test_age_is_never_negative_and_defaults_to_zero() -> None:
    for trust in ({**TRUST, "ageSeconds": -50}, {"sequence": 7, "expiresAt": TRUST["expiresAt"]}):
        line = render_text(accepted(trust=trust)).splitlines()[-1]
        assert line == "  Trust data: sequence 7, 0 s old, valid until 2026-12-27T09:00:00Z"


@pytest.mark.parametrize(
    ("now", "mark"),
    [
        (None, ""),
        (EXPIRES - timedelta(days=3, seconds=1), ""),
        (EXPIRES - timedelta(days=3), ""),
        (EXPIRES - timedelta(days=3) + timedelta(seconds=1), " — expires soon: install a current bundle"),
        (EXPIRES, " — expires soon: install a current bundle"),
        (EXPIRES + timedelta(seconds=1), " — EXPIRED"),
    ],
)
def test_expiry_marks(now: datetime | None, mark: str) -> None:
    line = render_text(accepted(), now=now).splitlines()[-1]
    assert line == f"  Trust data: sequence 7, 30 min old, valid until 2026-12-27T09:00:00Z{mark}"


def test_expiry_marks_in_another_language() -> None:
    line = render_text(accepted(), "kk", now=EXPIRES + timedelta(seconds=1)).splitlines()[-1]
    assert line.endswith(" — МЕРЗІМІ ӨТКЕН")
    soon = render_text(accepted(), "ru", now=EXPIRES).splitlines()[-1]
    assert soon.endswith(" — скоро истекают: установите актуальный пакет")


def test_an_unreadable_expiry_shows_no_until() -> None:
    line = render_text(accepted(trust={**TRUST, "expiresAt": "soon"}), now=EXPIRES).splitlines()[-1]
    assert line == "  Trust data: sequence 7, 30 min old"


@pytest.mark.parametrize(
    ("lang", "first_lines"),
    [
        ("en", ("✔ ACCEPT", "✘ REJECT", "? CANNOT VERIFY (this says nothing against the certificate)")),
        ("zh", ("✔ 通过", "✘ 拒绝", "? 无法验证（这并不表明证书有问题）")),
        (
            "ru",
            ("✔ ПРИНЯТ", "✘ ОТКЛОНЁН", "? ПРОВЕРКА НЕВОЗМОЖНА (это ничего не говорит против сертификата)"),
        ),
        (
            "kk",
            (
                "✔ ҚАБЫЛДАНДЫ",
                "✘ ҚАБЫЛДАНБАДЫ",
                "? ТЕКСЕРУ МҮМКІН ЕМЕС (бұл сертификаттың жарамсыз екенін білдірмейді)",
            ),
        ),
    ],
)
def test_every_verdict_in_every_language(lang: str, first_lines: tuple[str, str, str]) -> None:
    results = (
        accepted(),
        VerificationResult.of([Reason(R.REVOKED)], credential(), ISSUER, TRUST),
        VerificationResult.of([Reason(R.STATUS_UNAVAILABLE, {"detail": "d"})], credential(), ISSUER, TRUST),
    )
    for result, first in zip(results, first_lines, strict=True):
        assert render_text(result, lang).splitlines()[0] == first  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("lang", "labels"),
    [
        (
            "zh",
            (
                "证书",
                "产品",
                "批号 / 数量",
                "结论",
                "有效期",
                "签发机构",
                "信任数据",
                "序号",
                "前",
                "有效至",
                "项结果",
                "处理建议",
            ),
        ),
        (
            "ru",
            (
                "Сертификат",
                "Продукция",
                "Партия / количество",
                "Заключение",
                "Действителен",
                "Выдан",
                "Данные доверия",
                "версия",
                "назад",
                "действительны до",
                "результатов",
                "Что делать",
            ),
        ),
        (
            "kk",
            (
                "Сертификат",
                "Өнім",
                "Партия / саны",
                "Қорытынды",
                "Жарамдылық мерзімі",
                "Берген ұйым",
                "Сенім деректері",
                "нұсқа",
                "бұрын",
                "жарамдылық мерзімінің соңы",
                "нәтиже",
                "Не істеу керек",
            ),
        ),
    ],
)
def test_every_label_in_every_language(lang: str, labels: tuple[str, ...]) -> None:
    cert, product, batch, conclusion, valid, issuer, trust, seq, age, until, results, advice = labels
    lines = render_text(accepted(), lang).splitlines()  # type: ignore[arg-type]
    assert lines[2].startswith(f"  {advice}: ")
    assert lines[3] == f"  {cert}: R-1 · food"
    assert lines[4].startswith(f"  {product}: ")
    assert lines[5] == f"  {batch}: B-7 · 12000 kg"
    assert lines[6] == f"  {conclusion}: pass (2 {results})"
    assert lines[7] == f"  {valid}: 2026-11-26T09:00:00Z → 2027-05-20T00:00:00Z"
    assert lines[8].startswith(f"  {issuer}: ")
    assert lines[9] == f"  {trust}: {seq} 7, 30 min {age}, {until} 2026-12-27T09:00:00Z"


@pytest.mark.parametrize(
    ("lang", "failed", "skipped", "soon", "expired"),
    [
        (
            "en",
            "THE LAB'S CONCLUSION IS FAIL: the goods did not pass its tests",
            "parts of the trust data were dropped",
            "expires soon: install a current bundle",
            "EXPIRED",
        ),
        (
            "zh",
            "实验室结论为 FAIL：货物未通过检测",
            "部分信任数据已被剔除",
            "即将过期：请安装最新信任包",
            "已过期",
        ),
        (
            "ru",
            "ЗАКЛЮЧЕНИЕ ЛАБОРАТОРИИ: FAIL — продукция не прошла испытания",
            "часть данных доверия отброшена",
            "скоро истекают: установите актуальный пакет",
            "ИСТЕКЛИ",
        ),
        (
            "kk",
            "ЗЕРТХАНАНЫҢ ҚОРЫТЫНДЫСЫ: FAIL — өнім сынақтан өтпеді",
            "сенім деректерінің бір бөлігі алынып тасталды",
            "мерзімі жақында бітеді: өзекті пакетті орнатыңыз",
            "МЕРЗІМІ ӨТКЕН",
        ),
    ],
)
def test_warnings_in_every_language(lang: str, failed: str, skipped: str, soon: str, expired: str) -> None:
    result = accepted(credential(conclusion="fail"), {**TRUST, "skipped": ["a"]})
    lines = render_text(result, lang, now=EXPIRES).splitlines()  # type: ignore[arg-type]
    assert lines[1] == f"  ! {failed}"
    assert lines[-2].endswith(f" — {soon}")
    assert lines[-1] == f"  ! {skipped}: 1 (--json)"
    late = render_text(result, lang, now=EXPIRES + timedelta(seconds=1)).splitlines()  # type: ignore[arg-type]
    assert late[-2].endswith(f" — {expired}")
