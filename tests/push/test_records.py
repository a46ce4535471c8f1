"""Push records on both databases: versions, what runs where, alerts, and the steps before SSH.

The pipeline runs for real up to the point where it would reach a route server:
registry sync, a recorded build checked by BIRD, the diff; the live tests
(tests/push/test_live_push.py) take it from there.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ixp import locks
from ixp.dashboard import dashboard
from ixp.errors import Conflict, NotFound, Remedy, ValidationError
from ixp.exchange import get_route_server
from ixp.models import Alert, AuditEntry, PushRecord, PushState, PushTarget, TargetState
from ixp.models.base import utcnow
from ixp.monitor import alerts
from ixp.monitor.alerts import Rule
from ixp.push import records, versions
from ixp.push.pipeline import PUSH_LOCK, PushRequest, push_dir, run_push
from ixp.settings import Settings
from tests.lab.exchange import DELTA, RS_NAME, build_exchange
from tests.push.fleet import BASE_RPSL, rpsl_with
from tests.rs.birdtools import needs_bird

CONFIG = "router id 185.1.50.1;\n# build 1\nprotocol device {}\n"


@pytest.fixture
def lab_exchange(session: Session, settings: Settings) -> Session:
    """The live tests' exchange (one route server, four members) in a fresh database."""
    build_exchange(session, settings)
    return session


@pytest.fixture
def push_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"push_irr_rpsl": [BASE_RPSL]})


def push_with_target(session: Session, state: TargetState, text: str, **when: object) -> PushTarget:
    """A finished push of ``text`` to rs1 that ended for it in ``state``."""
    rs = get_route_server(session, RS_NAME)
    previous = versions.running(session, rs)
    record = PushRecord(
        exchange_id=rs.exchange_id, actor="test", state=PushState.succeeded, host="h", pid=1
    )
    target = PushTarget(
        push=record,
        route_server=rs,
        position=0,
        state=state,
        version=versions.store(session, rs, text, origin="build"),
        previous_version=previous,
        finished_at=when.get("at", utcnow()),
        reason=when.get("reason"),
    )
    session.add(record)
    session.commit()
    return target


def test_versions_are_kept_once_and_compressed(lab_exchange: Session) -> None:
    rs = get_route_server(lab_exchange, RS_NAME)
    first = versions.store(lab_exchange, rs, CONFIG * 1000, origin="build")
    lab_exchange.commit()
    again = versions.store(lab_exchange, rs, CONFIG * 1000, origin="found")
    assert again.id == first.id and again.origin == "build"
    assert versions.text_of(again) == CONFIG * 1000
    assert first.size_bytes == len(CONFIG) * 1000 > 20 * len(first.compressed)


def test_comments_alone_are_no_change() -> None:
    assert versions.same_configuration(CONFIG, CONFIG.replace("build 1", "build 2") + "\n\n")
    assert not versions.same_configuration(CONFIG, CONFIG.replace(".1;", ".2;"))
    assert not versions.same_configuration(None, CONFIG)


def test_what_runs_follows_how_each_push_ended(lab_exchange: Session) -> None:
    rs = get_route_server(lab_exchange, RS_NAME)
    assert versions.running(lab_exchange, rs) is None
    first = push_with_target(lab_exchange, TargetState.confirmed, CONFIG)
    assert versions.running(lab_exchange, rs) == first.version
    push_with_target(lab_exchange, TargetState.rolled_back, CONFIG + "# 2\nprotocol kernel {}\n")
    assert versions.running(lab_exchange, rs) == first.version
    push_with_target(lab_exchange, TargetState.unreachable, CONFIG + "# 3\n")
    assert versions.running(lab_exchange, rs) == first.version


def test_stale_and_unreachable_route_servers_raise_alerts(lab_exchange: Session) -> None:
    rs = get_route_server(lab_exchange, RS_NAME)
    now = utcnow()
    limits = alerts.Thresholds(max_config_age_hours=24)
    assert list(alerts.push_findings(records.rs_push_states(lab_exchange), now, limits)) == []
    push_with_target(lab_exchange, TargetState.confirmed, CONFIG, at=now - dt.timedelta(hours=30))
    other = alerts.Finding("session-down:x", Rule.session_down, "critical", rs.id, 1, "down")
    alerts.sync_alerts(lab_exchange, [other], now)
    findings = list(alerts.push_findings(records.rs_push_states(lab_exchange), now, limits))
    assert [(f.rule, f.route_server_id) for f in findings] == [(Rule.config_stale, rs.id)]
    assert findings[0].message.startswith(f"the configuration of route server {RS_NAME} was last")
    push_with_target(
        lab_exchange, TargetState.unreachable, CONFIG + "#\n", reason="ssh: connection refused"
    )
    findings = list(alerts.push_findings(records.rs_push_states(lab_exchange), now, limits))
    assert [f.rule for f in findings] == [Rule.push_unreachable, Rule.config_stale]
    assert findings[0].message.endswith("unreachable for pushes: ssh: connection refused")
    alerts.sync_alerts(lab_exchange, findings, now, rules=alerts.PUSH_RULES)
    lab_exchange.commit()
    open_rules = lab_exchange.scalars(select(Alert.rule).where(Alert.closed_at.is_(None))).all()
    # The push's own alerts are synced without closing the monitor's.
    assert sorted(open_rules) == ["config-stale", "push-unreachable", "session-down"]


