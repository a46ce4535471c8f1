"""Benchmark: index a 1,000,000-object RPSL dump, then expand 1,000 AS-SETs from the warm index.

Generates a synthetic dump shaped like a public registry dump (route, route6,
aut-num and as-set objects with the usual administrative attributes, nested
and occasionally looping AS-SETs) into a temporary directory, then prints:
the median of three cold indexings (parse + write the index), the time to open
the warm index, and the time to expand 1,000 AS-SETs into aggregated IPv4 and
IPv6 prefix lists. Run: ``.venv/bin/python bench/irr_index.py [--objects N]``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from ixp.irr.expand import expand_as_set
from ixp.irr.index import Registry, index_path, load_index, open_registry
from ixp.irr.prefixes import aggregate, max_length_for

ROUTE_SHARE = 0.70
ROUTE6_SHARE = 0.12
AUT_NUM_SHARE = 0.12
FIRST_ASN = 10_000


def _route(kind: str, prefix: str, asn: int, serial: int) -> str:
    return (
        f"{kind}:          {prefix}\n"
        f"descr:          Synthetic customer network {serial}\n"
        f"origin:         AS{asn}\n"
        f"mnt-by:         MNT-AS{asn}\n"
        f"created:        2019-04-{1 + serial % 28:02d}T10:00:00Z\n"
        f"last-modified:  2024-11-{1 + serial % 28:02d}T10:00:00Z\n"
        "source:         RIPE\n"
    )


def _aut_num(asn: int) -> str:
    return (
        f"aut-num:        AS{asn}\n"
        f"as-name:        SYNTH-{asn}\n"
        f"org:            ORG-S{asn}-RIPE\n"
        f"import:         from AS{asn + 1} accept ANY\n"
        f"export:         to AS{asn + 1} announce AS-SYNTH{asn}\n"
        f"import:         from AS{asn + 2} accept AS{asn + 2}  # peer\n"
        f"export:         to AS{asn + 2} announce AS-SYNTH{asn}\n"
        "admin-c:        SYN1-RIPE\n"
        "tech-c:         SYN1-RIPE\n"
        "status:         ASSIGNED\n"
        f"mnt-by:         MNT-AS{asn}\n"
        "source:         RIPE\n"
    )


def _as_set(index: int, asn_count: int, set_count: int, rng: random.Random) -> str:
    """An AS-SET of heavy-tailed size: most have a few ASNs, a few have thousands.

    One in five includes other sets, mostly later ones (a nesting tree) and
    sometimes earlier ones, which closes loops as in the real registries.
    """
    size = min(int(rng.paretovariate(1.1) * 6), 5_000)
    members = [f"AS{FIRST_ASN + rng.randrange(asn_count)}" for _ in range(size)]
    if rng.random() < 0.2:
        for _ in range(rng.randint(1, 3)):
            child = (
                index + 1 + rng.randrange(50) if rng.random() < 0.95 else rng.randrange(set_count)
            )
            members.append(f"AS-SYNTH{child % set_count}")
    lines = [f"as-set:         AS-SYNTH{index}", f"descr:          Customers of set {index}"]
    for start in range(0, len(members), 8):
        chunk = ", ".join(members[start : start + 8])
        lines.append(f"members:        {chunk}" if start == 0 else f"                {chunk}")
    lines += ["tech-c:         SYN1-RIPE", "mnt-by:         MNT-SYNTH", "source:         RIPE"]
    return "\n".join(lines) + "\n"


def _prefix4(serial: int, rng: random.Random) -> str:
    length = rng.choice((24, 24, 24, 23, 22, 20))
    base = ((11 << 24) + serial * 256) & ~((1 << (32 - length)) - 1) & 0xFFFFFFFF
    return f"{base >> 24}.{(base >> 16) & 255}.{(base >> 8) & 255}.{base & 255}/{length}"


def _prefix6(serial: int, rng: random.Random) -> str:
    length = rng.choice((48, 48, 48, 44, 40, 32))
    value = (0x2A00 << 112) + (serial << 80)
    value &= ~((1 << (128 - length)) - 1)
    groups = [f"{(value >> (112 - 16 * i)) & 0xFFFF:x}" for i in range(3)]
    return f"{':'.join(groups)}::/{length}"


def generate(path: Path, objects: int, seed: int = 7) -> None:
    """Write a synthetic dump of ``objects`` objects to ``path``."""
    rng = random.Random(seed)
    routes = int(objects * ROUTE_SHARE)
    routes6 = int(objects * ROUTE6_SHARE)
    aut_nums = int(objects * AUT_NUM_SHARE)
    as_sets = objects - routes - routes6 - aut_nums
    with path.open("w") as out:
        out.write("# synthetic RPSL dump for bench/irr_index.py\n\n")
        for i in range(aut_nums):
            out.write(_aut_num(FIRST_ASN + i) + "\n")
        for i in range(routes):
            out.write(_route("route", _prefix4(i, rng), FIRST_ASN + i % aut_nums, i) + "\n")
        for i in range(routes6):
            out.write(_route("route6", _prefix6(i, rng), FIRST_ASN + i % aut_nums, i) + "\n")
        for i in range(as_sets):
            out.write(_as_set(i, aut_nums, as_sets, rng) + "\n")


def _expand_all(registry: Registry, sets: int) -> tuple[int, int, int]:
    """ASNs, IPv4 and IPv6 entries of the first ``sets`` AS-SETs, as a sync computes them."""
    totals = [0, 0, 0]
    for i in range(sets):
        expansion = expand_as_set(f"AS-SYNTH{i}", registry, max_depth=20, max_asns=50_000)
        totals[0] += len(expansion.asns)
        for family, limit, slot in ((4, 24, 1), (6, 48, 2)):
            pairs = [
                (p, max_length_for(int(p.rpartition("/")[2]), limit))
                for p in registry.routes(expansion.asns, family)
            ]
            totals[slot] += len(aggregate(family, pairs))
    return totals[0], totals[1], totals[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--objects", type=int, default=1_000_000)
    parser.add_argument("--sets", type=int, default=1_000)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="irr-bench-") as temp:
        directory = Path(temp)
        dump = directory / "synthetic.db"
        started = time.perf_counter()
        generate(dump, options.objects)
        size_mb = dump.stat().st_size / 1e6
        print(
            f"generated {options.objects:,} objects ({size_mb:.0f} MB) in "
            f"{time.perf_counter() - started:.1f} s"
        )
        cache = directory / "irr"
        wall, cpu = [], []
        for _ in range(3):
            index_path(dump, cache).unlink(missing_ok=True)
            started, cpu_started = time.perf_counter(), time.process_time()
            index = load_index(dump, cache)
            wall.append(time.perf_counter() - started)
            cpu.append(time.process_time() - cpu_started)
            index.close()
        runs = ", ".join(f"{t:.2f}" for t in wall)
        print(
            f"index (parse + write), median of 3: {statistics.median(wall):.2f} s wall, "
            f"{statistics.median(cpu):.2f} s CPU (wall runs: {runs}); "
            f"objects {index.objects:,}, skipped {index.skipped}"
        )
        started = time.perf_counter()
        registry = open_registry([dump], cache)
        print(f"open warm index: {time.perf_counter() - started:.3f} s")
        started, cpu_started = time.perf_counter(), time.process_time()
        asns, v4, v6 = _expand_all(registry, options.sets)
        print(
            f"expand + prefix lists for {options.sets:,} AS-SETs: "
            f"{time.perf_counter() - started:.2f} s wall, "
            f"{time.process_time() - cpu_started:.2f} s CPU "
            f"({asns:,} ASNs, {v4:,} IPv4 and {v6:,} IPv6 entries)"
        )
        registry.close()
    sys.stdout.flush()


if __name__ == "__main__":
    main()
