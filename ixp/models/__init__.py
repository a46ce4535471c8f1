"""The typed SQLAlchemy tables; importing this module registers all of them."""

from ixp.models.account import ApiToken, BuildRecord, LoginFailure, Role, User
from ixp.models.audit import AuditEntry
from ixp.models.base import Base
from ixp.models.exchange import Exchange, PeeringLan, Port, RouteServer, Site, Switch
from ixp.models.irr import IrrDataState, IrrPrefixData
from ixp.models.macreview import MacProposal, MacProposalStatus
from ixp.models.member import (
    Connection,
    LanAddress,
    MacAddress,
    MaxPrefixAction,
    Member,
    MemberStatus,
    RsSession,
)
from ixp.models.monitor import (
    Alert,
    FilteredRoute,
    ReachSample,
    RirDelegation,
    SessionEvent,
    SessionState,
)
from ixp.models.push import ConfigVersion, PushRecord, PushState, PushTarget, TargetState
from ixp.models.rpki import RpkiLoad, RpkiRoa
from ixp.models.rsrule import RsRule, RuleAction, RuleFamily
from ixp.models.traffic import (
    FigureKind,
    MacRole,
    TrafficAgent,
    TrafficInternational,
    TrafficPair,
    TrafficPort,
    TrafficRollup,
    TrafficUnknownMac,
)
from ixp.models.version import DataVersion

__all__ = [
    "Alert",
    "ApiToken",
    "AuditEntry",
    "Base",
    "BuildRecord",
    "ConfigVersion",
    "Connection",
    "DataVersion",
    "Exchange",
    "FigureKind",
    "FilteredRoute",
    "IrrDataState",
    "IrrPrefixData",
    "LanAddress",
    "LoginFailure",
    "MacAddress",
    "MacProposal",
    "MacProposalStatus",
    "MacRole",
    "MaxPrefixAction",
    "Member",
    "MemberStatus",
    "PeeringLan",
    "Port",
    "PushRecord",
    "PushState",
    "PushTarget",
    "ReachSample",
    "RirDelegation",
    "Role",
    "RouteServer",
    "RpkiLoad",
    "RpkiRoa",
    "RsRule",
    "RsSession",
    "RuleAction",
    "RuleFamily",
    "SessionEvent",
    "SessionState",
    "Site",
    "Switch",
    "TargetState",
    "TrafficAgent",
    "TrafficInternational",
    "TrafficPair",
    "TrafficPort",
    "TrafficRollup",
    "TrafficUnknownMac",
    "User",
]
