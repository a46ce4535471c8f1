"""``ixp traffic ...`` from a shell: the report, the monthly figures, rollup, the sfacctd
configuration, and the demo's generated traffic."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from sqlalchemy.orm import Session
from typer.testing import CliRunner

from ixp.monitor import alerts
from ixp.settings import Settings
from ixp.traffic import demo, report, store
from tests.cli import run
from tests.traffic.exchange import asn_of, traffic_exchange

A, B = asn_of(0), asn_of(1)


def _traffic_today(session: Session) -> None:
    traffic_exchange(session, 2)
    now = int(dt.datetime.now(dt.UTC).timestamp())
    rows = store.BucketRows(now - now % 86400)  # today's first bucket: in this month too
    rows.add_pair(A, B, 4, 500, 500 * 4096, 5 * 10**8)
    rows.add_pair(B, A, 6, 40, 40 * 4096, 4 * 10**7)
    store.write(session, rows)


def test_the_report_as_tables_and_as_json(cli: CliRunner, session: Session) -> None:
    _traffic_today(session)
    code, out, err = run(cli, "traffic", "report")
    assert code == 0, err
    for title in ("Traffic kept local, per day", "Top members", "Top member pairs",
                  "Local share", "Opportunity", "Agents", "Unknown MACs"):  # fmt: skip
        assert title in out
    assert "540.00 MB" in out and "(thin)" in out  # B->A: 40 samples
    code, out, err = run(cli, "traffic", "report", "--member", str(A), "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["asn"] == A and data["opportunity"] is None
    assert [d["local"]["bytes"] for d in data["days"]] == [540_000_000]
    assert data["shares"][0]["status"] == "no-figure"
    code, _, err = run(cli, "traffic", "report", "--member", "64999")
    assert code == 2 and "not a member" in err


def test_monthly_figures_set_imported_and_listed(
    cli: CliRunner, session: Session, tmp_path: Path
) -> None:
    _traffic_today(session)
    month = f"{dt.datetime.now(dt.UTC):%Y-%m}"
    code, out, err = run(cli, "traffic", "international", "set", str(A), month, "1620000000")
    assert code == 0 and str(A) in out, err
    code, out, err = run(cli, "traffic", "report", "--member", str(A), "--json")
    (share,) = json.loads(out)["shares"]
    assert (share["status"], share["share"]) == ("measured", 0.25)
    figures = tmp_path / "figures.csv"
    figures.write_text(f"asn,month,bytes,kind\n{B},{month},1000000000,total\n{A},2999-01,1,\n")
    code, _, err = run(cli, "traffic", "international", "import", str(figures))
    assert code == 2 and "line 3 month: '2999-01' has not begun yet" in err
    figures.write_text(f"asn,month,bytes,kind\n{B},{month},1000000000,total\n")
    code, out, err = run(cli, "traffic", "international", "import", str(figures), "--json")
    assert code == 0, err
    assert [f["kind"] for f in json.loads(out)] == ["total"]
    code, out, _ = run(cli, "traffic", "international", "list", "--json")
    assert [(f["asn"], f["kind"]) for f in json.loads(out)] == [(A, "international"), (B, "total")]


def test_rollup_and_the_sfacctd_configuration(cli: CliRunner, session: Session) -> None:
    _traffic_today(session)
    code, out, err = run(cli, "traffic", "rollup")
    assert code == 0 and "hourly:" in out, err
    code, out, _ = run(cli, "traffic", "sfacctd-config", "--listen", "192.0.2.10")
    assert code == 0 and "sfacctd_ip: 192.0.2.10\n" in out
    code, out, err = run(cli, "traffic", "sfacctd-config", "--pgsql")
    if session.get_bind().dialect.name == "sqlite":
        assert code == 2 and "is not PostgreSQL" in err
    else:
        assert code == 0 and "plugins: pgsql[matrix]" in out, err


def test_collect_refuses_to_start_without_allowed_agents(cli: CliRunner) -> None:
    code, _, err = run(cli, "traffic", "collect")
    assert code == 2 and "traffic_agents: [] is empty" in err


def test_the_demo_traffic_has_history_shares_and_an_unknown_router(
    session: Session, settings: Settings
) -> None:
    traffic_exchange(session, 6)
    done = demo.load_demo_traffic(session, settings, days=1, samples_per_second=0.2, actor="demo")
    assert done.buckets == 288 and done.members == 6 and done.figures > 0
    period = report.Period.of(None, None, dt.datetime.now(dt.UTC).date())
    days = report.daily(session, period, 0.2)
    assert sum(d.local.bytes for d in days) > 0
    shares = report.local_shares(session, period, 0.2)
    assert {s.status for s in shares if s.asn is not None} >= {"measured", "no-figure"}
    (alert,) = alerts.alert_list(session)
    assert "02:00:c0:ff:ee:01" in alert.message
    again = demo.load_demo_traffic(session, settings, days=1, actor="demo")
    assert again.buckets == 0
