"""Wire models of the traffic endpoints.

The rows are the traffic service's frozen dataclasses (``ixp.traffic.report``), served as
they are; only the answers that bundle several of them are defined here.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from ixp.models import FigureKind
from ixp.traffic.report import (
    AgentFigures,
    Day,
    DoubleCount,
    PairTraffic,
    PortCheck,
    Share,
    UnknownMac,
)


class MemberTrafficView(BaseModel):
    """One member's traffic over the fabric in a period: per day, with each peer, and its
    local share per month."""

    asn: int
    since: dt.date
    until: dt.date = Field(description="The last day included.")
    days: list[Day]
    pairs: list[PairTraffic] = Field(
        description="What it sent each peer and received, largest first."
    )
    shares: list[Share]


class TrafficHealth(BaseModel):
    """How far the measurement can be trusted in a period (operators): ports whose sampled
    estimate strays from their counters, samples that may count frames twice, datagrams
    lost and samples dropped per agent, MACs of no member."""

    since: dt.date
    until: dt.date = Field(description="The last day included.")
    counter_check: list[PortCheck]
    double_counting: list[DoubleCount]
    agents: list[AgentFigures]
    unknown_macs: list[UnknownMac]


class FigureBody(BaseModel):
    """A member's traffic of one month that did not cross the exchange, as it measured it
    (``ixp traffic international set`` takes the same)."""

    model_config = ConfigDict(extra="forbid")

    bytes: StrictInt = Field(
        ge=0, le=2**63 - 1, description="Bytes in both directions over the whole month."
    )
    kind: FigureKind = Field(
        FigureKind.international,
        description="international: traffic over its international links (transit, "
        "foreign peering); total: all its traffic, the exchange's included.",
    )
