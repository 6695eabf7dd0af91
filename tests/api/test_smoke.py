from __future__ import annotations

from fastapi.testclient import TestClient


def test_health_and_login_flow(app_client: TestClient, make_staff) -> None:
    assert app_client.get("/healthz").json()["status"] == "ok"
    assert app_client.get("/readyz").status_code == 200
    staff = make_staff("owner")
    response = app_client.post(
        "/v1/auth/login", json={"email": staff.user.email, "password": "correct horse battery"}
    )
    assert response.status_code == 200, response.text
    csrf = response.json()["csrf_token"]
    me = app_client.get("/v1/auth/me")
    assert me.json()["user"]["email"] == staff.user.email
    refused = app_client.post("/v1/users", json={})
    assert refused.status_code == 403
    assert refused.json()["code"] == "auth.csrf_failed"
    created = app_client.post(
        "/v1/users",
        headers={"X-CSRF-Token": csrf},
        json={
            "email": "new@example.com",
            "full_name": "New",
            "role": "analyst",
            "password": "long enough pass",
        },
    )
    assert created.status_code == 201, created.text
