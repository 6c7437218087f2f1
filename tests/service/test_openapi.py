"""The OpenAPI schema is complete: typed models, documented errors in one shape, security on
every endpoint but /health; and the errors the service really returns have that shape."""

from __future__ import annotations

import pytest

from service.app import create_app
from service.errors import ErrorResponse


@pytest.fixture(scope="module")
def schema():
    return create_app().openapi()


def _operations(schema):
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            yield path, method, op


def test_no_default_validation_schema(schema):
    comps = schema["components"]["schemas"]
    assert "HTTPValidationError" not in comps and "ValidationError" not in comps
    assert "ErrorResponse" in comps and "ErrorBody" in comps
    assert "HTTPValidationError" not in str(schema)


def test_every_operation_is_documented(schema):
    ref = "#/components/schemas/ErrorResponse"
    for path, method, op in _operations(schema):
        where = f"{method.upper()} {path}"
        assert op.get("summary"), where
        responses = op["responses"]
        assert any(code.startswith("2") for code in responses), where
        for code, resp in responses.items():
            if code.startswith(("4", "5")):
                assert resp["content"]["application/json"]["schema"] == {"$ref": ref}, where
            elif code not in ("204",):
                assert resp.get("content"), where
        if path.endswith("/health"):
            assert "security" not in op
            continue
        assert op.get("security") == [{"HTTPBearer": []}], where
        assert "401" in responses, where


def test_json_responses_are_typed(schema):
    for path, method, op in _operations(schema):
        for code, resp in op["responses"].items():
            js = resp.get("content", {}).get("application/json")
            if js is not None:
                assert js["schema"] not in ({}, {"type": "object"}), (method, path, code)


def test_upload_body_is_documented(schema):
    op = schema["paths"]["/api/v1/projects/{project_id}/uploads"]["post"]
    assert set(op["requestBody"]["content"]) == {"application/vnd.apache.parquet",
                                                 "application/x-ndjson"}
    headers = {p["name"] for p in op["parameters"] if p["in"] == "header"}
    assert {"x-content-sha256", "x-record-count"} <= headers


def test_real_errors_match_the_schema(service):
    api = service.api
    cases = [
        api.get("/nope"),
        api.get("/me"),
        api.get("/projects/prj_missing", service.operator),
        api.post("/projects", service.operator, json={"name": ""}),
        api.req("PUT", "/projects", service.operator),
        service.client.get("/no-such-route"),
    ]
    assert [r.status_code for r in cases] == [404, 401, 404, 422, 405, 404]
    for r in cases:
        ErrorResponse.model_validate(r.json())
        assert r.headers["content-type"].startswith("application/json")
