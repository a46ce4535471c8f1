"""The API against a live exchange: what ``/api/v1`` says is what BIRD says.

The lab exchange (one route server with the generated configuration, ExaBGP
members in namespaces) runs once for the module. One monitor round stores the
sessions; the API then lists them, and each member's accepted and filtered
routes, and every answer is compared with BIRD's own, read over its control
socket as ``birdc`` would (``show protocols all``, ``show route [filtered]
protocol ...``). Alpha announces two registered routes, a bogon and a prefix
outside its AS-SET; Bravo one route per family.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from ixp import accounts, db
from ixp.bird import BirdClient, BirdRoute, ChannelStatus
from ixp.exchange import get_route_server
from ixp.lab.exabgp import Route
from ixp.lab.lab import Lab
from ixp.lg import CachedReader
from ixp.monitor.routes import member_protocols
from ixp.monitor.service import Monitor
from ixp.rs.types import COLLECTOR_PROTOCOL_PREFIX
from tests.lab.exchange import ALPHA, BRAVO, CHARLIE, RS_NAME, build_exchange, exchange_settings
from tests.lab.harness import require_lab

pytestmark = [pytest.mark.netns, pytest.mark.slow]

ALPHA_ACCEPTED = ("45.64.0.0/20", "2a0b:4000::/32")
ALPHA_FILTERED = {"192.168.0.0/16": "bogon-prefix", "99.99.0.0/16": "prefix-not-in-as-set"}
BRAVO_ACCEPTED = ("37.60.0.0/22", "2a0b:4100::/32")


@dataclass(frozen=True)
class LiveApi:
    """The running lab, the API over its database, and bearer headers of each role."""

    lab: Lab
    client: TestClient
    callers: dict[str, dict[str, str]]

    def get(self, path: str, role: str = "operator", **params: Any) -> Any:
        response = self.client.get(path, params=params, headers=self.callers[role])
        assert response.status_code == 200, response.text
        return response.json()

    def bird(self) -> BirdClient:
        return BirdClient(str(self.lab.bird(RS_NAME).socket))


def counts(channel: ChannelStatus) -> tuple[int, int, int]:
    """A channel's imported, filtered and exported routes as BIRD counts them."""
    return channel.imported, channel.filtered, channel.exported


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApi]:
    require_lab()
    settings = exchange_settings(tmp_path_factory.mktemp("live-api"))
    settings = settings.model_copy(update={"web_environment": "development"})
    engine = db.engine_from_settings(settings)
    routes = {
        ALPHA: [Route(p) for p in (*ALPHA_ACCEPTED, *ALPHA_FILTERED)],
        BRAVO: [Route(p) for p in BRAVO_ACCEPTED],
    }
    with db.session_factory(engine)() as session:
        build_exchange(session, settings)
        built = Lab.from_database(session, settings, routes=routes)
        callers: dict[str, dict[str, str]] = {}
        for name, role, asn in (("op", "operator", None), ("alpha", "member", ALPHA)):
            accounts.add_user(
                session,
                username=name,
                password="correct horse battery",
                role=role,
                member_asn=asn,
                actor="test",
            )
            made = accounts.create_token(session, accounts.get_user(session, name), "t", actor="t")
            callers[role] = {"Authorization": f"Bearer {made.secret}"}
    try:
        built.up()
        built.wait_converged(timeout=60)
        with db.session_factory(engine)() as session:
            get_route_server(session, RS_NAME).control_socket = str(built.bird(RS_NAME).socket)
            session.commit()
        monitor = Monitor(settings, engine)
        try:
            assert monitor.check().unreachable == {}
        finally:
            monitor.stop()
        with TestClient(create_app(settings), raise_server_exceptions=False) as client:
            yield LiveApi(built, client, callers)
    finally:
        built.down()
        engine.dispose()


