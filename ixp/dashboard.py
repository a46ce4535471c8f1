"""The operator's dashboard in one call: sessions per route server, open alerts, the latest
build, when configurations were last pushed, and domestic reachability with its trend.

Every figure comes from what is stored (the monitor's session states, alerts and
reach samples, the build and push records), in a fixed number of queries.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ixp.exchange import get_exchange
from ixp.models import RouteServer, SessionState
from ixp.monitor import alerts, reach
from ixp.monitor.alerts import AlertRow, AlertStatus
from ixp.monitor.reach import ReachReport
from ixp.push import records
from ixp.push.records import RsPushState
from ixp.rs import history
from ixp.rs.history import BuildSummary

OPEN_ALERTS_SHOWN = 10


@dataclass(frozen=True)
class FamilySessions:
    """Member sessions of one address family on one route server, by what the monitor saw."""

    family: str
    up: int
    down: int


@dataclass(frozen=True)
class RsSessions:
    """A route server's member sessions, per family (none listed: the monitor saw none)."""

    name: str
    families: tuple[FamilySessions, ...]

    @property
    def up(self) -> int:
        """Established sessions, both families."""
        return sum(f.up for f in self.families)

    @property
    def down(self) -> int:
        """Sessions not established, both families."""
        return sum(f.down for f in self.families)


@dataclass(frozen=True)
class Dashboard:
    """What the operator's home page shows."""

    exchange: str
    route_servers: tuple[RsSessions, ...]
    open_alerts: tuple[AlertRow, ...]
    open_alert_count: int
    unacknowledged_count: int
    latest_build: BuildSummary | None
    pushes: tuple[RsPushState, ...]
    reach: ReachReport


def _sessions(session: Session, names: list[str]) -> tuple[RsSessions, ...]:
    counts: defaultdict[str, dict[str, list[int]]] = defaultdict(dict)
    query = (
        select(RouteServer.name, SessionState.family, SessionState.up, func.count())
        .join(RouteServer, SessionState.route_server_id == RouteServer.id)
        .group_by(RouteServer.name, SessionState.family, SessionState.up)
    )
    for name, family, up, count in session.execute(query):
        counts[name].setdefault(family, [0, 0])[0 if up else 1] += count
    return tuple(
        RsSessions(
            name,
            tuple(
                FamilySessions(family, up, down)
                for family, (up, down) in sorted(counts.get(name, {}).items())
            ),
        )
        for name in names
    )


def _pushes(session: Session, route_servers: list[RouteServer]) -> tuple[RsPushState, ...]:
    """Each route server's push state; one no push has tried yet has neither time nor trouble."""
    tried = {state.name: state for state in records.rs_push_states(session)}
    return tuple(
        tried.get(rs.name) or RsPushState(rs.id, rs.name, last_good_at=None, unreachable=None)
        for rs in route_servers
    )


def dashboard(session: Session, *, history_points: int = 30) -> Dashboard:
    """The dashboard of the exchange, with ``history_points`` reach samples for the trend."""
    exchange = get_exchange(session)
    builds, _ = history.list_builds(session, limit=1, offset=0)
    route_servers = sorted(exchange.route_servers, key=lambda rs: rs.name)
    return Dashboard(
        exchange=exchange.name,
        route_servers=_sessions(session, [rs.name for rs in route_servers]),
        open_alerts=tuple(alerts.alert_list(session, AlertStatus.open, limit=OPEN_ALERTS_SHOWN)),
        open_alert_count=alerts.alert_count(session, AlertStatus.open),
        unacknowledged_count=alerts.alert_count(session, AlertStatus.unacknowledged),
        latest_build=builds[0] if builds else None,
        pushes=_pushes(session, route_servers),
        reach=reach.report(session, exchange, history=history_points, top=0),
    )
