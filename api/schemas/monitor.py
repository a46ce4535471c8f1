"""Wire models of the monitor's endpoints and the problem+json shape their errors take.

The rows themselves are the monitor's frozen dataclasses (``ixp.monitor``), served
as they are; only what the API shapes differently from the service is defined here.
Error answers are declared per route with ``problems(...)`` so that the OpenAPI
document describes every status a route can give, under the media type it is
really sent with (``application/problem+json``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field

from api.problems import MEDIA_TYPE
from ixp.monitor.reach import ReachFigures, ReachPoint, ReachReport


class FieldProblem(BaseModel):
    """One bad field of a request: its name, the value sent and what is wrong with it."""

    field: str | None
    value: Any = Field(description="The value as sent (long text cut short).")
    reason: str


class ProblemDetails(BaseModel):
    """An RFC 9457 problem: every error the API answers has this shape."""

    type: str = Field(description="``urn:ixp:problem:<kind>``, e.g. ``not-found``.")
    title: str
    status: int
    detail: str
    errors: list[FieldProblem] | None = Field(
        None, description="For bad input: one entry per bad field."
    )
    hint: str | None = Field(None, description="What would put it right, when known.")


_WHY = {
    401: "Not signed in, or the API token is unknown or revoked.",
    404: "No such member (or another member's), route server or exchange.",
    422: "A bad parameter; ``errors`` names each.",
    503: "A source the answer needs (BIRD's control socket, the database) cannot be used now.",
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route that can fail with ``statuses``, as problem+json."""
    schema = ProblemDetails.model_json_schema(ref_template="#/components/schemas/{model}")
    schema.pop("$defs", None)
    return {
        status: {
            "model": ProblemDetails,
            "description": _WHY[status],
            "content": {MEDIA_TYPE: {"schema": schema}},
        }
        for status in statuses
    }


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
