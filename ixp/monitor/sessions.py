"""Member sessions as BIRD reports them, compared with what was stored, written as events.

Each check reads ``show protocols all`` over the control socket, turns every
member BGP channel into a ``SessionSample`` and compares it with the stored
``SessionState``: a change of up/down becomes an event (with BIRD's last error
as the reason), and so does a jump in the accepted prefix count. The state row
is then updated, so history and the current picture survive monitor restarts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVarTuple

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from ixp.bird import ProtocolStatus
from ixp.models import RouteServer, SessionEvent, SessionState
from ixp.rs.types import COLLECTOR_PROTOCOL_PREFIX

# The columns of a query a filter narrows (it keeps them as they are).
_Row = TypeVarTuple("_Row")


@dataclass(frozen=True)
class SessionSample:
    """One member session (BIRD protocol + channel) at one moment."""

    protocol: str
    family: str
    asn: int | None
    neighbor: str | None
    up: bool
    state: str
    since: dt.datetime | None
    last_error: str | None
    imported: int
    filtered: int
    exported: int
    import_limit: int | None
    description: str | None = None


def samples_from(protocols: Iterable[ProtocolStatus]) -> list[SessionSample]:
    """The member sessions among BIRD's protocols, one sample per channel."""
    samples = []
    for protocol in protocols:
        if protocol.proto != "BGP" or protocol.name.startswith(COLLECTOR_PROTOCOL_PREFIX):
            continue
        for channel in protocol.channels.values():
            samples.append(
                SessionSample(
                    protocol=protocol.name,
                    family=channel.name,
                    asn=protocol.neighbor_as,
                    neighbor=protocol.neighbor_address,
                    up=protocol.is_up and channel.state == "UP",
                    state=protocol.bgp_state or protocol.state,
                    since=protocol.since_at(),
                    last_error=protocol.last_error or None,
                    imported=channel.imported,
                    filtered=channel.filtered,
                    exported=channel.exported,
                    import_limit=channel.import_limit,
                    description=protocol.description,
                )
            )
    return samples


def _is_jump(before: int, after: int, ratio: float, minimum: int) -> bool:
    change = abs(after - before)
    return change >= minimum and change >= ratio * max(before, 1)


def record_samples(
    session: Session,
    route_server: RouteServer,
    samples: Sequence[SessionSample],
    now: dt.datetime,
    *,
    jump_ratio: float = 0.5,
    jump_min: int = 10,
) -> list[SessionEvent]:
    """Store the samples of one route server; return the events written (caller commits)."""
    stored = {
        (state.protocol, state.family): state
        for state in session.scalars(
            select(SessionState).where(SessionState.route_server_id == route_server.id)
        )
    }
    events: list[SessionEvent] = []

    def event(sample: SessionSample, kind: str, **extra: object) -> None:
        item = SessionEvent(
            at=now,
            route_server_id=route_server.id,
            protocol=sample.protocol,
            family=sample.family,
            asn=sample.asn,
            kind=kind,
            state=sample.state,
            **extra,
        )
        session.add(item)
        events.append(item)

    for sample in samples:
        state = stored.pop((sample.protocol, sample.family), None)
        if state is None:
            state = SessionState(
                route_server_id=route_server.id,
                protocol=sample.protocol,
                family=sample.family,
                up=sample.up,
                down_since=None if sample.up else now,
                max_imported=0,
            )
            session.add(state)
            if not sample.up:
                event(sample, "down", reason=sample.last_error or sample.state)
        elif state.up != sample.up:
            if sample.up:
                event(sample, "up", prefixes_before=state.imported, prefixes_after=sample.imported)
                state.down_since = None
                state.max_imported = 0
            else:
                reason = sample.last_error or sample.state
                event(sample, "down", reason=reason, prefixes_before=state.imported)
                state.down_since = now
        elif sample.up and _is_jump(state.imported, sample.imported, jump_ratio, jump_min):
            event(
                sample,
                "prefix-jump",
                prefixes_before=state.imported,
                prefixes_after=sample.imported,
            )
        state.asn = sample.asn
        state.neighbor = sample.neighbor
        state.up = sample.up
        state.state = sample.state[:64]
        state.since = sample.since
        state.last_error = (sample.last_error or None) and sample.last_error[:500]
        state.imported = sample.imported
        state.filtered = sample.filtered
        state.exported = sample.exported
        state.import_limit = sample.import_limit
        if sample.up:
            state.max_imported = max(state.max_imported or 0, sample.imported)
        state.checked_at = now
    for gone in stored.values():
        session.delete(gone)
    return events


