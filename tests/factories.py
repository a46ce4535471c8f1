"""Test data built through the service functions, the way an operator would set it up."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ixp import exchange


def pkix_test_exchange(session: Session) -> None:
    """The "PKIX Test" exchange: a dual-stack LAN, blackhole addresses, two route servers."""
    exchange.init_exchange(
        session,
        name="PKIX Test",
        country="pk",
        asn=38195,
        lan_v4="185.1.10.0/24",
        lan_v6="2001:7f8:1::/64",
        blackhole_ipv4="185.1.10.66",
        blackhole_ipv6="2001:7f8:1::66",
        actor="test",
    )
    for index, site in ((1, "isb"), (2, "khi")):
        exchange.add_route_server(
            session,
            name=f"rs{index}-{site}",
            asn=38195,
            router_id=f"185.1.10.{index}",
            ipv4=f"185.1.10.{index}",
            ipv6=f"2001:7f8:1::{index}",
            actor="test",
        )
