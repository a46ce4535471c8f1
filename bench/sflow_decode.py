"""sFlow decode speed: the built-in collector path against pmacct's sfacctd on the same stream.

1. Records a stream of ``--samples`` flow samples (default 1,000,000) once into a
   libpcap savefile (kept, and reused while the stream's parameters stay the same):
   8 agents (2 with IPv6 agent addresses, 1 sending expanded samples), 400 members
   behind untagged and 802.1Q ports, IPv4 and IPv6 frames of realistic sizes, a
   heavy-tailed traffic mix, samples batched as switches send them (5 to 10 per
   datagram of at most 1,400 bytes, with a switch record beside each packet
   header), and interface counter samples every 20 s per port. No Q-in-Q frames:
   sfacctd 1.7.7 does not count them, and the two must do the same work.
2. Built-in: the datagrams are read into memory first (not timed); then every one
   goes through ``Aggregator.add`` (decode and count) and the buckets are closed
   (cells turned into frozen dataclasses), on one core, ``--runs`` times. Reported
   as samples per CPU second (process time): the median, and the fastest and
   slowest run; add and close are also shown apart.
3. sfacctd: replays the same savefile (``pcap_savefile``) with the shipped
   configuration (``ixp/data/pmacct/sfacctd.conf``), and once more with
   ``plugin_buffer_size`` set as pmacct advises for throughput. Its CPU seconds
   (core and print plugin, user + system, from /proc) are read once it has
   processed the file and written every cell, less what it spends starting on an
   empty savefile. Its per-pair bytes are checked against the built-in ones.
4. Storage for 1,000 members: rows per 5-minute bucket drawn from the same traffic
   model (each pair's samples Poisson around its share of the load), for a
   realistic peering density (about 100 peers per member, each way) and for the
   generator's default (60% of all pairs); bytes per row from buckets really
   written through ``ixp.traffic.store`` and rolled up, into SQLite and into a
   throwaway PostgreSQL (``tests/pg.py``); then GB per day at each resolution and
   what the retention keeps (``--storage-only`` for this part alone).

Prints figures; asserts nothing. Run: ``.venv/bin/python bench/sflow_decode.py``
(``--samples 100000 --runs 3`` for a quick look).
"""

from __future__ import annotations

import argparse
import hashlib
import math
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import Engine, create_engine, text

from ixp import db
from ixp.traffic import buckets, pmacct, rollup, sflowgen, store

# The throwaway PostgreSQL server the tests start (tests/pg.py), for the storage figures.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests import pg

SPEC = sflowgen.Spec(
    seed=2026,
    agents=8,
    ipv6_agents=2,
    expanded_agents=1,
    members=400,
    sampling_rate=16384,
    tagged_share=0.3,
    qinq_share=0.0,
    samples_per_second=100_000.0,
)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def recorded_stream(samples: int, directory: Path) -> Path:
    """The savefile of ``samples`` flow samples, written once per stream definition."""
    digest = hashlib.sha256(repr(SPEC).encode()).hexdigest()[:12]
    path = directory / f"sflow-{samples}-{digest}.pcap"
    if not path.exists():
        started = time.monotonic()
        partial = path.with_suffix(".partial")
        count = sflowgen.write_pcap(sflowgen.Stream(SPEC).packets(samples), partial)
        partial.rename(path)
        print(f"recorded {count:,} datagrams in {time.monotonic() - started:.0f} s: {path}")
    return path


def built_in(packets: list[sflowgen.Packet]) -> tuple[float, float, list[buckets.Bucket]]:
    """CPU seconds to add every datagram and to close the buckets; the buckets."""
    aggregator = buckets.Aggregator()
    add = aggregator.add
    started = time.process_time()
    for packet in packets:
        add(packet.payload, packet.source, packet.time)
    added = time.process_time()
    closed = aggregator.close()
    return added - started, time.process_time() - added, closed


