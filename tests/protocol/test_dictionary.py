"""The frozen YL1 preset dictionary: reproducible from the tool, general, small."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import zlib
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from protocol import yl1
from protocol.credential import MEMBER_ORDER
from protocol.vocabulary import SCOPES

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / "tools" / "build_yl1_dictionary.py"
SHIPPED = ROOT / "protocol" / "data" / "yl1-dict-v1.txt"
DATA = ROOT / "tests" / "data"


def _load_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("yilu_build_yl1_dictionary_under_test", TOOL)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def shipped() -> bytes:
    return SHIPPED.read_bytes()


def test_shipped_file_is_the_tools_output(shipped: bytes) -> None:
    built = _load_tool().build()
    assert isinstance(built, bytes)
    assert built == shipped


def test_package_loads_the_same_bytes(shipped: bytes) -> None:
    packaged = resources.files("protocol").joinpath("data/yl1-dict-v1.txt").read_bytes()
    assert packaged == shipped
    assert yl1.dictionary(1) == shipped


def test_pinned_hash_if_pinned(shipped: bytes) -> None:
    pinned = yl1.DICTIONARIES[1]
    if pinned:
        assert hashlib.sha256(shipped).hexdigest() == pinned
    assert set(yl1.DICTIONARIES) == {1}
    assert yl1.CURRENT_VERSION in yl1.DICTIONARIES


def test_size_and_encoding(shipped: bytes) -> None:
    assert 1024 < len(shipped) <= 32 * 1024  # DEFLATE's window is 32 KiB: more would be dead weight
    shipped.decode("utf-8")  # must not raise


def _specific_values(report: dict[str, Any]) -> Iterator[str]:
    """Values that identify a particular certificate, lab, product or consignment."""
    yield report["reportNumber"]
    for party in ("applicant", "manufacturer"):
        if party in report:
            yield report[party]["name"]
            yield from report[party].get("nameLocal", {}).values()
    product = report["product"]
    yield product["name"]
    yield from product.get("nameLocal", {}).values()
    for key in ("batch", "hsCode"):
        if key in product:
            yield product[key]
    if "date" in report.get("sampling", {}):
        yield report["sampling"]["date"]
    for result in report["results"]:
        method = result.get("method", "")
        if any(ch.isdigit() for ch in method):  # a standard's number and year, e.g. "GB 5009.12-2023"
            yield method
    yield from report.get("standards", [])


@pytest.mark.parametrize("name", sorted(p.stem for p in DATA.glob("*.json")))
def test_contains_no_values_of_reference_reports(shipped: bytes, name: str) -> None:
    text = shipped.decode("utf-8")
    report = json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))
    found = [v for v in _specific_values(report) if v and v in text]
    assert found == []


@pytest.mark.parametrize(
    "value",
    [
        "QDTC-2026",
        "QDTC",
        "LS-20261115",
        "Laoshan",
        "Qingdao",
        "HRB400E",
        "Rizhao",
        "崂山",
        "Лаошань",
        "SDMT",
        "090210",
        "721420",
        "8302-2013",
        "5009.12",
        "23200.113",
        "1499.2",
    ],
)
def test_contains_no_reference_specific_vocabulary(shipped: bytes, value: str) -> None:
    assert value.encode() not in shipped
    assert value.lower().encode() not in shipped.lower()


@pytest.mark.parametrize(
    "general",
    [
        "https://www.w3.org/ns/credentials/v2",
        "https://w3id.org/yilu/v1",
        "TestCertificateCredential",
        "BitstringStatusListEntry",
        '"typ":"vc+jwt"',
        "mg/kg",
        "GB/T ",
        "ГОСТ ",
        "ISO ",
        "not detected",
    ],
)
def test_contains_general_vocabulary(shipped: bytes, general: str) -> None:
    assert general.encode() in shipped


def test_every_scope_and_credential_member_name_is_in_it(shipped: bytes) -> None:
    text = shipped.decode("utf-8")
    for scope in SCOPES:
        assert f'"scope":"{scope}"' in text
    for member in MEMBER_ORDER:
        if member not in ("en", "zh", "ru", "kk"):
            assert f'"{member}":' in text, member


def test_dictionary_helps_a_report_it_never_saw() -> None:
    """A made-up textiles report (not in the reference set) still compresses better with it."""
    report = (
        '{"reportNumber":"TX-9-0001","scope":"textiles","applicant":{"name":"Almaty Wool LLP",'
        '"country":"KZ"},"product":{"name":"Wool yarn","nameLocal":{"ru":"Пряжа шерстяная"},'
        '"hsCode":"5107","origin":"KZ","destination":"CN"},"results":[{"parameter":"Formaldehyde",'
        '"method":"ISO 14184-1:2011","value":"<20","unit":"mg/kg","limit":"<=75","verdict":"pass"},'
        '{"parameter":"pH value","method":"ISO 3071:2020","value":"6.2","limit":"4.0-7.5",'
        '"verdict":"pass"}],"conclusion":"pass"}'
    ).encode()

    def size(zdict: bytes | None) -> int:
        c = (
            zlib.compressobj(9, zlib.DEFLATED, -15, 9, zdict=zdict)
            if zdict
            else zlib.compressobj(9, zlib.DEFLATED, -15, 9)
        )
        return len(c.compress(report) + c.flush())

    assert size(yl1.dictionary(1)) < 0.85 * size(None)
