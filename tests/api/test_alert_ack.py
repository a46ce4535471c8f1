"""``POST /api/v1/alerts/{id}/ack``: operators acknowledge an open alert, recorded under
their own name; members may not, and a second acknowledgement is a 409 naming the first."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.conftest import World
from tests.api.test_monitor import monitored

__all__ = ["monitored"]


def _open_alert(client: TestClient, world: World, rule: str) -> int:
    listed = client.get("/api/v1/alerts", headers=world.callers["operator"]).json()["items"]
    return next(a["id"] for a in listed if a["rule"] == rule)


def test_an_operator_acknowledges_under_its_name(client: TestClient, monitored: World) -> None:
    alert = _open_alert(client, monitored, "session-down")
    refused = client.post(f"/api/v1/alerts/{alert}/ack", headers=monitored.callers["member_b"])
    assert refused.status_code == 403
    answer = client.post(f"/api/v1/alerts/{alert}/ack", headers=monitored.callers["operator"])
    assert answer.status_code == 200, answer.text
    assert answer.json()["acknowledged_by"] == "op" and answer.json()["closed_at"] is None
    again = client.post(f"/api/v1/alerts/{alert}/ack", headers=monitored.callers["operator"])
    assert again.status_code == 409
    assert "already acknowledged by op" in again.json()["detail"]
    mine = client.get("/api/v1/alerts", headers=monitored.callers["member_b"]).json()["items"]
    assert [a["acknowledged_by"] for a in mine] == ["op"]


def test_a_closed_or_unknown_alert_cannot_be_acknowledged(
    client: TestClient, monitored: World
) -> None:
    closed = client.get(
        "/api/v1/alerts", params={"status": "closed"}, headers=monitored.callers["operator"]
    ).json()["items"][0]["id"]
    answer = client.post(f"/api/v1/alerts/{closed}/ack", headers=monitored.callers["operator"])
    assert answer.status_code == 409 and "is closed" in answer.json()["detail"]
    missing = client.post("/api/v1/alerts/99999/ack", headers=monitored.callers["operator"])
    assert missing.status_code == 404