def test_sessions_are_the_ones_bird_reports(live: LiveApi) -> None:
    with live.bird() as bird:
        protocols = [
            p
            for p in bird.protocols()
            if p.proto == "BGP" and not p.name.startswith(COLLECTOR_PROTOCOL_PREFIX)
        ]
    expected = sorted(
        (p.name, channel.name, p.neighbor_as, p.bgp_state or p.state, *counts(channel))
        for p in protocols
        for channel in p.channels.values()
    )
    listed = live.get("/api/v1/sessions", limit=1000)
    got = sorted(
        (
            s["protocol"],
            s["family"],
            s["asn"],
            s["state"],
            s["imported"],
            s["filtered"],
            s["exported"],
        )
        for s in listed["items"]
    )
    assert got == expected and listed["total"] == len(expected)
    assert {s["route_server"] for s in listed["items"]} == {RS_NAME}
    alpha = live.get(f"/api/v1/members/{ALPHA}/sessions", role="member")
    assert {(s["asn"], s["up"], s["state"]) for s in alpha["items"]} == {
        (ALPHA, True, "Established")
    }


@pytest.mark.parametrize("asn", [ALPHA, BRAVO, CHARLIE])
@pytest.mark.parametrize("filtered", [False, True])
def test_a_members_routes_are_the_ones_bird_holds(live: LiveApi, asn: int, filtered: bool) -> None:
    with live.bird() as bird:
        names = [p.name for p in member_protocols(bird.protocols(), asn)]
        scope = "filtered protocol" if filtered else "protocol"
        expected = sorted(
            (r.prefix, r.protocol, r.next_hop)
            for name in names
            for r in bird.routes(f"{scope} {name}")
        )
    path = f"/api/v1/members/{asn}/routes"
    page = live.get(path, filtered=str(filtered).lower(), rs=RS_NAME, limit=1000)
    got = sorted((r["prefix"], r["protocol"], r["next_hop"]) for r in page["items"])
    assert got == expected and page["total"] == len(expected)
    assert all(("reasons" in r) == filtered for r in page["items"])


def test_alpha_sees_its_own_routes_and_why_some_were_filtered(live: LiveApi) -> None:
    path = f"/api/v1/members/{ALPHA}/routes"
    accepted = live.get(path, role="member")["items"]
    assert sorted(r["prefix"] for r in accepted) == sorted(ALPHA_ACCEPTED)
    assert [r["rpki"] for r in accepted] == ["valid"] * len(ALPHA_ACCEPTED)  # their ROAs
    filtered = live.get(path, role="member", filtered="true")["items"]
    assert all(r["rpki"] is None for r in filtered)
    reasons = {r["prefix"]: r["reasons"] for r in filtered}
    assert set(reasons) == set(ALPHA_FILTERED)
    for prefix, reason in ALPHA_FILTERED.items():
        assert reason in reasons[prefix]
    assert all(r["reason_details"] for r in filtered)
    other = live.client.get(f"/api/v1/members/{BRAVO}/routes", headers=live.callers["member"])
    assert other.status_code == 404


def test_a_page_of_routes_is_a_slice_of_the_whole(live: LiveApi) -> None:
    path = f"/api/v1/members/{ALPHA}/routes"
    whole = live.get(path, filtered="true")["items"]
    second = live.get(path, filtered="true", limit=1, offset=1)
    assert second["items"] == whole[1:2] and second["total"] == len(whole)


class CountingClient(BirdClient):
    """A real control-socket client that writes down every route command it sends BIRD."""

    sent: ClassVar[list[str]] = []

    def routes(self, arguments: str = "") -> list[BirdRoute]:
        type(self).sent.append(arguments)
        return super().routes(arguments)


def test_members_reloading_their_filtered_routes_never_make_bird_walk_its_table(
    live: LiveApi,
) -> None:
    """On a route server of a million routes each `show route filtered ...` walks the whole
    table: members' NOCs reloading their filtered routes must not cost BIRD anything; they
    read what the monitor's round kept (one walk for every member)."""
    app = live.client.app
    kept = app.state.route_reader  # type: ignore[attr-defined]
    app.state.route_reader = CachedReader(30.0, timeout=10.0, client=CountingClient)  # type: ignore[attr-defined]
    try:
        path = f"/api/v1/members/{ALPHA}/routes"
        first = [live.get(path, "member", filtered="true") for _ in range(3)]
        assert first[0] == first[1] == first[2] and first[0]["total"] == len(ALPHA_FILTERED)
        bravo = live.get(f"/api/v1/members/{BRAVO}/routes", filtered="true")
        assert bravo["total"] == 0
        assert CountingClient.sent == []
    finally:
        app.state.route_reader = kept  # type: ignore[attr-defined]