def _cpu_seconds(pid: int) -> dict[int, float]:
    """User + system CPU (with reaped children) of a process and its children, from /proc."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(entry) == pid or int(fields[1]) == pid:
            found[int(entry)] = sum(int(fields[i]) for i in (11, 12, 13, 14)) / CLOCK_TICKS
    return found


def _pairs(output: Path) -> dict[tuple[str, str], int]:
    """Bytes per pair in what sfacctd has written so far (up to its last whole line)."""
    found: dict[tuple[str, str], int] = {}
    if output.exists():
        text = output.read_text()
        for cell in pmacct.read_print_json(text[: text.rfind("\n") + 1].splitlines()):
            pair = (cell.src_mac, cell.dst_mac)
            found[pair] = found.get(pair, 0) + cell.bytes
    return found


def sfacctd(
    binary: str, savefile: Path, workdir: Path, extra: str, expected_bytes: int
) -> tuple[float, float, dict[tuple[str, str], int]]:
    """CPU seconds of sfacctd's core and of its print plugin once it has read the savefile
    and written every cell, and what it wrote. Its output is read only once its CPU has
    stood still for 3 s, so that this process does not compete with it meanwhile."""
    output = workdir / "matrix.json"
    output.unlink(missing_ok=True)
    config = workdir / "sfacctd.conf"
    text = pmacct.sfacctd_config(output, savefile=savefile, refresh_seconds=1)
    config.write_text(f"{text}\npcap_savefile_wait: true\n{extra}\n")
    process = subprocess.Popen(
        [binary, "-f", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 600
        cpu: dict[int, float] = {}
        steady_since = time.monotonic()
        written: dict[tuple[str, str], int] = {}
        while time.monotonic() < deadline:
            time.sleep(0.25)
            now = _cpu_seconds(process.pid)
            if now != cpu:
                cpu, steady_since = now, time.monotonic()
            elif time.monotonic() - steady_since > 3:
                written = _pairs(output)
                if sum(written.values()) >= expected_bytes:
                    break
                steady_since = time.monotonic()
        core = cpu.get(process.pid, 0.0)
        return core, sum(cpu.values()) - core, written
    finally:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=30)


# Which share of the member pairs exchange traffic at all. At real exchanges a member
# exchanges traffic with tens to a few hundred peers: 10% of 1,000 members is 100.
PEER_MODELS = (("10% of pairs", 0.1), ("60% of pairs, the generator's default", 0.6))
AVERAGE_FRAME = 800  # bytes, the generator's frame-size mix
AGENTS = 8


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth's method for small means, the normal approximation above)."""
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def model_bucket(
    shares: list[tuple[int, int, float, bool]], members: int, load: float, start: int,
    rng: random.Random, spec: sflowgen.Spec,
) -> store.BucketRows:  # fmt: skip
    """One 5-minute bucket as the collector would write it at ``load`` samples/s: each
    pair's samples drawn from the model (Poisson), a row per member port, the agents."""
    rows = store.BucketRows(start)
    rate, taken = spec.sampling_rate, load * buckets.BUCKET_SECONDS
    for src, dst, share, ipv6 in shares:
        samples = _poisson(rng, taken * share)
        if not samples:
            continue
        v6 = min(samples, _poisson(rng, samples * spec.ipv6_share)) if ipv6 else 0
        for version, count in ((4, samples - v6), (6, v6)):
            if count:
                rows.add_pair(64_000_000 + src, 64_000_000 + dst, version, count,
                              count * rate, count * rate * AVERAGE_FRAME)  # fmt: skip
    for member in range(members):
        port = rows.ports.setdefault((f"192.0.2.{member % AGENTS + 1}", 1000 + member),
                                     store.PortRow(asn=64_000_000 + member))  # fmt: skip
        port.counts.update(in_samples=rng.randrange(1, 10**5), in_bytes=rng.randrange(10**12),
                           counter_readings=15, counter_ms=300_000,
                           counter_in_octets=rng.randrange(10**12))  # fmt: skip
    for agent in range(AGENTS):
        rows.agents[f"192.0.2.{agent + 1}"] = {"datagrams": rng.randrange(10**6)}
    return rows


def _sizes(engine: Engine) -> dict[str, int]:
    """Bytes each traffic table (with its indexes) takes on disk."""
    tables = ("traffic_pairs", "traffic_ports", "traffic_agents")
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            query = "SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name = :t"
        else:
            query = "SELECT pg_total_relation_size(:t)"
        return {
            table: int(conn.execute(text(query), {"t": table}).scalar() or 0) for table in tables
        }


def _counts(engine: Engine) -> dict[tuple[str, int], int]:
    """Rows per (table, resolution)."""
    found = {}
    with engine.connect() as conn:
        for table in ("traffic_pairs", "traffic_ports", "traffic_agents"):
            query = f"SELECT resolution, count(*) FROM {table} GROUP BY resolution"
            for resolution, count in conn.execute(text(query)):
                found[(table, int(resolution))] = int(count)
    return found


