"""Peering-LAN addresses: which are usable, which are taken, and picking free ones.

A member address must sit inside the LAN subnet, must not be the network or
broadcast address, and must not collide with another member, a route server or
the exchange's blackhole next hop. The route servers and blackhole addresses are
the exchange's own; members never get them.

Deciding that an address is free and writing it happen under the LAN's lock
(``lock_lan``), so two commands run at once never pick the same address.
"""

from __future__ import annotations

from typing import Literal

import netaddr
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ixp import validate
from ixp.errors import Conflict, ValidationError
from ixp.models import Exchange, LanAddress, Member, PeeringLan, RouteServer


def lan_subnet(lan: PeeringLan, family: int) -> netaddr.IPNetwork:
    """The LAN's subnet of ``family``; ValidationError if the LAN has none."""
    prefix = lan.ipv4_prefix if family == 4 else lan.ipv6_prefix
    if prefix is None:
        raise ValidationError(
            f"ipv{family}", None, f"cannot be used: the LAN has no IPv{family} subnet"
        )
    return netaddr.IPNetwork(prefix)


def lan_subnet_or_none(lan: PeeringLan, family: int) -> netaddr.IPNetwork | None:
    """The LAN's subnet of ``family``, or None when the LAN is single-stack."""
    prefix = lan.ipv4_prefix if family == 4 else lan.ipv6_prefix
    return netaddr.IPNetwork(prefix) if prefix else None


def lock_lan(session: Session, lan: PeeringLan) -> None:
    """Hold the LAN's address lock until the session's transaction ends.

    A write to the LAN's row that changes nothing is the one lock both backends
    offer: PostgreSQL locks the row (other writers wait for our commit), SQLite
    takes the database's write lock (others wait up to its busy timeout). Taking
    it again in the same transaction costs nothing.
    """
    session.execute(
        update(PeeringLan)
        .where(PeeringLan.id == lan.id)
        .values(vlan_id=PeeringLan.vlan_id)
        .execution_options(synchronize_session=False)
    )


def reserved_addresses(session: Session, lan: PeeringLan, family: int) -> dict[str, str]:
    """Addresses on ``lan`` that are taken, mapped to who holds them."""
    taken: dict[str, str] = {}
    for rs in session.scalars(select(RouteServer).where(RouteServer.lan_id == lan.id)):
        addr = rs.ipv4 if family == 4 else rs.ipv6
        if addr:
            taken[addr] = f"route server {rs.name}"
    exchange: Exchange = lan.exchange
    blackhole = exchange.blackhole_ipv4 if family == 4 else exchange.blackhole_ipv6
    if blackhole:
        taken[blackhole] = "the blackhole next hop"
    rows = session.execute(
        select(LanAddress.address, Member.asn)
        .join(Member, Member.id == LanAddress.member_id)
        .where(LanAddress.lan_id == lan.id, LanAddress.family == family)
    )
    for addr, asn in rows:
        taken[addr] = f"AS{asn}"
    return taken


def check_in_lan(value: str, field: str, lan: PeeringLan, family: int) -> str:
    """Validate that ``value`` is a usable host address of the LAN; return it normalised."""
    ip = validate.address(value, field, family)
    subnet = lan_subnet(lan, family)
    if ip not in subnet:
        raise ValidationError(field, value, f"is outside the peering LAN {subnet}")
    if ip == subnet.network:
        raise ValidationError(field, value, f"is the network address of {subnet}")
    if family == 4 and subnet.prefixlen < 31 and ip == subnet.broadcast:
        raise ValidationError(field, value, f"is the broadcast address of {subnet}")
    return str(ip)


def check_free(
    session: Session,
    value: str,
    field: str,
    lan: PeeringLan,
    family: int,
    *,
    owner: str | None = None,
) -> None:
    """Conflict if ``value`` is already held by someone other than ``owner``.

    Takes the LAN's lock first, so the answer holds until the transaction ends.
    """
    lock_lan(session, lan)
    holder = reserved_addresses(session, lan, family).get(value)
    if holder is not None and holder != owner:
        raise Conflict(f"is already used by {holder}", field=field, value=value)


def allocate(session: Session, lan: PeeringLan, family: int, asn: int) -> str:
    """A free address for a new member.

    IPv6 follows the common IXP convention of writing the ASN into the address
    (``prefix::<asn in hex>:1``) so an operator can read it; IPv4, and IPv6
    when that address is taken, gets the lowest free host address. Takes the
    LAN's lock first, so the address stays free until the transaction ends.
    """
    lock_lan(session, lan)
    return propose(session, lan, family, asn)


def propose(session: Session, lan: PeeringLan, family: int, asn: int) -> str:
    """The address ``allocate`` would give member ``asn`` now, without taking the LAN's lock:
    a suggestion for a form (another member may take it before the form is saved; saving
    checks again)."""
    subnet = lan_subnet(lan, family)
    taken = reserved_addresses(session, lan, family)
    if family == 6:
        candidate = netaddr.IPAddress(int(subnet.network) + (asn << 16) + 1, 6)
        if candidate in subnet and str(candidate) not in taken:
            return str(candidate)
    first = int(subnet.network) + 1
    last = int(subnet.last) - 1 if family == 4 else int(subnet.last)  # IPv4: not the broadcast
    version: Literal[4, 6] = 4 if family == 4 else 6
    for value in range(first, min(last, first + 1_000_000) + 1):
        text = str(netaddr.IPAddress(value, version))
        if text not in taken:
            return text
    raise Conflict(f"no free address left in {subnet}", field=f"ipv{family}")
