"""Members' filtering rules, proven with real BGP sessions: what each peer receives after a build.

The lab exchange (``tests/lab/exchange.py``) runs once for the module with the
configuration ``ixp rs build`` makes when no member has a rule, and every member
gets every other member's routes. Then the members set their rules through the
same service the portal and the API use, an operator builds (``run_build``, as
``ixp rs build`` and the API do), the new configuration is loaded into the
running BIRD, and each test reads like the member's expectation:

* Alpha: *do not announce* my routes to Bravo, in IPv4 only;
* Bravo: *announce only* to Charlie and Delta;
* Charlie: *prepend* my ASN twice towards Alpha, and once towards every peer in IPv6;
* Delta: *do not accept* Alpha's routes.

Every member announces one route per family; Alpha and Bravo also both announce a
shared prefix (Alpha's path is shorter), which shows that a refused path never
hides another member's path for the same prefix. Every test checks the peers the
rule is about and the peers it is not, in IPv4 and IPv6.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine

from ixp import db, rsrules
from ixp.lab import netns
from ixp.lab.exabgp import ReceivedRoute, Route
from ixp.lab.lab import Lab
from ixp.rs import history
from ixp.rsrules import RuleInput
from ixp.settings import Settings
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
from tests.rs.cases import Case, pair

pytestmark = [pytest.mark.netns, pytest.mark.slow]

FAMILIES = pytest.mark.parametrize("family", [4, 6])
MEMBERS = (ALPHA, BRAVO, CHARLIE, DELTA)

OWN = {
    ALPHA: pair("45.64.0.0/20", "2a0b:4000::/32"),
    BRAVO: pair("37.60.0.0/22", "2a0b:4100::/32"),
    CHARLIE: pair("103.20.0.0/22", "2a0b:4200::/32"),
    DELTA: pair("103.21.0.0/22", "2a0b:4300::/32"),
}
SHARED = pair("103.100.0.0/24", "2a0c:1000::/48")
BRAVO_SHARED = Case(
    Route(SHARED.v4.prefix, as_path=(BRAVO, BRAVO)), Route(SHARED.v6.prefix, as_path=(BRAVO, BRAVO))
)
ANNOUNCEMENTS = {
    ALPHA: [OWN[ALPHA].v4, OWN[ALPHA].v6, SHARED.v4, SHARED.v6],
    BRAVO: [OWN[BRAVO].v4, OWN[BRAVO].v6, BRAVO_SHARED.v4, BRAVO_SHARED.v6],
    CHARLIE: [OWN[CHARLIE].v4, OWN[CHARLIE].v6],
    DELTA: [OWN[DELTA].v4, OWN[DELTA].v6],
}
RULES = {
    ALPHA: [RuleInput("do-not-announce", BRAVO, "ipv4")],
    BRAVO: [RuleInput("announce-only", CHARLIE), RuleInput("announce-only", DELTA)],
    CHARLIE: [RuleInput("prepend", ALPHA, "both", 2), RuleInput("prepend", "all", "ipv6", 1)],
    DELTA: [RuleInput("do-not-accept", ALPHA)],
}

Held = dict[int, list[ReceivedRoute]]


@dataclass(frozen=True)
class RuledLab:
    """The running lab after the rules' build, and what each member held before it."""

    lab: Lab
    before: Held


def holdings(lab: Lab) -> Held:
    """Every route each member holds now."""
    return {asn: list(lab.member(asn).received().values()) for asn in MEMBERS}


def build_with_rules(lab: Lab, settings: Settings, engine: Engine, out: Path) -> None:
    """The members set their rules, an operator builds, the route server loads the result."""
    with db.session_factory(engine)() as session:
        for asn, rules in RULES.items():
            rsrules.replace_rules(session, asn, rules, actor=f"noc-as{asn}")
        outcome = history.run_build(session, settings, out, actor="operator")
    assert outcome.failure is None, outcome.failure
    lab.reconfigure(RS_NAME, (out / f"{RS_NAME}.conf").read_text(encoding="utf-8"))


def rules_in_force(lab: Lab) -> bool:
    """Whether every member's routes reflect the rules (the re-export has happened)."""
    return (
        copies(lab, BRAVO, OWN[ALPHA].v4, ALPHA) == []
        and copies(lab, ALPHA, OWN[BRAVO].v4, BRAVO) == []
        and copies(lab, DELTA, OWN[ALPHA].v6, ALPHA) == []
        and [r.as_path for r in copies(lab, ALPHA, OWN[CHARLIE].v6, CHARLIE)] == [(CHARLIE,) * 3]
        and [r.as_path for r in copies(lab, BRAVO, OWN[CHARLIE].v6, CHARLIE)] == [(CHARLIE,) * 2]
    )


@pytest.fixture(scope="module")
def ruled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RuledLab]:
    """The lab up without rules, then after the members' rules and a build."""
    require_lab()
    directory = tmp_path_factory.mktemp("live-rules")
    settings = exchange_settings(directory)
    engine = db.engine_from_settings(settings)
    with db.session_factory(engine)() as session:
        build_exchange(session, settings)
        lab = Lab.from_database(session, settings, routes=ANNOUNCEMENTS)
    try:
        lab.up()
        lab.wait_converged(timeout=60)
        before = holdings(lab)
        build_with_rules(lab, settings, engine, directory / "rs")
        netns.wait_until(lambda: rules_in_force(lab), timeout=30, what="the rules to take effect")
        lab.wait_converged(timeout=60)
        yield RuledLab(lab, before)
    finally:
        lab.down()
        engine.dispose()


