"""Sessions, routes, events, alerts and reachability through the API, under every role.

The monitor's data is written by its own service functions (a round of session
samples, alert findings, reachability samples), then read back over HTTP: an
operator sees everything, a member only what is about its own network, the
public only the exchange's overall reach. Another member's ASN is answered
exactly like an ASN that is no member at all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.orm import Session

from ixp.bird import BirdRoute
from ixp.exchange import get_exchange, get_route_server
from ixp.monitor import alerts, reach, sessions
from ixp.monitor.alerts import Finding, Rule
from ixp.monitor.filtered import record
from ixp.monitor.sessions import SessionSample
from tests.api.conftest import World, add_test_member

PROBLEM = "application/problem+json"
T0 = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
FAMILIES = ("ipv4", "ipv6")


def sample(
    asn: int, host: int, family: str, *, up: bool = True, imported: int = 3
) -> SessionSample:
    """A member session as the monitor samples it from BIRD."""
    neighbor = f"185.1.10.{host}" if family == "ipv4" else f"2001:7f8:1::{host:x}"
    return SessionSample(
        protocol=f"AS{asn}_{family[-2:]}_1",
        family=family,
        asn=asn,
        neighbor=neighbor,
        up=up,
        state="Established" if up else "Active",
        since=T0,
        last_error=None if up else "Received: Hold timer expired",
        imported=imported,
        filtered=1,
        exported=10,
        import_limit=100,
    )


def record_round(session: Session, world: World, now: dt.datetime, *, b_up: bool) -> None:
    """One monitor round on both route servers: A up on both families, B up or down."""
    for name in ("rs1-isb", "rs2-khi"):
        rs = get_route_server(session, name)
        samples = [sample(world.member_a, 21, family) for family in FAMILIES]
        samples += [sample(world.member_b, 22, family, up=b_up) for family in FAMILIES]
        sessions.record_samples(session, rs, samples, now)
    session.commit()


@pytest.fixture
def monitored(session: Session, world: World) -> World:
    """Two rounds (B's sessions go down in the second), alerts and two reach samples."""
    record_round(session, world, T0, b_up=True)
    record_round(session, world, T0 + dt.timedelta(minutes=1), b_up=False)
    rs1 = get_route_server(session, "rs1-isb")
    findings = [
        Finding(f"a:{world.member_a}", Rule.rpki_invalid, "warning", rs1.id, world.member_a, "A"),
        Finding(f"b:{world.member_b}", Rule.session_down, "critical", rs1.id, world.member_b, "B"),
        Finding("rs2", Rule.rs_unreachable, "critical", None, None, "route server unreachable"),
        Finding(
            f"c:{world.member_a}", Rule.prefixes_dropped, "warning", rs1.id, world.member_a, "C"
        ),
    ]
    alerts.sync_alerts(session, findings, T0)
    alerts.sync_alerts(session, findings[:3], T0 + dt.timedelta(minutes=1))
    session.commit()
    exchange = get_exchange(session)
    resources = reach.CountryResources.of(
        "PK",
        [reach.Delegation("apnic", "PK", "ipv4", "103.0.0.0", 1024, None, "allocated", None)],
    )
    routes = [("103.0.0.0/23", world.member_a, world.member_a)]
    routes += [("103.0.2.0/24", world.member_b, world.member_b)]
    reach.store_samples(session, exchange, reach.reach_by_member(resources, routes[:1]), T0)
    later = T0 + dt.timedelta(minutes=5)
    reach.store_samples(session, exchange, reach.reach_by_member(resources, routes), later)
    session.commit()
    return world


def get(client: TestClient, world: World, role: str, path: str, **params: Any) -> Any:
    """GET ``path`` as ``role``; the JSON of a 200 answer."""
    response = client.get(path, headers=world.callers[role], params=params)
    assert response.status_code == 200, response.text
    return response.json()


def asns(items: list[dict[str, Any]]) -> set[int | None]:
    return {item["asn"] for item in items}


# -- sessions ---------------------------------------------------------------------------------


def test_operator_lists_every_session_paged_with_a_total(
    client: TestClient, monitored: World
) -> None:
    first = get(client, monitored, "operator", "/api/v1/sessions", limit=3)
    assert (first["total"], len(first["items"]), first["limit"], first["offset"]) == (8, 3, 3, 0)
    rest = get(client, monitored, "operator", "/api/v1/sessions", limit=100, offset=3)
    rows = first["items"] + rest["items"]
    assert len(rows) == 8
    assert [(r["route_server"], r["asn"]) for r in rows] == sorted(
        (r["route_server"], r["asn"]) for r in rows
    )
    assert asns(rows) == {monitored.member_a, monitored.member_b}
    down = next(r for r in rows if r["asn"] == monitored.member_b)
    assert (down["up"], down["state"], down["last_error"]) == (
        False,
        "Active",
        "Received: Hold timer expired",
    )


def test_sessions_filter_by_route_server_asn_and_state(
    client: TestClient, monitored: World
) -> None:
    path = "/api/v1/sessions"
    by_rs = get(client, monitored, "operator", path, rs="rs2-khi")["items"]
    assert {r["route_server"] for r in by_rs} == {"rs2-khi"} and len(by_rs) == 4
    by_asn = get(client, monitored, "operator", path, asn=monitored.member_b)["items"]
    assert asns(by_asn) == {monitored.member_b} and len(by_asn) == 4
    established = get(client, monitored, "operator", path, state="established")["items"]
    assert asns(established) == {monitored.member_a}
    both = get(client, monitored, "operator", path, rs="rs1-isb", state="Active")
    assert both["total"] == 2 and asns(both["items"]) == {monitored.member_b}


def test_a_member_sees_only_its_own_sessions(client: TestClient, monitored: World) -> None:
    own = get(client, monitored, "member_a", "/api/v1/sessions")
    assert own["total"] == 4 and asns(own["items"]) == {monitored.member_a}
    asked = get(client, monitored, "member_a", "/api/v1/sessions", asn=monitored.member_a)
    assert asked == own
    other = client.get(
        "/api/v1/sessions",
        params={"asn": monitored.member_b},
        headers=monitored.callers["member_a"],
    )
    assert other.status_code == 404 and other.headers["content-type"] == PROBLEM


def test_a_members_sessions_by_its_asn(client: TestClient, monitored: World) -> None:
    for role in ("operator", "member_b"):
        page = get(client, monitored, role, f"/api/v1/members/{monitored.member_b}/sessions")
        assert page["total"] == 4 and asns(page["items"]) == {monitored.member_b}
    page = get(
        client,
        monitored,
        "operator",
        f"/api/v1/members/{monitored.member_b}/sessions",
        rs="rs1-isb",
    )
    assert page["total"] == 2


def test_another_members_asn_is_404_exactly_like_one_that_is_no_member(
    client: TestClient, monitored: World
) -> None:
    headers = monitored.callers["member_a"]
    for tail in ("sessions", "routes", "routes?filtered=true", "reach"):
        other = client.get(f"/api/v1/members/{monitored.member_b}/{tail}", headers=headers)
        absent = client.get(f"/api/v1/members/64496/{tail}", headers=headers)
        assert other.status_code == absent.status_code == 404, tail
        assert other.headers["content-type"] == PROBLEM
        assert other.text.replace(str(monitored.member_b), "N") == absent.text.replace("64496", "N")


def test_an_operator_asking_for_no_member_gets_404(client: TestClient, monitored: World) -> None:
    response = client.get("/api/v1/members/64496/sessions", headers=monitored.callers["operator"])
    assert response.status_code == 404 and response.headers["content-type"] == PROBLEM


# -- events and alerts ------------------------------------------------------------------------


def test_events_newest_first_and_scoped_to_the_member(client: TestClient, monitored: World) -> None:
    every = get(client, monitored, "operator", "/api/v1/events")
    assert every["total"] == 4  # B went down on two families on two route servers
    assert {(e["kind"], e["asn"]) for e in every["items"]} == {("down", monitored.member_b)}
    assert every["items"][0]["reason"] == "Received: Hold timer expired"
    one = get(client, monitored, "operator", "/api/v1/events", limit=1, offset=1, rs="rs2-khi")
    assert (one["total"], len(one["items"])) == (2, 1)
    assert get(client, monitored, "member_a", "/api/v1/events")["total"] == 0
    assert get(client, monitored, "member_b", "/api/v1/events")["total"] == 4


def test_alerts_open_closed_and_all(client: TestClient, monitored: World) -> None:
    open_ = get(client, monitored, "operator", "/api/v1/alerts")
    assert {a["rule"] for a in open_["items"]} == {"rpki-invalid", "session-down", "rs-unreachable"}
    closed = get(client, monitored, "operator", "/api/v1/alerts", status="closed")
    assert [a["rule"] for a in closed["items"]] == ["prefixes-dropped"]
    assert closed["items"][0]["closed_at"] is not None
    assert get(client, monitored, "operator", "/api/v1/alerts", status="all")["total"] == 4


def test_a_member_sees_only_alerts_about_its_asn_never_exchange_wide_ones(
    client: TestClient, monitored: World
) -> None:
    mine = get(client, monitored, "member_a", "/api/v1/alerts", status="all")
    assert asns(mine["items"]) == {monitored.member_a} and mine["total"] == 2
    theirs = get(client, monitored, "member_b", "/api/v1/alerts")
    assert [a["rule"] for a in theirs["items"]] == ["session-down"]
    refused = client.get(
        "/api/v1/alerts", params={"asn": monitored.member_a}, headers=monitored.callers["member_b"]
    )
    assert refused.status_code == 404


# -- reachability -----------------------------------------------------------------------------


def test_the_public_reads_the_overall_reach_and_its_history(
    client: TestClient, monitored: World
) -> None:
    overview = get(client, monitored, "anonymous", "/api/v1/reach")
    assert overview["country"] == "PK"
    assert overview["overall"]["ipv4_reachable"] == 768 and overview["overall"]["asn"] is None
    assert overview["overall"]["ipv4_percent"] == 75.0
    assert [p["ipv4_reachable"] for p in overview["history"]] == [768, 512]
    assert "members" not in overview
    assert get(client, monitored, "anonymous", "/api/v1/reach", history=1)["history"][0][
        "at"
    ].startswith("2026-11-23T12:05")


def test_per_member_reach_needs_a_sign_in_and_a_member_sees_its_own(
    client: TestClient, monitored: World
) -> None:
    assert client.get("/api/v1/reach/members").status_code == 401
    every = get(client, monitored, "operator", "/api/v1/reach/members")
    assert [m["asn"] for m in every["items"]] == [monitored.member_a, monitored.member_b]
    own = get(client, monitored, "member_b", "/api/v1/reach/members")
    assert [m["asn"] for m in own["items"]] == [monitored.member_b]
    a = get(client, monitored, "member_a", f"/api/v1/members/{monitored.member_a}/reach")
    assert a["current"]["ipv4_reachable"] == 512
    assert [p["ipv4_reachable"] for p in a["history"]] == [512, 512]
    b = get(client, monitored, "operator", f"/api/v1/members/{monitored.member_b}/reach")
    assert b["current"]["ipv4_reachable"] == 256 and len(b["history"]) == 1


def test_reach_before_any_sample_is_empty_not_an_error(client: TestClient, world: World) -> None:
    overview = get(client, world, "anonymous", "/api/v1/reach")
    assert (overview["at"], overview["overall"], overview["history"]) == (None, None, [])
    mine = get(client, world, "member_a", f"/api/v1/members/{world.member_a}/reach")
    assert (mine["current"], mine["history"]) == (None, [])


# -- roles, bad input, BIRD away -----------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/sessions",
        "/api/v1/events",
        "/api/v1/alerts",
        f"/api/v1/members/{58421}/sessions",
        f"/api/v1/members/{58421}/routes",
    ],
)
def test_the_public_must_sign_in(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 401 and response.headers["content-type"] == PROBLEM


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v1/sessions", {"limit": 0}),
        ("/api/v1/sessions", {"offset": -1}),
        ("/api/v1/sessions", {"asn": "AS-FOO"}),
        ("/api/v1/sessions", {"asn": 2**70}),
        ("/api/v1/sessions", {"asn": 0}),
        ("/api/v1/sessions", {"state": "x" * 500}),
        ("/api/v1/events", {"limit": 10**6}),
        ("/api/v1/alerts", {"status": "sleeping"}),
        ("/api/v1/reach", {"history": 0}),
        ("/api/v1/members/99999999999999999999999/sessions", {}),
        ("/api/v1/members/58421/routes", {"filtered": "maybe"}),
    ],
)
def test_bad_input_is_a_422_problem_naming_the_field(
    client: TestClient, world: World, path: str, params: dict[str, Any]
) -> None:
    response = client.get(path, params=params, headers=world.callers["operator"])
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["errors"]


