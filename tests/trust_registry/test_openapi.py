"""OpenAPI describes every endpoint with examples (issue 7, "Operations").

Both services' documents are walked operation by operation (parametrised, so that a new
endpoint without a summary, a description or examples fails here by name): every request
body and every 2xx answer carries an example in the media type it really is (compact JWS
lists as ``application/jwt``, bundles as their own type), the JSON examples validate
against their schemas, and the examples look like the real thing (kids of 11 base64url
characters, RFC 3339 times, no ``…`` placeholders).
"""

from __future__ import annotations

import base64
import json
import re
import tempfile
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from jsonschema import Draft202012Validator

from service.publication import JWT_MEDIA_TYPE
from service.settings import ServiceSettings
from trust_registry._root_routes import BUNDLE_MEDIA_TYPE
from trust_registry.registry import create_app as create_registry
from trust_registry.root import create_app as create_root

APPS: dict[str, Callable[[ServiceSettings], FastAPI]] = {"registry": create_registry, "root": create_root}
METHODS = ("get", "put", "post", "delete", "patch")
#: Routes that serve a compact JWS: they must say application/jwt, never JSON.
JWT_ROUTES = {
    ("registry", "/trust-list"),
    ("registry", "/trust-list/{sequence}"),
    ("registry", "/status-lists/{name}"),
    ("root", "/federation-list"),
    ("root", "/federation-list/{sequence}"),
}
#: Routes that serve bundle bytes.
BUNDLE_ROUTES = {
    ("root", "/bundles/latest"),
    ("root", "/bundles/{sequence}"),
    ("root", "/bundles/{sequence}/delta"),
}
KID = re.compile(r"^[A-Za-z0-9_-]{11}$")
#: Example keys whose string values are times (RFC 3339 with a zone).
TIME_KEYS = re.compile(r"(At|_at|Since|From|Until|^since|^until|^from|^at)$")


def _build(data_dir: Path) -> dict[str, dict[str, Any]]:
    specs = {}
    for role, create in APPS.items():
        app = create(ServiceSettings(data_dir=data_dir / role))
        specs[role] = app.openapi()
        engine = getattr(app.state, "engine", None)
        if engine is not None:
            engine.dispose()
    return specs


def _operation_ids() -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        specs = _build(Path(tmp))
    return sorted(
        f"{role} {method.upper()} {path}"
        for role, spec in specs.items()
        for path, item in spec["paths"].items()
        for method in item
        if method in METHODS
    )


OPERATIONS = _operation_ids()


@pytest.fixture(scope="module")
def specs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    return _build(tmp_path_factory.mktemp("openapi"))


def _operation(specs: dict[str, dict[str, Any]], name: str) -> tuple[str, str, dict[str, Any]]:
    role, method, path = name.split(" ", 2)
    return role, path, specs[role]["paths"][path][method.lower()]


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _schema_has_example(spec: dict[str, Any], schema: dict[str, Any] | None) -> bool:
    if not schema:
        return False
    schema = _resolve(spec, schema)
    if schema.get("examples") or schema.get("example") is not None:
        return True
    items = schema.get("items")
    return isinstance(items, dict) and _schema_has_example(spec, items)


def _has_example(spec: dict[str, Any], media: dict[str, Any]) -> bool:
    return bool(
        media.get("example") is not None
        or media.get("examples")
        or _schema_has_example(spec, media.get("schema"))
    )


def test_every_route_is_walked(specs: dict[str, dict[str, Any]]) -> None:
    walked = sorted(
        f"{role} {method.upper()} {path}"
        for role, spec in specs.items()
        for path, item in spec["paths"].items()
        for method in item
        if method in METHODS
    )
    assert walked == OPERATIONS
    assert {"registry GET /health", "root GET /ready", "root POST /members/{number}/keys"} <= set(walked)


@pytest.mark.parametrize("name", OPERATIONS)
def test_operation_is_described(specs: dict[str, dict[str, Any]], name: str) -> None:
    _, _, op = _operation(specs, name)
    assert op.get("summary", "").strip(), f"{name}: no summary"
    assert op.get("description", "").strip(), f"{name}: no description (the route's docstring)"


@pytest.mark.parametrize("name", OPERATIONS)
def test_request_body_has_example(specs: dict[str, dict[str, Any]], name: str) -> None:
    role, _, op = _operation(specs, name)
    content = op.get("requestBody", {}).get("content", {})
    for media_type, media in content.items():
        assert _has_example(specs[role], media), f"{name}: request body {media_type} has no example"


