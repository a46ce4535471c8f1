"""The looking glass against the lab: what it serves is what BIRD itself reports.

The lab exchange (``tests.lab.exchange``): route server ``rs1`` with ExaBGP
members. Alpha announces its registered prefixes, one RPKI-invalid prefix and
one prefix outside its AS-SET (both filtered with reject reasons); Bravo and
Charlie announce theirs. The app's ``rs1`` points at the lab's control
socket; every answer is compared with :class:`~ixp.bird.BirdClient` on the
same socket.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from ixp import db
from ixp.bird import BirdClient, BirdRoute, ProtocolStatus
from ixp.exchange import get_route_server
from ixp.lab.lab import Lab
from ixp.lab.member import Route
from ixp.monitor.routes import reject_codes
from ixp.rs.codes import RejectCode
from tests.api.test_serve import free_port, serving
from tests.lab.exchange import (
    ALPHA,
    BRAVO,
    CHARLIE,
    DELTA,
    RS_ASN,
    RS_NAME,
    build_exchange,
    exchange_settings,
)
from tests.lab.harness import require_lab

pytestmark = [pytest.mark.netns, pytest.mark.slow]

ROUTES = {
    ALPHA: [
        Route("45.64.0.0/20"),
        Route("45.65.0.0/22"),  # registered, RPKI invalid
        Route("103.97.0.0/24"),  # not in AS-ALPHA
        Route("2a0b:4000::/32"),
    ],
    BRAVO: [Route("37.60.0.0/22"), Route("2a0b:4100::/32")],
    CHARLIE: [Route("103.20.0.0/22")],
    DELTA: [],
}


@dataclass
class Live:
    lab: Lab
    client: TestClient

    def bird(self) -> BirdClient:
        return self.lab.bird(RS_NAME).client()

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        response = self.client.get(f"/lg/{RS_NAME}/{path}", params=params)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """The lab up and converged, and a public looking glass on its route server."""
    require_lab()
    settings = exchange_settings(tmp_path_factory.mktemp("lg-live")).model_copy(
        update={"web_environment": "development", "web_lg_public": True}
    )
    engine = db.engine_from_settings(settings)
    with db.session_factory(engine)() as session:
        build_exchange(session, settings)
        session.commit()
        lab = Lab.from_database(session, settings, routes=ROUTES)
    try:
        lab.up()
        lab.wait_converged(timeout=60)
        with db.session_factory(engine)() as session:
            get_route_server(session, RS_NAME).control_socket = str(lab.bird(RS_NAME).socket)
            session.commit()
        with TestClient(create_app(settings), raise_server_exceptions=False) as client:
            yield Live(lab, client)
    finally:
        lab.down()
        engine.dispose()


def bgp_sessions(live: Live) -> dict[str, ProtocolStatus]:
    with live.bird() as bird:
        return {p.name: p for p in bird.protocols() if p.proto == "BGP"}


def bird_routes(live: Live, arguments: str) -> list[BirdRoute]:
    with live.bird() as bird:
        return bird.routes(arguments)


def served(routes: list[dict[str, Any]]) -> list[tuple[str, str, tuple[str, ...]]]:
    return [(r["network"], r["from_protocol"], tuple(r["bgp"]["as_path"])) for r in routes]


def expected(routes: list[BirdRoute]) -> list[tuple[str, str, tuple[str, ...]]]:
    return [(r.prefix, r.protocol, tuple(str(asn) for asn in r.as_path)) for r in routes]


def test_bgp_sessions_are_birds_sessions(live: Live) -> None:
    served_sessions = live.get("protocols/bgp")["protocols"]
    sessions = bgp_sessions(live)
    assert set(served_sessions) == set(sessions)
    for name, bird in sessions.items():
        entry = served_sessions[name]
        assert (entry["neighbor_address"], entry["neighbor_as"], entry["state"]) == (
            bird.neighbor_address,
            bird.neighbor_as,
            bird.state,
        )
        assert (entry["routes"]["imported"], entry["routes"]["filtered"]) == (
            bird.imported,
            bird.filtered,
        )
    assert any(entry["bgp_state"] == "Established" for entry in served_sessions.values())


def test_accepted_and_filtered_routes_per_session_are_birds(live: Live) -> None:
    for name, session in bgp_sessions(live).items():
        accepted = live.get(f"routes/protocol/{name}")["routes"]
        filtered = live.get(f"routes/filtered/{name}")["routes"]
        assert served(accepted) == expected(bird_routes(live, f"protocol {name}"))
        assert served(filtered) == expected(bird_routes(live, f"filtered protocol {name}"))
        assert (len(accepted), len(filtered)) == (session.imported, session.filtered)


def test_alphas_filtered_routes_carry_their_reject_reasons(live: Live) -> None:
    alpha = next(n for n, s in bgp_sessions(live).items() if s.neighbor_as == ALPHA and "v4" in n)
    filtered = live.get(f"routes/filtered/{alpha}")["routes"]
    reasons = {
        r["network"]: {c[2] for c in r["bgp"]["large_communities"] if c[:2] == [RS_ASN, 1101]}
        for r in filtered
    }
    assert RejectCode.RPKI_INVALID in reasons["45.65.0.0/22"]
    assert RejectCode.PREFIX_NOT_IN_AS_SET in reasons["103.97.0.0/24"]
    for route in bird_routes(live, f"filtered protocol {alpha}"):
        assert set(reject_codes(route, RS_ASN)) == reasons[route.prefix]


@pytest.mark.parametrize("table", ["master4", "master6"])
def test_tables_are_birds_tables(live: Live, table: str) -> None:
    accepted = live.get(f"routes/table/{table}")["routes"]
    filtered = live.get(f"routes/table/{table}/filtered")["routes"]
    assert served(accepted) == expected(bird_routes(live, f"table {table}"))
    assert served(filtered) == expected(bird_routes(live, f"table {table} filtered"))
    assert accepted


def test_noexport_and_prefix_lookups_answer_on_live_sessions(live: Live) -> None:
    bravo = next(n for n, s in bgp_sessions(live).items() if s.neighbor_as == BRAVO and "v4" in n)
    noexport = live.get(f"routes/noexport/{bravo}")["routes"]
    assert served(noexport) == expected(bird_routes(live, f"noexport {bravo}"))
    found = live.get("routes/prefix", prefix="45.64.1.1")["routes"]
    assert {r["network"] for r in found} == {"45.64.0.0/20"}
    assert served(found) == expected(bird_routes(live, "for 45.64.1.1"))


def test_ixp_serve_lab_reads_the_labs_route_servers(live: Live, tmp_path: Path) -> None:
    """``ixp serve --lab`` (as ``make demo`` runs it): the stored control socket is a
    route server's path, the lab's sockets reach the workers as ``bird_sockets``."""
    settings = live.client.app.state.settings
    engine = db.engine_from_settings(settings)
    with db.session_factory(engine)() as session:
        rs = get_route_server(session, RS_NAME)
        lab_socket, rs.control_socket = rs.control_socket, "/run/bird/not-here.ctl"
        session.commit()
    port = free_port()
    env = {
        **os.environ,
        "IXP_HOME": str(settings.home),
        "IXP_DATABASE_URL": settings.effective_database_url,
        "IXP_WEB_ENVIRONMENT": "development",
        "IXP_WEB_LG_PUBLIC": "true",
    }
    try:
        with serving(["--port", str(port), "--lab"], env) as base:
            answer = httpx.get(f"{base}/lg/{RS_NAME}/protocols/bgp", timeout=30)
        assert answer.status_code == 200, answer.text
        assert set(answer.json()["protocols"]) == set(bgp_sessions(live))
    finally:
        with db.session_factory(engine)() as session:
            get_route_server(session, RS_NAME).control_socket = lab_socket
            session.commit()
        engine.dispose()
