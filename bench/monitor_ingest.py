"""Monitor ingest speed and memory per route, and how fast ExaBGP itself delivers a table.

1. Generates N announcements (default 1,000,000 distinct prefixes from 100
   members, realistic AS paths and communities) as ExaBGP 5 JSON lines in a
   temporary file, then times the monitor's real ingest path (read a line,
   decode, apply to the RIB, under the RIB lock) on one core (process CPU
   time), and measures the memory the stored routes take (tracemalloc, in a
   second pass). ``--per-update`` packs several prefixes with the same
   attributes into one UPDATE line, as BIRD does; 1 is the worst case.
2. With root and ``ip netns`` (ixp.lab), starts a real BIRD holding
   ``--exabgp-routes`` routes and the monitor's collector (ExaBGP) peering with
   it, and reports how fast the full table arrives in the RIB, with the CPU
   seconds ExaBGP and the monitor each spent on it.

Prints figures; asserts nothing. Run: ``.venv/bin/python bench/monitor_ingest.py``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import tempfile
import time
import tracemalloc
from pathlib import Path

from ixp.bird import BirdClient
from ixp.monitor.ingest import Ingest

HEADER = (
    '{{ "exabgp": "5.0.0", "time": {time}, "host" : "bench", "pid" : 1, "ppid" : 1, '
    '"counter": {counter}, "type": "update", "neighbor": {{ "address": {{ '
    '"local": "198.51.100.2", "peer": "198.51.100.1" }}, '
    '"asn": {{ "local": 65010, "peer": 65000 }}, "router-id": "198.51.100.2" , '
    '"direction": "receive", "message": {{ "update": {{ "attribute": {{ {attributes} }}, '
    '"announce": {{ "ipv4 unicast": {{ "{next_hop}": [ {nlris} ] }} }} }} }} }} }}\n'
)
RS_ASN = 59900
COLLECTOR_ASN = 4_200_000_000


def _attributes(rng: random.Random, member: int) -> str:
    path = [member] + [rng.randrange(1000, 400000) for _ in range(rng.randrange(0, 4))]
    segment = json.dumps({"0": {"element": "as-sequence", "value": path}})
    parts = [f'"origin": "igp", "as-path": {segment}']
    if rng.random() < 0.5:
        parts.append(f'"community": [ [ {member % 65536}, {rng.randrange(100, 200)} ] ]')
    parts.append(f'"large-community": [ [ {RS_ASN}, 1000 , 2 ] ]')
    return ", ".join(parts)


def _prefix(n: int) -> str:
    return f"{1 + (n >> 16)}.{(n >> 8) & 255}.{n & 255}.0/24"


def _path_id(n: int) -> str:
    return f"0.0.{n >> 8 & 255}.{1 + n % 200}"


def generate(path: Path, count: int, per_update: int, members: int = 100) -> int:
    """Write ``count`` announcements, ``per_update`` prefixes per line; returns the lines."""
    rng = random.Random(42)
    attribute_sets = [[_attributes(rng, 64500 + m) for _ in range(50)] for m in range(members)]
    lines = 0
    with path.open("w") as out:
        index = 0
        while index < count:
            member = rng.randrange(members)
            size = min(per_update, count - index)
            nlris = ", ".join(
                f'{{ "nlri": "{_prefix(n)}", "path-information": "{_path_id(n)}" }}'
                for n in range(index, index + size)
            )
            out.write(
                HEADER.format(
                    time=1795458204.5 + lines / 1e5,
                    counter=lines + 1,
                    attributes=rng.choice(attribute_sets[member]),
                    next_hop=f"198.51.100.{10 + member}",
                    nlris=nlris,
                )
            )
            index += size
            lines += 1
    return lines


def ingest_file(path: Path) -> Ingest:
    """The collector's own path: raw lines into decode + RIB."""
    ingest = Ingest("bench")
    with path.open(encoding="utf-8", errors="replace", newline="\n") as stream:
        for line in stream:
            ingest.feed(line)
    return ingest


