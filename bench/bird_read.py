"""Reading route answers off a real BIRD: routes/s for BIRD itself, the socket read, the parser
and the looking glass's shaping, at several answer sizes.

By default a BIRD 2 runs in a network namespace of its own (``ixp.lab``) with
one static protocol per answer size (``--sizes``), each route carrying what a
member's BGP route carries (origin, a two-ASN path, next hop, local
preference, a community, large communities on a third) and the RPKI state the
route server keeps, and one protocol of plain routes filling the table up to
``--table`` routes, since ``show route protocol X`` walks the whole table
whatever X holds. ``--socket`` measures a BIRD that is already running instead
(``bench/api_load.py --hold`` prints rs1's socket), for the protocols given
with ``--protocols``.

For each protocol, best of ``--runs``:

- ``birdc``: ``birdc -s SOCKET show route protocol X all > /dev/null``,
  BIRD's own time with the cheapest reader;
- read: ``BirdClient.command`` (socket read and reply lines);
- parse: ``parse_routes`` on those lines;
- shape: ``ixp.lg.shapes.route`` for each route (what the looking glass serves).

routes/s is of read + parse: a figure growing with the answer's size means a
fixed cost per command (BIRD's table walk), one falling means work growing
faster than the answer. Prints figures; asserts nothing. Root is needed for
the namespace.
Run: ``.venv/bin/python bench/bird_read.py [--sizes 5000 10000 20000 40000] [--table N]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from rs_build import machine_notes

from ixp.bird import BirdClient, parse_routes
from ixp.lab import netns
from ixp.lab.bird import bird_in_namespace
from ixp.lg import shapes
from ixp.lg.cache import utc_now
from ixp.rs.codes import RPKI_ATTRIBUTE, RpkiTag

RS_ASN = 59900
V4_FIRST = 11 << 24  # 11.0.0.0: /24s upwards, clear of the bogon ranges


def _prefix(index: int) -> str:
    value = V4_FIRST + (index << 8)
    return f"{value >> 24}.{(value >> 16) & 255}.{(value >> 8) & 255}.0/24"


def bird_config(sizes: Sequence[int], table: int) -> str:
    """Static protocol ``p<size>`` per size with BGP attributes; ``filler`` up to ``table``."""
    lines = [
        "router id 192.0.2.1;",
        "protocol device {}",
        f"attribute int {RPKI_ATTRIBUTE};",
        f"filter rs_in {{ {RPKI_ATTRIBUTE} = {RpkiTag.VALID.value}; accept; }}",
    ]
    index = 0
    for size in sizes:
        lines.append(f"protocol static p{size} {{ ipv4 {{ import filter rs_in; }};")
        for n in range(size):
            large = f" bgp_large_community.add((64500, 100, {1 + n % 40}));" if n % 3 == 0 else ""
            lines.append(
                f"  route {_prefix(index + n)} blackhole {{ bgp_origin = ORIGIN_IGP;"
                f" bgp_path.prepend({64600 + n % 50}); bgp_path.prepend(64500);"
                " bgp_next_hop = 185.1.50.11; bgp_local_pref = 100;"
                f" bgp_community.add((64500, {n % 100})); {large} }};"
            )
        lines.append("}")
        index += size
    lines.append("protocol static filler { ipv4; ")
    lines += [f"  route {_prefix(i)} blackhole;" for i in range(index, max(index, table))]
    lines.append("}")
    return "\n".join(lines) + "\n"


@contextmanager
def running_bird(sizes: Sequence[int], table: int) -> Iterator[str]:
    """A BIRD in a namespace of its own holding the routes; yields its control socket."""
    reason = netns.available()
    if reason is not None:
        raise SystemExit(f"a namespace is needed for BIRD: {reason}")
    with tempfile.TemporaryDirectory(prefix="ixpr-", dir="/tmp") as temp:
        started = time.perf_counter()
        config = bird_config(sizes, table)
        with bird_in_namespace(
            config, Path(temp), f"ixp-read-{os.getpid()}", timeout=300.0
        ) as daemon:
            print(f"  BIRD up with {table:,} routes in {time.perf_counter() - started:.1f} s")
            yield str(daemon.socket)


@dataclass
class Timing:
    """Best seconds of each step for one protocol's answer."""

    routes: int = 0
    birdc: float = float("inf")
    read: float = float("inf")
    parse: float = float("inf")
    shape: float = float("inf")


def measure(socket_path: str, protocol: str, runs: int) -> Timing:
    """Each step's best of ``runs`` for ``show route protocol <protocol> all``."""
    best = Timing()
    command = f"show route protocol {protocol} all"
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(
            ["birdc", "-s", socket_path, *command.split()], stdout=subprocess.DEVNULL, check=True
        )
        best.birdc = min(best.birdc, time.perf_counter() - started)
        started = time.perf_counter()
        with BirdClient(socket_path, timeout=300.0) as bird:
            lines = bird.command(command)
        read = time.perf_counter()
        routes = parse_routes(lines)
        parsed = time.perf_counter()
        now = utc_now()
        for route in routes:
            shapes.route(route, now, RS_ASN)
        shaped = time.perf_counter()
        best.routes = len(routes)
        best.read = min(best.read, read - started)
        best.parse = min(best.parse, parsed - read)
        best.shape = min(best.shape, shaped - parsed)
    return best


def report(socket_path: str, protocols: Sequence[str], runs: int) -> None:
    """One row per protocol."""
    print(
        f"\n{'protocol':<16} {'routes':>8} {'birdc s':>8} {'read s':>7} {'parse s':>8} "
        f"{'shape s':>8} {'read+parse routes/s':>20} {'parse µs/route':>15}"
    )
    for protocol in protocols:
        t = measure(socket_path, protocol, runs)
        rate = t.routes / (t.read + t.parse)
        per_route = t.parse / max(1, t.routes) * 1e6
        print(
            f"{protocol:<16} {t.routes:>8,} {t.birdc:>8.2f} {t.read:>7.2f} {t.parse:>8.2f} "
            f"{t.shape:>8.2f} {rate:>20,.0f} {per_route:>15.1f}",
            flush=True,
        )


def options() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000, 10000, 20000, 40000])
    parser.add_argument("--table", type=int, default=300_000, help="routes in BIRD's table")
    parser.add_argument("--runs", type=int, default=3, help="best of this many")
    parser.add_argument("--socket", help="a running BIRD's control socket instead of our own")
    parser.add_argument("--protocols", nargs="+", default=[], help="with --socket: to read")
    return parser.parse_args()


def main() -> None:
    """Start BIRD (or use the given one), read each answer, print the figures."""
    args = options()
    print(f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; {' '.join(sys.argv)}")
    for what, value in machine_notes():
        print(f"  {what}: {value}")
    if args.socket:
        report(args.socket, args.protocols, args.runs)
        return
    sizes = sorted(args.sizes)
    with running_bird(sizes, max(args.table, sum(sizes))) as socket_path:
        report(socket_path, [f"p{size}" for size in sizes], args.runs)


if __name__ == "__main__":
    main()