def test_an_unknown_route_server_is_404(client: TestClient, world: World) -> None:
    for path in ("/api/v1/sessions", "/api/v1/events", f"/api/v1/members/{world.member_a}/routes"):
        response = client.get(path, params={"rs": "rs9"}, headers=world.callers["operator"])
        assert response.status_code == 404, (path, response.text)
        assert response.headers["content-type"] == PROBLEM


def test_routes_when_bird_is_unreachable_are_a_503_problem(
    client: TestClient, world: World
) -> None:
    for role in ("operator", "member_a"):
        response = client.get(
            f"/api/v1/members/{world.member_a}/routes",
            params={"rs": "rs1-isb"},
            headers=world.callers[role],
        )
        assert response.status_code == 503, response.text
        assert response.headers["content-type"] == PROBLEM
        assert "rs1-isb" in response.json()["detail"]


def test_filtered_routes_are_read_as_the_monitor_kept_them_bird_or_not(
    session: Session, client: TestClient, monitored: World
) -> None:
    """No BIRD answers in this world: filtered routes come from the monitor's last round."""
    rs1 = get_route_server(session, "rs1-isb")
    protocol = f"AS{monitored.member_a}_v4_1"
    kept = BirdRoute(
        "master4", "103.0.0.0/24", protocol, False, "185.1.10.11", (monitored.member_a,),
        large_communities=(f"{rs1.asn}:1101:13",),
    )  # fmt: skip
    record(session, rs1, [kept], {protocol: monitored.member_a}, T0)
    session.commit()
    page = get(
        client, monitored, "member_a", f"/api/v1/members/{monitored.member_a}/routes",
        filtered="true",
    )  # fmt: skip
    assert page["total"] == 1
    (row,) = page["items"]
    assert row["prefix"] == "103.0.0.0/24" and row["reasons"] == "rpki-invalid"
    assert row["since"].startswith(T0.strftime("%Y-%m-%dT%H:%M"))