@dataclass(frozen=True)
class SessionRow:
    """A stored member session as last seen: what ``ixp monitor sessions`` and the API list."""

    route_server: str
    protocol: str
    family: str
    asn: int | None
    neighbor: str | None
    up: bool
    state: str
    since: dt.datetime | None
    last_error: str | None
    imported: int
    filtered: int
    exported: int
    import_limit: int | None
    checked_at: dt.datetime


@dataclass(frozen=True)
class EventRow:
    """A session event: up, down (with BIRD's reason) or a jump in the accepted prefixes."""

    at: dt.datetime
    route_server: str
    protocol: str
    family: str
    asn: int | None
    kind: str
    state: str
    reason: str | None
    prefixes_before: int | None
    prefixes_after: int | None


def session_rows(
    session: Session,
    *,
    route_server: RouteServer | None = None,
    asn: int | None = None,
    state: str | None = None,
) -> list[SessionRow]:
    """The stored session states by route server, ASN, protocol and family, in one query.

    Each filter narrows when given: one route server, one member's ASN, or one
    BGP state as BIRD words it (``Established``, ``Active``; any case).
    """
    query = (
        select(SessionState, RouteServer.name)
        .join(RouteServer, SessionState.route_server_id == RouteServer.id)
        .order_by(RouteServer.name, SessionState.asn, SessionState.protocol, SessionState.family)
    )
    if route_server is not None:
        query = query.where(SessionState.route_server_id == route_server.id)
    if asn is not None:
        query = query.where(SessionState.asn == asn)
    if state is not None:
        query = query.where(func.lower(SessionState.state) == state.lower())
    return [
        SessionRow(
            route_server=rs_name,
            protocol=row.protocol,
            family=row.family,
            asn=row.asn,
            neighbor=row.neighbor,
            up=row.up,
            state=row.state,
            since=row.since,
            last_error=row.last_error,
            imported=row.imported,
            filtered=row.filtered,
            exported=row.exported,
            import_limit=row.import_limit,
            checked_at=row.checked_at,
        )
        for row, rs_name in session.execute(query)
    ]


def _event_filter(
    query: Select[*_Row], route_server: RouteServer | None, asn: int | None
) -> Select[*_Row]:
    if route_server is not None:
        query = query.where(SessionEvent.route_server_id == route_server.id)
    if asn is not None:
        query = query.where(SessionEvent.asn == asn)
    return query


def event_rows(
    session: Session,
    limit: int = 100,
    offset: int = 0,
    *,
    route_server: RouteServer | None = None,
    asn: int | None = None,
) -> list[EventRow]:
    """Session events newest first, ``limit`` of them from ``offset`` (the log only grows,
    so the page is cut in the database, not in memory)."""
    query = _event_filter(
        select(SessionEvent, RouteServer.name).join(
            RouteServer, SessionEvent.route_server_id == RouteServer.id
        ),
        route_server,
        asn,
    )
    rows = session.execute(
        query.order_by(SessionEvent.at.desc(), SessionEvent.id.desc()).limit(limit).offset(offset)
    )
    return [
        EventRow(
            at=event.at,
            route_server=rs_name,
            protocol=event.protocol,
            family=event.family,
            asn=event.asn,
            kind=event.kind,
            state=event.state,
            reason=event.reason,
            prefixes_before=event.prefixes_before,
            prefixes_after=event.prefixes_after,
        )
        for event, rs_name in rows
    ]


def event_count(
    session: Session, *, route_server: RouteServer | None = None, asn: int | None = None
) -> int:
    """How many events ``event_rows`` would list with the same filters and no limit."""
    query = _event_filter(select(func.count(SessionEvent.id)), route_server, asn)
    return session.scalar(query) or 0
