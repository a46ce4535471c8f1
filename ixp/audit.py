"""Writing the audit log: every change records who, what, and the before/after state.

Who is always said by the caller (the CLI's configured actor, the API's signed-in
user): no service assumes one, so a change is never logged under the wrong name.

The before/after snapshots have their own format, made here and nowhere else:
what the CLI prints or the API serves may rename a field, the log never does, so
entries written years apart read alike. Change a snapshot's keys only on purpose.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ixp import validate
from ixp.models import AuditEntry, Exchange, Member, RouteServer

_ACTOR_COLUMN: Any = AuditEntry.actor
ACTOR_MAX_LENGTH = int(_ACTOR_COLUMN.type.length)


def check_actor(actor: str, field: str = "actor") -> str:
    """``actor`` if it can be recorded: one line of text that fits its column."""
    return validate.text(actor, field, max_length=ACTOR_MAX_LENGTH)


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    entity: str,
    key: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Add one audit entry to the current transaction (it commits or rolls back with the change).

    An actor that cannot be recorded refuses the change: the transaction rolls back.
    """
    session.add(
        AuditEntry(
            actor=check_actor(actor),
            action=action,
            entity=entity,
            entity_key=key,
            before=before,
            after=after,
        )
    )


def member_snapshot(member: Member) -> dict[str, Any]:
    """A member as the log records it (its addresses, connections and sessions loaded)."""
    return {
        "asn": member.asn,
        "name": member.display_name,
        "legal_name": member.legal_name,
        "status": member.status.value,
        "as_set_v4": member.as_set_v4,
        "as_set_v6": member.as_set_v6,
        "max_prefix4": member.max_prefix_v4,
        "max_prefix6": member.max_prefix_v6,
        "max_prefix_action": member.max_prefix_action.value,
        "ipv4": [a.address for a in member.addresses if a.family == 4],
        "ipv6": [a.address for a in member.addresses if a.family == 6],
        "macs": sorted(m.mac for c in member.connections for m in c.macs),
        "speed_mbps": sum(c.speed_mbps or 0 for c in member.connections) or None,
        "peeringdb_id": member.peeringdb_id,
        "noc_email": member.noc_email,
        "noc_phone": member.noc_phone,
        "peering_email": member.peering_email,
        "url": member.url,
        "joined": member.joined.isoformat() if member.joined else None,
        "announcement_control": member.announcement_control,
        "blackholing": member.blackholing,
        "third_party_next_hop": member.third_party_next_hop,
        "route_servers": [
            {"name": s.route_server.name, "ipv4": s.ipv4_enabled, "ipv6": s.ipv6_enabled}
            for s in sorted(member.rs_sessions, key=lambda s: s.route_server.name)
        ],
    }


def exchange_snapshot(exchange: Exchange) -> dict[str, Any]:
    """An exchange and its peering LAN as the log records them."""
    lan = exchange.lans[0] if exchange.lans else None
    return {
        "name": exchange.name,
        "country": exchange.country,
        "asn": exchange.asn,
        "url": exchange.url,
        "vlan_id": lan.vlan_id if lan else None,
        "lan4": lan.ipv4_prefix if lan else None,
        "lan6": lan.ipv6_prefix if lan else None,
        "blackhole_ipv4": exchange.blackhole_ipv4,
        "blackhole_ipv6": exchange.blackhole_ipv6,
    }


def route_server_snapshot(rs: RouteServer) -> dict[str, Any]:
    """A route server as the log records it."""
    return {
        "name": rs.name,
        "asn": rs.asn,
        "router_id": rs.router_id,
        "ipv4": rs.ipv4,
        "ipv6": rs.ipv6,
        "mgmt_host": rs.mgmt_host,
        "control_socket": rs.control_socket,
    }
