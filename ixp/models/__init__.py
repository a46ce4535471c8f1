"""The typed SQLAlchemy tables; importing this module registers all of them."""

from ixp.models.audit import AuditEntry
from ixp.models.base import Base
from ixp.models.exchange import Exchange, PeeringLan, Port, RouteServer, Site, Switch
from ixp.models.member import (
    Connection,
    LanAddress,
    MacAddress,
    MaxPrefixAction,
    Member,
    MemberStatus,
    RsSession,
)

__all__ = [
    "AuditEntry",
    "Base",
    "Connection",
    "Exchange",
    "LanAddress",
    "MacAddress",
    "MaxPrefixAction",
    "Member",
    "MemberStatus",
    "PeeringLan",
    "Port",
    "RouteServer",
    "RsSession",
    "Site",
    "Switch",
]
