"""The /v1/customers API: masking per role, problem+json errors, pagination, export,
erasure, idempotent creation, and the permission matrix (a denial changes nothing)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from shopops.api.app import create_app
from shopops.api.introspection import iter_endpoints
from shopops.auth.permissions import Role, permissions_for
from shopops.bootstrap import Container
from tests.conftest import ClientFactory
from tests.customers.conftest import JANE, JANE_MASKED, audit_count

ADDRESS = {
    "recipient": "Jane Doe",
    "line1": "88 Century Avenue",
    "city": "Shanghai",
    "country": "CN",
    "phone": "13812345678",
}
CREATE = {**JANE, "region": "CN-31", "tags": ["vip"], "addresses": [ADDRESS]}


def _create(client: TestClient, **fields: Any) -> dict[str, Any]:
    response = client.post("/v1/customers", json={**CREATE, **fields})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
def cs(client_as: ClientFactory) -> TestClient:
    return client_as(Role.CS_AGENT)


def test_reads_are_masked_per_role(cs: TestClient, client_as: ClientFactory) -> None:
    created = _create(cs)
    assert (created["email"], created["phone"], created["name"], created["pii_masked"]) == (
        JANE["email"],
        JANE["phone"],
        JANE["name"],
        False,
    )
    for role in (Role.ANALYST, Role.MARKETING):
        body = client_as(role).get(f"/v1/customers/{created['id']}").json()
        assert (body["email"], body["phone"], body["name"], body["pii_masked"]) == (
            JANE_MASKED["email"],
            JANE_MASKED["phone"],
            JANE_MASKED["name"],
            True,
        )
        assert body["addresses"][0]["line1"] == "88***"
        assert body["addresses"][0]["phone"] == "138****5678"
        listed = client_as(role).get("/v1/customers").json()["items"]
        assert [(c["email"], c["addresses"]) for c in listed] == [("j***@example.com", None)]


def test_every_field_error_in_one_problem_document(cs: TestClient, container: Container) -> None:
    before = audit_count(container)
    response = cs.post(
        "/v1/customers",
        json={
            "email": "jane@@example",
            "phone": "12ab",
            "source_channel": "fax",
            "region": "Shanghai",
            "tags": ["ok", "not ok"],
            "addresses": [{"recipient": "J", "line1": "1 Road", "city": "X", "country": "ZZ"}],
        },
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert (problem["code"], problem["status"], problem["detail"]) == (
        "validation.failed",
        422,
        "6 invalid field(s)",
    )
    assert {(e["field"], e["code"]) for e in problem["errors"]} == {
        ("email", "customers.invalid_email"),
        ("phone", "customers.invalid_phone"),
        ("source_channel", "customers.unknown_channel"),
        ("region", "customers.invalid_region"),
        ("tags", "customers.invalid_tag"),
        ("addresses.0.country", "customers.invalid_country"),
    }
    assert "jane@@example" not in response.text  # errors never echo personal values
    assert audit_count(container) == before


def test_duplicate_email_is_a_conflict(cs: TestClient) -> None:
    _create(cs)
    response = cs.post("/v1/customers", json={"email": "JANE.DOE@example.com"})
    assert response.status_code == 409
    assert response.json()["code"] == "customers.email_taken"


def test_unknown_customer_is_404(cs: TestClient) -> None:
    response = cs.get("/v1/customers/999")
    assert (response.status_code, response.json()["code"]) == (404, "customers.not_found")


def test_patch_changes_sent_fields_and_null_removes(cs: TestClient) -> None:
    created = _create(cs)
    response = cs.patch(f"/v1/customers/{created['id']}", json={"name": None, "region": "us-ca"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["name"], body["region"], body["email"], body["phone"]) == (
        None,
        "US-CA",
        JANE["email"],
        JANE["phone"],
    )
    removed_both = cs.patch(f"/v1/customers/{created['id']}", json={"email": None, "phone": None})
    assert removed_both.status_code == 422
    assert [e["code"] for e in removed_both.json()["errors"]] == ["customers.contact_required"]


def test_search_by_contact_and_paginate_lists(cs: TestClient) -> None:
    ids = [
        _create(cs, email=f"c{i}@example.com", tags=["vip"] if i % 2 else [])["id"]
        for i in range(5)
    ]
    found = cs.post("/v1/customers/search", json={"email": " C3@Example.com "}).json()
    assert [c["id"] for c in found["items"]] == [ids[3]]
    assert (
        len(cs.post("/v1/customers/search", json={"phone": "138-1234-5678"}).json()["items"]) == 5
    )
    seen, cursor = [], None
    while True:
        params: dict[str, Any] = {"limit": 2, "tag": "vip"}
        if cursor:
            params["cursor"] = cursor
        page = cs.get("/v1/customers", params=params).json()
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [ids[1], ids[3]]
    bad = cs.get("/v1/customers", params={"registered_from": "2026-01-01T00:00:00"})
    assert [e["code"] for e in bad.json()["errors"]] == ["customers.naive_datetime"]


def test_consent_tags_and_addresses(cs: TestClient) -> None:
    customer_id = _create(cs)["id"]
    consent = cs.patch(f"/v1/customers/{customer_id}/consent", json={"marketing_sms": True})
    assert (consent.json()["marketing_sms_consent"], consent.json()["marketing_email_consent"]) == (
        True,
        False,
    )
    assert cs.post(f"/v1/customers/{customer_id}/tags", json={"tags": ["B2B"]}).json()["tags"] == [
        "b2b",
        "vip",
    ]
    assert cs.delete(f"/v1/customers/{customer_id}/tags/vip").json()["tags"] == ["b2b"]
    added = cs.post(
        f"/v1/customers/{customer_id}/addresses",
        json={**ADDRESS, "line1": "1 Office Park", "is_default": True},
    )
    assert added.status_code == 201
    address_id = added.json()["id"]
    changed = cs.patch(f"/v1/customers/{customer_id}/addresses/{address_id}", json={"phone": None})
    assert (changed.json()["phone"], changed.json()["line1"]) == (None, "1 Office Park")
    assert cs.delete(f"/v1/customers/{customer_id}/addresses/{address_id}").status_code == 204
    addresses = cs.get(f"/v1/customers/{customer_id}").json()["addresses"]
    assert [(a["line1"], a["is_default"]) for a in addresses] == [("88 Century Avenue", True)]


def test_export_needs_pii_read_and_erase_needs_confirmation(
    cs: TestClient, client_as: ClientFactory
) -> None:
    customer_id = _create(cs)["id"]
    export = cs.get(f"/v1/customers/{customer_id}/export")
    assert export.status_code == 200
    assert export.headers["content-disposition"] == (
        f'attachment; filename="customer-{customer_id}-export.json"'
    )
    assert export.json()["customer"]["email"] == JANE["email"]
    denied = client_as(Role.ANALYST).get(f"/v1/customers/{customer_id}/export")
    assert (denied.status_code, denied.json()["details"]) == (
        403,
        {"permission": "customers.pii.read"},
    )
    unconfirmed = cs.post(f"/v1/customers/{customer_id}/erase", json={})
    assert (unconfirmed.status_code, unconfirmed.json()["code"]) == (
        422,
        "customers.confirmation_required",
    )
    assert cs.get(f"/v1/customers/{customer_id}").json()["erased_at"] is None
    erased = cs.post(f"/v1/customers/{customer_id}/erase", json={"confirm": True})
    assert erased.status_code == 200
    assert (erased.json()["email"], erased.json()["addresses"]) == (None, [])
    after = cs.get(f"/v1/customers/{customer_id}/export").text
    for value in (*JANE.values(), "88 Century Avenue", "Century"):
        assert value not in after
    again = cs.post(f"/v1/customers/{customer_id}/erase", json={"confirm": True})
    assert (again.status_code, again.json()["code"]) == (409, "customers.erased")


def test_idempotent_creation_replays_the_first_response(cs: TestClient) -> None:
    headers = {"Idempotency-Key": "create-jane"}
    first = cs.post("/v1/customers", json=CREATE, headers=headers)
    second = cs.post("/v1/customers", json=CREATE, headers=headers)
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json() == first.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert len(cs.get("/v1/customers").json()["items"]) == 1


# ---- permission matrix ----

READ, WRITE, PII = "customers.read", "customers.write", "customers.pii.read"

# (method, path, body, permissions, status when allowed), in an order that keeps the data usable
ENDPOINTS: list[tuple[str, str, dict[str, Any] | None, tuple[str, ...], int]] = [
    ("GET", "/v1/customers", None, (READ,), 200),
    ("POST", "/v1/customers/search", {"tag": "vip"}, (READ,), 200),
    ("GET", "/v1/customers/{id}", None, (READ,), 200),
    ("GET", "/v1/customers/{id}/export", None, (READ, PII), 200),
    ("POST", "/v1/customers", {"phone": "13900000000"}, (WRITE,), 201),
    ("PATCH", "/v1/customers/{id}", {"name": "Janet"}, (WRITE,), 200),
    ("PATCH", "/v1/customers/{id}/consent", {"marketing_email": True}, (WRITE,), 200),
    ("POST", "/v1/customers/{id}/tags", {"tags": ["new"]}, (WRITE,), 200),
    ("DELETE", "/v1/customers/{id}/tags/vip", None, (WRITE,), 200),
    ("POST", "/v1/customers/{id}/addresses", ADDRESS, (WRITE,), 201),
    ("PATCH", "/v1/customers/{id}/addresses/{address}", {"label": "x"}, (WRITE,), 200),
    ("DELETE", "/v1/customers/{id}/addresses/{address}", None, (WRITE,), 204),
    ("POST", "/v1/customers/{id}/erase", {"confirm": True}, (WRITE,), 200),
]


def test_every_customer_route_is_in_the_matrix(container: Container) -> None:
    guarded = {
        (e.method, e.path): frozenset(e.permissions or ())
        for e in iter_endpoints(create_app(container))
        # insights belong to customer analytics (tests/analytics_customers, global matrix)
        if e.path.startswith("/v1/customers") and not e.path.endswith("/insights")
    }
    expected = {
        (
            method,
            path.replace("{id}", "{customer_id}")
            .replace("{address}", "{address_id}")
            .replace("/tags/vip", "/tags/{tag}"),
        ): frozenset(permissions)
        for method, path, _, permissions, _ in ENDPOINTS
    }
    assert guarded == expected


@pytest.mark.parametrize("role", [r for r in Role if r not in (Role.OWNER, Role.ADMIN)])
def test_permission_matrix(
    role: Role, cs: TestClient, client_as: ClientFactory, container: Container
) -> None:
    held = {str(p) for p in permissions_for(role)}
    client = client_as(role)
    customer_id = _create(cs)["id"]
    address_id = cs.get(f"/v1/customers/{customer_id}").json()["addresses"][0]["id"]
    for method, path, body, needed, allowed_status in ENDPOINTS:
        url = path.format(id=customer_id, address=address_id)
        snapshot = (audit_count(container), cs.get(f"/v1/customers/{customer_id}").json())
        response = client.request(method, url, json=body)
        if set(needed) <= held:
            assert response.status_code == allowed_status, (method, url, response.text)
        else:
            assert response.status_code == 403, (method, url, response.text)
            assert response.json()["code"] == "auth.permission_denied"
            after = (audit_count(container), cs.get(f"/v1/customers/{customer_id}").json())
            assert after == snapshot, (method, url)


def test_openapi_documents_examples(app_client: TestClient) -> None:
    schemas = app_client.get("/openapi.json").json()["components"]["schemas"]
    for name in (
        "CustomerCreate",
        "CustomerRead",
        "CustomerAddressCreate",
        "CustomerSearch",
        "CustomerEraseRequest",
    ):
        assert schemas[name]["examples"], name