@needs_bird
def test_dry_run_builds_diffs_and_records(lab_exchange: Session, push_settings: Settings) -> None:
    detail = run_push(lab_exchange, push_settings, PushRequest(actor="tester", dry_run=True))
    assert detail.state == "dry-run" and detail.reason is None
    assert detail.build_id is not None and detail.actor == "tester"
    diff = detail.report["diffs"][RS_NAME]
    assert diff["baseline"] is None and not diff["same"]
    assert {m["asn"] for m in diff["members"]} == {38001, 38002, 38003, 38004}
    assert all(m["change"] == "added" for m in diff["members"])
    # No BIRD listens on the stored socket: a dry run says so and goes on.
    assert "cannot be read" in detail.report["preview"]["error"]
    assert [(t.route_server, t.state, t.reason) for t in detail.targets] == [
        (RS_NAME, "skipped", "not pushed: a dry run")
    ]
    unified = records.push_diff(lab_exchange, detail.id)[RS_NAME]
    assert unified.startswith(f"--- {RS_NAME}.conf (running)\n+++ {RS_NAME}.conf (new)\n")
    [summary], total = records.list_pushes(lab_exchange, limit=5)
    assert (total, summary.id, summary.route_servers) == (1, detail.id, f"{RS_NAME}: skipped")
    audited = lab_exchange.scalar(select(AuditEntry).where(AuditEntry.entity == "push"))
    assert audited is not None and audited.after["state"] == "dry-run"


@needs_bird
def test_held_registry_data_stops_the_push_unless_approved(
    lab_exchange: Session, push_settings: Settings, tmp_path: Path
) -> None:
    emptied = rpsl_with(tmp_path, drop=("103.21.0.0/22", "2a0b:4300::/32"))
    request = PushRequest(actor="test", dry_run=True, rpsl_files=(emptied,))
    detail = run_push(lab_exchange, push_settings, request)
    assert detail.state == "stopped"
    assert detail.reason.startswith(f"held for approval: AS{DELTA} AS-DELTA: held-for-approval")
    assert detail.reason.endswith("or approve the push to go on with the last good data")
    assert detail.report["remedy"] == Remedy.APPROVE
    approved = run_push(
        lab_exchange,
        push_settings,
        PushRequest(actor="test", dry_run=True, rpsl_files=(emptied,), approve=True),
    )
    assert approved.state == "dry-run" and approved.approved
    assert approved.report["holds"] == detail.report["holds"]


def test_a_push_needs_management_hosts(lab_exchange: Session, push_settings: Settings) -> None:
    with pytest.raises(ValidationError, match="mgmt_host: route server rs1 has none"):
        run_push(lab_exchange, push_settings, PushRequest(actor="test"))
    assert records.list_pushes(lab_exchange, limit=5) == ([], 0)


def test_a_second_push_is_refused_while_one_runs(
    lab_exchange: Session, push_settings: Settings
) -> None:
    get_route_server(lab_exchange, RS_NAME).mgmt_host = "rs1.example.net"
    lab_exchange.commit()
    lock = push_dir(push_settings) / PUSH_LOCK
    with locks.exclusive(lock, "a push to the route servers", holder="started by nightly"):
        with pytest.raises(Conflict, match=r"already running \(started by nightly, pid \d+"):
            run_push(lab_exchange, push_settings, PushRequest(actor="test"))
        # A dry run changes no route server and does not wait for the lock.
        assert run_push(
            lab_exchange, push_settings, PushRequest(actor="test", dry_run=True)
        ).state in ("dry-run", "failed")


def test_unknown_pushes_are_not_found(lab_exchange: Session) -> None:
    with pytest.raises(NotFound, match="push: 7 does not exist"):
        records.show_push(lab_exchange, 7)
    with pytest.raises(NotFound):
        records.push_diff(lab_exchange, 0)


def test_the_dashboard_shows_each_route_servers_last_good_push(lab_exchange: Session) -> None:
    (shown,) = dashboard(lab_exchange).pushes
    assert (shown.name, shown.last_good_at, shown.unreachable) == (RS_NAME, None, None)
    at = utcnow().replace(microsecond=0) - dt.timedelta(hours=3)
    push_with_target(lab_exchange, TargetState.confirmed, CONFIG, at=at)
    push_with_target(lab_exchange, TargetState.unreachable, CONFIG, reason="ssh: no route to host")
    (shown,) = dashboard(lab_exchange).pushes
    assert shown.last_good_at is not None
    assert (shown.last_good_at.replace(tzinfo=None), shown.unreachable) == (
        at.replace(tzinfo=None),
        "ssh: no route to host",
    )
