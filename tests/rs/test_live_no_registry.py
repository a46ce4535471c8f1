"""A member without registry data: sessions up, routes in, everything it sends filtered.

Echo (AS38005) joins the lab exchange after the registry sync, so it has no
registry data at all. The route server must still configure its sessions, with
prefix and origin sets that match nothing: Echo receives the other members'
routes (most of the value of joining), and every route it announces is kept as
filtered with reasons 9 and 10, which ``ixp routes ASN --filtered`` reads back.
The empty sets are written as ``[]`` in ``define``s passed to the shared import
function; this proves BIRD takes them there and matches nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ixp import db
from ixp.exchange import get_route_server
from ixp.lab.exabgp import Route
from ixp.lab.lab import Lab
from ixp.members import MemberInput, add_member
from ixp.monitor.routes import (
    DirectReader,
    FilteredRouteRow,
    RouteRow,
    member_routes,
    reject_codes,
)
from ixp.rs.codes import RejectCode
from tests.lab.exchange import BRAVO, RS_ASN, RS_NAME, address, build_exchange, exchange_settings
from tests.lab.harness import require_lab, routes_of

pytestmark = [pytest.mark.netns, pytest.mark.slow]

ECHO = 38005
ECHO_ROUTES = ("45.70.0.0/22", "2a0b:4500::/32")
BRAVO_ROUTE = ("37.60.0.0/22", "2a0b:4100::/32")
CLOSED = {RejectCode.PREFIX_NOT_IN_AS_SET, RejectCode.ORIGIN_NOT_IN_AS_SET}


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Lab, list[RouteRow]]]:
    """The lab exchange plus Echo, and Echo's filtered routes as ``ixp routes`` lists them."""
    require_lab()
    settings = exchange_settings(tmp_path_factory.mktemp("no-registry"))
    engine = db.engine_from_settings(settings)
    with db.session_factory(engine)() as session:
        build_exchange(session, settings)
        add_member(
            session,
            MemberInput(
                asn=ECHO,
                name="Echo Wireless",
                as_set="AS-ECHO",
                ipv4=address(ECHO, 4),
                ipv6=address(ECHO, 6),
                max_prefix_v4=10,
                max_prefix_v6=10,
            ),
            actor="test",
        )
        built = Lab.from_database(
            session,
            settings,
            routes={ECHO: [Route(p) for p in ECHO_ROUTES], BRAVO: [Route(p) for p in BRAVO_ROUTE]},
        )
        rs = get_route_server(session, RS_NAME)
        try:
            built.up()
            built.wait_converged(timeout=60)
            sockets = {RS_NAME: str(built.bird(RS_NAME).socket)}
            filtered = member_routes(
                [rs], ECHO, filtered=True, sockets=sockets, reader=DirectReader(10.0)
            )
            yield built, filtered
        finally:
            built.down()
    engine.dispose()


def test_sessions_are_established(lab: tuple[Lab, list[RouteRow]]) -> None:
    sessions = lab[0].sessions(RS_NAME)
    for family in (4, 6):
        assert sessions[address(ECHO, family)].established


@pytest.mark.parametrize("prefix", BRAVO_ROUTE)
def test_it_receives_the_other_members_routes(lab: tuple[Lab, list[RouteRow]], prefix: str) -> None:
    assert [r.as_path for r in routes_of(lab[0], ECHO, prefix)] == [(BRAVO,)]


@pytest.mark.parametrize("prefix", ECHO_ROUTES)
def test_everything_it_sends_is_filtered_with_reasons_9_and_10(
    lab: tuple[Lab, list[RouteRow]], prefix: str
) -> None:
    built, _ = lab
    tagged = [r for r in built.bird(RS_NAME).routes("filtered") if r.prefix == prefix]
    assert len(tagged) == 1, f"{prefix} is not among the filtered routes"
    assert set(reject_codes(tagged[0], RS_ASN)) == CLOSED
    assert routes_of(built, BRAVO, prefix) == []


def test_ixp_routes_filtered_says_why(lab: tuple[Lab, list[RouteRow]]) -> None:
    _, filtered = lab
    assert sorted(r.prefix for r in filtered) == sorted(ECHO_ROUTES)
    for row in filtered:
        assert isinstance(row, FilteredRouteRow)
        assert list(row.reject_codes) == sorted(CLOSED), row
        assert "not in the member" in str(row.reason_details).lower() or row.reasons
