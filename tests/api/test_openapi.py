"""The OpenAPI document and the docs page, served without any CDN."""

from __future__ import annotations

import re

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_the_openapi_document_lists_the_lead_endpoints() -> None:
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    assert doc["openapi"].startswith("3.")
    paths = doc["paths"]
    assert "get" in paths["/api/v1/leads"]
    assert "get" in paths["/api/v1/leads/{lead_id}"]
    assert "get" in paths["/api/v1/leads/{lead_id}/events"]
    assert "post" in paths["/api/v1/leads/{lead_id}/transition"]


def test_the_openapi_document_declares_bearer_auth() -> None:
    doc = Client().get("/api/v1/openapi.json").json()
    schemes = doc["components"]["securitySchemes"]
    assert any(s.get("type") == "http" and s.get("scheme") == "bearer" for s in schemes.values())


def test_the_transition_documents_its_error_answers() -> None:
    doc = Client().get("/api/v1/openapi.json").json()
    answers = doc["paths"]["/api/v1/leads/{lead_id}/transition"]["post"]["responses"]
    assert {"200", "401", "403", "404", "409", "422"} <= set(answers)


def test_the_docs_page_renders_from_local_static_files_only() -> None:
    client = Client()
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "openapi.json" in html
    assert not re.search(r"https?://", html), re.findall(r"https?://[^\"' ]+", html)
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    assert assets
    for asset in assets:
        assert client.get(asset).status_code == 200, asset
