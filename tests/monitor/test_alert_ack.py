"""Acknowledging an alert: an operator says "seen, on it"; the alert stays open until its
condition clears, and the acknowledgement is kept with it and in the audit log.

The same service function answers ``ixp monitor alerts ack ID`` and
``POST /api/v1/alerts/{id}/ack``.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from ixp.errors import Conflict, NotFound
from ixp.models import AuditEntry
from ixp.monitor import alerts
from ixp.monitor.alerts import AlertStatus, Finding, Rule
from tests.cli import run
from tests.factories import pkix_test_exchange

T0 = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
DOWN = Finding("down:38193", Rule.session_down, "critical", None, 38193, "AS38193 down")
INVALID = Finding("rpki:38194", Rule.rpki_invalid, "warning", None, 38194, "AS38194 invalid")


@pytest.fixture
def opened(session: Session) -> dict[str, int]:
    """Two open alerts, by rule."""
    pkix_test_exchange(session)
    made = alerts.sync_alerts(session, [DOWN, INVALID], T0)
    session.commit()
    return {alert.rule: alert.id for alert in made}


def test_an_acknowledged_alert_stays_open_with_who_and_when(
    session: Session, opened: dict[str, int]
) -> None:
    row = alerts.acknowledge(session, opened[Rule.session_down], actor="noc-alice")
    assert row.acknowledged_by == "noc-alice" and row.acknowledged_at is not None
    assert row.closed_at is None
    listed = {a.id: a for a in alerts.alert_list(session, AlertStatus.open)}
    assert listed[opened[Rule.session_down]].acknowledged_by == "noc-alice"
    assert listed[opened[Rule.rpki_invalid]].acknowledged_by is None
    entry = session.scalars(select(AuditEntry).where(AuditEntry.entity == "alert")).one()
    assert (entry.actor, entry.action, entry.entity_key) == (
        "noc-alice",
        "acknowledge",
        str(opened[Rule.session_down]),
    )


def test_the_acknowledgement_lasts_while_the_condition_holds(
    session: Session, opened: dict[str, int]
) -> None:
    alerts.acknowledge(session, opened[Rule.session_down], actor="noc-alice")
    alerts.sync_alerts(session, [DOWN, INVALID], T0 + dt.timedelta(minutes=1))
    session.commit()
    again = alerts.sync_alerts(session, [INVALID], T0 + dt.timedelta(minutes=2))
    session.commit()
    assert again == []
    reopened = alerts.sync_alerts(session, [DOWN, INVALID], T0 + dt.timedelta(minutes=3))
    session.commit()
    assert [a.acknowledged_by for a in reopened] == [None]  # a new occurrence: not seen yet


def test_acknowledging_twice_a_closed_or_unknown_alert_is_refused(
    session: Session, opened: dict[str, int]
) -> None:
    alerts.acknowledge(session, opened[Rule.session_down], actor="noc-alice")
    with pytest.raises(Conflict, match="already acknowledged by noc-alice"):
        alerts.acknowledge(session, opened[Rule.session_down], actor="noc-bob")
    alerts.sync_alerts(session, [DOWN], T0 + dt.timedelta(minutes=1))
    session.commit()
    with pytest.raises(Conflict, match="is closed"):
        alerts.acknowledge(session, opened[Rule.rpki_invalid], actor="noc-bob")
    with pytest.raises(NotFound):
        alerts.acknowledge(session, 999_999, actor="noc-bob")
    assert len(session.scalars(select(AuditEntry).where(AuditEntry.entity == "alert")).all()) == 1


def test_the_cli_acknowledges_and_still_lists(
    cli: CliRunner, session: Session, opened: dict[str, int]
) -> None:
    code, out, err = run(cli, "monitor", "alerts", "ack", str(opened[Rule.rpki_invalid]), "--json")
    assert code == 0, err
    assert json.loads(out)["acknowledged_by"] == "cli"
    code, out, _ = run(cli, "monitor", "alerts", "--json")
    listed = {a["rule"]: a["acknowledged_by"] for a in json.loads(out)}
    assert listed == {"session-down": None, "rpki-invalid": "cli"}
    code, _, err = run(cli, "monitor", "alerts", "ack", str(opened[Rule.rpki_invalid]))
    assert code == 2 and err.startswith("error: alert:") and "already acknowledged" in err
    code, _, err = run(cli, "monitor", "alerts", "ack", "424242")
    assert code == 2 and "does not exist" in err