def measured_inserts(
    engine: Engine, shares: list[tuple[int, int, float, bool]], members: int, load: float,
    bucket_count: int, spec: sflowgen.Spec,
) -> tuple[dict[tuple[str, int], int], dict[str, float], float]:  # fmt: skip
    """Write ``bucket_count`` modelled buckets (an hour: 12) through the storage layer and
    roll them up; (rows per table and resolution, bytes per row per table, seconds per
    bucket written)."""
    rng = random.Random(spec.seed)
    start = 1_700_006_400  # a midnight
    sessions = db.session_factory(engine)
    before = _sizes(engine)
    seconds = 0.0
    with sessions() as session:
        for number in range(bucket_count):
            rows = model_bucket(shares, members, load, start + 300 * number, rng, spec)
            began = time.perf_counter()
            store.write(session, rows)
            seconds += time.perf_counter() - began
        end = start + 300 * bucket_count
        rollup.rollup(session, complete_until=end, now=end, keep_5min_days=7,
                      keep_hourly_days=90)  # fmt: skip
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    counts = _counts(engine)
    after = _sizes(engine)
    per_row = {}
    for table in after:
        rows = sum(n for (name, _), n in counts.items() if name == table)
        per_row[table] = (after[table] - before[table]) / rows if rows else 0.0
    return counts, per_row, seconds / bucket_count


def storage(args: argparse.Namespace) -> None:
    """Rows and bytes per day for ``--members`` members: rows per bucket drawn from the
    stream's traffic model, bytes per row from real inserts into SQLite and PostgreSQL."""
    print(f"\nStorage for {args.members:,} members: rows per bucket drawn from the traffic "
          f"model, bytes per row from {args.storage_buckets} buckets at "
          f"{args.storage_load:,.0f} samples/s really written (store.write) and rolled up, "
          "on SQLite and PostgreSQL")  # fmt: skip
    models = []
    for label, peering in PEER_MODELS:
        spec = sflowgen.Spec(seed=SPEC.seed, members=args.members, sampling_rate=16384,
                             peering_share=peering)  # fmt: skip
        shares = sflowgen.Stream(spec).pair_shares()
        models.append((label, spec, shares))
        print(f"  model {label}: {len(shares):,} member pairs exchange traffic at all "
              f"({len(shares) / args.members:,.0f} peers per member); sizes Pareto 1.2, "
              "log-normal affinity, 70% of pairs also speak IPv6")  # fmt: skip
    label, spec, shares = models[0]
    per_row: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="ixp-storage-") as temp:
        engines = {"SQLite": db.make_engine(f"sqlite:///{temp}/ixp.sqlite3")}
        server = None
        try:
            server = pg.start()
            admin = create_engine(server.url("postgres"), isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text("CREATE DATABASE ixp_storage"))
            admin.dispose()
            engines["PostgreSQL"] = db.make_engine(server.url("ixp_storage"))
        except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
            print(f"  PostgreSQL: not measured ({exc})")
        try:
            for name, engine in engines.items():
                db.upgrade(engine)
                counts, sizes, write_seconds = measured_inserts(
                    engine, shares, args.members, args.storage_load, args.storage_buckets, spec
                )
                per_row[name] = sizes
                pairs = counts.get(("traffic_pairs", 300), 0) / args.storage_buckets
                print(f"  {name}: {pairs:,.0f} pair rows per bucket ({label}), "
                      f"{counts.get(('traffic_pairs', 3600), 0):,} hourly pair rows for the hour; "
                      + ", ".join(f"{table} {size:.0f} B/row" for table, size in sizes.items())
                      + f"; {write_seconds:.2f} s to write a bucket")  # fmt: skip
                engine.dispose()
        finally:
            if server is not None:
                server.stop()
    rng = random.Random(SPEC.seed)
    for label, spec, shares in models:
        print(f"  {label}:")
        for load in args.loads:
            rows = {}
            for resolution in (300, 3600, 86400):
                mean = load * resolution
                rows[resolution] = sum(
                    1 - math.exp(-mean * share) for _, _, share, _ in shares
                )  # a pair has a row when at least one sample fell in the bucket
            drawn = model_bucket(shares, args.members, load, 0, rng, spec)
            line = [f"    {load:,.0f} samples/s: {len(drawn.pairs):,} pair rows per bucket"]
            for name, sizes in per_row.items():
                pair_bytes = sizes["traffic_pairs"]
                other = args.members * sizes["traffic_ports"] + AGENTS * sizes["traffic_agents"]
                day = {r: (n * pair_bytes + other) * 86400 / r for r, n in rows.items()}
                steady = 7 * day[300] + 90 * day[3600]
                line.append(
                    f"{name}: {day[300] / 1e9:,.2f} GB/day of 5-minute rows, "
                    f"{day[3600] / 1e9:,.2f} hourly, {day[86400] / 1e6:,.1f} MB daily; "
                    f"{steady / 1e9:,.0f} GB kept (7 days + 90 days), "
                    f"{day[86400] * 365 / 1e9:,.1f} GB a year for ever"
                )
            print("; ".join(line))


