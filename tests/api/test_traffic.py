"""Measured traffic through the API: operators see everything, a member's user its own rows
and the exchange's aggregates, never another member's traffic (the 404 of no member).

Three members: A and B (the world's) and Charlie. Today A sent B 3 GB and B sent A 1 GB
over IPv4, B sent Charlie 2 GB over IPv6; the rows are written by the storage's own
service, then read over HTTP.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ixp.traffic import international, store
from tests.api.conftest import World, add_test_member

CHARLIE = 38193
PROBLEM = "application/problem+json"


@pytest.fixture
def traffic(session: Session, world: World) -> World:
    add_test_member(session, CHARLIE, "Charlie", 23)
    now = int(dt.datetime.now(dt.UTC).timestamp())
    rows = store.BucketRows(now - now % 86400)
    rows.add_pair(world.member_a, world.member_b, 4, 3000, 3000 * 4096, 3 * 10**9)
    rows.add_pair(world.member_b, world.member_a, 4, 1000, 1000 * 4096, 10**9)
    rows.add_pair(world.member_b, CHARLIE, 6, 2000, 2000 * 4096, 2 * 10**9)
    rows.agents["192.0.2.1"] = {"datagrams": 100, "lost": 5, "not_ingress_samples": 3}
    store.write(session, rows)
    month = f"{dt.datetime.now(dt.UTC):%Y-%m}"
    international.set_figure(session, world.member_a, month, 12 * 10**9, actor="op")
    return world


def get(client: TestClient, world: World, role: str, url: str) -> Any:
    response = client.get(url, headers=world.callers[role])
    assert response.status_code == 200, response.text
    return response.json()


def test_an_operator_sees_every_member_pair_and_day(client: TestClient, traffic: World) -> None:
    a, b = traffic.member_a, traffic.member_b
    (day,) = get(client, traffic, "operator", "/api/v1/traffic/days")
    assert day["local"]["bytes"] == 6 * 10**9 and day["ipv6_bytes"] == 2 * 10**9
    members = get(client, traffic, "operator", "/api/v1/traffic/members")
    assert [(m["asn"], m["total"]["bytes"]) for m in members] == [
        (b, 6 * 10**9), (a, 4 * 10**9), (CHARLIE, 2 * 10**9),
    ]  # fmt: skip
    pairs = get(client, traffic, "operator", "/api/v1/traffic/pairs?top=2")
    assert [(p["src_asn"], p["dst_asn"]) for p in pairs] == [(a, b), (b, CHARLIE)]
    grid = get(client, traffic, "operator", "/api/v1/traffic/matrix?top=3")
    assert grid["asns"] == [b, a, CHARLIE]
    assert grid["cells"][0] == [0, 10**9, 2 * 10**9]
    health = get(client, traffic, "operator", "/api/v1/traffic/health")
    (agent,) = health["agents"]
    assert (agent["lost"], agent["lost_share"]) == (5, round(5 / 105, 4))
    assert health["double_counting"][0]["kind"] == "not-ingress"


def test_a_members_user_sees_its_own_rows_and_the_exchanges_aggregates(
    client: TestClient, traffic: World
) -> None:
    a, b = traffic.member_a, traffic.member_b
    (day,) = get(client, traffic, "member_a", "/api/v1/traffic/days")
    assert day["local"]["bytes"] == 6 * 10**9  # the exchange's aggregate
    (own,) = get(client, traffic, "member_a", f"/api/v1/traffic/days?asn={a}")
    assert (own["sent"]["bytes"], own["received"]["bytes"]) == (3 * 10**9, 10**9)
    (member,) = get(client, traffic, "member_a", "/api/v1/traffic/members")
    assert member["asn"] == a
    pairs = get(client, traffic, "member_a", "/api/v1/traffic/pairs")
    assert {(p["src_asn"], p["dst_asn"]) for p in pairs} == {(a, b), (b, a)}
    grid = get(client, traffic, "member_a", "/api/v1/traffic/matrix")
    assert grid["asns"] == [a, b] and grid["cells"] == [[0, 3 * 10**9], [10**9, 0]]
    shares = get(client, traffic, "member_a", "/api/v1/traffic/shares")
    assert [(s["asn"], s["status"]) for s in shares] == [(None, "measured"), (a, "measured")]
    assert shares[1]["share"] == 0.25
    figures = get(client, traffic, "member_a", "/api/v1/traffic/international")
    assert [f["asn"] for f in figures] == [a]
    view = get(client, traffic, "member_a", f"/api/v1/members/{a}/traffic")
    assert view["asn"] == a and len(view["pairs"]) == 2


@pytest.mark.parametrize(
    "url",
    ["/api/v1/traffic/days?asn={b}", "/api/v1/traffic/pairs?asn={b}",
     "/api/v1/traffic/matrix?asn={b}", "/api/v1/traffic/shares?asn={b}",
     "/api/v1/traffic/international?asn={b}", "/api/v1/members/{b}/traffic",
     "/api/v1/traffic/days?asn=64999"],
)  # fmt: skip
def test_another_members_traffic_is_answered_as_no_member(
    client: TestClient, traffic: World, url: str
) -> None:
    response = client.get(url.format(b=traffic.member_b), headers=traffic.callers["member_a"])
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM


def test_a_period_that_runs_backwards_is_named(client: TestClient, traffic: World) -> None:
    response = client.get(
        "/api/v1/traffic/days?since=2024-05-02&until=2024-04-01",
        headers=traffic.callers["operator"],
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "since"


@pytest.mark.parametrize(
    "query", ["until=9999-12-31", "since=9999-12-31", "since=0001-01-01&until=9999-12-31"]
)
def test_a_day_beyond_any_arithmetic_is_a_422_naming_it(
    client: TestClient, traffic: World, query: str
) -> None:
    response = client.get(f"/api/v1/traffic/days?{query}", headers=traffic.callers["operator"])
    assert response.status_code == 422, response.text
    named = {e["field"] for e in response.json()["errors"]}
    assert named == {part.split("=")[0] for part in query.split("&")}


def test_a_member_enters_its_own_months_figure_and_its_share_follows(
    client: TestClient, traffic: World
) -> None:
    month = f"{dt.datetime.now(dt.UTC):%Y-%m}"
    url = f"/api/v1/members/{traffic.member_a}/traffic/international/{month}"
    entered = client.put(url, json={"bytes": 3 * 10**9}, headers=traffic.callers["member_a"])
    assert entered.status_code == 200, entered.text
    assert (entered.json()["bytes"], entered.json()["kind"]) == (3 * 10**9, "international")
    assert entered.json()["entered_by"] == "alpha"
    listed = client.get("/api/v1/traffic/international", headers=traffic.callers["member_a"])
    assert (traffic.member_a, month, 3 * 10**9) in [
        (f["asn"], f["month"], f["bytes"]) for f in listed.json()
    ]
    other = url.replace(str(traffic.member_a), str(traffic.member_b))
    refused = client.put(other, json={"bytes": 1}, headers=traffic.callers["member_a"])
    assert refused.status_code == 404


@pytest.mark.parametrize(
    ("month", "body", "field"),
    [
        ("2999-01", {"bytes": 1}, "month"),
        ("11-2025", {"bytes": 1}, "month"),
        ("2025-06", {"bytes": -1}, "bytes"),
        ("2025-06", {"bytes": 1, "kind": "domestic"}, "kind"),
        ("2025-06", {"bytes": "1e9"}, "bytes"),
    ],
)
def test_a_bad_figure_is_a_422_naming_its_field_and_stores_nothing(
    client: TestClient, traffic: World, month: str, body: dict[str, object], field: str
) -> None:
    url = f"/api/v1/members/{traffic.member_a}/traffic/international/{month}"
    listing, operator = "/api/v1/traffic/international", traffic.callers["operator"]
    before = client.get(listing, headers=operator).json()
    response = client.put(url, json=body, headers=operator)
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert client.get(listing, headers=operator).json() == before
