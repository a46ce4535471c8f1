"""A small demo-like exchange for the route-server tests, built through the service functions.

Two route servers, members that exercise every policy switch (blackholing,
third-party next hop, announcement control off, IPv4-only, a suspended member,
one without registry data), registry data from ``tests/data/rs/registry.rpsl``
and ROAs from ``tests/data/rs/roas.json``.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from ixp.exchange import add_route_server, init_exchange
from ixp.irr.service import sync
from ixp.members import MemberInput, add_member, get_member
from ixp.rpki.service import load_file
from ixp.rsrules import RuleInput, replace_rules
from ixp.settings import Settings

DATA = Path(__file__).resolve().parents[1] / "data" / "rs"
RS_ASN = 59900
UNSYNCED_ASN = 50505

MEMBERS: tuple[MemberInput, ...] = (
    MemberInput(
        asn=10101,
        name="Alpha Networks",
        legal_name="Alpha Networks (Pvt) Ltd",
        as_set="AS-ALPHA",
        ipv4="185.1.0.11",
        ipv6="2001:7f8:ff::11",
        max_prefix_v4=100,
        max_prefix_v6=20,
        blackholing=True,
    ),
    MemberInput(
        asn=20202,
        name="Bravo Telecom",
        as_set="AS20202",
        ipv4="185.1.0.12",
        ipv6="2001:7f8:ff::12",
        max_prefix_v4=50,
        max_prefix_v6=10,
        max_prefix_action="block",
        third_party_next_hop=True,
    ),
    MemberInput(
        asn=30303,
        name="Charlie Wireless",
        as_set="AS30303",
        ipv4="185.1.0.13",
        max_prefix_v4=10,
        max_prefix_v6=10,
        announcement_control=False,
    ),
    MemberInput(
        asn=40404,
        name="Delta Suspended",
        as_set="AS40404",
        ipv4="185.1.0.14",
        max_prefix_v4=10,
        max_prefix_v6=10,
        status="suspended",
    ),
    MemberInput(
        asn=50505,
        name="Echo Unsynced",
        as_set="AS-ECHO-MISSING",
        ipv4="185.1.0.15",
        max_prefix_v4=10,
        max_prefix_v6=10,
    ),
)


def build_exchange(
    session: Session, settings: Settings, *, names: dict[int, str] | None = None
) -> None:
    """Create the demo exchange, sync its registry data and load its ROAs.

    ``names`` replaces members' display and legal names after onboarding, straight
    in the database (hostile-name tests): validation refuses most such names at the
    door, but the renderer must make whatever is stored safe on its own.
    """
    init_exchange(
        session,
        name="Demo IX",
        country="PK",
        asn=RS_ASN,
        lan_v4="185.1.0.0/24",
        lan_v6="2001:7f8:ff::/64",
        blackhole_ipv4="185.1.0.66",
        blackhole_ipv6="2001:7f8:ff::66",
        actor="test",
    )
    for index, name in enumerate(("rs1", "rs2"), start=1):
        add_route_server(
            session,
            name=name,
            asn=RS_ASN,
            router_id=f"185.1.0.{index}",
            ipv4=f"185.1.0.{index}",
            ipv6=f"2001:7f8:ff::{index}",
            actor="test",
        )
    for data in MEMBERS:
        add_member(session, data, actor="test")
    for asn, name in (names or {}).items():
        stored = get_member(session, asn)
        stored.display_name = stored.legal_name = name
    session.commit()
    registered = [get_member(session, m.asn) for m in MEMBERS if m.asn != UNSYNCED_ASN]
    sync(session, settings, members=registered, rpsl_files=[DATA / "registry.rpsl"])
    load_file(session, DATA / "roas.json", settings=settings, actor="test")


# Filtering rules as the golden configurations carry them: every action, rules of one family
# and of both, a member receiving no routes at all, and a rule about the suspended Delta
# (its member's only "announce only" peer) that the build leaves out and reports.
RULES: dict[int, tuple[RuleInput, ...]] = {
    10101: (RuleInput("do-not-announce", 20202, "ipv6"), RuleInput("prepend", "all", "ipv4", 2)),
    20202: (RuleInput("announce-only", 10101), RuleInput("do-not-accept", 30303, "ipv4")),
    30303: (RuleInput("do-not-accept", "all", "ipv4"), RuleInput("announce-only", 40404, "ipv4")),
}


def add_rules(session: Session) -> None:
    """Give the demo exchange's members the filtering rules of ``RULES``."""
    for asn, rules in RULES.items():
        replace_rules(session, asn, rules, actor="test")
