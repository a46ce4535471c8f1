"""Member router snippets on real routers: ``ixp member snippet`` has to work, not only parse.

The lab exchange with a second route server: Bravo (AS38002) runs Debian's FRR
(bgpd) on ``ixp member snippet 38002 --platform frr``, Charlie (AS38003) runs
BIRD on its BIRD snippet, and Alpha (AS38001) is an ExaBGP speaker. The
snippets are used unchanged; the lab adds only the router id and the prefixes
each router originates: its registered ones, plus one per family that is not
registered, which the snippet's export policy must keep in. Both snippet
routers must be up with both route servers in both families, install Alpha's
routes, and have their registered prefixes accepted by both route servers,
from where they reach Alpha.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from ixp import db
from ixp.exchange import add_route_server
from ixp.lab import netns
from ixp.lab.lab import Lab
from ixp.lab.member import Route
from ixp.lab.routers import BGPD, FrrRouter, SnippetRouter
from ixp.rs.snippets import member_snippet
from tests.lab.exchange import (
    ALPHA,
    BRAVO,
    CHARLIE,
    DELTA,
    RS_ASN,
    RS_NAME,
    address,
    build_exchange,
    exchange_settings,
)
from tests.lab.harness import require_lab

pytestmark = [pytest.mark.netns, pytest.mark.slow]

RS2 = "rs2"
RS_ADDRESSES = {RS_NAME: ("185.1.50.1", "2001:7f8:a0::1"), RS2: ("185.1.50.2", "2001:7f8:a0::2")}
ROUTERS = {BRAVO: "frr", CHARLIE: "bird"}
ALPHA_ROUTES = ("45.64.0.0/20", "2a0b:4000::/32")
# Registered in tests/data/lab/irr.rpsl for each member's AS-SET.
REGISTERED = {
    BRAVO: ("37.60.0.0/22", "103.100.0.0/22", "2a0b:4100::/32", "2a0c:1000::/32"),
    CHARLIE: ("103.20.0.0/22", "2a0b:4200::/32"),
}
UNREGISTERED = {
    BRAVO: ("103.99.0.0/24", "2a0b:ffff::/32"),
    CHARLIE: ("103.98.0.0/24", "2a0b:fffe::/32"),
}
SNIPPET_MEMBERS = pytest.mark.parametrize("asn", sorted(ROUTERS), ids=lambda asn: ROUTERS[asn])


def family(prefix: str) -> int:
    return 6 if ":" in prefix else 4


def rs_address(rs_name: str, prefix: str) -> str:
    return RS_ADDRESSES[rs_name][family(prefix) == 6]


def accepted(lab: Lab, rs_name: str, asn: int) -> set[str]:
    """The prefixes route server ``rs_name`` accepted from ``asn``'s sessions."""
    sessions = lab.sessions(rs_name)
    protocols = {sessions[address(asn, f)].name for f in (4, 6)}
    return {route.prefix for route in lab.bird(rs_name).routes() if route.protocol in protocols}


def alpha_holds_everything(lab: Lab) -> bool:
    held = lab.member(ALPHA).received()
    return all(
        (rs_address(rs, prefix), prefix) in held
        for prefixes in REGISTERED.values()
        for prefix in prefixes
        for rs in RS_ADDRESSES
    )


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """The exchange with rs1 and rs2, FRR and BIRD members on their snippets, converged."""
    require_lab()
    if not os.access(BGPD, os.X_OK):
        pytest.skip(f"frr is not installed ({BGPD})")
    settings = exchange_settings(tmp_path_factory.mktemp("snippets"))
    engine = db.engine_from_settings(settings)
    with db.session_factory(engine)() as session:
        build_exchange(session, settings)
        add_route_server(
            session, name=RS2, asn=RS_ASN, router_id="185.1.50.2", ipv4="185.1.50.2",
            ipv6="2001:7f8:a0::2", actor="test",
        )  # fmt: skip
        session.commit()
        routes = {
            ALPHA: [Route(p) for p in ALPHA_ROUTES],
            DELTA: [],
            **{asn: [Route(p) for p in (*REGISTERED[asn], *UNREGISTERED[asn])] for asn in ROUTERS},
        }
        built = Lab.from_database(session, settings, routes=routes, routers=ROUTERS)
        snippets = {asn: member_snippet(session, asn, kind) for asn, kind in ROUTERS.items()}
    engine.dispose()
    for asn, snippet in snippets.items():
        assert built.layout.member(asn).snippet == snippet
    try:
        built.up()
        built.wait_converged(timeout=60)
        netns.wait_until(
            lambda: alpha_holds_everything(built), timeout=60, what="Alpha to hold every prefix"
        )
        yield built
    finally:
        built.down()