def copies(lab: Lab, asn: int, route: Route, sender: int) -> list[ReceivedRoute]:
    """The copies of ``route`` from ``sender`` member ``asn`` holds now."""
    return [
        r
        for r in lab.member(asn).received().values()
        if r.prefix == route.prefix and r.as_path[:1] == (sender,)
    ]


def held_before(ruled: RuledLab, asn: int, route: Route, sender: int) -> list[ReceivedRoute]:
    return [r for r in ruled.before[asn] if r.prefix == route.prefix and r.as_path[:1] == (sender,)]


def receivers(lab: Lab, route: Route, sender: int) -> set[int]:
    """The members that hold ``route`` from ``sender``."""
    return {asn for asn in MEMBERS if copies(lab, asn, route, sender)}


@FAMILIES
def test_before_the_build_every_member_receives_every_other_members_routes(
    ruled: RuledLab, family: int
) -> None:
    for sender, case in OWN.items():
        for asn in MEMBERS:
            held = held_before(ruled, asn, case(family), sender)
            assert len(held) == (asn != sender), (sender, asn)
            if held:
                assert held[0].as_path == (sender,)


def test_do_not_announce_to_a_peer_withholds_the_routes_from_that_peer_only(
    ruled: RuledLab,
) -> None:
    lab = ruled.lab
    assert receivers(lab, OWN[ALPHA].v4, ALPHA) == {CHARLIE}  # Delta refuses Alpha, see below
    assert receivers(lab, OWN[ALPHA].v6, ALPHA) == {BRAVO, CHARLIE}  # the rule is IPv4 only
    (copy,) = copies(lab, CHARLIE, OWN[ALPHA].v4, ALPHA)
    assert copy.as_path == (ALPHA,)


@FAMILIES
def test_announce_only_reaches_the_listed_peers_and_no_one_else(
    ruled: RuledLab, family: int
) -> None:
    lab = ruled.lab
    route = OWN[BRAVO](family)
    assert receivers(lab, route, BRAVO) == {CHARLIE, DELTA}
    for asn in (CHARLIE, DELTA):
        (copy,) = copies(lab, asn, route, BRAVO)
        assert copy.as_path == (BRAVO,)
        # The communities the rules stand for are the route server's to act on, never sent on.
        assert not any(c.startswith(f"{RS_ASN}:") for c in copy.communities)
        assert not any(
            c.startswith((f"{RS_ASN}:0:", f"{RS_ASN}:1:")) for c in copy.large_communities
        )


@FAMILIES
def test_prepend_lengthens_the_path_towards_the_peers_named(ruled: RuledLab, family: int) -> None:
    lab = ruled.lab
    route = OWN[CHARLIE](family)
    every = 2 if family == 6 else 1  # once more towards every peer, in IPv6 only
    (to_alpha,) = copies(lab, ALPHA, route, CHARLIE)
    assert to_alpha.as_path == (CHARLIE,) * 3  # the rule naming Alpha wins over "every peer"
    for asn in (BRAVO, DELTA):
        (copy,) = copies(lab, asn, route, CHARLIE)
        assert copy.as_path == (CHARLIE,) * every
        prepends = {f"{RS_ASN}:{field}" for field in (101, 102, 103)}
        assert not any(c.rsplit(":", 1)[0] in prepends for c in copy.large_communities)


@FAMILIES
def test_do_not_accept_keeps_a_peers_routes_from_the_member_only(
    ruled: RuledLab, family: int
) -> None:
    lab = ruled.lab
    assert copies(lab, DELTA, OWN[ALPHA](family), ALPHA) == []
    assert CHARLIE in receivers(lab, OWN[ALPHA](family), ALPHA)
    (from_charlie,) = copies(lab, DELTA, OWN[CHARLIE](family), CHARLIE)
    assert from_charlie.as_path[0] == CHARLIE


@FAMILIES
def test_a_refused_path_never_hides_another_members_path_for_the_same_prefix(
    ruled: RuledLab, family: int
) -> None:
    lab = ruled.lab
    route = SHARED(family)
    # Delta refuses Alpha's (best) path and gets Bravo's; Charlie still gets the best one.
    assert [
        c.as_path for c in lab.member(DELTA).received().values() if c.prefix == route.prefix
    ] == [(BRAVO, BRAVO)]
    assert [
        c.as_path for c in lab.member(CHARLIE).received().values() if c.prefix == route.prefix
    ] == [(ALPHA,)]


@FAMILIES
def test_members_without_a_rule_about_a_peer_see_no_change(ruled: RuledLab, family: int) -> None:
    lab = ruled.lab
    unchanged = [
        (CHARLIE, OWN[ALPHA](family), ALPHA),
        (ALPHA, OWN[DELTA](family), DELTA),
        (BRAVO, OWN[DELTA](family), DELTA),
        (CHARLIE, OWN[DELTA](family), DELTA),
    ]
    for asn, route, sender in unchanged:
        assert copies(lab, asn, route, sender) == held_before(ruled, asn, route, sender) != []
