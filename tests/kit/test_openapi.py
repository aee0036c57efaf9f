"""OpenAPI 3.1 at /api/v1/openapi.json with clean operation ids and the real error
responses; interactive docs at /docs with no external requests."""

from __future__ import annotations

import re

import httpx
from openapi_spec_validator import validate


async def test_openapi_document(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    assert spec["openapi"].startswith("3.1")
    operations = [
        (path, method, op) for path, item in spec["paths"].items() for method, op in item.items()
    ]
    assert {p for p, _, _ in operations} >= {"/api/v1/account/credits", "/api/v1/workspaces"}
    ids = [op["operationId"] for _, _, op in operations]
    assert len(ids) == len(set(ids))
    for operation_id in ids:
        assert re.fullmatch(r"[a-z][A-Za-z0-9]+", operation_id), operation_id
    for path, _method, op in operations:
        assert path.startswith("/api/v1/")
        assert "401" in op["responses"], path
        # we answer 400 for bad input, never FastAPI's 422; a documented 422 is ours
        # (PLATFORM_NOT_CONNECTED, a mismatched Idempotency-Key)
        if "422" in op["responses"]:
            assert op["responses"]["422"]["description"] != "Validation Error", path
            assert op["responses"]["422"]["content"]["application/json"]["schema"]["$ref"].endswith(
                "/ErrorEnvelope"
            ), path
    credits = spec["paths"]["/api/v1/account/credits"]["get"]
    assert credits["operationId"] == "getCredits"
    schema_ref = credits["responses"]["401"]["content"]["application/json"]["schema"]["$ref"]
    assert schema_ref.endswith("/ErrorEnvelope")


async def test_every_operation_says_what_it_needs(client: httpx.AsyncClient) -> None:
    """Enough for a generated client: key schemes, scope, workspace header, limits."""
    spec = (await client.get("/api/v1/openapi.json")).json()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["ApiKeyHeader"] == {
        "type": "apiKey",
        "in": "header",
        "name": "x-api-key",
        "description": schemes["ApiKeyHeader"]["description"],
    }
    assert schemes["BearerAuth"]["scheme"] == "bearer"
    for path, item in spec["paths"].items():
        for method, op in item.items():
            where = f"{method} {path}"
            assert op["security"] == [{"ApiKeyHeader": []}, {"BearerAuth": []}], where
            assert re.fullmatch(r"[a-z]+:[a-z]+", op["x-required-scope"]), where
            assert {"401", "403", "429"} <= set(op["responses"]), where
            ok = next(r for s, r in op["responses"].items() if s.startswith("2"))
            assert {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-Request-Id"} <= set(
                ok["headers"]
            ), where
    credits = spec["paths"]["/api/v1/account/credits"]["get"]
    assert credits["x-required-scope"] == "account:read"
    assert not any(p["name"] == "X-Workspace-Id" for p in credits.get("parameters", []))
    listing = spec["paths"]["/api/v1/content/generations"]["get"]
    assert listing["x-required-scope"] == "content:read"
    (workspace,) = [p for p in listing["parameters"] if p["name"] == "X-Workspace-Id"]
    assert workspace["in"] == "header"
    assert workspace["required"] is True
    assert workspace["schema"] == {"type": "string", "format": "uuid"}


async def test_docs_page_is_self_contained(client: httpx.AsyncClient) -> None:
    page = await client.get("/docs")
    assert page.status_code == 200
    urls = re.findall(r'(?:src|href)="([^"]+)"', page.text) + re.findall(
        r"url: '([^']+)'", page.text
    )
    assert urls
    for url in urls:
        assert not url.startswith(("http://", "https://", "//")), url
    for asset in ("/docs/static/swagger-ui-bundle.js", "/docs/static/swagger-ui.css"):
        assert (await client.get(asset)).status_code == 200


async def test_the_document_is_valid_openapi_31(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/api/v1/openapi.json")).json()
    validate(spec)  # raises with the offending path if the document breaks the 3.1 schema
