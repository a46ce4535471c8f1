"""A small test exchange in the database, built through the service functions.

Four members on one route server: Alpha (AS38001, a customer AS38011 behind
it, blackholing allowed), Bravo (AS38002), Charlie (AS38003) and Delta
(AS38004, max-prefix 2/1 with action ``disable``). Their registry data comes
from ``tests/data/lab/irr.rpsl`` and the ROAs from ``tests/data/lab/roas.json``.
ASNs and prefixes are public-looking so the bogon filters let them pass; they
are only ever announced inside the test namespaces.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from ixp import db
from ixp.exchange import add_route_server, init_exchange
from ixp.irr.service import sync
from ixp.members import MemberInput, add_member
from ixp.rpki.service import load_file
from ixp.settings import Settings

DATA = Path(__file__).resolve().parent.parent / "data" / "lab"

RS_ASN = 59900
RS_NAME = "rs1"
LAN4, LAN6 = "185.1.50.0/24", "2001:7f8:a0::/64"
RS4, RS6 = "185.1.50.1", "2001:7f8:a0::1"
BLACKHOLE4, BLACKHOLE6 = "185.1.50.66", "2001:7f8:a0::66"
ALPHA, BRAVO, CHARLIE, DELTA = 38001, 38002, 38003, 38004
ALPHA_CUSTOMER = 38011


def address(asn: int, family: int) -> str:
    """A member's LAN address: ``.1x`` / ``::1x`` by the last digit of its ASN."""
    host = 10 + asn % 10
    return f"185.1.50.{host}" if family == 4 else f"2001:7f8:a0::{host}"


def build_exchange(session: Session, settings: Settings) -> None:
    """Create the exchange, its route server and members, then load IRR data and ROAs."""
    init_exchange(
        session,
        name="Lab IX",
        country="PK",
        asn=RS_ASN,
        lan_v4=LAN4,
        lan_v6=LAN6,
        blackhole_ipv4=BLACKHOLE4,
        blackhole_ipv6=BLACKHOLE6,
        actor="test",
    )
    add_route_server(
        session, name=RS_NAME, asn=RS_ASN, router_id=RS4, ipv4=RS4, ipv6=RS6, actor="test"
    )
    members = [
        (ALPHA, "Alpha Net", "AS-ALPHA", 100, 100, "restart", True),
        (BRAVO, "Bravo Telecom", "AS-BRAVO", 100, 100, "restart", False),
        (CHARLIE, "Charlie ISP", "AS-CHARLIE", 100, 100, "restart", False),
        (DELTA, "Delta Wireless", "AS-DELTA", 2, 1, "disable", False),
    ]
    for asn, name, as_set, max4, max6, action, blackholing in members:
        add_member(
            session,
            MemberInput(
                asn=asn,
                name=name,
                as_set=as_set,
                ipv4=address(asn, 4),
                ipv6=address(asn, 6),
                max_prefix_v4=max4,
                max_prefix_v6=max6,
                max_prefix_action=action,
                blackholing=blackholing,
            ),
            actor="test",
        )
    sync(session, settings, rpsl_files=[DATA / "irr.rpsl"])
    load_file(session, DATA / "roas.json", settings=settings, actor="test")


def exchange_settings(directory: Path) -> Settings:
    """Settings with a fresh, migrated SQLite database and home under ``directory``."""
    url = f"sqlite:///{directory / 'ixp.sqlite3'}"
    engine = db.make_engine(url)
    db.upgrade(engine)
    engine.dispose()
    return Settings(home=directory / "home", database_url=url)
