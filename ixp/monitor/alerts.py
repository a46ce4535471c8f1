"""The alert rules of the monitor, their storage and the optional e-mail to a member's NOC.

``evaluate`` is pure: from the stored session states, the route servers that
could not be reached, the reject reasons of filtered routes and the members
configured without registry data (``closed_registries``) it returns the
conditions that hold now (``Finding``). ``sync_alerts`` turns them into stored
alerts: a new condition opens an alert, a persisting one updates it, one that
no longer holds is closed. Only newly opened alerts are e-mailed, and only when
an SMTP host is configured (off by default). An operator ``acknowledge``s an open
alert to say it is being dealt with; it stays open until its condition clears.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import smtplib
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import TypeVarTuple

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from ixp import audit
from ixp.db import transaction
from ixp.errors import Conflict, NotFound
from ixp.irr.service import irr_for_members
from ixp.models import Alert, Member, MemberStatus, RouteServer, SessionState
from ixp.models.base import utcnow
from ixp.push.records import RsPushState
from ixp.rs.codes import RejectCode
from ixp.rs.context import registry_state
from ixp.rs.types import RegistryState
from ixp.settings import Settings

# The columns of a query a filter narrows (it keeps them as they are).
_Row = TypeVarTuple("_Row")

log = logging.getLogger(__name__)


class Rule(enum.StrEnum):
    """What an alert is about."""

    session_down = "session-down"
    max_prefix_warning = "max-prefix-80"
    max_prefix_reached = "max-prefix-100"
    prefixes_dropped = "prefixes-dropped"
    rs_unreachable = "rs-unreachable"
    rpki_invalid = "rpki-invalid"
    irr_rejected = "irr-rejected"
    no_registry_data = "no-registry-data"
    config_stale = "config-stale"
    push_unreachable = "push-unreachable"
    unknown_mac = "unknown-mac"


# The rules about pushes: ``ixp push`` keeps their alerts in step itself, right after a push.
PUSH_RULES = frozenset({Rule.config_stale, Rule.push_unreachable})
# The rules of the traffic collector, which keeps their alerts in step itself after each bucket
# (``ixp.traffic.alerts``): the monitor's rounds, which know nothing of traffic, leave them be.
TRAFFIC_RULES = frozenset({Rule.unknown_mac})


IRR_CODES = frozenset({RejectCode.PREFIX_NOT_IN_AS_SET, RejectCode.ORIGIN_NOT_IN_AS_SET})
# What puts a closed filter's registry data in use, in the words of the domain: the
# alert is read on the command line, in mail and on the web alike.
_REGISTRY_REMEDY = {
    RegistryState.missing: "sync its registry data",
    RegistryState.first_held: "approve the held data",
}
# BIRD's words when an import limit shut a session (``Last error``).
LIMIT_ERROR = "limit"


@dataclass(frozen=True)
class Finding:
    """A condition that holds now; ``key`` says which alert it keeps open."""

    key: str
    rule: Rule
    severity: str
    route_server_id: int | None
    asn: int | None
    message: str


@dataclass(frozen=True)
class Thresholds:
    """The knobs of the rules (from settings)."""

    session_down_minutes: float = 10.0
    max_prefix_warn: float = 0.8
    max_config_age_hours: float = 24.0

    @classmethod
    def from_settings(cls, settings: Settings) -> Thresholds:
        return cls(
            settings.monitor_session_down_minutes,
            settings.monitor_max_prefix_warn,
            settings.push_max_config_age_hours,
        )


def _session_findings(
    state: SessionState, rs_name: str, now: dt.datetime, limits: Thresholds
) -> Iterator[Finding]:
    where = f"{rs_name} {state.protocol} {state.family}"
    member = f"AS{state.asn}" if state.asn is not None else state.neighbor
    key = f"{state.route_server_id}:{state.protocol}:{state.family}"
    if not state.up and state.down_since is not None:
        minutes = (now - state.down_since).total_seconds() / 60
        if minutes >= limits.session_down_minutes:
            yield Finding(
                f"{Rule.session_down}:{key}",
                Rule.session_down,
                "critical",
                state.route_server_id,
                state.asn,
                f"{member} session down on {where} for {minutes:.0f} min: "
                f"{state.last_error or state.state}",
            )
    limit = state.import_limit
    if limit:
        hit_by_error = not state.up and LIMIT_ERROR in (state.last_error or "").lower()
        if state.imported >= limit or hit_by_error:
            yield Finding(
                f"max-prefix:{key}",
                Rule.max_prefix_reached,
                "critical",
                state.route_server_id,
                state.asn,
                f"{member} reached its max-prefix limit {limit} on {where} "
                f"({state.imported} accepted; {state.last_error or 'limit hit'})",
            )
        elif state.imported >= limits.max_prefix_warn * limit:
            yield Finding(
                f"max-prefix:{key}",
                Rule.max_prefix_warning,
                "warning",
                state.route_server_id,
                state.asn,
                f"{member} at {100 * state.imported / limit:.0f}% of its max-prefix limit "
                f"{limit} on {where} ({state.imported} accepted)",
            )
    if state.up and state.max_imported >= 2 and state.imported * 2 < state.max_imported:
        yield Finding(
            f"{Rule.prefixes_dropped}:{key}",
            Rule.prefixes_dropped,
            "warning",
            state.route_server_id,
            state.asn,
            f"{member} accepted prefixes on {where} fell from {state.max_imported} "
            f"to {state.imported}",
        )


def evaluate(
    states: Iterable[tuple[SessionState, str]],
    unreachable: Mapping[int, tuple[str, str]],
    reject_reasons: Mapping[tuple[int, int], Counter[int]],
    now: dt.datetime,
    limits: Thresholds,
    registries: Mapping[int, RegistryState] | None = None,
    pushes: Iterable[RsPushState] = (),
) -> list[Finding]:
    """Every condition that holds now.

    ``states`` pairs each stored session with its route server's name;
    ``unreachable`` maps route-server id -> (name, error); ``reject_reasons``
    maps (route-server id, member ASN) -> count of filtered routes per reject code;
    ``registries`` maps member ASN -> a closed registry state (see ``closed_registries``);
    ``pushes`` are the route servers' push states (``ixp.push.records.rs_push_states``).
    """
    findings: list[Finding] = []
    for state, rs_name in states:
        if state.route_server_id not in unreachable:
            findings.extend(_session_findings(state, rs_name, now, limits))
    for rs_id, (name, error) in unreachable.items():
        findings.append(
            Finding(
                f"{Rule.rs_unreachable}:{rs_id}",
                Rule.rs_unreachable,
                "critical",
                rs_id,
                None,
                f"route server {name} unreachable: {error}",
            )
        )
    for (rs_id, asn), codes in sorted(reject_reasons.items()):
        rpki = codes.get(RejectCode.RPKI_INVALID, 0)
        irr = sum(count for code, count in codes.items() if code in IRR_CODES)
        for rule, count, what in (
            (Rule.rpki_invalid, rpki, "RPKI-invalid"),
            (Rule.irr_rejected, irr, "IRR-rejected"),
        ):
            if count:
                findings.append(
                    Finding(
                        f"{rule}:{rs_id}:{asn}",
                        rule,
                        "warning",
                        rs_id,
                        asn,
                        f"AS{asn} announces {count} {what} route(s) (filtered by the route server)",
                    )
                )
    findings.extend(_registry_findings(registries or {}))
    findings.extend(push_findings(pushes, now, limits))
    return findings


def push_findings(
    pushes: Iterable[RsPushState], now: dt.datetime, limits: Thresholds
) -> Iterator[Finding]:
    """Route servers whose configuration was not pushed for ``max_config_age_hours`` (or
    never successfully), and those the newest push could not reach over SSH.

    Only route servers a push has tried count: an exchange that does not use
    ``ixp push`` gets no alert about it.
    """
    for rs in pushes:
        if rs.unreachable is not None:
            yield Finding(
                f"{Rule.push_unreachable}:{rs.route_server_id}",
                Rule.push_unreachable,
                "critical",
                rs.route_server_id,
                None,
                f"route server {rs.name} unreachable for pushes: {rs.unreachable}",
            )
        if rs.last_good_at is None:
            age = "was never pushed successfully"
        elif now - rs.last_good_at > dt.timedelta(hours=limits.max_config_age_hours):
            hours = (now - rs.last_good_at).total_seconds() / 3600
            age = f"was last pushed {hours:.0f} hours ago ({rs.last_good_at:%Y-%m-%d %H:%M} UTC)"
        else:
            continue
        yield Finding(
            f"{Rule.config_stale}:{rs.route_server_id}",
            Rule.config_stale,
            "warning",
            rs.route_server_id,
            None,
            f"the configuration of route server {rs.name} {age}; "
            f"the limit is {limits.max_config_age_hours:g} hours",
        )


def _registry_findings(registries: Mapping[int, RegistryState]) -> Iterator[Finding]:
    """One alert per member whose filter matches nothing for want of registry data in use.

    Not tied to a route server: the same data feeds every route server's filter.
    """
    for asn, state in sorted(registries.items()):
        remedy = _REGISTRY_REMEDY[state]
        yield Finding(
            f"{Rule.no_registry_data}:{asn}",
            Rule.no_registry_data,
            "warning",
            None,
            asn,
            f"AS{asn}: {state.describe()} ({remedy})",
        )


def closed_registries(session: Session) -> dict[int, RegistryState]:
    """Active members whose route-server filter is closed (no registry data in use), by ASN.

    ``ixp rs build`` still configures their sessions, with a filter that matches
    nothing: every route they send is filtered, which the member may not notice,
    so the operator is told until data is fetched (or the first data approved).
    Members without a LAN address or a route-server session get no sessions and
    are left out.
    """
    members = [
        member
        for member in session.scalars(
            select(Member)
            .where(Member.status == MemberStatus.active)
            .options(selectinload(Member.addresses), selectinload(Member.rs_sessions))
        )
        if member.addresses and member.rs_sessions
    ]
    registries = irr_for_members(session, members)
    states = {member.asn: registry_state(registries[member.id]) for member in members}
    return {asn: state for asn, state in states.items() if state.closed}


def sync_alerts(
    session: Session,
    findings: Sequence[Finding],
    now: dt.datetime,
    unknown: Iterable[int] = (),
    rules: Iterable[Rule] | None = None,
) -> list[Alert]:
    """Open, update and close stored alerts to match ``findings``; return the newly opened.

    Alerts of route servers in ``unknown`` (unreachable this round) stay as they
    are: nothing is known about their sessions, so nothing is cleared. ``rules``
    limits the alerts touched to those rules (a push keeps its own alerts in step);
    without them, every rule but the traffic collector's (``TRAFFIC_RULES``).
    """
    frozen = set(unknown)
    query = select(Alert).where(Alert.closed_at.is_(None))
    if rules is not None:
        query = query.where(Alert.rule.in_([str(rule) for rule in rules]))
    else:
        query = query.where(Alert.rule.not_in([str(rule) for rule in TRAFFIC_RULES]))
    open_alerts = {alert.key: alert for alert in session.scalars(query)}
    opened: list[Alert] = []
    for finding in findings:
        alert = open_alerts.pop(finding.key, None)
        if alert is not None and alert.rule != finding.rule:
            alert.closed_at = now
            alert = None
        if alert is None:
            alert = Alert(
                key=finding.key,
                rule=finding.rule,
                severity=finding.severity,
                route_server_id=finding.route_server_id,
                asn=finding.asn,
                message=finding.message[:1000],
                opened_at=now,
                last_seen_at=now,
            )
            session.add(alert)
            opened.append(alert)
        else:
            alert.message = finding.message[:1000]
            alert.last_seen_at = now
    for alert in open_alerts.values():
        if alert.route_server_id not in frozen or alert.rule == Rule.rs_unreachable:
            alert.closed_at = now
    return opened


class AlertStatus(enum.StrEnum):
    """Which stored alerts a listing wants."""

    open = "open"
    unacknowledged = "unacknowledged"
    """Open and not acknowledged yet: what still waits for someone."""
    closed = "closed"
    all = "all"


@dataclass(frozen=True)
class AlertRow:
    """A stored alert as ``ixp monitor alerts`` and the API list it."""

    id: int
    rule: str
    severity: str
    route_server: str | None
    asn: int | None
    message: str
    opened_at: dt.datetime
    last_seen_at: dt.datetime
    closed_at: dt.datetime | None
    acknowledged_by: str | None
    acknowledged_at: dt.datetime | None

    @classmethod
    def of(cls, alert: Alert, rs_name: str | None) -> AlertRow:
        """The row of a stored alert and its route server's name."""
        return cls(
            id=alert.id,
            rule=alert.rule,
            severity=alert.severity,
            route_server=rs_name,
            asn=alert.asn,
            message=alert.message,
            opened_at=alert.opened_at,
            last_seen_at=alert.last_seen_at,
            closed_at=alert.closed_at,
            acknowledged_by=alert.acknowledged_by,
            acknowledged_at=alert.acknowledged_at,
        )


