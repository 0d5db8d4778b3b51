"""The OpenAPI document and the docs page, served without any CDN.

Besides the document's content, a schemathesis-style sweep calls every operation with
awkward input and checks the answer is one the document declares, as JSON, never a 500.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client

from leadrelay.accounts.models import User
from leadrelay.leads.models import Lead

pytestmark = pytest.mark.django_db

ENDPOINTS = {
    ("get", "/api/v1/leads"),
    ("get", "/api/v1/leads/{lead_id}"),
    ("get", "/api/v1/leads/{lead_id}/events"),
    ("post", "/api/v1/leads/{lead_id}/transition"),
    ("post", "/api/v1/leads/{lead_id}/claim"),
    ("post", "/api/v1/leads/{lead_id}/reassign"),
    ("post", "/api/v1/leads/{lead_id}/touches"),
    ("post", "/api/v1/leads/{lead_id}/notes"),
    ("get", "/api/v1/leads/{lead_id}/qualification"),
    ("put", "/api/v1/leads/{lead_id}/bant"),
    ("put", "/api/v1/leads/{lead_id}/answers/{version_id}"),
    ("get", "/api/v1/questionnaires"),
    ("get", "/api/v1/reason-codes"),
    ("get", "/api/v1/needs"),
    ("get", "/api/v1/returns"),
    ("post", "/api/v1/returns/{return_id}/decision"),
    ("post", "/api/v1/returns/{return_id}/judgement"),
}


def document() -> dict[str, Any]:
    doc: dict[str, Any] = Client().get("/api/v1/openapi.json").json()
    return doc


def operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            yield method, path, op


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


def test_the_openapi_document_lists_the_sdr_workspace() -> None:
    doc = document()
    found = {(m, p) for m, p, _ in operations(doc) if p.startswith("/api/v1/")}
    assert not ENDPOINTS - found, ENDPOINTS - found


def test_every_operation_is_tagged_described_and_documents_its_errors() -> None:
    doc = document()
    ids = []
    for method, path, op in operations(doc):
        where = f"{method.upper()} {path}"
        assert op.get("tags"), where
        assert op.get("description") or op.get("summary"), where
        ids.append(op["operationId"])
        answers = set(op["responses"])
        assert "401" in answers, where  # every operation needs the token
        if "{" in path:
            assert "404" in answers, where
        if method in ("post", "put"):
            assert {"403", "422"} <= answers, where
    assert len(ids) == len(set(ids))


def test_every_reference_in_the_document_resolves() -> None:
    doc = document()
    refs: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                refs.add(node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc)
    assert refs
    schemas = doc["components"]["schemas"]
    for ref in refs:
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.rsplit("/", 1)[1] in schemas, ref


def _schema_of(doc: dict[str, Any], path: str, method: str, status: str) -> dict[str, Any]:
    content = doc["paths"][path][method]["responses"][status]["content"]
    ref = content["application/json"]["schema"]["$ref"]
    schema: dict[str, Any] = doc["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return schema


def test_the_error_bodies_document_their_details() -> None:
    doc = document()
    taken = _schema_of(doc, "/api/v1/leads/{lead_id}/claim", "post", "409")
    assert {"code", "message", "owner"} <= set(taken["properties"])
    gate = _schema_of(doc, "/api/v1/leads/{lead_id}/transition", "post", "422")
    assert {"code", "message", "field", "missing", "allowed", "errors"} <= set(gate["properties"])
    bant = doc["paths"]["/api/v1/leads/{lead_id}/bant"]["put"]
    assert "invalid" in bant["description"]
    transition = doc["paths"]["/api/v1/leads/{lead_id}/transition"]["post"]
    assert "Release" in transition["description"]  # a release is a move to `new`
    lead = doc["components"]["schemas"]["LeadOut"]["properties"]
    assert "end_reason_code" in lead


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


# A schemathesis-style sweep -------------------------------------------------------------

AWKWARD_BODIES: list[Any] = [{}, [], {"unexpected": True}, {"to": 5, "version": "x"}]
AWKWARD_QUERIES: list[dict[str, str]] = [{}, {"limit": "many"}, {"kind": "whim", "state": "x"}]


def _fill(path: str, lead: Lead) -> list[str]:
    """The path with its ids: an existing one, an unknown one, and a non-number."""
    concrete = []
    for value in (str(lead.pk), "999999", "abc"):
        concrete.append(re.sub(r"\{[a-z_]+\}", value, path))
    return concrete


def test_every_operation_answers_awkward_input_as_documented(
    cast: dict[str, User], api_client: Callable[[User], Client], make_lead: Callable[..., Lead]
) -> None:
    doc = document()
    lead = make_lead()
    checked = 0
    for who in ("admin", "sdr", "sales"):
        client = api_client(cast[who])
        for method, path, op in operations(doc):
            if not path.startswith("/api/v1/") or path.endswith("openapi.json"):
                continue
            declared = {int(s) for s in op["responses"]}
            for url in _fill(path, lead):
                calls: list[Any] = AWKWARD_QUERIES if method == "get" else AWKWARD_BODIES
                for body in calls:
                    if method == "get":
                        response = client.get(url, body)
                    else:
                        response = getattr(client, method)(
                            url, body, content_type="application/json"
                        )
                    where = f"{who} {method.upper()} {url} {body!r}"
                    checked += 1
                    assert response.status_code < 500, where
                    assert response["Content-Type"].startswith("application/json"), where
                    data = response.json()
                    if response.status_code >= 400:
                        assert {"code", "message"} <= set(data), where
                    # "abc" for an id is the router's 404, before any operation runs.
                    if "abc" not in url:
                        assert response.status_code in declared, (where, response.status_code)
    assert checked > 100
