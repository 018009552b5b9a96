"""Bad input and attacks on the registry service, each over real HTTP on both databases:
every refusal is a 4xx problem with a one-line detail (issue 7, §2 "Validation at every
door"; §3 proof of possession and status list mirroring)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from protocol.encoding import b64url_encode, dumps_compact
from protocol.enrolment import TYP_KEY_REQUEST, sign_key_request
from protocol.errors import InputError
from protocol.jws import sign_compact
from protocol.keys import SigningKey
from regkit import LAB_A, LAB_B, NOW, PASSPHRASE, Reg, lab_body, make_registry, status_list
from servekit import Served
from trust_registry.registry import init_registry

Serve = Callable[[Any], Served]


@pytest.fixture(autouse=True)
def _passphrase(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YILU_KEY_PASSPHRASE", PASSPHRASE)


@pytest.fixture
def reg(tmp_path: Path, database_url: str | None, serve: Serve) -> Reg:
    registry = make_registry(tmp_path, database_url, serve)
    registry.start()
    return registry


def one_line(response: Any, status: int, *words: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    detail = body["detail"]
    assert "\n" not in detail and "Traceback" not in detail
    for word in words:
        assert word in detail or word in json.dumps(body, ensure_ascii=False), (word, body)


BAD_LABS = [
    ({"country": "china"}, "did you mean CN?"),
    ({"country": "Kazakhstan"}, "did you mean KZ?"),
    ({"country": "XX"}, "ISO 3166-1"),
    ({"id": "http://qdtc.example.cn"}, "https://"),
    ({"id": "https://qdtc.example.cn/"}, "trailing"),
    ({"id": "https://lab.example.kz"}, "outside the lab ids"),
    ({"names": {}}, "at least one name"),
    ({"names": {"english": "Lab"}}, "BCP 47"),
    ({"names": {"en": "  "}}, "empty"),
    ({"scopes": [{"category": "tea"}]}, "unknown scope"),
    ({"accreditationNumber": "   "}, "accreditation number"),
]


@pytest.mark.parametrize(("change", "says"), BAD_LABS, ids=[s for _, s in BAD_LABS])
def test_bad_lab_refused(reg: Reg, change: dict[str, Any], says: str) -> None:
    response = reg.call("POST", "/labs", json=lab_body() | change)
    assert 400 <= response.status_code < 500
    one_line(response, response.status_code, says)


def test_nested_and_duplicate_lab_ids_refused(reg: Reg) -> None:
    assert reg.add_lab(LAB_A).status_code == 201
    one_line(reg.add_lab(LAB_A), 409, "already")
    one_line(reg.add_lab(LAB_A + "/branch"), 409, "nested")


def test_weak_passphrase_refused_at_init(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="too weak"):
        init_registry(
            data_dir=tmp_path / "r",
            database_url=None,
            registry_id="https://cnas.example.cn",
            country="CN",
            accreditation_body="CNAS",
            publication_url="https://cnas.example.cn/trust-list",
            lab_ids=["https://*.example.cn"],
            passphrase="aaaaaaaaaaaa",
            now=NOW,
        )
    assert not (tmp_path / "r" / "registry-key.pem").exists()


def test_lab_not_listed_for_scopes_its_key_cannot_sign(reg: Reg) -> None:
    reg.add_lab(scopes=("food", "chemicals"))
    key = SigningKey.generate()
    request = sign_key_request(key, lab_id=LAB_A, scopes=["food"], now=NOW)
    assert reg.call("POST", "/labs/qdtc.example.cn/keys", json={"request": request}).status_code == 201
    one_line(
        reg.call("POST", f"/labs/qdtc.example.cn/keys/{key.public.kid}/approve", json={}), 400, "chemicals"
    )
    reg.call("POST", "/labs/qdtc.example.cn/scopes/chemicals/end", json={})
    assert (
        reg.call("POST", f"/labs/qdtc.example.cn/keys/{key.public.kid}/approve", json={}).status_code == 200
    )
    one_line(reg.call("POST", "/labs/qdtc.example.cn/scopes", json={"category": "textiles"}), 400, "textiles")


# --- proof of possession -----------------------------------------------------------------


def _forged(header: dict[str, Any], payload: dict[str, Any], signer: SigningKey | None = None) -> str:
    head = b64url_encode(dumps_compact(header))
    body = b64url_encode(dumps_compact(payload))
    signature = signer.sign(f"{head}.{body}".encode()) if signer else b"\0" * 32
    return f"{head}.{body}.{b64url_encode(signature)}"


def _payload(key: SigningKey, lab_id: str = LAB_A) -> dict[str, Any]:
    return {
        "labId": lab_id,
        "jwk": dict(key.public.jwk),
        "scopes": ["food"],
        "iat": int(NOW.timestamp()),
        "jti": "j" * 22,
    }


def _submit(reg: Reg, request: str, token: str | None = None, lab: str = "qdtc.example.cn") -> Any:
    return reg.call("POST", f"/labs/{lab}/keys", token, json={"request": request})


def test_key_request_signed_by_another_key_refused(reg: Reg) -> None:
    reg.add_lab()
    victim, attacker = SigningKey.generate(), SigningKey.generate()
    forged = sign_compact(
        dumps_compact(_payload(victim)), attacker, kid=victim.public.kid, typ=TYP_KEY_REQUEST
    )
    one_line(_submit(reg, forged), 422, "not signed by the key it carries")


def test_key_request_for_another_lab_refused(reg: Reg) -> None:
    reg.add_lab()
    reg.add_lab(LAB_B)
    request = sign_key_request(SigningKey.generate(), lab_id=LAB_B, scopes=["food"], now=NOW)
    one_line(_submit(reg, request), 400, "not for https://qdtc.example.cn")


def test_stale_and_future_key_requests_refused(reg: Reg) -> None:
    reg.add_lab()
    stale = sign_key_request(
        SigningKey.generate(), lab_id=LAB_A, scopes=["food"], now=NOW - timedelta(minutes=11)
    )
    one_line(_submit(reg, stale), 400, "older than 10 minutes")
    future = sign_key_request(
        SigningKey.generate(), lab_id=LAB_A, scopes=["food"], now=NOW + timedelta(minutes=5)
    )
    one_line(_submit(reg, future), 400, "future")


def test_replayed_key_request_refused(reg: Reg) -> None:
    reg.add_lab()
    request = sign_key_request(SigningKey.generate(), lab_id=LAB_A, scopes=["food"], now=NOW)
    assert _submit(reg, request).status_code == 201
    one_line(_submit(reg, request), 409, "submitted before")


@pytest.mark.parametrize("alg", ["none", "HS256"])
def test_key_request_with_a_forbidden_alg_refused(reg: Reg, alg: str) -> None:
    reg.add_lab()
    key = SigningKey.generate()
    forged = _forged({"alg": alg, "kid": key.public.kid, "typ": TYP_KEY_REQUEST}, _payload(key))
    one_line(_submit(reg, forged), 400, "not allowed")


def test_lab_token_enrols_only_for_its_own_lab(reg: Reg) -> None:
    reg.add_lab()
    reg.add_lab(LAB_B)
    token_a = reg.token("lab", LAB_A)
    request = sign_key_request(SigningKey.generate(), lab_id=LAB_B, scopes=["food"], now=NOW)
    one_line(_submit(reg, request, token_a, lab="bjtc.example.cn"), 403, LAB_A)


# --- status lists ------------------------------------------------------------------------


def test_status_lists_mirrored_and_served_with_etag(reg: Reg) -> None:
    reg.add_lab()
    key, token = reg.enrol()
    pushed = reg.call("PUT", "/status-lists", token, json={"lists": [status_list(key, revoked=(4,))]})
    assert pushed.status_code == 200 and pushed.json()["changed"] == [LAB_A + "/status/1"]
    (entry,) = reg.http.get("/status-lists").json()
    first = reg.http.get(entry["href"])
    assert first.status_code == 200
    assert reg.http.get(entry["href"], headers={"If-None-Match": first.headers["ETag"]}).status_code == 304


def test_status_list_signed_by_another_labs_key_refused(reg: Reg) -> None:
    reg.add_lab()
    reg.add_lab(LAB_B)
    reg.enrol()
    key_b, _ = reg.enrol(LAB_B)
    forged = status_list(key_b, issuer=LAB_A)
    one_line(reg.call("PUT", "/status-lists", json={"lists": [forged]}), 400, "not signed by a key of")


def test_status_list_clearing_a_revocation_refused(reg: Reg) -> None:
    reg.add_lab()
    key, token = reg.enrol()
    assert (
        reg.call("PUT", "/status-lists", token, json={"lists": [status_list(key, revoked=(4,))]}).status_code
        == 200
    )
    cleared = status_list(key, at=NOW + timedelta(minutes=5))
    one_line(reg.call("PUT", "/status-lists", token, json={"lists": [cleared]}), 400, "a revocation is final")


def test_rogue_lab_pushing_outside_its_id_refused(reg: Reg) -> None:
    reg.add_lab()
    key, token = reg.enrol()
    rogue = status_list(key, url="https://bjtc.example.cn/status/1")
    one_line(reg.call("PUT", "/status-lists", token, json={"lists": [rogue]}), 400, "not inside its lab's id")


def test_lab_token_pushes_only_its_own_lists(reg: Reg) -> None:
    reg.add_lab()
    reg.add_lab(LAB_B)
    _, token_a = reg.enrol()
    key_b, _ = reg.enrol(LAB_B)
    one_line(
        reg.call("PUT", "/status-lists", token_a, json={"lists": [status_list(key_b, issuer=LAB_B)]}),
        403,
        LAB_A,
    )


# --- bulk import -------------------------------------------------------------------------


def _csv(rows: list[str]) -> str:
    return "id,name_en,name_zh,country,accreditation_number,scopes,accredited_since,key_jwk\n" + "\n".join(
        rows
    )


def test_csv_import_all_or_nothing(reg: Reg) -> None:
    key = SigningKey.generate()
    jwk = json.dumps(dict(key.public.jwk)).replace('"', '""')
    good = f'https://l1.example.cn,Lab 1,实验室,CN,L1,food;chemicals,2026-01-01T00:00:00Z,"{jwk}"'
    bad = [
        good,
        "https://l2.example.cn,Lab 2,,china,L2,food,2026-01-01T00:00:00Z,",
        "https://l3.example.cn,Lab 3,,CN,L3,tea,2026-01-01T00:00:00Z,",
    ]
    response = reg.call("POST", "/labs/import", content=_csv(bad), headers={"Content-Type": "text/csv"})
    one_line(response, 400, "row 2", "did you mean CN?", "row 3")
    assert reg.http.get("/labs").json()["labs"] == []
    ok = reg.call("POST", "/labs/import", content=_csv([good]), headers={"Content-Type": "text/csv"})
    assert ok.status_code == 200 and ok.json() == {"labs": 1, "keys": 1}
    lab = reg.http.get("/labs/l1.example.cn").json()
    assert lab["keys"][0]["proof"] == "import" and lab["names"]["zh"] == "实验室"


def test_json_import(reg: Reg) -> None:
    rows = [
        {
            "id": f"https://j{i}.example.cn",
            "name_en": f"Lab {i}",
            "country": "CN",
            "accreditation_number": f"L{i}",
            "scopes": "food",
            "accredited_since": "2026-01-01T00:00:00Z",
        }
        for i in range(3)
    ]
    assert reg.call("POST", "/labs/import", json=rows).json() == {"labs": 3, "keys": 0}
    again = reg.call("POST", "/labs/import", json=rows[:1])
    one_line(again, 400, "row 1", "already")
