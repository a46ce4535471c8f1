"""Signing in, sessions, CSRF, tokens and the rate limit, as a browser and a script see them."""

from __future__ import annotations

import hashlib
import logging

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy.orm import Session

from api.app import create_app
from ixp import accounts, members
from ixp.errors import ValidationError
from ixp.models import ApiToken
from ixp.settings import Settings
from tests.api.conftest import PASSWORD, World

PROBLEM = "application/problem+json"


def login(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Sign in; returns the session's CSRF token (the cookie stays in the client)."""
    response = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    token: str = response.json()["csrf_token"]
    return token


def test_login_sets_a_hardened_cookie_and_me_names_the_member(client: TestClient) -> None:
    response = client.post("/api/v1/auth/login", json={"username": "alpha", "password": PASSWORD})
    assert response.status_code == 200
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    me = client.get("/api/v1/auth/me").json()
    assert me["username"] == "alpha" and me["role"] == "member" and me["member_asn"] == 58421
    assert me["csrf_token"] == response.json()["csrf_token"]


def test_wrong_password_is_401_problem_without_saying_which_part(client: TestClient) -> None:
    for username in ("alpha", "nobody"):
        response = client.post(
            "/api/v1/auth/login", json={"username": username, "password": "wrong password!"}
        )
        assert response.status_code == 401
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["detail"] == "wrong user name or password"


def test_browser_change_without_or_with_wrong_csrf_token_is_refused(client: TestClient) -> None:
    csrf = login(client, "alpha")
    missing = client.post("/api/v1/tokens", json={"name": "ci"})
    wrong = client.post("/api/v1/tokens", json={"name": "ci"}, headers={"X-CSRF-Token": "x" * 64})
    for response in (missing, wrong):
        assert response.status_code == 403
        assert response.json()["type"] == "urn:ixp:problem:csrf"
    made = client.post("/api/v1/tokens", json={"name": "ci"}, headers={"X-CSRF-Token": csrf})
    assert made.status_code == 201
    assert [t["name"] for t in client.get("/api/v1/tokens").json()] == ["ci", "tests"]


def test_token_is_shown_once_stored_hashed_and_revocable(
    client: TestClient, world: World, session: Session
) -> None:
    made = client.post("/api/v1/tokens", json={"name": "nms"}, headers=world.callers["member_a"])
    secret = made.json()["secret"]
    bearer = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/auth/me", headers=bearer).json()["username"] == "alpha"
    listed = client.get("/api/v1/tokens", headers=bearer).text
    assert secret not in listed and secret.split("_", 2)[2] not in listed
    stored = session.query(ApiToken).filter_by(name="nms").one()
    secret_part = secret.split("_", 2)[2]
    assert stored.secret_hash == hashlib.sha256(secret_part.encode()).hexdigest()
    assert secret_part not in repr(stored.__dict__)
    token_id = made.json()["token"]["id"]
    assert client.delete(f"/api/v1/tokens/{token_id}", headers=bearer).json()["revoked"]
    assert client.get("/api/v1/auth/me", headers=bearer).status_code == 401


def test_member_cannot_revoke_another_members_token(client: TestClient, world: World) -> None:
    made = client.post("/api/v1/tokens", json={"name": "b"}, headers=world.callers["member_b"])
    token_id = made.json()["token"]["id"]
    response = client.delete(f"/api/v1/tokens/{token_id}", headers=world.callers["member_a"])
    assert response.status_code == 404
    secret = made.json()["secret"]
    assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {secret}"}).is_success


def test_token_of_a_removed_member_stops_working(
    client: TestClient, world: World, session: Session
) -> None:
    headers = world.callers["member_a"]
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
    members.remove_member(session, world.member_a, actor="test")
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 401


def test_password_change_ends_older_browser_sessions(client: TestClient, session: Session) -> None:
    login(client, "alpha")
    assert client.get("/api/v1/auth/me").status_code == 200
    accounts.set_password(session, "alpha", "another long password", actor="test")
    assert client.get("/api/v1/auth/me").status_code == 401


def test_failed_logins_are_limited_per_account(client: TestClient, api_settings: Settings) -> None:
    for _ in range(api_settings.web_login_max_failures_account):
        bad = client.post("/api/v1/auth/login", json={"username": "alpha", "password": "x" * 12})
        assert bad.status_code == 401
    limited = client.post("/api/v1/auth/login", json={"username": "alpha", "password": PASSWORD})
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) > 0
    other = client.post("/api/v1/auth/login", json={"username": "bravo", "password": PASSWORD})
    assert other.status_code == 200


def test_failed_logins_are_limited_per_address(client: TestClient, api_settings: Settings) -> None:
    for index in range(api_settings.web_login_max_failures_address):
        client.post("/api/v1/auth/login", json={"username": f"u{index}", "password": "x" * 12})
    limited = client.post("/api/v1/auth/login", json={"username": "bravo", "password": PASSWORD})
    assert limited.status_code == 429


def test_production_refuses_to_start_without_its_own_secret_key(settings: Settings) -> None:
    for key in (None, "short", "development-only-key-never-use-in-production"):
        production = settings.model_copy(
            update={"web_environment": "production", "web_secret_key": key and SecretStr(key)}
        )
        with pytest.raises(ValidationError, match="web_secret_key"):
            create_app(production)


def test_passwords_never_reach_the_audit_log_or_the_listing(
    client: TestClient, world: World, session: Session
) -> None:
    response = client.get("/api/v1/users", headers=world.callers["operator"])
    assert response.status_code == 200
    assert PASSWORD not in response.text and "argon2" not in response.text
    from ixp.models import AuditEntry

    entries = session.query(AuditEntry).filter(AuditEntry.entity == "user").all()
    assert entries and all(PASSWORD not in str(e.after) for e in entries)


def test_junk_user_names_count_against_one_key_and_never_reach_the_database_raw(
    client: TestClient, api_settings: Settings
) -> None:
    for index in range(api_settings.web_login_max_failures_account):
        name = f"x\x00{index}" if index % 2 else f"Bad Näme {index}"
        response = client.post("/api/v1/auth/login", json={"username": name, "password": "p" * 10})
        assert response.status_code == 401
    limited = client.post("/api/v1/auth/login", json={"username": "\x00", "password": "p" * 10})
    assert limited.status_code == 429
    assert client.post(
        "/api/v1/auth/login", json={"username": "alpha", "password": PASSWORD}
    ).is_success


def test_nul_in_any_path_or_query_parameter_is_one_422(client: TestClient, world: World) -> None:
    operator = world.callers["operator"]
    for url in ("/api/v1/sessions?state=up%00", "/api/v1/members?q=a%00b", "/lg/rs1%00/status"):
        response = client.get(url, headers=operator)
        assert response.status_code == 422, url
        assert response.json()["errors"][0]["reason"] == "contains a NUL character"


def test_passwords_and_tokens_never_reach_the_logs(
    client: TestClient, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client.post("/api/v1/auth/login", json={"username": "alpha", "password": "wrong password!"})
    csrf = login(client, "alpha")
    made = client.post("/api/v1/tokens", json={"name": "nms"}, headers={"X-CSRF-Token": csrf})
    secret = made.json()["secret"]
    client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {secret}"})
    client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {secret}x"})
    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    for secret_text in (PASSWORD, "wrong password!", secret.split("_", 2)[2], csrf):
        assert secret_text not in logged
