"""Security headers: a browser never runs what a JSON answer carries, nor frames the app."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.conftest import World


def test_every_answer_forbids_sniffing_and_framing(client: TestClient, world: World) -> None:
    answers = [
        client.get("/api/v1/auth/me", headers=world.callers["operator"]),
        client.get("/api/v1/auth/me"),
        client.get("/api/v1/docs"),
        client.get("/no/such/page"),
    ]
    assert [a.status_code for a in answers] == [200, 401, 200, 404]
    for answer in answers:
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["referrer-policy"] == "same-origin"
    for answer in (answers[0], answers[1], answers[3]):
        assert "json" in answer.headers["content-type"]
        assert answer.headers["content-security-policy"].startswith("default-src 'none'")
    assert "content-security-policy" not in answers[2].headers
