"""The monitor against a live exchange: generated BIRD config, ExaBGP members, our own collector.

One route server (the route-server helper's test exchange, rendered with the
real templates) runs in the lab with three members; the monitor's collector
ExaBGP peers with it from its own namespace. Member scenario:

* AS10101 (max-prefix 5): four accepted routes (80% of its limit), a bogon and
  a prefix outside its AS-SET (IRR-rejected), and one IPv6 route;
* AS20202: one IPv4 and one IPv6 route;
* AS30303: its registered /20 and a /21 beyond its ROA's max length (RPKI invalid).
"""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from ixp import db
from ixp.exchange import get_route_server
from ixp.lab.exabgp import Route
from ixp.lab.lab import Lab
from ixp.lab.layout import layout_from_database
from ixp.lab.monitoring import lab_overrides
from ixp.lg import CachedReader
from ixp.members import get_member
from ixp.models import Alert, SessionEvent
from ixp.monitor import reach
from ixp.monitor.filtered import member_filtered
from ixp.monitor.routes import DirectReader, FilteredRouteRow, member_routes
from ixp.monitor.service import Monitor, run
from ixp.rs.context import build_context
from ixp.rs.render import render_config
from ixp.settings import Settings
from tests.lab.harness import require_lab, running_lab
from tests.monitor.conftest import wait_for
from tests.rs.exchange import build_exchange

pytestmark = [pytest.mark.netns, pytest.mark.slow]

IXP = str(Path(sys.executable).parent / "ixp")
COLLECTOR4, COLLECTOR6 = "185.1.0.250", "2001:7f8:ff::250"
ROUTES = {
    10101: [
        Route("31.10.0.0/16"),
        Route("62.40.0.0/18"),
        Route("45.20.0.0/22", as_path=(10101, 10102)),
        Route("45.21.0.0/24", as_path=(10101, 10103)),
        Route("192.168.0.0/16"),
        Route("99.99.0.0/16"),
        Route("2a0a:1000::/32"),
    ],
    20202: [Route("62.40.0.0/18"), Route("2a0b:2000::/32")],
    30303: [Route("77.30.0.0/20"), Route("77.30.0.0/21")],
}


@dataclasses.dataclass
class Live:
    lab: Lab
    monitor: Monitor
    engine: Engine
    settings: Settings

    def session(self) -> Session:
        return db.session_factory(self.engine)()


def birdc_routes(lab: Lab) -> Counter[tuple[str, tuple[int, ...], str]]:
    """(prefix, AS path, next hop) of every route in BIRD's tables, read from birdc's own text."""
    routes: Counter[tuple[str, tuple[int, ...], str]] = Counter()
    for table in ("master4", "master6"):
        prefix = ""
        current: dict[str, Any] | None = None
        rows = []
        for line in lab.birdc("rs1", f"show route table {table} all").splitlines():
            row = re.match(r"^(\S+)?\s+unicast \[", line)
            if row:
                prefix = row.group(1) or prefix
                current = {"prefix": prefix, "path": (), "hop": ""}
                rows.append(current)
            elif current is not None and "BGP.as_path:" in line:
                current["path"] = tuple(int(a) for a in line.split(":", 1)[1].split())
            elif current is not None and "BGP.next_hop:" in line:
                current["hop"] = line.split(":", 1)[1].split()[0]
        routes.update((r["prefix"], r["path"], r["hop"]) for r in rows)
    return routes


def rib_routes(monitor: Monitor) -> Counter[tuple[str, tuple[int, ...], str]]:
    ingest = monitor.collectors["rs1"].ingest
    with ingest.lock:
        return Counter((r.prefix, r.attributes.as_path, r.next_hop) for r in ingest.rib.routes())


def rib_in_sync(live: Live) -> bool:
    ingest = live.monitor.collectors["rs1"].ingest
    with ingest.lock:
        synced = ingest.rib.up and len(ingest.rib) > 0
    return synced and rib_routes(live.monitor) == birdc_routes(live.lab)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    require_lab()
    directory = tmp_path_factory.mktemp("monitor-live")
    url = f"sqlite:///{directory / 'ixp.sqlite3'}"
    engine = db.make_engine(url)
    db.upgrade(engine)
    settings = Settings(
        home=directory / "home",
        database_url=url,
        collector_ipv4=COLLECTOR4,
        collector_ipv6=COLLECTOR6,
        monitor_metrics_port=0,
        monitor_interval_seconds=0.2,
        monitor_backoff_max_seconds=1.0,
    )
    with db.session_factory(engine)() as session:
        build_exchange(session, settings)
        session.delete(get_route_server(session, "rs2"))
        get_member(session, 10101).max_prefix_v4 = 5
        session.commit()
        session.expire_all()
        context = build_context(session, get_route_server(session, "rs1"), settings).context
        config = render_config(context)
        configured = {member.asn for member in context.members}
        layout = layout_from_database(session, settings, configured=configured, routes=ROUTES)
    layout = dataclasses.replace(
        layout, members=tuple(m for m in layout.members if m.asn in ROUTES)
    )
    monitor: Monitor | None = None
    with running_lab(layout, settings, {"rs1": config}) as lab:
        try:
            node = lab.add_node("collector", COLLECTOR4, COLLECTOR6)
            # What `ixp monitor run --lab` does: the lab's sockets and the collector node.
            lab_settings, sockets = lab_overrides(settings)
            assert lab_settings.monitor_collector_namespace == node.namespace
            assert sockets == {"rs1": str(lab.bird("rs1").socket)}
            with db.session_factory(engine)() as session:
                get_route_server(session, "rs1").control_socket = sockets["rs1"]
                session.commit()
            monitor = Monitor(lab_settings, engine, sockets)
            monitor.start(metrics=False)
            result = Live(lab, monitor, engine, settings)
            wait_for(lambda: rib_in_sync(result), "the collector RIB to match BIRD")
            yield result
        finally:
            if monitor is not None:
                monitor.stop()
            engine.dispose()