def options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5, help="of the built-in path")
    parser.add_argument("--sfacctd-runs", type=int, default=3, help="of each configuration")
    parser.add_argument(
        "--stream-dir", type=Path, default=Path(tempfile.gettempdir()) / "ixp-bench"
    )
    parser.add_argument("--members", type=int, default=1000, help="for the storage figures")
    parser.add_argument("--storage-buckets", type=int, default=12, help="buckets written")
    parser.add_argument(
        "--storage-load", type=float, default=50_000, help="samples/s of the buckets written"
    )
    parser.add_argument("--storage-only", action="store_true", help="skip the decode runs")
    parser.add_argument(
        "--loads", type=float, nargs="+", default=[10_000, 50_000, 200_000],
        help="sampled loads (samples/s) for the storage figures",
    )  # fmt: skip
    return parser.parse_args()


def main() -> None:
    args = options()
    if args.storage_only:
        storage(args)
        return
    args.stream_dir.mkdir(parents=True, exist_ok=True)
    savefile = recorded_stream(args.samples, args.stream_dir)
    packets = list(sflowgen.read_pcap(savefile))
    print(
        f"stream: {args.samples:,} flow samples in {len(packets):,} datagrams "
        f"({args.samples / len(packets):.1f} samples each on average, counter samples "
        f"included in the datagrams), {savefile.stat().st_size / 1e6:,.0f} MB"
    )

    print(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())} "
          f"({os.cpu_count()} CPUs; other work on the machine slows every figure)")  # fmt: skip
    runs = [built_in(packets) for _ in range(args.runs)]
    totals = sorted(add + close for add, close, _ in runs)
    rates = [args.samples / t for t in totals]
    median = statistics.median(rates)
    print(f"\nBuilt-in (Aggregator.add + close), one core, {args.runs} runs:")
    print(
        f"  {median:,.0f} samples/s median ({min(rates):,.0f} slowest, {max(rates):,.0f} fastest)"
    )
    adds = [args.samples / add for add, _, _ in runs]
    closes = [close for _, close, _ in runs]
    closed = runs[0][2]
    cells = sum(len(b.flows) for b in closed)
    print(
        f"  add alone: {statistics.median(adds):,.0f} samples/s median; close: "
        f"{statistics.median(closes):.2f} s for {cells:,} cells in {len(closed)} bucket(s)"
    )
    ours: dict[tuple[str, str], int] = {}
    for bucket in closed:
        for pair, total in buckets.pair_totals(bucket.flows).items():
            ours[pair] = ours.get(pair, 0) + total.bytes
    expected = sum(ours.values())

    binary = shutil.which("sfacctd") or "/usr/sbin/sfacctd"
    if not os.access(binary, os.X_OK):
        print("\nsfacctd: not installed (Debian package pmacct); no comparison")
    else:
        with tempfile.TemporaryDirectory(prefix="ixp-sfacctd-") as temp:
            workdir = Path(temp)
            empty = workdir / "empty.pcap"
            sflowgen.write_pcap([], empty)
            idle_core, idle_plugin, _ = sfacctd(binary, empty, workdir, "", 0)
            idle = idle_core + idle_plugin
            print(f"\nsfacctd {args.sfacctd_runs} runs per configuration; start-up "
                  f"{idle:.2f} CPU s (subtracted):")  # fmt: skip
            for label, extra in (
                ("shipped configuration", ""),
                ("with plugin_buffer_size 64 KB", "plugin_buffer_size[matrix]: 65536"),
            ):
                measured, cores, plugins = [], [], []
                agree = True
                for _ in range(args.sfacctd_runs):
                    core, plugin, theirs = sfacctd(binary, savefile, workdir, extra, expected)
                    measured.append(core + plugin - idle)
                    cores.append(core - idle_core)
                    plugins.append(plugin - idle_plugin)
                    agree = agree and theirs == ours
                per_second = sorted(args.samples / seconds for seconds in measured)
                theirs_median = statistics.median(per_second)
                print(
                    f"  {label}: {statistics.median(measured):.2f} CPU s (core "
                    f"{statistics.median(cores):.2f}, print plugin {statistics.median(plugins):.2f}"
                    f"), {theirs_median:,.0f} samples/s median ({per_second[0]:,.0f}-"
                    f"{per_second[-1]:,.0f}); per-pair bytes "
                    f"{'equal to' if agree else 'DIFFERENT from'} the built-in ones; "
                    f"the built-in path needs {theirs_median / median:.1f}x its CPU"
                )
    print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    storage(args)


if __name__ == "__main__":
    main()
