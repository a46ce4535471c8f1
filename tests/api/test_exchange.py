"""The exchange, its peering LAN and route servers through /api/v1, for each role."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ixp.models import AuditEntry, RsSession
from tests.api.conftest import World

PROBLEM = "application/problem+json"

NEW_RS = {
    "name": "rs3-lhe",
    "asn": 38195,
    "router_id": "185.1.10.3",
    "ipv4": "185.1.10.3",
    "ipv6": "2001:7f8:1::3",
}


def test_signed_in_users_read_the_exchange_and_lan_the_public_gets_401(
    client: TestClient, world: World
) -> None:
    for role in ("member_a", "operator"):
        shown = client.get("/api/v1/exchange", headers=world.callers[role])
        assert shown.status_code == 200
        assert shown.json()["name"] == "PKIX Test" and shown.json()["lan_v4"] == "185.1.10.0/24"
        lans = client.get("/api/v1/exchange/lans", headers=world.callers[role]).json()
        assert lans == [
            {
                "name": "PKIX Test peering LAN",
                "vlan_id": 100,
                "ipv4_prefix": "185.1.10.0/24",
                "ipv6_prefix": "2001:7f8:1::/64",
            }
        ]
    for path in ("/api/v1/exchange", "/api/v1/exchange/lans", "/api/v1/route-servers"):
        response = client.get(path)
        assert response.status_code == 401 and response.headers["content-type"] == PROBLEM


def test_route_servers_are_listed_and_read_by_name(client: TestClient, world: World) -> None:
    member = world.callers["member_b"]
    listed = client.get("/api/v1/route-servers", headers=member).json()
    assert [rs["name"] for rs in listed] == ["rs1-isb", "rs2-khi"]
    one = client.get("/api/v1/route-servers/rs2-khi", headers=member).json()
    assert one == listed[1] and one["ipv6"] == "2001:7f8:1::2"
    missing = client.get("/api/v1/route-servers/rs9", headers=member)
    assert (
        missing.status_code == 404
        and missing.json()["detail"] == "route server: 'rs9' does not exist"
    )


def test_operator_adds_a_route_server_members_get_sessions_and_it_is_audited(
    client: TestClient, world: World, session: Session
) -> None:
    made = client.post("/api/v1/route-servers", json=NEW_RS, headers=world.callers["operator"])
    assert made.status_code == 201, made.text
    assert made.json()["control_socket"] == "/run/bird/rs3-lhe.ctl"
    assert len(session.scalars(select(RsSession)).all()) == 6
    entry = session.scalars(select(AuditEntry).where(AuditEntry.entity_key == "rs3-lhe")).one()
    assert (entry.actor, entry.action) == ("op", "create")


def test_members_may_not_add_route_servers(client: TestClient, world: World) -> None:
    response = client.post("/api/v1/route-servers", json=NEW_RS, headers=world.callers["member_a"])
    assert response.status_code == 403 and response.headers["content-type"] == PROBLEM
    assert client.post("/api/v1/route-servers", json=NEW_RS).status_code == 401


def test_every_bad_route_server_field_is_reported_and_nothing_written(
    client: TestClient, world: World, session: Session
) -> None:
    operator = world.callers["operator"]
    bad = {**NEW_RS, "name": "RS 3", "router_id": "not-an-ip", "ipv4": "10.0.0.3"}
    response = client.post("/api/v1/route-servers", json=bad, headers=operator)
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"name", "router_id", "ipv4"}
    typed = client.post(
        "/api/v1/route-servers", json={**NEW_RS, "asn": "38195", "ipv6": 5}, headers=operator
    )
    assert typed.status_code == 422
    assert {e["field"] for e in typed.json()["errors"]} == {"asn", "ipv6"}
    taken = client.post(
        "/api/v1/route-servers", json={**NEW_RS, "name": "rs1-isb"}, headers=operator
    )
    assert taken.status_code == 409
    assert len(session.scalars(select(RsSession)).all()) == 4


def test_only_operators_see_where_route_servers_are_managed(
    client: TestClient, world: World
) -> None:
    seen = {
        role: client.get("/api/v1/route-servers/rs1-isb", headers=world.callers[role]).json()
        for role in ("member_a", "operator")
    }
    assert seen["operator"]["control_socket"] == "/run/bird/rs1-isb.ctl"
    assert seen["member_a"]["control_socket"] is None and seen["member_a"]["mgmt_host"] is None
    listed = client.get("/api/v1/route-servers", headers=world.callers["member_a"]).json()
    assert {rs["control_socket"] for rs in listed} == {None}