def test_rib_matches_birdc_show_route_exactly(live: Live) -> None:
    bird = birdc_routes(live.lab)
    assert rib_routes(live.monitor) == bird
    prefixes = {prefix for prefix, _, _ in bird}
    assert {"31.10.0.0/16", "62.40.0.0/18", "2a0a:1000::/32", "77.30.0.0/20"} <= prefixes
    assert not prefixes & {"192.168.0.0/16", "99.99.0.0/16", "77.30.0.0/21"}
    ingest = live.monitor.collectors["rs1"].ingest
    assert ingest.malformed == 0
    paths = {r.peer_asn for r in ingest.rib.routes() if r.prefix == "62.40.0.0/18"}
    assert paths == {10101, 20202}  # ADD-PATH: both members' paths, not only the best


def test_sessions_are_stored_and_a_stopped_member_gives_down_then_up_events(live: Live) -> None:
    live.monitor.check()
    up = live.monitor.metrics.registry.get_sample_value(
        "ixp_session_up",
        {"route_server": "rs1", "protocol": "AS20202_v4_1", "family": "ipv4", "asn": "20202"},
    )
    assert up == 1.0
    speaker = live.lab.member(20202)
    speaker.stop()

    def events(kind: str) -> list[SessionEvent]:
        live.monitor.check()
        with live.session() as session:
            return list(
                session.scalars(
                    select(SessionEvent).where(SessionEvent.asn == 20202, SessionEvent.kind == kind)
                )
            )

    down = wait_for(lambda: events("down"), "a down event for AS20202")
    assert {event.family for event in down} == {"ipv4", "ipv6"}
    assert all(event.reason for event in down)
    wait_for(
        lambda: not any(asn == 20202 for _, _, asn in live.monitor.rib_routes()),
        "AS20202's routes to leave the RIB",
    )
    speaker.start()
    live.lab.save()
    up = wait_for(lambda: events("up"), "an up event for AS20202")
    assert {event.family for event in up} == {"ipv4", "ipv6"}
    wait_for(lambda: rib_in_sync(live), "the RIB to have AS20202's routes again")


def open_alerts(live: Live) -> list[tuple[str, int | None]]:
    live.monitor.check()
    with live.session() as session:
        found = session.scalars(select(Alert).where(Alert.closed_at.is_(None)))
        return sorted((alert.rule, alert.asn) for alert in found)


def test_max_prefix_rpki_and_irr_alerts_fire(live: Live) -> None:
    alerts = open_alerts(live)
    assert ("max-prefix-80", 10101) in alerts
    assert ("rpki-invalid", 30303) in alerts
    assert ("irr-rejected", 10101) in alerts
    assert not any(rule == "rs-unreachable" for rule, _ in alerts)
    sample = live.monitor.metrics.registry.get_sample_value(
        "ixp_alert_active",
        {"rule": "max-prefix-80", "severity": "warning", "route_server": "rs1", "asn": "10101"},
    )
    assert sample == 1.0


def test_filtered_routes_show_decoded_reasons(live: Live) -> None:
    with live.session() as session:
        rs = get_route_server(session, "rs1")
        cached = CachedReader(30.0, timeout=10.0)  # as the web pages read BIRD
        accepted = [(r.prefix, r.rpki) for r in member_routes([rs], 30303, reader=cached)]
        # As the pages and the API read them: kept by the monitor's round...
        kept = {asn: member_filtered(session, [rs], asn) for asn in (30303, 10101)}
        # ... the same as BIRD answers when asked now, but for since when.
        for asn, routes in kept.items():
            asked = member_routes([rs], asn, filtered=True, reader=DirectReader(10.0))
            assert [dataclasses.replace(row, since=None) for row in routes.rows] == asked
            assert all(row.since is not None for row in routes.rows)
            assert list(routes.read_at) == ["rs1"]
    filtered = {row.prefix: row for row in kept[30303].rows}
    alpha = {row.prefix: row for row in kept[10101].rows}
    assert accepted == [("77.30.0.0/20", "valid")]  # its ROA's state, from rs_rpki
    assert isinstance(filtered["77.30.0.0/21"], FilteredRouteRow)
    assert "rpki-invalid" in filtered["77.30.0.0/21"].reasons
    assert 13 in filtered["77.30.0.0/21"].reject_codes
    assert "bogon-prefix" in alpha["192.168.0.0/16"].reasons  # type: ignore[attr-defined]
    assert "prefix-not-in-as-set" in alpha["99.99.0.0/16"].reasons  # type: ignore[attr-defined]


