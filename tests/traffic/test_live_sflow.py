"""A real sFlow agent on the lab's bridge: members exchange real traffic, pmacctd samples it.

Network namespaces as the lab builds them (``ixp.lab.netns``): the peering LAN is a
bridge in a namespace of its own, each member a namespace with one veth on it and
its registered router MAC. pmacctd's ``sfprobe`` plugin samples every bridge port,
ingress only (what the member sends into the fabric), 1 in 8 frames, and sends real
sFlow v5; a tee hands each datagram to ``ixp traffic collect`` (the collector as
systemd runs it) and to sfacctd with the shipped configuration. Then:

- A sends B UDP over IPv4 and C sends D UDP over IPv6 with ``iperf3``; a router nobody
  registered (U) sends A a little. The matrix the collector stored must hold each
  member pair's bytes within the sampling error of what really crossed the sender's
  bridge port (its kernel counters, plus the 4 FCS bytes sFlow counts per frame). The
  error stated everywhere is the 95% interval; here the 99.9% one is asserted, so that
  three pairs do not fail one run in seven by chance.
- U's MAC raises the unknown-MAC alert, naming the agent and U's port.
- The built-in collector and sfacctd, reading the same datagrams, find the same bytes
  for every member pair, within the error. Not to the byte, as on generated streams
  (``test_sfacctd``): pmacctd samples after a random number of frames (1 to 2N - 1),
  and sfacctd scales each sample by the rate the agent's sample pool shows while ixp
  scales by the rate the sample states; both are unbiased, and a few percent apart.

pmacctd's sfprobe names one data source (index 1) for every interface it samples, so
the collector counts its samples as not taken at their input port; a switch names the
port itself. That figure is not asserted here.
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from ixp import db
from ixp.lab import netns
from ixp.members import MemberInput, add_member
from ixp.models import TrafficPair
from ixp.monitor import alerts
from ixp.traffic import pmacct, sampling
from tests.factories import pkix_test_exchange

pytestmark = [pytest.mark.netns, pytest.mark.slow]

TOOLS = ("pmacctd", "sfacctd", "iperf3")
LAN4, LAN6 = "203.0.113.0/24", "2001:db8:77::/64"
AGENT = "192.0.2.250"
RATE = 8
TEE, COLLECTOR, SFACCTD = 6343, 6344, 6345


@dataclass(frozen=True)
class Router:
    """A router on the peering LAN: its namespace name suffix, MAC, addresses, ASN (None:
    registered to no member)."""

    name: str
    mac: str
    host: int
    asn: int | None

    @property
    def ipv4(self) -> str:
        return f"203.0.113.{self.host}"

    @property
    def ipv6(self) -> str:
        return f"2001:db8:77::{self.host}"


A = Router("a", "02:1a:00:00:0a:01", 11, 38101)
B = Router("b", "02:1a:00:00:0a:02", 12, 38102)
C = Router("c", "02:1a:00:00:0a:03", 13, 38103)
D = Router("d", "02:1a:00:00:0a:04", 14, 38104)
U = Router("u", "02:99:00:00:0a:09", 19, None)
ROUTERS = (A, B, C, D, U)


def _skip_reason() -> str | None:
    reason = netns.available()
    if reason:
        return reason
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    return f"not installed: {', '.join(missing)} (Debian pmacct, iperf3)" if missing else None


@dataclass(frozen=True)
class Measured:
    """What the run found: the stored matrix, what crossed each port, sfacctd's pairs."""

    database_url: str
    sent: dict[str, int]  # router name -> bytes it sent into the fabric (with FCS)
    stored: dict[tuple[int, int], tuple[int, int]]  # (src, dst) -> (samples, bytes)
    theirs: dict[tuple[str, str], int]  # sfacctd: (src MAC, dst MAC) -> bytes
    ports: dict[str, int]  # router name -> ifIndex of its bridge port


def _port_counters(lan: str, ports: dict[str, str]) -> dict[str, int]:
    """Bytes each router sent into the fabric so far, as sFlow counts them (with FCS)."""
    found = {}
    for name, port in ports.items():
        stats = Path("/sys/class/net") / port / "statistics"
        octets = netns.run(["cat", str(stats / "rx_bytes")], namespace=lan).stdout
        frames = netns.run(["cat", str(stats / "rx_packets")], namespace=lan).stdout
        found[name] = int(octets) + 4 * int(frames)
    return found


