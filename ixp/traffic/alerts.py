"""Unknown MACs on the fabric as monitor alerts: a misconfigured or unregistered router.

After each bucket the collector asks which unicast MACs of no member (and not the
exchange's own) were seen in the last ``traffic_unknown_mac_clear_minutes``, and
keeps one alert per MAC open for them through the monitor's alerts
(``ixp.monitor.alerts``, rule ``unknown-mac``): an operator sees it beside the
session alerts, acknowledges it and adds the MAC to the member it belongs to. The
alert closes once the MAC has not been seen for that long, or belongs to a member.

The message names the MAC, the agent and the port: for frames the MAC sent, the port
it sends from; for frames sent to it, the port where they entered the fabric (the
MAC's own port is then not known from those samples).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ixp.models import Alert, MacRole, TrafficUnknownMac
from ixp.monitor.alerts import AlertRow, Finding, Rule, sync_alerts
from ixp.traffic.store import MacDirectory

_KEY_PREFIX = f"{Rule.unknown_mac}:"


def _where(agent: str, if_index: int) -> str:
    return f"agent {agent} port {if_index}" if agent else "a pmacct collector (no port)"


def unknown_mac_findings(
    session: Session, directory: MacDirectory, now: dt.datetime, clear_minutes: float
) -> list[Finding]:
    """One finding per unknown MAC seen in the last ``clear_minutes``, by MAC."""
    since = int(now.timestamp() - clear_minutes * 60)
    rows = session.execute(
        select(
            TrafficUnknownMac.mac,
            TrafficUnknownMac.role,
            TrafficUnknownMac.agent,
            TrafficUnknownMac.if_index,
            func.sum(TrafficUnknownMac.samples),
            func.sum(TrafficUnknownMac.bytes),
            func.max(TrafficUnknownMac.start),
        )
        .where(TrafficUnknownMac.start >= since)
        .group_by(
            TrafficUnknownMac.mac,
            TrafficUnknownMac.role,
            TrafficUnknownMac.agent,
            TrafficUnknownMac.if_index,
        )
        .order_by(TrafficUnknownMac.mac, TrafficUnknownMac.role.desc(), TrafficUnknownMac.agent)
    )
    seen: dict[str, list[str]] = {}
    last: dict[str, int] = {}
    for mac, role, agent, if_index, samples, size, newest in rows:
        if not directory.unknown(mac):
            continue
        verb = "sent" if role == MacRole.src else "was sent"
        seen.setdefault(mac, []).append(
            f"{verb} {size:,} bytes ({samples} samples) at {_where(agent, if_index)}"
        )
        last[mac] = max(last.get(mac, 0), int(newest))
    findings = []
    for mac, places in seen.items():
        when = dt.datetime.fromtimestamp(last[mac], dt.UTC)
        findings.append(
            Finding(
                f"{_KEY_PREFIX}{mac}",
                Rule.unknown_mac,
                "warning",
                None,
                None,
                f"MAC {mac} belongs to no member: it {'; it '.join(places)} "
                f"(last seen in the bucket of {when:%Y-%m-%d %H:%M} UTC)",
            )
        )
    return findings


def sync_unknown_macs(
    session: Session, directory: MacDirectory, now: dt.datetime, clear_minutes: float
) -> list[Alert]:
    """Open, update and close the unknown-MAC alerts (caller commits); the newly opened."""
    findings: Sequence[Finding] = unknown_mac_findings(session, directory, now, clear_minutes)
    return sync_alerts(session, findings, now, rules=[Rule.unknown_mac])


def open_alerts(session: Session) -> dict[str, AlertRow]:
    """The open unknown-MAC alerts by MAC, in one query: beside each sighting the report
    lists, whether an operator has been told of it and has seen it."""
    rows = session.scalars(
        select(Alert).where(Alert.rule == Rule.unknown_mac, Alert.closed_at.is_(None))
    )  # an unknown MAC's alert is the fabric's, of no route server
    return {alert.key.removeprefix(_KEY_PREFIX): AlertRow.of(alert, None) for alert in rows}
