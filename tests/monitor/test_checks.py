"""Session checks, events and alerts: the rules on stored states, and rounds on a real BIRD."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from ixp.irr.service import approve, sync
from ixp.members import MemberInput, add_member, get_member
from ixp.models import Alert, SessionEvent, SessionState
from ixp.monitor import alerts
from ixp.monitor.service import Monitor
from ixp.monitor.sessions import SessionSample, record_samples
from ixp.rs.codes import RejectCode
from ixp.settings import Settings
from tests.monitor.conftest import Bird, make_rs

IRR_DUMP = Path(__file__).resolve().parent.parent / "data" / "lab" / "irr.rpsl"

T0 = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
LIMITS = alerts.Thresholds(session_down_minutes=10, max_prefix_warn=0.8)


def sample(up: bool = True, imported: int = 40, **fields: object) -> SessionSample:
    values: dict[str, object] = {
        "protocol": "AS38001_v4_1",
        "family": "ipv4",
        "asn": 38001,
        "neighbor": "185.1.10.11",
        "up": up,
        "state": "Established" if up else "Active",
        "since": T0,
        "last_error": None if up else "Received: Administrative shutdown",
        "imported": imported,
        "filtered": 0,
        "exported": 10,
        "import_limit": 100,
    }
    values.update(fields)
    return SessionSample(**values)  # type: ignore[arg-type]


def kinds(session: Session) -> list[tuple[str, str | None]]:
    events = session.scalars(select(SessionEvent).order_by(SessionEvent.id))
    return [(e.kind, e.reason) for e in events]


def test_up_down_and_prefix_jumps_become_events(session: Session) -> None:
    rs = make_rs(session)
    record_samples(session, rs, [sample()], T0)
    assert kinds(session) == []
    record_samples(session, rs, [sample(up=False, imported=0)], T0 + dt.timedelta(minutes=1))
    record_samples(session, rs, [sample(imported=5)], T0 + dt.timedelta(minutes=2))
    record_samples(session, rs, [sample(imported=40)], T0 + dt.timedelta(minutes=3))
    record_samples(session, rs, [sample(imported=45)], T0 + dt.timedelta(minutes=4))
    session.commit()
    assert kinds(session) == [
        ("down", "Received: Administrative shutdown"),
        ("up", None),
        ("prefix-jump", None),
    ]
    jump = session.scalars(select(SessionEvent).where(SessionEvent.kind == "prefix-jump")).one()
    assert (jump.prefixes_before, jump.prefixes_after) == (5, 40)
    state = session.scalars(select(SessionState)).one()
    assert (state.up, state.imported, state.max_imported) == (True, 45, 45)


def findings_for(state: SessionState, now: dt.datetime) -> list[alerts.Finding]:
    return alerts.evaluate([(state, "rs1")], {}, {}, now, LIMITS)


def test_session_rules(session: Session) -> None:
    rs = make_rs(session)
    record_samples(session, rs, [sample(imported=85)], T0)
    state = session.scalars(select(SessionState)).one()
    assert [f.rule for f in findings_for(state, T0)] == [alerts.Rule.max_prefix_warning]
    record_samples(session, rs, [sample(imported=100)], T0)
    assert [f.rule for f in findings_for(state, T0)] == [alerts.Rule.max_prefix_reached]
    record_samples(session, rs, [sample(imported=30)], T0)
    assert [f.rule for f in findings_for(state, T0)] == [alerts.Rule.prefixes_dropped]
    record_samples(session, rs, [sample(up=False, imported=0)], T0)
    assert findings_for(state, T0 + dt.timedelta(minutes=9)) == []
    late = findings_for(state, T0 + dt.timedelta(minutes=11))
    assert [f.rule for f in late] == [alerts.Rule.session_down]
    assert "Administrative shutdown" in late[0].message
    record_samples(
        session, rs, [sample(up=False, imported=0, last_error="Import limit reached")], T0
    )
    rules = {f.rule for f in findings_for(state, T0 + dt.timedelta(minutes=11))}
    assert rules == {alerts.Rule.session_down, alerts.Rule.max_prefix_reached}


def test_filtered_reasons_and_unreachable_route_servers() -> None:
    reasons = {
        (1, 38001): Counter({RejectCode.RPKI_INVALID: 2, RejectCode.BOGON_PREFIX: 1}),
        (1, 38002): Counter({RejectCode.PREFIX_NOT_IN_AS_SET: 1}),
    }
    findings = alerts.evaluate([], {2: ("rs2", "no socket")}, reasons, T0, LIMITS)
    assert [(f.rule, f.asn) for f in findings] == [
        (alerts.Rule.rs_unreachable, None),
        (alerts.Rule.rpki_invalid, 38001),
        (alerts.Rule.irr_rejected, 38002),
    ]
    assert "2 RPKI-invalid" in findings[1].message


def test_alerts_open_update_and_close(session: Session) -> None:
    make_rs(session)
    finding = alerts.Finding("k1", alerts.Rule.rs_unreachable, "critical", None, None, "down")
    opened = alerts.sync_alerts(session, [finding], T0)
    session.commit()
    assert len(opened) == 1
    later = T0 + dt.timedelta(minutes=1)
    assert alerts.sync_alerts(session, [finding], later) == []
    session.commit()
    alert = session.scalars(select(Alert)).one()
    assert alert.last_seen_at == later and alert.closed_at is None
    alerts.sync_alerts(session, [], later)
    session.commit()
    assert session.scalars(select(Alert)).one().closed_at == later
    assert alerts.alert_list(session) == []
    assert len(alerts.alert_list(session, alerts.AlertStatus.all)) == 1


def test_no_mail_without_smtp(session: Session, settings: Settings) -> None:
    make_rs(session)
    alert = Alert(key="k", rule="rpki-invalid", severity="warning", asn=38001, message="m")
    assert alerts.notify(session, [alert], settings, T0) == 0
    assert alert.notified_at is None


@pytest.fixture
def monitor(engine: Engine, settings: Settings, session: Session, bird: Bird) -> Monitor:
    make_rs(session, str(bird.socket))
    fast = settings.model_copy(
        update={"monitor_interval_seconds": 0.01, "monitor_backoff_max_seconds": 0.01}
    )
    return Monitor(fast, engine)


def test_a_round_against_bird_stores_sessions_and_survives_a_vanishing_socket(
    monitor: Monitor, bird: Bird, session: Session
) -> None:
    first = monitor.check(T0)
    assert first.unreachable == {}
    assert [(e.asn, e.kind) for e in first.events] == [(38003, "down")]
    state = session.scalars(select(SessionState)).one()
    assert (state.protocol, state.asn, state.up, state.import_limit) == (
        "AS38003_v4_1",
        38003,
        False,
        100,
    )
    later = monitor.check(T0 + dt.timedelta(minutes=15))
    assert [a.rule for a in later.opened] == [alerts.Rule.session_down]

    bird.stop()
    gone = monitor.check(T0 + dt.timedelta(minutes=16))
    assert "rs1" in gone.unreachable
    assert [a.rule for a in gone.opened] == [alerts.Rule.rs_unreachable]
    bird.start()
    back = monitor.check(T0 + dt.timedelta(minutes=17))
    assert back.unreachable == {}
    assert back.opened == []  # the session-down alert stayed open while BIRD was away
    session.expire_all()
    open_rules = {a.rule for a in session.scalars(select(Alert).where(Alert.closed_at.is_(None)))}
    assert open_rules == {alerts.Rule.session_down}
    metrics = monitor.metrics.registry.get_sample_value(
        "ixp_route_server_reachable", {"route_server": "rs1"}
    )
    assert metrics == 1.0


def test_metrics_are_served_over_http(monitor: Monitor) -> None:
    monitor.check(T0)
    server, _thread = monitor.metrics.serve("127.0.0.1", 0)
    try:
        text = httpx.get(f"http://127.0.0.1:{server.server_port}/metrics", timeout=5).text
    finally:
        server.shutdown()
        server.server_close()
    assert (
        'ixp_session_up{asn="38003",family="ipv4",protocol="AS38003_v4_1",route_server="rs1"} 0.0'
        in text
    )
    assert 'ixp_session_import_limit{asn="38003"' in text
    assert "ixp_monitor_checks_total 1.0" in text


def open_alerts(session: Session) -> list[tuple[str, int | None, str]]:
    session.expire_all()
    query = select(Alert).where(Alert.closed_at.is_(None)).order_by(Alert.asn)
    return [(alert.rule, alert.asn, alert.message) for alert in session.scalars(query)]


def add(session: Session, asn: int, as_set: str, status: str = "active") -> None:
    add_member(
        session,
        MemberInput(
            asn=asn,
            name=f"Member {asn}",
            as_set=as_set,
            ipv4=f"185.1.10.{asn % 100}",
            max_prefix_v4=10,
            max_prefix_v6=10,
            status=status,
        ),
        actor="test",
    )


def test_a_member_without_registry_data_is_alerted_until_its_data_is_in_use(
    monitor: Monitor, session: Session, settings: Settings
) -> None:
    add(session, 38003, "AS-CHARLIE")
    add(session, 38004, "AS-DELTA", status="suspended")  # not configured: nothing to say
    first = monitor.check(T0)
    assert [(a.rule, a.asn) for a in first.opened] == [(alerts.Rule.no_registry_data, 38003)]
    no_data = "AS38003: no registry data: all routes filtered (sync its registry data)"
    assert (alerts.Rule.no_registry_data, 38003, no_data) in open_alerts(session)

    # The first data covers more than a /30: held for approval, the filter stays closed.
    strict = settings.model_copy(update={"irr_max_space_v4": 30})
    sync(session, strict, members=[get_member(session, 38003)], rpsl_files=[IRR_DUMP])
    held = monitor.check(T0 + dt.timedelta(minutes=1))
    assert held.opened == []  # the same alert, now saying why
    assert (
        alerts.Rule.no_registry_data,
        38003,
        "AS38003: first registry data held for approval: all routes filtered "
        "(approve the held data)",
    ) in open_alerts(session)

    approve(session, get_member(session, 38003), actor="test")
    monitor.check(T0 + dt.timedelta(minutes=2))
    assert [a for a in open_alerts(session) if a[0] == alerts.Rule.no_registry_data] == []


def test_the_alert_closes_when_a_sync_brings_data(
    monitor: Monitor, session: Session, settings: Settings
) -> None:
    add(session, 38003, "AS-CHARLIE")
    monitor.check(T0)
    sync(session, settings, rpsl_files=[IRR_DUMP])
    monitor.check(T0 + dt.timedelta(minutes=1))
    closed = session.scalars(select(Alert).where(Alert.rule == alerts.Rule.no_registry_data))
    assert [alert.closed_at for alert in closed] == [T0 + dt.timedelta(minutes=1)]