def rss_bytes() -> int:
    """Resident memory of this process now."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def _peak_rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def timed(path: Path) -> tuple[float, int, int]:
    """CPU seconds, routes stored and the growth of resident memory while ingesting."""
    gc.collect()
    rss = rss_bytes()
    start = time.process_time()
    ingest = ingest_file(path)
    elapsed = time.process_time() - start
    return elapsed, len(ingest.rib), rss_bytes() - rss


def bytes_per_route(path: Path) -> float:
    gc.collect()
    tracemalloc.start()
    ingest = ingest_file(path)
    current, _peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return current / max(1, len(ingest.rib))


def ingest_figures(count: int, per_updates: list[int]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for per_update in per_updates:
            path = Path(tmp) / f"stream-{per_update}.jsonl"
            lines = generate(path, count, per_update)
            elapsed, stored, grown = timed(path)
            per_route = bytes_per_route(path)
            print(
                f"ingest: {count:,} announcements in {lines:,} lines ({per_update} per UPDATE), "
                f"{stored:,} routes stored: {elapsed:.2f} s CPU = {count / elapsed:,.0f} "
                f"updates/s on one core; {per_route:,.0f} bytes per stored route (tracemalloc), "
                f"RSS +{grown / 2**20:,.0f} MiB while ingesting"
            )
            path.unlink()


def bird_config(count: int) -> str:
    """A route server holding ``count`` static routes with BGP paths, and the collector peer."""
    rng = random.Random(7)
    lines = [
        "router id 185.1.0.1;",
        "protocol device {}",
        "protocol static table_routes {",
        "  ipv4;",
    ]
    for n in range(count):
        path = " ".join(f"bgp_path.prepend({a});" for a in rng.sample(range(1000, 60000), 2))
        lines.append(f"  route {_prefix(n)} blackhole {{ {path} }};")
    lines += [
        "}",
        "protocol bgp rs_collector_v4 {",
        f"  local 185.1.0.1 as {RS_ASN};",
        f"  neighbor 185.1.0.250 as {COLLECTOR_ASN};",
        "  rs client;",
        "  ipv4 { import none; export all; add paths tx; };",
        "}",
    ]
    return "\n".join(lines) + "\n"


def _imported(bird: BirdClient, name: str) -> int:
    protocol = next(p for p in bird.protocols() if p.name == name)
    channel = protocol.channels.get("ipv4")
    return channel.imported if channel else 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def exabgp_figures(count: int) -> None:
    """ExaBGP's full-table delivery from a real BIRD into the monitor's RIB (needs the lab)."""
    from ixp.lab import netns
    from ixp.lab.lab import Lab
    from ixp.lab.layout import LabLayout, RouteServerNode
    from ixp.monitor.collector import Collector, CollectorPeer, CollectorSpec
    from ixp.settings import Settings

    reason = netns.available()
    if reason:
        print(f"exabgp: skipped ({reason})")
        return
    layout = LabLayout(
        lan4="185.1.0.0/24",
        lan6=None,
        route_servers=(RouteServerNode("rs1", RS_ASN, "185.1.0.1", "185.1.0.1", None),),
        members=(),
    )
    with tempfile.TemporaryDirectory() as tmp:
        lab = Lab(layout, Settings(home=Path(tmp) / "home"), {"rs1": bird_config(count)})
        collector: Collector | None = None
        try:
            lab.up()
            node = lab.add_node("collector", "185.1.0.250")
            with BirdClient(str(lab.bird("rs1").socket), timeout=60) as bird:
                while _imported(bird, "table_routes") < count:
                    time.sleep(0.2)
            spec = CollectorSpec(
                "rs1",
                RS_ASN,
                COLLECTOR_ASN,
                "185.1.0.250",
                (CollectorPeer("185.1.0.1", "185.1.0.250", 4),),
                namespace=node.namespace,
            )
            collector = Collector(spec, Path(tmp) / "collector")
            own_cpu = time.process_time()
            collector.start()
            while not collector.ingest.rib.up:
                time.sleep(0.01)
            start = time.monotonic()
            while len(collector.ingest.rib) < count:
                time.sleep(0.05)
            elapsed = time.monotonic() - start
            assert collector.process is not None
            exabgp_cpu = cpu_seconds(collector.process.pid)
            monitor_cpu = time.process_time() - own_cpu
            print(
                f"exabgp: full table of {count:,} routes from BIRD 2.0.12 in {elapsed:.1f} s "
                f"= {count / elapsed:,.0f} routes/s; ExaBGP {exabgp_cpu:.1f} CPU-s "
                f"({count / exabgp_cpu:,.0f} routes per CPU-s); the monitor "
                f"{monitor_cpu:.1f} CPU-s ({count / monitor_cpu:,.0f} routes per CPU-s)"
            )
            own_cpu = time.process_time()
            start = time.monotonic()
            with BirdClient(str(lab.bird("rs1").socket), timeout=300) as bird:
                table = bird.routes("table master4")
            elapsed = time.monotonic() - start
            parse_cpu = time.process_time() - own_cpu
            print(
                f"birdc socket: 'show route table master4 all' read and parsed {len(table):,} "
                f"routes in {elapsed:.1f} s = {len(table) / elapsed:,.0f} routes/s "
                f"({parse_cpu:.1f} CPU-s in the monitor)"
            )
        finally:
            if collector is not None:
                collector.stop()
            lab.down()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--per-update", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--exabgp-routes", type=int, default=100_000, help="0: skip")
    args = parser.parse_args()
    ingest_figures(args.count, args.per_update)
    if args.exabgp_routes:
        exabgp_figures(args.exabgp_routes)
    print(f"peak RSS of the benchmark: {_peak_rss() / 2**20:,.0f} MiB")


if __name__ == "__main__":
    main()