@pytest.mark.parametrize("name", OPERATIONS)
def test_success_response_has_example(specs: dict[str, dict[str, Any]], name: str) -> None:
    role, _, op = _operation(specs, name)
    successes = {code: r for code, r in op["responses"].items() if code.startswith("2") and code != "204"}
    assert successes, f"{name}: no 2xx response documented"
    for code, response in successes.items():
        assert response.get("description"), f"{name}: {code} has no description"
        content = response.get("content")
        assert content, f"{name}: {code} has no content"
        for media_type, media in content.items():
            assert _has_example(specs[role], media), f"{name}: {code} {media_type} has no example"


@pytest.mark.parametrize("name", OPERATIONS)
def test_media_types_are_the_served_ones(specs: dict[str, dict[str, Any]], name: str) -> None:
    role, path, op = _operation(specs, name)
    content = op["responses"].get("200", {}).get("content", {})
    if JWT_MEDIA_TYPE in content:
        assert "application/json" not in content, f"{name}: serves a JWS yet claims JSON too"
    if (role, path) in JWT_ROUTES:
        assert set(content) == {JWT_MEDIA_TYPE}, f"{name}: {sorted(content)}"
        header_part = content[JWT_MEDIA_TYPE]["example"].split(".")
        assert len(header_part) == 3
        header = json.loads(base64.urlsafe_b64decode(header_part[0] + "=" * (-len(header_part[0]) % 4)))
        assert header["alg"] == "EdDSA"
        assert KID.match(header["kid"])
        assert header["typ"].endswith("+jwt")
        assert len(base64.urlsafe_b64decode(header_part[2] + "==")) == 64
    elif (role, path) in BUNDLE_ROUTES:
        assert set(content) == {BUNDLE_MEDIA_TYPE}, f"{name}: {sorted(content)}"
        assert content[BUNDLE_MEDIA_TYPE]["example"].startswith("YILU-BUNDLE/3\n")
    else:
        assert JWT_MEDIA_TYPE not in content, f"{name} serves a JWS: add it to JWT_ROUTES"
        assert BUNDLE_MEDIA_TYPE not in content, f"{name} serves a bundle: add it to BUNDLE_ROUTES"


def _examples(spec: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any] | None, Any]]:
    """(where, schema, example) for every example of the document."""
    for name, schema in spec["components"]["schemas"].items():
        for example in schema.get("examples", []):
            yield f"schema {name}", {"$ref": f"#/components/schemas/{name}"}, example
    for path, item in spec["paths"].items():
        for method, op in item.items():
            bodies = [("request", op.get("requestBody", {}))]
            bodies += [(code, r) for code, r in op.get("responses", {}).items()]
            for code, body in bodies:
                for media_type, media in body.get("content", {}).items():
                    if "example" in media:
                        schema = media.get("schema") if media_type.endswith("json") else None
                        yield f"{method.upper()} {path} {code} {media_type}", schema, media["example"]


def _walk(value: Any, key: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _walk(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v, key)
    else:
        yield key, value


@pytest.mark.parametrize("role", sorted(APPS))
def test_examples_match_their_schemas(specs: dict[str, dict[str, Any]], role: str) -> None:
    spec = specs[role]
    checked = 0
    for where, schema, example in _examples(spec):
        if schema is None:
            continue
        validator = Draft202012Validator({**schema, "components": spec["components"]})
        errors = [
            f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(example)
        ]
        assert not errors, f"{role} {where}: the example does not fit its schema: {errors}"
        checked += 1
    assert checked > 10


@pytest.mark.parametrize("role", sorted(APPS))
def test_examples_look_real(specs: dict[str, dict[str, Any]], role: str) -> None:
    for where, _, example in _examples(specs[role]):
        for key, value in _walk(example):
            if not isinstance(value, str):
                continue
            assert "…" not in value, f"{role} {where}: placeholder in {key}: {value[:60]}"
            if key == "kid":
                assert KID.match(value), f"{role} {where}: kid {value!r} is not 11 base64url characters"
            if TIME_KEYS.search(key):
                parsed = datetime.fromisoformat(value)
                assert parsed.tzinfo is not None, f"{role} {where}: {key} {value!r} has no zone"
            if key in ("id", "registry", "federationId", "labId", "issuer"):
                assert value.startswith("https://"), f"{role} {where}: {key} {value!r} is not an https id"


@pytest.mark.parametrize("role", sorted(APPS))
def test_document_is_valid_openapi_3_1(specs: dict[str, dict[str, Any]], role: str) -> None:
    validator = pytest.importorskip("openapi_spec_validator")
    spec = specs[role]
    assert spec["openapi"].startswith("3.1")
    validator.validate(spec)
