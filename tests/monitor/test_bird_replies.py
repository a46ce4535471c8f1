"""Monitor rounds on a real BIRD whose filtered routes carry paths that are hard to read.

One BIRD holds both ends of a confederation session over loopback: ``speaker``
(sub-AS 65002, the member) exports two routes and ``AS65002_v4_1`` (sub-AS 65003, a member
session as the monitor sees it) receives and filters them, so ``show route
filtered`` prints a confederation segment, ``(65002) 38001``, and for a path
longer than BIRD's 500-character buffer a path cut short with ``...``.
"""

from __future__ import annotations

import datetime as dt
import shutil
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from ixp.bird import BirdClient, BirdRoute
from ixp.monitor.routes import DirectReader, member_routes
from ixp.monitor.service import Monitor
from ixp.settings import Settings
from tests.monitor.conftest import RS_ASN, Bird, make_rs, wait_for

T0 = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
LONG_PATH = (38001, 38002, 38003, 38004, 38005) * 30

CONFEDERATION = """
router id 192.0.2.1;
protocol device {{}}
protocol direct {{ ipv4; interface "lo"; }}
ipv4 table master4;
ipv4 table speaker_table;
protocol static speaker_routes {{
  ipv4 {{ table speaker_table; }};
  route 45.64.0.0/22 blackhole {{
    bgp_path.prepend(38001);
    bgp_large_community.add(({rs}, 1101, 13));
  }};
  route 45.65.0.0/22 blackhole {{
    {prepends}
    bgp_large_community.add(({rs}, 1101, 9));
  }};
}}
protocol bgp speaker {{
  local 127.0.0.2 port {member_port} as 65002;
  neighbor 127.0.0.3 port {rs_port} as 65003;
  confederation 65000;
  confederation member yes;
  multihop;
  router id 192.0.2.2;
  ipv4 {{ table speaker_table; import none; export all; next hop self; igp table master4; }};
}}
protocol bgp AS65002_v4_1 {{
  local 127.0.0.3 port {rs_port} as 65003;
  neighbor 127.0.0.2 port {member_port} as 65002;
  confederation 65000;
  confederation member yes;
  multihop;
  router id 192.0.2.3;
  ipv4 {{ import keep filtered; import filter {{ reject; }}; export none; igp table master4; }};
}}
protocol bgp AS65009_v4_1 {{
  local 127.0.0.3 as 65003;
  neighbor 127.0.0.9 as 65009;
  passive on;
  ipv4 {{ import keep filtered; import filter {{ reject; }}; export none; }};
}}
"""


def free_port(address: str) -> int:
    with socket.socket() as probe:
        probe.bind((address, 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def confederation_bird(tmp_path: Path) -> Iterator[Bird]:
    """A BIRD whose member session AS65002_v4_1 holds the two filtered routes."""
    if shutil.which("bird") is None:
        pytest.skip("bird (BIRD 2) is not installed")
    config = CONFEDERATION.format(
        rs=RS_ASN,
        prepends=" ".join(f"bgp_path.prepend({asn});" for asn in reversed(LONG_PATH)),
        member_port=free_port("127.0.0.2"),
        rs_port=free_port("127.0.0.3"),
    )
    daemon = Bird(tmp_path, config)
    daemon.start()

    def filtered() -> bool:
        with BirdClient(str(daemon.socket)) as bird:
            return any(p.name == "AS65002_v4_1" and p.filtered == 2 for p in bird.protocols())

    try:
        wait_for(filtered, "the two routes to arrive over the confederation session", 30)
        yield daemon
    finally:
        daemon.stop()


def test_monitor_rounds_read_confederation_and_cut_paths_and_count_their_reasons(
    engine: Engine, settings: Settings, session: Session, confederation_bird: Bird
) -> None:
    make_rs(session, str(confederation_bird.socket))
    monitor = Monitor(settings, engine)
    first = monitor.check(T0)
    second = monitor.check(T0 + dt.timedelta(minutes=1))
    assert first.unreachable == second.unreachable == {}
    assert sorted((alert.rule, alert.asn) for alert in first.opened) == [
        ("irr-rejected", 65002),
        ("rpki-invalid", 65002),
    ]


def test_a_members_filtered_routes_show_the_path_without_the_confederation(
    session: Session, confederation_bird: Bird
) -> None:
    rs = make_rs(session, str(confederation_bird.socket))
    rows = {
        row.prefix: row
        for row in member_routes([rs], 65002, filtered=True, reader=DirectReader(10.0))
    }
    assert rows["45.64.0.0/22"].as_path == "38001"
    assert rows["45.64.0.0/22"].reasons == "rpki-invalid"
    cut = rows["45.65.0.0/22"].as_path
    assert cut.startswith("38001 38002 38003 38004 38005 38001") and cut.endswith(" ...")
    assert rows["45.65.0.0/22"].reasons == "prefix-not-in-as-set"


@dataclass(frozen=True)
class RecordingReader(DirectReader):
    """Asks BIRD as the CLI does, and writes down whose filtered routes it asked for."""

    asked: list[str] = field(default_factory=list)

    def routes(self, socket: str, scope: str) -> list[BirdRoute]:
        if scope.startswith("filtered protocol "):
            self.asked.append(scope.removeprefix("filtered protocol "))
        return super().routes(socket, scope)


def test_filtered_routes_are_read_only_for_sessions_bird_counts_some_on(
    session: Session, confederation_bird: Bird
) -> None:
    rs = make_rs(session, str(confederation_bird.socket))
    reader = RecordingReader(10.0)
    assert member_routes([rs], 65009, filtered=True, reader=reader) == []
    assert reader.asked == []
    assert len(member_routes([rs], 65002, filtered=True, reader=reader)) == 2
    assert reader.asked == ["AS65002_v4_1"]
