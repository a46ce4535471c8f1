"""Wire models of the monitor's endpoints.

The rows themselves are the monitor's frozen dataclasses (``ixp.monitor``), served
as they are; only what the API shapes differently from the service is defined here.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from ixp.monitor.reach import ReachFigures, ReachPoint, ReachReport


class ReachOverview(BaseModel):
    """The exchange's overall domestic reach, public: how much of the country's address
    space and ASNs stays reachable over the exchange, now and over recent samples."""

    country: str
    at: dt.datetime | None = Field(description="When the newest sample was taken (None: none).")
    overall: ReachFigures | None
    history: list[ReachPoint] = Field(description="Overall figures, newest first.")

    @classmethod
    def of(cls, report: ReachReport) -> ReachOverview:
        """The public part of a reachability report (its per-member rows left out)."""
        return cls(
            country=report.country,
            at=report.at,
            overall=report.overall,
            history=list(report.history),
        )