def _alert_filter(query: Select[*_Row], status: AlertStatus, asn: int | None) -> Select[*_Row]:
    if status is AlertStatus.open:
        query = query.where(Alert.closed_at.is_(None))
    elif status is AlertStatus.unacknowledged:
        query = query.where(Alert.closed_at.is_(None), Alert.acknowledged_at.is_(None))
    elif status is AlertStatus.closed:
        query = query.where(Alert.closed_at.is_not(None))
    if asn is not None:
        query = query.where(Alert.asn == asn)
    return query


def alert_list(
    session: Session,
    status: AlertStatus = AlertStatus.open,
    *,
    asn: int | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[AlertRow]:
    """Stored alerts newest first, in one query; ``asn`` keeps only that member's (so none of
    the exchange-wide ones), ``limit``/``offset`` cut a page in the database."""
    query = _alert_filter(
        select(Alert, RouteServer.name).outerjoin(
            RouteServer, Alert.route_server_id == RouteServer.id
        ),
        status,
        asn,
    )
    rows = session.execute(
        query.order_by(Alert.opened_at.desc(), Alert.id.desc()).limit(limit).offset(offset)
    )
    return [AlertRow.of(alert, rs_name) for alert, rs_name in rows]


def alert_count(
    session: Session, status: AlertStatus = AlertStatus.open, *, asn: int | None = None
) -> int:
    """How many alerts ``alert_list`` would list with the same filters and no limit."""
    return session.scalar(_alert_filter(select(func.count(Alert.id)), status, asn)) or 0


def acknowledge(session: Session, alert_id: int, *, actor: str) -> AlertRow:
    """Mark an open alert as seen by ``actor``, once, with an audit entry.

    Acknowledging is for the alerts someone still has to act on: a closed alert
    (its condition cleared) or one acknowledged already is a ``Conflict`` naming
    why, so two operators never both think they took it; an id that is no alert
    is ``NotFound``. When the condition clears and comes back, that is a new alert,
    not acknowledged yet.
    """
    alert = session.get(Alert, alert_id) if 0 < alert_id < 2**31 else None
    if alert is None:
        raise NotFound("does not exist", field="alert", value=alert_id)
    if alert.closed_at is not None:
        raise Conflict(
            f"is closed (its condition cleared at {alert.closed_at:%Y-%m-%d %H:%M} UTC)",
            field="alert",
            value=alert_id,
        )
    if alert.acknowledged_by is not None:
        at = alert.acknowledged_at
        when = f" at {at:%Y-%m-%d %H:%M} UTC" if at is not None else ""
        raise Conflict(
            f"was already acknowledged by {alert.acknowledged_by}{when}",
            field="alert",
            value=alert_id,
        )
    with transaction(session):
        alert.acknowledged_by = audit.check_actor(actor)
        alert.acknowledged_at = utcnow()
        audit.record(
            session,
            actor=actor,
            action="acknowledge",
            entity="alert",
            key=str(alert.id),
            after={"rule": alert.rule, "asn": alert.asn, "message": alert.message},
        )
    rs_name = alert.route_server.name if alert.route_server is not None else None
    return AlertRow.of(alert, rs_name)


def notify(session: Session, alerts: Sequence[Alert], settings: Settings, now: dt.datetime) -> int:
    """E-mail new alerts to the member's NOC contact; a no-op unless ``smtp_host`` is set."""
    if not settings.smtp_host or not alerts:
        return 0
    asns = {alert.asn for alert in alerts if alert.asn is not None}
    contacts = dict(
        session.execute(select(Member.asn, Member.noc_email).where(Member.asn.in_(asns))).all()
    )
    sent = 0
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_username and settings.smtp_password:
                smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
            for alert in alerts:
                address = contacts.get(alert.asn) if alert.asn is not None else None
                if not address:
                    continue
                message = EmailMessage()
                message["From"] = settings.smtp_from
                message["To"] = address
                message["Subject"] = f"[ixp {alert.severity}] {alert.rule}: AS{alert.asn}"
                message.set_content(
                    f"{alert.message}\n\nOpened at {alert.opened_at:%Y-%m-%d %H:%M} UTC.\n"
                )
                smtp.send_message(message)
                alert.notified_at = now
                sent += 1
    except (OSError, smtplib.SMTPException) as exc:
        log.error("alert e-mail via %s failed: %s", settings.smtp_host, exc)
    return sent
