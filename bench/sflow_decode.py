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
4. Storage: rows and bytes per day of the member-to-member matrix for 1,000
   members, from the same traffic model (printed with its assumptions).

Prints figures; asserts nothing. Run: ``.venv/bin/python bench/sflow_decode.py``
(``--samples 100000 --runs 3`` for a quick look).
"""

from __future__ import annotations

import argparse
import hashlib
import math
import os
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from ixp.traffic import buckets, pmacct, sflowgen

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


def storage_estimate(members: int, loads: list[float]) -> None:
    """Rows and bytes per day of the matrix, from the stream's own traffic model."""
    spec = sflowgen.Spec(seed=SPEC.seed, members=members)
    shares = sflowgen.Stream(spec).pair_shares()
    v6 = spec.ipv6_share
    row_bytes = 110
    print(f"\nStorage of the matrix for {members:,} members (estimate)")
    print(
        f"  assumptions: {len(shares):,} member pairs exchange traffic at all "
        f"({spec.peering_share:.0%} of {members * (members - 1):,}); pair volumes heavy-tailed "
        "(member sizes Pareto 1.2, log-normal affinity); 70% of pairs also speak IPv6, for "
        f"{v6:.0%} of their frames; a row per (bucket, source member, destination member, "
        "IP version) with at least one sample (the sample count per pair and bucket is "
        "Poisson); a PostgreSQL row of bucket, two member ids, IP version, samples, frames, "
        f"bytes is about {row_bytes} bytes with its primary-key index (64 B heap tuple, "
        "4 B line pointer, 36 B index entry, page fill)"
    )
    for load in loads:
        print(f"  at {load:,.0f} samples/s (sampled load averaged over the day):")
        retained = 0.0
        for label, seconds, days in (
            ("5-minute", 300, 7),
            ("hourly", 3600, 90),
            ("daily", 86400, 0),
        ):
            samples = load * seconds
            rows = 0.0
            for _, _, share, ipv6 in shares:
                mean = samples * share
                if ipv6:
                    rows += -math.expm1(-mean * (1 - v6)) - math.expm1(-mean * v6)
                else:
                    rows += -math.expm1(-mean)
            per_day = rows * 86400 / seconds
            kept = (
                f"kept {days} days: {per_day * days * row_bytes / 1e9:,.1f} GB"
                if days
                else (f"kept for ever: {per_day * 365 * row_bytes / 1e9:,.2f} GB a year")
            )
            retained += per_day * days * row_bytes
            print(
                f"    {label:>8} rows: {rows:>9,.0f} per bucket, {per_day:>12,.0f} a day "
                f"({per_day * row_bytes / 1e9:,.2f} GB), {kept}"
            )
        print(f"    steady state without the daily rows: {retained / 1e9:,.1f} GB")


def options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5, help="of the built-in path")
    parser.add_argument("--sfacctd-runs", type=int, default=3, help="of each configuration")
    parser.add_argument(
        "--stream-dir", type=Path, default=Path(tempfile.gettempdir()) / "ixp-bench"
    )
    parser.add_argument("--members", type=int, default=1000, help="for the storage estimate")
    parser.add_argument(
        "--loads", type=float, nargs="+", default=[10_000, 50_000, 200_000],
        help="sampled loads (samples/s) for the storage estimate",
    )  # fmt: skip
    return parser.parse_args()


def main() -> None:
    args = options()
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
    storage_estimate(args.members, args.loads)


if __name__ == "__main__":
    main()