def _wait_for(log: Path, text: str, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not (log.exists() and text in log.read_text(errors="replace")):
        if time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"
            raise AssertionError(f"{log.name}: no {text!r} after {seconds:g} s:\n{tail}")
        time.sleep(0.1)


def _database(directory: Path) -> str:
    """A migrated SQLite database with the exchange and A-D as members with their MACs."""
    url = f"sqlite:///{directory / 'ixp.sqlite3'}"
    engine = db.make_engine(url)
    db.upgrade(engine)
    with db.session_factory(engine)() as session:
        pkix_test_exchange(session)
        for router in ROUTERS:
            if router.asn is not None:
                add_member(
                    session,
                    MemberInput(asn=router.asn, name=f"Member {router.name.upper()}",
                                max_prefix_v4=10, max_prefix_v6=10, auto_ip=True,
                                macs=[router.mac]),
                    actor="test",
                )  # fmt: skip
    engine.dispose()
    return url


def _iperf(namespace: str, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        ["ip", "netns", "exec", namespace, "iperf3", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Measured]:
    """Build the fabric, run the traffic, stop the collectors; everything torn down after."""
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    work = tmp_path_factory.mktemp("live-sflow")
    url = _database(work)
    prefix = "ixt" + secrets.token_hex(3)
    lan = f"{prefix}-lan"
    created = [lan]
    try:
        netns.create_namespace(lan)
        netns.create_bridge(lan)
        ports = {}
        for index, router in enumerate(ROUTERS):
            namespace = f"{prefix}-{router.name}"
            netns.create_namespace(namespace)
            created.append(namespace)
            ports[router.name] = f"p{index}"
            netns.attach(namespace, lan, ports[router.name])
            netns.run(["ip", "-n", namespace, "link", "set", "lan0", "address", router.mac])
            netns.add_address(namespace, router.ipv4, LAN4)
            netns.add_address(namespace, router.ipv6, LAN6)
        indexes = {
            name: int(netns.run(["cat", f"/sys/class/net/{port}/ifindex"], namespace=lan).stdout)
            for name, port in ports.items()
        }
        interfaces = work / "interfaces.map"
        interfaces.write_text(
            "".join(f"ifindex={indexes[n]} ifname={p} direction=in\n" for n, p in ports.items())
        )
        (work / "pmacctd.conf").write_text(
            f"daemonize: false\npcap_interfaces_map: {interfaces}\npcap_ifindex: map\n"
            f"plugins: sfprobe\nsampling_rate: {RATE}\nsfprobe_receiver: 127.0.0.1:{TEE}\n"
            f"sfprobe_agentip: {AGENT}\n"
        )
        output = work / "sfacctd.json"
        (work / "sfacctd.conf").write_text(
            pmacct.sfacctd_config(output, listen="127.0.0.1", port=SFACCTD, refresh_seconds=1)
        )
        environment = {
            "IXP_DATABASE_URL": url,
            "IXP_HOME": str(work / "home"),
            "IXP_TRAFFIC_LISTEN": "127.0.0.1",
            "IXP_TRAFFIC_PORT": str(COLLECTOR),
            "IXP_TRAFFIC_AGENTS": json.dumps(["127.0.0.1", AGENT]),
            "IXP_TRAFFIC_FLUSH_DELAY_SECONDS": "0",
            "IXP_TRAFFIC_METRICS_PORT": "0",
        }
        ixp = str(Path(sys.executable).with_name("ixp"))
        collector = netns.spawn([ixp, "traffic", "collect"], namespace=lan,
                                log=work / "collector.log", env=environment)  # fmt: skip
        netns.spawn(["sfacctd", "-f", str(work / "sfacctd.conf")], namespace=lan,
                    log=work / "sfacctd.log")  # fmt: skip
        tee = Path(__file__).with_name("udp_tee.py")
        netns.spawn([sys.executable, str(tee), str(TEE), str(COLLECTOR), str(SFACCTD)],
                    namespace=lan, log=work / "tee.log")  # fmt: skip
        _wait_for(work / "collector.log", "collecting sFlow")
        _wait_for(work / "sfacctd.log", "Purging cache - END")
        _wait_for(work / "tee.log", "listening")
        netns.spawn(["pmacctd", "-f", str(work / "pmacctd.conf")], namespace=lan,
                    log=work / "pmacctd.log")  # fmt: skip
        _wait_for(work / "pmacctd.log", "Sampling at")

        servers = [
            _iperf(f"{prefix}-b", "-s", "-1", "-p", "5201"),
            _iperf(f"{prefix}-d", "-s", "-1", "-p", "5201"),
            _iperf(f"{prefix}-a", "-s", "-1", "-p", "5202"),
        ]
        time.sleep(0.5)
        before = _port_counters(lan, ports)
        clients = [
            _iperf(f"{prefix}-a", "-c", B.ipv4, "-p", "5201", "-u", "-b", "20M", "-l", "1400",
                   "-t", "4"),
            _iperf(f"{prefix}-c", "-c", D.ipv6, "-p", "5201", "-u", "-b", "12M", "-l", "1200",
                   "-t", "4"),
            _iperf(f"{prefix}-u", "-c", A.ipv4, "-p", "5202", "-u", "-b", "1M", "-l", "1000",
                   "-t", "3"),
        ]  # fmt: skip
        for process in (*clients, *servers):
            assert process.wait(timeout=30) == 0, process.args
        time.sleep(1.0)
        after = _port_counters(lan, ports)
        time.sleep(2.0)  # the agent sends what it holds about once a second
        netns.stop_pids([collector], grace=30)  # SIGTERM: the bucket in progress is written
        engine = db.make_engine(url)
        with db.session_factory(engine)() as session:
            stored: dict[tuple[int, int], tuple[int, int]] = {}
            for row in session.scalars(select(TrafficPair).where(TrafficPair.resolution == 300)):
                samples, size = stored.get((row.src_asn, row.dst_asn), (0, 0))
                stored[(row.src_asn, row.dst_asn)] = (
                    samples + row.samples4 + row.samples6,
                    size + row.bytes4 + row.bytes6,
                )
        engine.dispose()
        deadline = time.monotonic() + 20
        theirs: dict[tuple[str, str], int] = {}
        member_macs = {router.mac for router in ROUTERS if router.asn is not None}
        while time.monotonic() < deadline:
            theirs = {}
            if output.exists():
                for cell in pmacct.read_print_json(output.read_text().splitlines()):
                    key = (cell.src_mac, cell.dst_mac)
                    theirs[key] = theirs.get(key, 0) + cell.bytes
            ours = sum(size for _, size in stored.values())
            if sum(v for k, v in theirs.items() if set(k) <= member_macs) >= ours:
                break
            time.sleep(0.5)
        sent = {name: after[name] - before[name] for name in ports}
        yield Measured(url, sent, stored, theirs, indexes)
    finally:
        for namespace in reversed(created):
            netns.delete_namespace(namespace)


def test_the_matrix_holds_each_pairs_bytes_within_the_sampling_error(measured: Measured) -> None:
    for sender, receiver in ((A, B), (C, D)):
        assert sender.asn is not None and receiver.asn is not None
        samples, size = measured.stored[(sender.asn, receiver.asn)]
        low, high = sampling.interval(size, samples, confidence=0.999)
        truth = measured.sent[sender.name]
        assert samples > 300, (sender, samples)
        assert low <= truth <= high, (sender.name, receiver.name, samples, size, truth)
    assert (D.asn, A.asn) not in measured.stored and (A.asn, D.asn) not in measured.stored


def test_the_unregistered_router_raises_its_alert_with_agent_and_port(measured: Measured) -> None:
    engine = db.make_engine(measured.database_url)
    with db.session_factory(engine)() as session:
        (alert,) = alerts.alert_list(session)
    engine.dispose()
    assert alert.rule == "unknown-mac" and U.mac in alert.message
    assert f"at agent {AGENT} port {measured.ports['u']}" in alert.message


def test_the_built_in_collector_and_sfacctd_agree_on_the_same_datagrams(
    measured: Measured,
) -> None:
    macs = {router.asn: router.mac for router in ROUTERS if router.asn is not None}
    for (src, dst), (samples, size) in measured.stored.items():
        low, high = sampling.interval(size, samples)
        assert low <= measured.theirs.get((macs[src], macs[dst]), 0) <= high, (src, dst)
    samples = sum(samples for samples, _ in measured.stored.values())
    low, high = sampling.interval(sum(size for _, size in measured.stored.values()), samples)
    theirs = sum(v for (s, d), v in measured.theirs.items() if {s, d} <= set(macs.values()))
    assert low <= theirs <= high