# -- queries per request ----------------------------------------------------------------------


@contextmanager
def counted(client: TestClient) -> Iterator[list[str]]:
    """The SQL statements the app runs while the block runs, but for signing the caller in
    (the token lookup, and its ``last_used_at`` written now and then)."""
    statements: list[str] = []
    engine = client.app.state.engine  # type: ignore[attr-defined]

    def record(*args: Any) -> None:
        if "api_tokens" not in args[2]:
            statements.append(args[2])

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_listings_run_a_fixed_number_of_queries_however_many_rows(
    client: TestClient, session: Session, monitored: World
) -> None:
    paths = [
        "/api/v1/sessions",
        "/api/v1/events",
        "/api/v1/alerts?status=all",
        "/api/v1/reach",
        "/api/v1/reach/members",
        f"/api/v1/members/{monitored.member_a}/sessions",
    ]

    def queries() -> list[int]:
        result = []
        for path in paths:
            with counted(client) as statements:
                assert client.get(path, headers=monitored.callers["operator"]).status_code == 200
            result.append(len(statements))
        return result

    before = queries()
    for host in range(30, 45):
        add_test_member(session, 60000 + host, f"Member {host}", host)
    more = [sample(60000 + host, host, "ipv4", up=host % 2 == 0) for host in range(30, 45)]
    more += [sample(asn, host, f) for asn, host in ((58421, 21), (55714, 22)) for f in FAMILIES]
    sessions.record_samples(session, get_route_server(session, "rs1-isb"), more, T0)
    session.commit()
    rs1 = get_route_server(session, "rs1-isb")
    alerts.sync_alerts(
        session,
        [
            Finding(f"x{n}", Rule.rpki_invalid, "warning", rs1.id, 60000 + n, "x")
            for n in range(30, 45)
        ],
        T0 + dt.timedelta(minutes=2),
    )
    session.commit()
    assert get(client, monitored, "operator", "/api/v1/sessions")["total"] == 23
    assert queries() == before