@SNIPPET_MEMBERS
def test_the_router_runs_the_snippet_unchanged(lab: Lab, asn: int) -> None:
    router = lab.router(asn)
    assert isinstance(router, SnippetRouter)
    assert lab.layout.member(asn).snippet in router.config_path.read_text()
    assert router.running()


@SNIPPET_MEMBERS
@pytest.mark.parametrize("rs_name", sorted(RS_ADDRESSES))
def test_sessions_with_both_route_servers_in_both_families(
    lab: Lab, asn: int, rs_name: str
) -> None:
    sessions = lab.sessions(rs_name)
    for session_family in (4, 6):
        session = sessions[address(asn, session_family)]
        assert session.established, (session.name, session.info)


def test_frr_carries_each_family_on_its_own_sessions_only(lab: Lab) -> None:
    router = lab.router(BRAVO)
    assert isinstance(router, FrrRouter)
    summary = router.show("show bgp summary json")
    for session_family, key in ((4, "ipv4Unicast"), (6, "ipv6Unicast")):
        peers = set(summary[key]["peers"])
        assert peers == {addresses[session_family == 6] for addresses in RS_ADDRESSES.values()}


def test_frr_refusing_a_line_is_an_error_naming_it(lab: Lab, tmp_path: Path) -> None:
    router = lab.router(BRAVO)
    assert isinstance(router, FrrRouter)
    typo = f"router bgp {BRAVO}\n neighbor 185.1.50.1 remote-az {RS_ASN}\n"
    broken = replace(router, directory=tmp_path, snippet=router.snippet + typo, pid=None)
    broken.config_path.write_text(broken.render(), encoding="utf-8")
    with pytest.raises(netns.LabError, match="remote-az"):
        broken.check()


@SNIPPET_MEMBERS
def test_the_router_installs_the_other_members_routes(lab: Lab, asn: int) -> None:
    held = lab.router(asn).received()
    for prefix in ALPHA_ROUTES:
        for rs_name in RS_ADDRESSES:
            route = held[(rs_address(rs_name, prefix), prefix)]
            assert route.as_path == (ALPHA,)  # the route servers are transparent
            assert route.next_hop == address(ALPHA, family(prefix))


@SNIPPET_MEMBERS
@pytest.mark.parametrize("rs_name", sorted(RS_ADDRESSES))
def test_registered_prefixes_are_accepted_and_nothing_else_sent(
    lab: Lab, asn: int, rs_name: str
) -> None:
    assert accepted(lab, rs_name, asn) == set(REGISTERED[asn])
    filtered = {route.prefix for route in lab.bird(rs_name).routes("filtered")}
    assert not filtered & {*REGISTERED[asn], *UNREGISTERED[asn]}


@SNIPPET_MEMBERS
def test_registered_prefixes_reach_the_exabgp_member(lab: Lab, asn: int) -> None:
    held = lab.member(ALPHA).received()
    for prefix in REGISTERED[asn]:
        for rs_name in RS_ADDRESSES:
            route = held[(rs_address(rs_name, prefix), prefix)]
            assert (route.as_path, route.next_hop) == ((asn,), address(asn, family(prefix)))
    assert not {prefix for _, prefix in held} & set(UNREGISTERED[asn])


def established(lab: Lab, asn: int) -> list[bool]:
    """For each session of ``asn`` on each route server: is it up?"""
    return [
        lab.sessions(rs)[address(asn, session_family)].established
        for rs in RS_ADDRESSES
        for session_family in (4, 6)
    ]


@SNIPPET_MEMBERS
def test_a_restarted_router_comes_back(lab: Lab, asn: int) -> None:
    router = lab.router(asn)
    router.stop()
    assert not router.running()
    netns.wait_until(lambda: not any(established(lab, asn)), timeout=30, what="sessions down")
    router.start()
    lab.save()
    netns.wait_until(lambda: all(established(lab, asn)), timeout=60, what="sessions up again")
    registered = {f: sum(family(p) == f for p in REGISTERED[asn]) for f in (4, 6)}

    def caught_up() -> bool:
        held = router.received()
        return all(
            router.sent(peer) == registered[peer.family]
            and (peer.address, ALPHA_ROUTES[peer.family == 6]) in held
            for peer in router.sessions()
        )

    netns.wait_until(caught_up, timeout=60, what=f"AS{asn} to exchange its routes again")
