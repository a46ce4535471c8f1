"""Benchmark: route-server configs for a 1,000-member exchange, against arouteserver, and BIRD.

Builds a synthetic exchange (``bench/synthetic_exchange.py``: 1,000 members,
a 1,000,000-object RPSL dump consistent with their AS-SETs, ROAs, two route
servers) in a temporary ``IXP_HOME`` and prints, as one table:

1. indexing the dump (``ixp.irr.index.open_registry`` on a cold cache) and a
   full ``ixp.irr.service.sync`` of every member, cold and warm;
2. a warm ``ixp rs build`` (the CLI, a fresh process each run; data already
   indexed and synced; includes ``bird -p`` on each config), for both route
   servers and for one;
3. arouteserver (in its own virtualenv under ``--ars-venv``) building the
   same route server(s) from the same registry data and ROAs through its
   cache directory, plus ``bird -p`` on what it wrote, and the ratio;
4. BIRD convergence in the lab (``ixp.lab``): CPU seconds of the route
   server until its routes hold still, with ``--lab-members`` ExaBGP members
   announcing their registered prefixes, on the generated config, on the same
   sessions with no filters at all, and on diagnostic variants (the
   generated config with its filters replaced by ``all``; with empty ROA
   tables; rebuilt with a table per member joined by pipes, the design the
   generated one was chosen over).

Figures are printed, never asserted. ``--quick`` runs everything at a tenth of
the size as a smoke test. ``--build-only`` times phase 2 alone, five runs by
default, adding builds right after a change to one member (a fresh process, and
a process that has built before, as the API's "Build now" runs); with ``--home
DIR`` the prepared exchange is kept in DIR and reused by the next run. Every
namespace, process and temporary file is removed at the end, also on failure or
Ctrl-C.

Run: ``.venv/bin/python bench/rs_build.py [--quick]`` (root needed for the lab).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import ars_compare
import bird_convergence
from sqlalchemy.orm import Session
from synthetic_exchange import LAN4, LAN6, ROUTE_SERVERS, RS_ASN, SyntheticExchange, generate

from ixp.db import make_engine, session_factory, upgrade
from ixp.exchange import add_route_server, get_route_server, init_exchange
from ixp.irr.index import open_registry
from ixp.irr.service import irr_for_members, sync
from ixp.irr.sources import DumpSource
from ixp.irr.types import PrefixEntry
from ixp.lab import netns
from ixp.lab.exabgp import Route
from ixp.lab.lab import Lab
from ixp.lab.layout import LabLayout, MemberNode, RouteServerNode
from ixp.members import MemberInput, add_member, list_members, update_member
from ixp.rpki.service import load_file
from ixp.rs.context import build_context
from ixp.rs.history import run_build
from ixp.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
IXP = ROOT / ".venv" / "bin" / "ixp"
DEFAULT_ARS_VENV = Path.home() / ".cache" / "ixp-bench" / f"arouteserver-{ars_compare.ARS_VERSION}"


@dataclass
class Report:
    """The figures collected so far, printed as one table."""

    rows: list[tuple[str, str, str]] = field(default_factory=list)

    def add(self, what: str, value: str, note: str = "") -> None:
        """Record one figure and echo it at once (a long run shows progress)."""
        self.rows.append((what, value, note))
        print(f"  {what}: {value}{f'  ({note})' if note else ''}", flush=True)

    def print(self) -> None:
        """The whole table."""
        width = max(len(r[0]) for r in self.rows)
        value_width = max(len(r[1]) for r in self.rows)
        print("\n" + "=" * (width + value_width + 40))
        for what, value, note in self.rows:
            print(f"{what:<{width}}  {value:>{value_width}}  {note}")
        print("=" * (width + value_width + 40), flush=True)


@dataclass(frozen=True)
class Timing:
    """Wall and CPU seconds of one measured step (CPU: this process and its children)."""

    wall: float
    cpu: float


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(action: Callable[[], object]) -> Timing:
    """Run ``action`` once and measure it."""
    cpu, wall = _cpu(), time.perf_counter()
    action()
    return Timing(time.perf_counter() - wall, _cpu() - cpu)


def repeated(
    action: Callable[[], object], runs: int, before: Callable[[], object] | None = None
) -> list[Timing]:
    """``runs`` timings of ``action`` (``before`` runs untimed ahead of each)."""
    timings = []
    for _ in range(runs):
        if before is not None:
            before()
        timings.append(timed(action))
    return timings


def describe(timings: list[Timing]) -> tuple[str, str]:
    """(median wall, note with CPU and every run) for the table."""
    wall = statistics.median(t.wall for t in timings)
    cpu = statistics.median(t.cpu for t in timings)
    walls = [t.wall for t in timings]
    runs = ", ".join(f"{w:.2f}" for w in walls)
    spread = f"spread {min(walls):.2f}-{max(walls):.2f} s"
    return f"{wall:.2f} s", f"median of {len(timings)}; {spread}; CPU {cpu:.2f} s; runs {runs}"


def machine_notes() -> list[tuple[str, str]]:
    """What the figures were measured on."""
    model = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    bird = subprocess.run(["bird", "--version"], capture_output=True, text=True, check=False)
    memory = Path("/proc/meminfo").read_text().split("\n", 1)[0].split()[1]
    return [
        ("cpu", f"{os.cpu_count()} x {model}"),
        ("memory", f"{int(memory) // 1024} MB"),
        ("load average", " ".join(f"{x:.2f}" for x in os.getloadavg())),
        ("bird", (bird.stderr or bird.stdout).strip()),
        ("python", platform.python_version()),
    ]


# -- setup ----------------------------------------------------------------------------------------


ACTOR = "bench"  # what the audit log records for the benchmark's writes


def populate(settings: Settings, exchange: SyntheticExchange) -> None:
    """The exchange, its two route servers and every member, through the service layer."""
    engine = make_engine(settings.effective_database_url)
    upgrade(engine)
    with session_factory(engine)() as session:
        init_exchange(
            session,
            name="Bench IX",
            country="DE",
            asn=RS_ASN,
            lan_v4=LAN4,
            lan_v6=LAN6,
            actor=ACTOR,
        )
        for name, ipv4, ipv6 in ROUTE_SERVERS:
            add_route_server(
                session,
                name=name,
                asn=RS_ASN,
                router_id=ipv4,
                ipv4=ipv4,
                ipv6=ipv6,
                actor=ACTOR,
            )
        for m in exchange.members:
            data = MemberInput(
                asn=m.asn,
                name=m.name,
                max_prefix_v4=m.max_prefix4,
                max_prefix_v6=m.max_prefix6,
                as_set=m.as_set,
                ipv4=m.ipv4,
                ipv6=m.ipv6,
            )
            add_member(session, data, actor=ACTOR)
    engine.dispose()


@contextmanager
def database(settings: Settings) -> Iterator[Session]:
    """A session on the benchmark database."""
    engine = make_engine(settings.effective_database_url)
    try:
        with session_factory(engine)() as session:
            yield session
    finally:
        engine.dispose()


# -- phases ---------------------------------------------------------------------------------------


def bench_irr(settings: Settings, exchange: SyntheticExchange, runs: int, report: Report) -> None:
    """Indexing the dump alone, then full syncs (cold index and warm)."""
    cache = settings.home / "irr"

    def drop_index() -> None:
        shutil.rmtree(cache, ignore_errors=True)

    def index_only() -> None:
        open_registry([exchange.dump], cache).close()

    size = exchange.dump.stat().st_size / 1e6
    objects = sum(exchange.object_counts.values())
    report.add(
        f"index {objects:,}-object dump ({size:.0f} MB)",
        *describe(repeated(index_only, runs, before=drop_index)),
    )
    outcomes: dict[str, int] = {}

    def sync_all() -> None:
        with database(settings) as session:
            result = sync(session, settings, rpsl_files=[exchange.dump])
        outcomes.clear()
        for item in result.results:
            outcomes[item.outcome.value] = outcomes.get(item.outcome.value, 0) + 1

    cold = repeated(sync_all, 1, before=drop_index)
    wall, note = describe(cold)
    report.add(
        f"irr sync, {len(exchange.members)} members, cold index", wall, f"{note}; {outcomes}"
    )
    report.add("irr sync, warm index", *describe(repeated(sync_all, runs)))


def cli_build(settings: Settings, out: Path, rs: str | None) -> dict[str, object]:
    """One ``ixp rs build`` in a fresh process; returns its JSON report."""
    command = [str(IXP), "rs", "build", "--out", str(out), "--json"]
    if rs is not None:
        command += ["--rs", rs]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"ixp rs build failed: {(result.stderr or result.stdout)[-500:]}")
    return json.loads(result.stdout)


def bench_ixp_build(settings: Settings, runs: int, report: Report) -> dict[str, float]:
    """Warm CLI builds of both route servers and of rs1 alone; returns the medians."""
    out = settings.home / "build"
    reports: list[dict[str, object]] = []
    timings = repeated(lambda: reports.append(cli_build(settings, out, None)), runs)
    last = reports[-1]["route_servers"]
    detail = "; ".join(
        f"{r['rs_name']}: render {r['render_seconds']:.2f} s, bird -p {r['check_seconds']:.2f} s, "
        f"{r['sessions']} sessions, {r['roas']} ROAs, {len(r['excluded'])} excluded"
        for r in last
    )
    wall, note = describe(timings)
    report.add("ixp rs build (CLI, both route servers, warm)", wall, note)
    report.add("  breakdown of the last run", "", detail)
    one = repeated(lambda: cli_build(settings, out, "rs1"), runs)
    report.add("ixp rs build --rs rs1 (CLI, warm)", *describe(one))
    return {
        "both": statistics.median(t.wall for t in timings),
        "rs1": statistics.median(t.wall for t in one),
    }


def prepare(base: Path, args: argparse.Namespace, report: Report) -> Settings:
    """The synthetic exchange populated, synced and ROAs loaded in ``base`` (reused if done).

    ``base/prepared`` records that every step finished, so ``--home`` lets repeated
    build-only runs skip the minute of setup.
    """
    home = base / "home"
    os.environ["IXP_HOME"] = str(home)
    os.environ.pop("IXP_CONFIG", None)
    settings = Settings(home=home)
    marker = base / "prepared"
    if marker.exists():
        report.add("prepared exchange", "reused", str(base))
        return settings
    shutil.rmtree(home, ignore_errors=True)
    started = time.perf_counter()
    exchange = generate(base, members=args.members, objects=args.objects, seed=args.seed)
    populate(settings, exchange)
    with database(settings) as session:
        sync(session, settings, rpsl_files=[exchange.dump])
        load_file(session, exchange.roas, settings=settings, actor=ACTOR)
    marker.write_text(f"{args.members} members, {args.objects} objects, seed {args.seed}\n")
    report.add("prepared exchange", f"{time.perf_counter() - started:.1f} s", str(base))
    return settings


def change_one_member(settings: Settings) -> None:
    """Alternate one member's IPv4 max-prefix: a change that reaches both configurations."""
    with database(settings) as session:
        members = list_members(session)
        member = members[len(members) // 2]
        limit = (
            member.max_prefix_v4 + 1 if member.max_prefix_v4 % 2 == 0 else member.max_prefix_v4 - 1
        )
        update_member(session, member.asn, {"max_prefix_v4": limit}, actor=ACTOR)


def bench_build_only(settings: Settings, runs: int, report: Report) -> None:
    """Warm builds only: ``ixp rs build`` (a fresh process each run) of both route servers
    and of one, both again right after a change to one member, and that rebuild in a
    process that has built before (as the API's "Build now" runs it).

    One untimed build first, so every timed run finds what an earlier build keeps.
    """
    out = settings.home / "build"
    cli_build(settings, out, None)
    bench_ixp_build(settings, runs, report)
    changed = repeated(
        lambda: cli_build(settings, out, None), runs, before=lambda: change_one_member(settings)
    )
    report.add("ixp rs build after one member changed (CLI, both)", *describe(changed))
    with database(settings) as session:

        def in_process(rs: str | None) -> None:
            outcome = run_build(session, settings, out, rs_name=rs, actor=ACTOR)
            if outcome.failure is not None:
                raise outcome.failure

        in_process(None)
        for rs, what in ((None, "both"), ("rs1", "rs1 only")):
            warm = repeated(
                lambda rs=rs: in_process(rs), runs, before=lambda: change_one_member(settings)
            )
            report.add(f"build after one member changed (warm process, {what})", *describe(warm))


def _bundle(
    name: str, asns: Sequence[int], v4: Sequence[PrefixEntry], v6: Sequence[PrefixEntry]
) -> ars_compare.Bundle:
    return ars_compare.Bundle(
        name,
        tuple(asns),
        tuple((e.prefix, e.max_length) for e in v4),
        tuple((e.prefix, e.max_length) for e in v6),
    )


def ars_inputs(
    settings: Settings, exchange: SyntheticExchange
) -> tuple[list[ars_compare.Client], list[ars_compare.Bundle], list[ars_compare.RouteServer]]:
    """The members, their registry data as ixp synced it, and ``AS<asn>`` bundles from the dump.

    arouteserver expands each client's own ASN as well as its AS-SET, so the
    ``AS<asn>`` bundles come from the same indexed dump through ixp's source.
    """
    clients, bundles = [], {}
    source = DumpSource(settings, [exchange.dump])
    try:
        with database(settings) as session:
            members = list_members(session)
            data = irr_for_members(session, members)
            servers = [
                ars_compare.RouteServer(rs.name, rs.asn, rs.router_id)
                for rs in members[0].exchange.route_servers
            ]
            for member in members:
                irr = data[member.id]
                if irr is None:
                    continue
                bundles[irr.as_set] = _bundle(irr.as_set, irr.asns, irr.v4, irr.v6)
                own = f"AS{member.asn}"
                if own not in bundles:
                    got = source.fetch(own, own)
                    bundles[own] = _bundle(own, got.asns, got.v4, got.v6)
                addresses = tuple(
                    a.address for a in sorted(member.addresses, key=lambda a: a.family)
                )
                clients.append(
                    ars_compare.Client(
                        member.asn,
                        member.display_name,
                        addresses,
                        irr.as_set,
                        member.max_prefix_v4,
                        member.max_prefix_v6,
                    )
                )
    finally:
        source.close()
    return clients, list(bundles.values()), servers


def bird_parse(path: Path) -> None:
    """``bird -p`` on a config; raises with BIRD's message if it does not parse."""
    result = subprocess.run(["bird", "-p", "-c", str(path)], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"bird -p {path}: {(result.stderr or result.stdout).strip()[-300:]}")


def bench_arouteserver(
    settings: Settings,
    exchange: SyntheticExchange,
    venv: Path,
    route_servers: int,
    runs: int,
    ixp: dict[str, float],
    report: Report,
) -> None:
    """arouteserver on the same data; the ratio to ixp for the same route servers."""
    setup = timed(lambda: ars_compare.ensure_venv(venv))
    binary = ars_compare.ensure_venv(venv)
    version = ars_compare.installed_version(venv)
    report.add("arouteserver virtualenv", f"{setup.wall:.1f} s", f"{venv}, arouteserver {version}")
    clients, bundles, servers = ars_inputs(settings, exchange)
    servers = servers[:route_servers]
    work = settings.home / "arouteserver"
    configs = ars_compare.write_inputs(
        work, venv, servers, clients, bundles, exchange.roas, (None, None)
    )
    report.add(
        "arouteserver inputs",
        f"{len(clients)} clients",
        f"{len(bundles)} IRR bundles pre-fetched in its cache; {exchange.roa_count} ROAs",
    )
    generate_seconds: list[float] = []
    parse_seconds: list[float] = []

    def one_build() -> None:
        for rs in servers:
            output = work / f"{rs.name}.conf"
            generate_seconds.append(ars_compare.build(binary, configs[rs.name], output))
            started = time.perf_counter()
            bird_parse(output)
            parse_seconds.append(time.perf_counter() - started)

    timings = repeated(one_build, runs)
    names = "+".join(rs.name for rs in servers)
    wall, note = describe(timings)
    report.add(f"arouteserver bird + bird -p ({names})", wall, note)
    report.add(
        "  of which arouteserver / bird -p",
        f"{statistics.median(generate_seconds):.1f} / {statistics.median(parse_seconds):.1f} s",
        f"per route server, median; --target-version {ars_compare.BIRD_TARGET}",
    )
    ours = ixp["rs1"] if route_servers == 1 else ixp["both"]
    ratio = statistics.median(t.wall for t in timings) / ours
    report.add(
        f"speed-up: arouteserver / ixp ({names})",
        f"{ratio:.1f}x",
        f"ixp {ours:.2f} s (warm CLI); target >= 5x; ixp/arouteserver = {1 / ratio:.3f}",
    )


def lab_layout(exchange: SyntheticExchange, count: int, cap: int) -> tuple[LabLayout, list[int]]:
    """Every ``k``-th member (a representative mix) announcing its registered prefixes to rs1.

    At most ``cap`` prefixes per member and family: every speaker also receives
    every other member's routes, and 100 ExaBGP processes parsing the full
    cones (about 23,000 routes each at full size) starve BIRD of CPU on two cores.
    """
    name, ipv4, ipv6 = ROUTE_SERVERS[0]
    step = max(1, len(exchange.members) // count)
    chosen = exchange.members[::step][:count]
    nodes = []
    families = []
    for m in chosen:
        routes = [
            Route(prefix, as_path=path)
            for family in (4, 6)
            if (m.ipv4 if family == 4 else m.ipv6)
            for prefix, path in exchange.announcements(m, family)[:cap]
        ]
        peers = tuple(a for a, mine in ((ipv4, m.ipv4), (ipv6, m.ipv6)) if mine)
        families.append(len(peers))
        nodes.append(MemberNode(m.asn, m.name, m.ipv4, m.ipv6, tuple(routes), False, peers))
    layout = LabLayout(
        lan4=LAN4,
        lan6=LAN6,
        route_servers=(RouteServerNode(name, RS_ASN, ipv4, ipv4, ipv6),),
        members=tuple(nodes),
    )
    return layout, families


def bench_convergence(
    settings: Settings,
    exchange: SyntheticExchange,
    members: int,
    cap: int,
    runs: int,
    diagnose_runs: int,
    report: Report,
) -> None:
    """CPU seconds of BIRD until it holds still, generated config against no filters."""
    diagnose = diagnose_runs > 0
    reason = netns.available()
    if reason is not None:
        report.add("BIRD convergence", "skipped", reason)
        return
    generated = (settings.home / "build" / "rs1.conf").read_text()
    with database(settings) as session:
        context = build_context(session, get_route_server(session, "rs1"), settings).context
    variants = {
        "generated": generated,
        "no filters (baseline)": bird_convergence.baseline_config(context),
    }
    if diagnose:
        variants["generated, both filters -> all"] = bird_convergence.without_filters(generated)
        variants["generated, export filter -> all"] = bird_convergence.without_export_filters(
            generated
        )
        variants["generated, empty ROA tables"] = bird_convergence.without_roas(generated)
    layout, families = lab_layout(exchange, members, cap)
    in_lab = {a for m in layout.members for a in (m.ipv4, m.ipv6) if a}
    enabled = {s.name for m in context.members for s in m.sessions if s.neighbor in in_lab}
    variants = {v: bird_convergence.lab_sessions(c, enabled) for v, c in variants.items()}
    if diagnose:
        variants["per-member tables + pipes"] = bird_convergence.with_member_tables(
            variants["generated"]
        )
    announced = sum(len(m.routes) for m in layout.members)
    expected = sum(families)
    # ExaBGP's reactor wakes every speed/100 s (10 ms by default); 100 idle speakers
    # waking that often saturate two cores and starve BIRD. 50 ms is plenty for a lab.
    os.environ["exabgp_reactor_speed"] = "5.0"  # noqa: SIM112 (ExaBGP reads this spelling)
    lab = Lab(layout, settings, {"rs1": variants["no filters (baseline)"]})
    started = time.perf_counter()
    try:
        lab.up()
        report.add(
            "lab up",
            f"{time.perf_counter() - started:.1f} s",
            f"{len(layout.members)} ExaBGP members, {expected} sessions, {announced} routes "
            f"announced to rs1 (configured for {len(context.members)} members)",
        )
        results: dict[str, list[bird_convergence.Convergence]] = {v: [] for v in variants}
        main_variants = ("generated", "no filters (baseline)")
        for round_number in range(runs):
            for variant, config in variants.items():
                if round_number >= diagnose_runs and variant not in main_variants:
                    continue
                run = bird_convergence.measure(lab, "rs1", variant, config, expected)
                results[variant].append(run)
                print(
                    f"    run: {variant}: {run.total_cpu:.2f} CPU-s ({run.route_cpu:.2f} on "
                    f"routes), wall {run.wall:.1f} s",
                    flush=True,
                )
    finally:
        lab.down()
    medians = {v: bird_convergence.summarize(r) for v, r in results.items()}
    parse = {v: bird_convergence.parse_cpu(c, settings.home) for v, c in variants.items()}
    for variant, m in medians.items():
        runs_text = ", ".join(f"{r.total_cpu:.2f}" for r in results[variant])
        route_text = ", ".join(f"{r.route_cpu:.2f}" for r in results[variant])
        report.add(
            f"BIRD CPU to converge: {variant}",
            f"{m['total_cpu']:.2f} s",
            f"median of {len(results[variant])}: runs {runs_text}; "
            f"on routes (less idle CPU over the run) {m['route_cpu']:.2f} s, runs {route_text}; "
            f"of which startup {m['startup_cpu']:.2f} s; "
            f"config parse (bird -p, apart) {parse[variant]:.2f} s; wall {m['wall']:.1f} s; "
            f"{m['routes']:.0f} routes + {m['filtered']:.0f} filtered; "
            f"peak RSS {m['max_rss_mb']:.0f} MB; idle afterwards {m['idle_rate']:.3f} CPU-s/s",
        )
    base, ours = medians["no filters (baseline)"], medians["generated"]
    with_parse = (ours["total_cpu"] + parse["generated"]) / (
        base["total_cpu"] + parse["no filters (baseline)"]
    )
    after_start = (ours["total_cpu"] - ours["startup_cpu"]) / (
        base["total_cpu"] - base["startup_cpu"]
    )
    on_routes = ours["route_cpu"] / base["route_cpu"]
    report.add(
        "convergence ratio generated / no filters",
        f"{ours['total_cpu'] / base['total_cpu']:.2f}x",
        f"daemon CPU; target <= 1.2x; on routes only: {on_routes:.2f}x; "
        f"without the startup (ROA tables): {after_start:.2f}x; "
        f"with config parse added to both: {with_parse:.2f}x",
    )
    unfiltered = medians.get("generated, both filters -> all")
    if unfiltered is not None:
        report.add(
            "convergence ratio generated / same sessions, filters -> all",
            f"{ours['total_cpu'] / unfiltered['total_cpu']:.2f}x",
            f"the generated tables and channel options with and without the filters; "
            f"on routes only: {ours['route_cpu'] / unfiltered['route_cpu']:.2f}x",
        )


# -- main -----------------------------------------------------------------------------------------


def options() -> argparse.Namespace:
    """Command-line options; ``--quick`` scales the defaults down for a smoke run."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the size, one run each")
    parser.add_argument("--members", type=int, help="members (default 1000; quick 100)")
    parser.add_argument("--objects", type=int, help="registry objects (default 1e6; quick 1e5)")
    parser.add_argument(
        "--runs", type=int, help="runs per timed step (default 3, build-only 5; quick 1)"
    )
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--ars-venv",
        type=Path,
        default=DEFAULT_ARS_VENV,
        help="virtualenv for arouteserver (created if missing)",
    )
    parser.add_argument(
        "--ars-route-servers",
        type=int,
        choices=(1, 2),
        default=1,
        help="route servers arouteserver builds (its bird -p takes minutes each)",
    )
    parser.add_argument("--ars-runs", type=int, default=1)
    parser.add_argument("--skip-ars", action="store_true")
    parser.add_argument("--lab-members", type=int, help="ExaBGP members (default 100; quick 10)")
    parser.add_argument(
        "--lab-routes",
        type=int,
        default=100,
        help="prefixes each lab member announces per family, at most",
    )
    parser.add_argument("--convergence-runs", type=int, help="default 3; quick 1")
    parser.add_argument(
        "--diagnose-runs",
        type=int,
        default=1,
        help="runs of the diagnostic convergence variants (0: none)",
    )
    parser.add_argument("--skip-convergence", action="store_true")
    parser.add_argument("--keep", type=Path, help="copy the generated configs here at the end")
    parser.add_argument(
        "--build-only",
        action="store_true",
        help="time only warm ixp rs builds (both, one, after a member change); no lab, no ars",
    )
    parser.add_argument(
        "--home",
        type=Path,
        help="keep the prepared exchange here and reuse it on the next run (default: temporary)",
    )
    args = parser.parse_args()  # fmt: skip
    quick = args.quick
    args.members = args.members or (100 if quick else 1000)
    args.objects = args.objects or (100_000 if quick else 1_000_000)
    args.runs = args.runs or (1 if quick else 5 if args.build_only else 3)
    args.lab_members = args.lab_members or (10 if quick else 100)
    args.convergence_runs = args.convergence_runs or (1 if quick else 3)
    return args


def guarded(phase: str, report: Report, action: Callable[[], object]) -> None:
    """Run one optional phase; a failure is reported and the remaining phases still run."""
    try:
        action()
    except Exception as exc:  # any failure of a peer tool or the lab ends only its phase
        report.add(phase, "failed", f"{type(exc).__name__}: {str(exc)[:400]}")


def _terminate(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def main() -> None:
    """Run every phase in a temporary IXP_HOME and print the table."""
    args = options()
    signal.signal(signal.SIGTERM, _terminate)
    report = Report()
    for what, value in machine_notes():
        report.add(what, value)
    if args.build_only:
        with tempfile.TemporaryDirectory(prefix="ixpb-", dir="/tmp") as temp:
            base = args.home or Path(temp)
            base.mkdir(parents=True, exist_ok=True)
            bench_build_only(prepare(base, args, report), args.runs, report)
        report.add("load average at the end", " ".join(f"{x:.2f}" for x in os.getloadavg()))
        report.print()
        return
    with tempfile.TemporaryDirectory(prefix="ixpb-", dir="/tmp") as temp:
        home = Path(temp) / "home"
        os.environ["IXP_HOME"] = str(home)
        os.environ.pop("IXP_CONFIG", None)
        settings = Settings(home=home)
        started = time.perf_counter()
        exchange = generate(Path(temp), members=args.members, objects=args.objects, seed=args.seed)
        kinds: dict[str, int] = {}
        for m in exchange.members:
            kinds[m.kind] = kinds.get(m.kind, 0) + 1
        report.add(
            "synthetic exchange generated",
            f"{time.perf_counter() - started:.1f} s",
            f"members {kinds}; objects {exchange.object_counts}; {exchange.roa_count} ROAs",
        )
        report.add(
            "database populated", f"{timed(lambda: populate(settings, exchange)).wall:.1f} s"
        )
        bench_irr(settings, exchange, args.runs, report)
        with database(settings) as session:
            loaded = timed(
                lambda: load_file(session, exchange.roas, settings=settings, actor=ACTOR)
            )
        report.add("ixp rpki load", f"{loaded.wall:.2f} s", f"{exchange.roa_count} ROAs")
        ixp = bench_ixp_build(settings, args.runs, report)
        if not args.skip_ars:
            guarded(
                "arouteserver",
                report,
                lambda: bench_arouteserver(
                    settings,
                    exchange,
                    args.ars_venv,
                    args.ars_route_servers,
                    args.ars_runs,
                    ixp,
                    report,
                ),
            )
        if not args.skip_convergence:
            guarded(
                "BIRD convergence",
                report,
                lambda: bench_convergence(
                    settings,
                    exchange,
                    args.lab_members,
                    args.lab_routes,
                    args.convergence_runs,
                    args.diagnose_runs,
                    report,
                ),
            )
        report.add("load average at the end", " ".join(f"{x:.2f}" for x in os.getloadavg()))
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            for config in (home / "build").glob("*.conf"):
                shutil.copy(config, args.keep / config.name)
            for config in (home / "arouteserver").glob("*.conf"):
                shutil.copy(config, args.keep / f"arouteserver-{config.name}")
    report.print()


if __name__ == "__main__":
    sys.exit(main())