def test_routes_cli_prints_reasons(live: Live) -> None:
    env = {"IXP_HOME": str(live.settings.home), "IXP_DATABASE_URL": live.settings.database_url}
    result = subprocess.run(
        [IXP, "routes", "30303", "--filtered", "--rs", "rs1", "--lab", "--json"],
        capture_output=True,
        text=True,
        env={**env, "PATH": "/usr/bin:/bin", "COLUMNS": "200"},
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    (row,) = json.loads(result.stdout)
    assert row["prefix"] == "77.30.0.0/21"
    assert "rpki-invalid" in row["reasons"]
    assert "rpki-invalid: RPKI route-origin validation: invalid" in row["reason_details"]


DELEGATED = """\
2|apnic|20261122|6|19830613|20261121|+1000
apnic|PK|ipv4|31.10.0.0|65536|20100101|allocated|F1
apnic|PK|ipv4|62.40.0.0|32768|20100101|allocated|F2
apnic|PK|ipv4|77.30.0.0|4096|20100101|allocated|F3
apnic|PK|ipv4|45.20.0.0|1024|20100101|allocated|F4
apnic|PK|ipv4|88.50.0.0|2048|20100101|allocated|F5
apnic|PK|ipv6|2a0a:1000::|32|20100101|allocated|F1
apnic|PK|ipv6|2a0c:3000::|36|20100101|allocated|F3
apnic|PK|asn|10101|3|20100101|allocated|F1
apnic|PK|asn|20202|1|20100101|allocated|F2
apnic|PK|asn|30303|1|20100101|allocated|F3
apnic|PK|asn|40404|1|20100101|allocated|F5
"""


def test_reachability_of_the_live_rib_matches_the_hand_computed_figures(
    live: Live, tmp_path: Path
) -> None:
    wait_for(lambda: rib_in_sync(live), "a settled RIB")
    path = tmp_path / "delegated-pk.txt"
    path.write_text(DELEGATED)
    with live.session() as session:
        reach.load_delegations(session, path, "PK")
    overall, *members = live.monitor.sample_reach()
    # IPv4: 31.10.0.0/16 (65,536) + 62.40.0.0/18 (16,384) + 77.30.0.0/20 (4,096)
    # + 45.20.0.0/22 (1,024) of 105,472 delegated; 45.21.0.0/24 is not PK's.
    assert (overall.ipv4_reachable, overall.ipv4_total) == (87_040, 105_472)
    # IPv6: 2a0a:1000::/32 (65,536 /48s) of 65,536 + 4,096 (/36 of AS30303, not announced).
    assert (overall.ipv6_48_reachable, overall.ipv6_48_total) == (65_536, 69_632)
    # ASNs: 10101, 10102, 10103 (paths of AS10101), 20202, 30303 of 6; 40404 is not announced.
    assert (overall.asns_reachable, overall.asns_total) == (5, 6)
    assert overall.figures().ipv4_percent == 82.52
    by_member = {m.asn: m for m in members}
    assert by_member[20202].ipv4_reachable == 16_384
    assert by_member[30303].ipv4_reachable == 4_096
    with live.session() as session:
        exchange = get_route_server(session, "rs1").exchange
        report = reach.report(session, exchange)
    assert report.overall is not None and report.overall.ipv4_percent == 82.52
    assert [m.asn for m in report.members] == [10101, 20202, 30303]


def test_a_killed_collector_is_restarted_and_its_rib_rebuilt(live: Live) -> None:
    wait_for(lambda: rib_in_sync(live), "a settled RIB")
    before = rib_routes(live.monitor)
    collector = live.monitor.collectors["rs1"]
    restarts = collector.restarts
    collector.kill_child()
    wait_for(lambda: collector.restarts > restarts, "the collector to restart ExaBGP")
    wait_for(lambda: rib_routes(live.monitor) == before, "the RIB to be rebuilt")


def test_a_one_off_round_reads_the_whole_rib_and_samples_reachability(
    live: Live, tmp_path: Path
) -> None:
    """`ixp monitor run --once` (as `make demo` ends): no half-filled RIB, a stored sample.

    Runs last: the module's long-running monitor is stopped first, because the
    one-off round's collector takes over the same collector address.
    """
    path = tmp_path / "delegated-pk.txt"
    path.write_text(DELEGATED)
    with live.session() as session:
        reach.load_delegations(session, path, "PK")
    live.monitor.stop()
    lab_settings, sockets = lab_overrides(live.settings)
    run(lab_settings, once=True, engine=live.engine, sockets=sockets)
    with live.session() as session:
        exchange = get_route_server(session, "rs1").exchange
        report = reach.report(session, exchange, top=1)
    assert report.overall is not None and report.overall.ipv4_reachable == 87_040
    assert [m.asn for m in report.members] == [10101]
