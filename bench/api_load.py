"""Web API under load: a 1,000-member exchange, a route server holding about 1,000,000 routes.

What it builds, in a temporary ``IXP_HOME``:

1. The members of ``bench/synthetic_exchange.py`` (1,000 by default: WISPs,
   regional networks and a few transit networks) onboarded through the service
   layer into a fresh database (SQLite in the home, or ``--database-url``: an
   empty PostgreSQL database), with two route servers.
2. A real BIRD as route server ``rs1`` in the lab (``ixp.lab``: namespaces on
   a bridge), with one passive session per member and family, named as the
   generated configuration names them (``AS<asn>_v4_1``). The members' routers
   are one more BIRD in one namespace holding every member's LAN addresses:
   per member a table of static routes (AS paths through its customers, large
   communities on a third of them) exported over that member's own BGP
   sessions. ``--routes`` (default 1,000,000, a tenth of them IPv6) are spread
   over the members in proportion to their registered customer cones, so a
   few transit members carry most of them, as at a real exchange.
3. The monitor's data: ``show protocols all`` and ``show route filtered all``
   of rs1 read over its control socket and stored by the monitor's own
   ``record_samples`` and ``filtered.record``, for rs1 and (the same answers)
   for rs2, so every member has session rows on both, and the members with
   filtered routes have them kept twice.
4. An operator with an API token.

Then ``ixp serve`` (uvicorn, ``--workers`` 2) on loopback, the BIRDs niced below it
(``BIRD_NICE``), and per endpoint:

- ``GET /api/v1/members?limit=100&offset=...`` (the pages in turn),
- ``GET /api/v1/members/{asn}/sessions`` (every member in turn),
- ``GET /lg/rs1/routes/protocol/{id}?limit=100&offset=...`` of the member with
  the most routes (its pages in turn),
- the portal's pages (target p99 under 100 ms at 100 requests/s): a member's
  page and its filtered routes (every member in turn), and the operators'
  members table (its pages in turn),

an open-loop run at a fixed rate (``bench/open_loop.py``: latency from each
request's due time, so queueing is not hidden) after a discarded warm-up, and
a short closed-loop ``wrk`` run for the most the server does. The database
queries per request are counted in-process (SQLAlchemy cursor events on the
same app and database), for several page sizes and members to show they do not
grow with the data. ``--profile`` adds cProfile of each endpoint in-process and
the cost of one uncached looking-glass answer, split into BIRD and Python.

Prints figures; asserts nothing. Root is needed for the lab.
Run: ``.venv/bin/python bench/api_load.py [--routes N] [--rate R] [--duration S]``.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import datetime as dt
import io
import os
import pstats
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import open_loop
from bird_convergence import cpu_seconds
from rs_build import ACTOR, machine_notes
from sqlalchemy import event, select
from sqlalchemy.engine import Engine
from synthetic_exchange import LAN4, LAN6, ROUTE_SERVERS, RS_ASN, SyntheticExchange, generate

from ixp import accounts, lg
from ixp.bird import BirdClient
from ixp.db import make_engine, session_factory, upgrade
from ixp.exchange import add_route_server, get_route_server, init_exchange
from ixp.lab import netns
from ixp.lab.bird import BirdDaemon
from ixp.lab.lab import Lab
from ixp.lab.layout import LabLayout, RouteServerNode
from ixp.members import MemberInput, add_member, show_members
from ixp.models import Member
from ixp.monitor import filtered
from ixp.monitor.sessions import record_samples, samples_from
from ixp.rs.codes import REJECT_NAMESPACE, RPKI_ATTRIBUTE, RejectCode, RpkiTag
from ixp.rs.context import protocol_name
from ixp.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
IXP = ROOT / ".venv" / "bin" / "ixp"
OPERATOR = "bench-operator"
V4_FIRST = 11 << 24  # 11.0.0.0: /24s upwards, clear of every bogon range up to 100.64.0.0
V4_LAST = 100 << 24
V6_FIRST = 0x2A00 << 112  # 2a00::/16, /48s upwards
TARGET_P99 = 0.050
SLICE_SECONDS = 5.0  # the run's p99 is also printed for each slice this long
FIRST_PORT = 20_000  # rs1's port for the first member session (see _session_ports)


# -- the routes -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Announcer:
    """A member as its router runs in the bench: addresses, customers, routes per family."""

    asn: int
    name: str
    ipv4: str
    ipv6: str | None
    customers: tuple[int, ...]
    routes4: int
    routes6: int


def _spread(total: int, weights: Sequence[int]) -> list[int]:
    """``total`` split in proportion to ``weights`` (largest remainders), summing exactly."""
    whole = sum(weights)
    shares = [total * w / whole for w in weights]
    counts = [int(s) for s in shares]
    by_remainder = sorted(range(len(shares)), key=lambda i: counts[i] - shares[i])
    for index in by_remainder[: total - sum(counts)]:
        counts[index] += 1
    return counts


def announcers(exchange: SyntheticExchange, routes: int, v6_share: float) -> list[Announcer]:
    """Every member with its share of ``routes``: heavy-tailed, as its registered cone is."""
    members = exchange.members
    total6 = round(routes * v6_share)
    weights4 = [max(1, len(exchange.announcements(m, 4))) for m in members]
    weights6 = [max(1, len(exchange.announcements(m, 6))) if m.ipv6 else 0 for m in members]
    counts4 = _spread(routes - total6, weights4)
    counts6 = _spread(total6, weights6)
    return [
        Announcer(
            m.asn,
            m.name,
            m.ipv4,
            m.ipv6,
            tuple(sorted(exchange.cone(m.as_set) - {m.asn}))[:500],
            counts4[i],
            counts6[i],
        )
        for i, m in enumerate(members)
    ]


def _prefix(family: int, index: int) -> str:
    if family == 4:
        value = V4_FIRST + (index << 8)
        if value >= V4_LAST:
            raise ValueError("too many IPv4 routes for the synthetic range; use fewer --routes")
        return f"{value >> 24}.{(value >> 16) & 255}.{(value >> 8) & 255}.0/24"
    value = V6_FIRST + (index << 80)
    groups = [(value >> shift) & 0xFFFF for shift in (112, 96, 80)]
    return f"{groups[0]:x}:{groups[1]:x}:{groups[2]:x}::/48"


def _session_ports(members: Sequence[Announcer]) -> dict[tuple[int, int], int]:
    """The route server's TCP port for each (member ASN, family) session.

    One BIRD plays every member, and BIRD 2.0.12 runs at most one BGP session
    per neighbor address and port at a time (the others stay Idle, waiting for
    its lock), so each session gets its own port on rs1. Nothing else about the
    sessions changes.
    """
    keys = [(m.asn, f) for m in members for f in (4, 6) if (m.ipv4 if f == 4 else m.ipv6)]
    return {key: FIRST_PORT + index for index, key in enumerate(keys)}


# The members' routes rs1 filters: one in FILTERED_EVERY carries this large community.
FILTERED_MARK = "(64496, 100, 1)"
FILTERED_EVERY = 120


def routers_config(members: Sequence[Announcer]) -> str:
    """The members' routers as one BIRD: per member a static table and its BGP sessions.

    Three routes in five go through one of the member's customers (AS path
    ``member customer``), one in three carries a large community of the member;
    one in 120 carries ``FILTERED_MARK``, which rs1 filters.
    """
    ports = _session_ports(members)
    first = members[0]
    lines = [f"router id {first.ipv4};", "protocol device {}"]
    rs4, rs6 = ROUTE_SERVERS[0][1], ROUTE_SERVERS[0][2]
    next_index = {4: 0, 6: 0}
    for m in members:
        for family, count, address, rs in (
            (4, m.routes4, m.ipv4, rs4),
            (6, m.routes6, m.ipv6, rs6),
        ):
            if address is None:
                continue
            table = f"t{family}_{m.asn}"
            lines += [f"ipv{family} table {table};", f"protocol static s{family}_{m.asn} {{"]
            lines.append(f"  ipv{family} {{ table {table}; }};")
            for n in range(count):
                prefix = _prefix(family, next_index[family] + n)
                actions = []
                if m.customers and n % 5 < 3:
                    actions.append(f"bgp_path.prepend({m.customers[n % len(m.customers)]});")
                if n % 3 == 0:
                    actions.append(f"bgp_large_community.add(({m.asn}, 100, {1 + n % 40}));")
                if n % FILTERED_EVERY == FILTERED_EVERY - 1:
                    actions.append(f"bgp_large_community.add({FILTERED_MARK});")
                block = f" {{ {' '.join(actions)} }}" if actions else ""
                lines.append(f"  route {prefix} blackhole{block};")
            next_index[family] += count
            lines += [
                "}",
                f"protocol bgp m{family}_{m.asn} {{",
                f"  local {address} as {m.asn};",
                f"  neighbor {rs} port {ports[m.asn, family]} as {RS_ASN};",
                "  connect retry time 5;",
                f"  ipv{family} {{ table {table}; import none; export all; }};",
                "}",
            ]
    return "\n".join(lines) + "\n"


def route_server_config(members: Sequence[Announcer]) -> str:
    """rs1: a passive session per member and family, named as ``ixp rs build`` names them.

    Every route is tagged with an informational large community and accepted,
    but those marked ``FILTERED_MARK`` (one in 120, so members with fewer routes
    have none, as at a real exchange most members have none): they are rejected
    with a reject reason and kept (``import keep filtered``), for the
    filtered-routes pages. Nothing is exported: the benchmark is about reading the
    route server, not about its policy (``bench/rs_build.py`` measures that).
    """
    _name, rs4, rs6 = ROUTE_SERVERS[0]
    ports = _session_ports(members)
    lines = [
        f"router id {rs4};",
        "protocol device {}",
        f"attribute int {RPKI_ATTRIBUTE};",
        "filter bench_import {",
        f"  {RPKI_ATTRIBUTE} = {RpkiTag.VALID.value};",
        f"  if bgp_large_community ~ [{FILTERED_MARK}] then {{",
        f"    bgp_large_community.add(({RS_ASN}, {REJECT_NAMESPACE}, "
        f"{RejectCode.PREFIX_NOT_IN_AS_SET.value}));",
        "    reject;",
        "  }",
        "  accept;",
        "}",
    ]
    for m in members:
        for family, address, local in ((4, m.ipv4, rs4), (6, m.ipv6, rs6)):
            if address is None:
                continue
            lines += [
                f"protocol bgp {protocol_name(m.asn, family, 1)} {{",
                f'  description "{m.name}";',
                f"  local {local} port {ports[m.asn, family]} as {RS_ASN};",
                f"  neighbor {address} as {m.asn};",
                "  passive on;",
                "  rs client;",
                f"  ipv{family} {{ import keep filtered; import filter bench_import; "
                "export none; };",
                "}",
            ]
    return "\n".join(lines) + "\n"


# -- the lab --------------------------------------------------------------------------------------


def _imported(bird: BirdDaemon) -> tuple[int, int]:
    """(routes taken in, imported or filtered, over all sessions; sessions established)."""
    with bird.client(timeout=120.0) as client:
        protocols = [p for p in client.protocols() if p.proto == "BGP"]
    routes = sum(p.imported + p.filtered for p in protocols)
    return routes, sum(1 for p in protocols if p.established)


@contextmanager
def running_lab(settings: Settings, members: Sequence[Announcer], timeout: float) -> Iterator[Lab]:
    """rs1 and the members' routers up, every route imported; everything removed afterwards."""
    name, rs4, rs6 = ROUTE_SERVERS[0]
    layout = LabLayout(
        lan4=LAN4,
        lan6=LAN6,
        route_servers=(RouteServerNode(name, RS_ASN, rs4, rs4, rs6),),
        members=(),
    )
    lab = Lab(layout, settings, {name: route_server_config(members)})
    try:
        started = time.perf_counter()
        lab.up()
        node = lab.add_node("members", members[0].ipv4, members[0].ipv6)
        for m in members[1:]:
            netns.add_address(node.namespace, m.ipv4, LAN4)
            if m.ipv6:
                netns.add_address(node.namespace, m.ipv6, LAN6)
        routers = BirdDaemon(
            namespace=node.namespace,
            config=lab.directory / "members.conf",
            socket=lab.directory / "members.ctl",
            pidfile=lab.directory / "members.pid",
            settings=settings,
        )
        routers.config.write_text(routers_config(members), encoding="utf-8")
        routers.start(timeout=300.0)
        print(f"  lab up, members' routers started: {time.perf_counter() - started:.1f} s")
        expected = sum(m.routes4 + m.routes6 for m in members)
        sessions = sum(1 + (m.ipv6 is not None) for m in members)
        bird = lab.bird(name)
        deadline = time.monotonic() + timeout
        routes = up = 0
        shown = time.monotonic()
        while (routes, up) != (expected, sessions):
            if time.monotonic() > deadline:
                raise TimeoutError(f"rs1 has {routes:,}/{expected:,} routes, {up}/{sessions} up")
            time.sleep(2.0)
            routes, up = _imported(bird)
            if time.monotonic() - shown > 30:
                print(f"  ... rs1: {routes:,}/{expected:,} routes, {up}/{sessions} up", flush=True)
                shown = time.monotonic()
        print(
            f"  rs1 holds {routes:,} routes from {up:,} sessions: "
            f"{time.perf_counter() - started:.1f} s after the lab started",
            flush=True,
        )
        pids = [pid for pid in (bird.pid(), routers.pid()) if pid is not None]
        busy = _wait_until_idle(pids, deadline)
        for pid in pids:
            os.setpriority(os.PRIO_PROCESS, pid, BIRD_NICE)
        print(
            f"  BIRDs at {busy:.0%} of a core {time.perf_counter() - started:.1f} s after the lab "
            f"started{'' if busy < 0.05 else ' (not idle by the deadline)'}; niced to {BIRD_NICE} "
            "while the web API is measured",
            flush=True,
        )
        yield lab
    finally:
        lab.down()


def _wait_until_idle(pids: Sequence[int], deadline: float, window: float = 5.0) -> float:
    """Until the BIRDs use under 5% of a core over ``window`` seconds, or ``deadline``: rs1
    goes on exporting and the routers on sending well after the last route was imported, and
    that work is the route servers', not the web API's (in production they run on other
    hosts). Returns the share of a core they used last."""
    while True:
        before = _cpu_of(pids)
        time.sleep(window)
        busy = (_cpu_of(pids) - before) / window
        if busy < 0.05 or time.monotonic() > deadline:
            return busy


BIRD_NICE = 10
"""The BIRDs' scheduling priority while the web API is measured: on this machine they share
its cores with the server, and what they still do then (1,867 sessions' timers, an unbounded
tail of exports) is a route server's work, on other hosts in production; the server is served
first, and BIRD still answers the looking glass when the server waits."""


# -- the database ---------------------------------------------------------------------------------


def populate(settings: Settings, exchange: SyntheticExchange, rs1_socket: str) -> str:
    """The exchange, route servers (rs1 reached at ``rs1_socket``), members, the monitor's
    session rows for both route servers, and an operator; returns the operator's API token."""
    engine = make_engine(settings.effective_database_url)
    upgrade(engine)
    try:
        with session_factory(engine)() as session:
            if session.scalar(select(Member.id).limit(1)) is not None:
                raise SystemExit("the database already holds members: give an empty one")
            init_exchange(
                session, name="Bench IX", country="DE", asn=RS_ASN, lan_v4=LAN4, lan_v6=LAN6,
                actor=ACTOR,
            )  # fmt: skip
            for name, ipv4, ipv6 in ROUTE_SERVERS:
                add_route_server(
                    session, name=name, asn=RS_ASN, router_id=ipv4, ipv4=ipv4, ipv6=ipv6,
                    control_socket=rs1_socket if name == "rs1" else f"/nonexistent/{name}.ctl",
                    actor=ACTOR,
                )  # fmt: skip
            for m in exchange.members:
                data = MemberInput(
                    asn=m.asn, name=m.name, max_prefix_v4=m.max_prefix4,
                    max_prefix_v6=m.max_prefix6, as_set=m.as_set, ipv4=m.ipv4, ipv6=m.ipv6,
                )  # fmt: skip
                add_member(session, data, actor=ACTOR)
            with BirdClient(rs1_socket, timeout=120.0) as bird:
                samples = samples_from(bird.protocols())
                walked = time.perf_counter()
                found = bird.routes("filtered")
                walked = time.perf_counter() - walked
            owners = {s.protocol: s.asn for s in samples if s.filtered and s.asn is not None}
            now = dt.datetime.now(dt.UTC)
            kept: list[float] = []
            for name, _, _ in ROUTE_SERVERS:
                rs = get_route_server(session, name)
                record_samples(session, rs, samples, now)
                for _ in range(2):  # the first round, then one with nothing changed
                    started = time.perf_counter()
                    filtered.record(session, rs, found, owners, now)
                    session.flush()
                    kept.append(time.perf_counter() - started)
            session.commit()
            print(
                f"  the monitor's round: {len(found):,} filtered routes of {len(owners):,} "
                f"sessions read from rs1 in one walk, {walked:.1f} s; kept in {kept[0]:.2f} s, "
                f"{kept[1]:.2f} s for a round with nothing changed",
                flush=True,
            )
            password = secrets.token_urlsafe(24)
            accounts.add_user(
                session, username=OPERATOR, password=password, role="operator", actor=ACTOR
            )
            user = accounts.get_user(session, OPERATOR)
            return accounts.create_token(session, user, "api_load", actor=ACTOR).secret
    finally:
        engine.dispose()


# -- the endpoints --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    """One endpoint under load: a label, the paths requested in turn, and the open loop's
    rate (None: ``--rate``; the portal's pages have a target of their own)."""

    label: str
    paths: tuple[str, ...]
    rate: float | None = None


ENDPOINT_NAMES = ("members", "sessions", "lg", "member-page", "members-table", "filtered-page")
PAGE_RATE = 100.0  # the portal's target: p99 under 100 ms at 100 requests/s
PAGE_TARGET_P99 = 0.100


def endpoints(
    members: Sequence[Announcer], page_size: int, seed: int
) -> tuple[list[Endpoint], Announcer]:
    """The endpoints (their paths shuffled once) and the member whose routes are read."""
    rng = random.Random(seed)
    pages = [f"/api/v1/members?limit={page_size}&offset={o}" for o in range(0, len(members), 100)]
    sessions = [f"/api/v1/members/{m.asn}/sessions" for m in members]
    large = max(members, key=lambda m: m.routes4)
    protocol = protocol_name(large.asn, 4, 1)
    routes = [
        f"/lg/rs1/routes/protocol/{protocol}?limit={page_size}&offset={o}"
        for o in range(0, large.routes4, page_size)
    ]
    member_pages = [f"/members/{m.asn}" for m in members]
    table = [f"/members?page={n}" for n in range(1, len(members) // 50 + 1)]
    filtered = [f"/members/{m.asn}/routes/filtered" for m in members]
    for paths in (pages, sessions, routes, member_pages, table, filtered):
        rng.shuffle(paths)
    return [
        Endpoint(f"GET /api/v1/members?limit={page_size}&offset=*", tuple(pages)),
        Endpoint("GET /api/v1/members/{asn}/sessions", tuple(sessions)),
        Endpoint(
            f"GET /lg/rs1/routes/protocol/{protocol}?limit={page_size}&offset=* "
            f"({large.routes4:,} routes)",
            tuple(routes),
        ),
        Endpoint("GET /members/{asn} (portal page)", tuple(member_pages), PAGE_RATE),
        Endpoint("GET /members?page=* (portal table)", tuple(table), PAGE_RATE),
        Endpoint("GET /members/{asn}/routes/filtered (portal page)", tuple(filtered), PAGE_RATE),
    ], large


# -- in-process: query counts and profiles --------------------------------------------------------


class QueryCounter:
    """Counts the SQL statements every engine of this process sends."""

    def __init__(self) -> None:
        self.count = 0
        event.listen(Engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args: object) -> None:
        self.count += 1


def app_client(settings: Settings) -> object:
    """A TestClient on the same app ``ixp serve`` runs, against the same database and BIRD."""
    from fastapi.testclient import TestClient

    from api.app import create_app

    return TestClient(create_app(settings))


def query_counts(settings: Settings, token: str, members: Sequence[Announcer]) -> None:
    """Statements per request for each endpoint, at several page sizes and members."""
    counter = QueryCounter()
    client = app_client(settings)
    headers = {"Authorization": f"Bearer {token}"}
    small = min(members, key=lambda m: m.routes4)
    large = max(members, key=lambda m: m.routes4)
    protocol = protocol_name(large.asn, 4, 1)
    paths = [
        "/api/v1/members?limit=1",
        "/api/v1/members?limit=100",
        "/api/v1/members?limit=1000",
        "/api/v1/members?limit=100&offset=900",
        f"/api/v1/members/{small.asn}/sessions",
        f"/api/v1/members/{large.asn}/sessions",
        f"/lg/rs1/routes/protocol/{protocol}?limit=100&offset=0",
        f"/lg/rs1/routes/protocol/{protocol}?limit=1000&offset={large.routes4 // 2}",
        f"/lg/rs1/routes/protocol/{protocol_name(small.asn, 4, 1)}?limit=100",
    ]
    print("\nDatabase statements per request (in-process, same app and database; 2nd request):")
    with client:  # type: ignore[attr-defined]
        for path in paths:
            client.get(path, headers=headers)  # type: ignore[attr-defined]
            before = counter.count
            answer = client.get(path, headers=headers)  # type: ignore[attr-defined]
            print(f"  {counter.count - before:>3}  {answer.status_code}  {path}")


async def _inline(func: Callable[..., object], *args: object, **_options: object) -> object:
    return func(*args)


def profile(settings: Settings, token: str, plan: Sequence[Endpoint], requests: int) -> None:
    """cProfile of ``requests`` sequential in-process requests per endpoint.

    Starlette runs synchronous handlers and dependencies on worker threads,
    where the profiler of the calling thread cannot see them; while profiling
    they run inline (``anyio.to_thread.run_sync`` replaced), so one profile
    holds the whole request: routing, authentication, queries, serialisation.
    """
    import anyio.to_thread
    import httpx

    from api.app import create_app

    app = create_app(settings)
    headers = {"Authorization": f"Bearer {token}"}

    async def measure(endpoint: Endpoint) -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            await client.get(endpoint.paths[0], headers=headers)
            profiler = cProfile.Profile()
            started = time.perf_counter()
            profiler.enable()
            for n in range(requests):
                await client.get(endpoint.paths[n % len(endpoint.paths)], headers=headers)
            profiler.disable()
        each = (time.perf_counter() - started) / requests * 1000
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("cumulative").print_stats(r"ixp/|api/|sqlalchemy|pydantic|fastapi", 25)
        print(f"\nProfile: {endpoint.label}: {each:.1f} ms per request in-process (profiled)")
        print("\n".join(line for line in out.getvalue().splitlines()[6:] if line.strip()))

    original = anyio.to_thread.run_sync
    anyio.to_thread.run_sync = _inline  # type: ignore[assignment]
    try:
        for endpoint in plan:
            asyncio.run(measure(endpoint))
    finally:
        anyio.to_thread.run_sync = original


def uncached_lg(socket_path: str, protocol: str) -> None:
    """One looking-glass answer from scratch: BIRD's reply read and parsed, then shaped."""
    started = time.perf_counter()
    with BirdClient(socket_path, timeout=300.0) as bird:
        routes = bird.routes(f"protocol {protocol}")
    parsed = time.perf_counter() - started
    glass = lg.LookingGlass(30.0, timeout=120.0)
    started = time.perf_counter()
    answer = glass.routes(lg.Target("rs1", socket_path, RS_ASN), lg.RouteQuery.PROTOCOL, protocol)
    whole = time.perf_counter() - started
    print(
        f"\nUncached /routes/protocol/{protocol}: {len(answer.value['routes']):,} routes; "
        f"'show route protocol {protocol} all' read and parsed in {parsed:.2f} s "
        f"({len(routes) / parsed:,.0f} routes/s); the whole answer (read, parse, shape) "
        f"{whole:.2f} s. Every worker pays this once per web_lg_cache_seconds."
    )


def members_cost(settings: Settings) -> None:
    """What ``GET /api/v1/members`` does whatever the page: every member loaded and viewed."""
    engine = make_engine(settings.effective_database_url)
    try:
        with session_factory(engine)() as session:
            show_members(session)
            runs = []
            for _ in range(5):
                started = time.perf_counter()
                views = show_members(session)
                runs.append(time.perf_counter() - started)
                session.expunge_all()
    finally:
        engine.dispose()
    print(
        f"\nixp.members.show_members(): {len(views):,} members loaded and viewed in "
        f"{min(runs) * 1000:.0f} ms (best of 5); GET /api/v1/members does this for any page"
    )


# -- the server and the load ----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        try:
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        found += [int(c) for c in children]
        todo += [int(c) for c in children]
    return found


def _cpu_of(pids: Sequence[int]) -> float:
    total = 0.0
    for pid in pids:
        with suppress(OSError):
            total += cpu_seconds(pid)
    return total


@contextmanager
def serving(env: dict[str, str], port: int, workers: int, token: str) -> Iterator[list[int]]:
    """``ixp serve`` running; yields the pids of the server and its workers."""
    command = [str(IXP), "serve", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", str(workers)]
    log = open(Path(env["IXP_HOME"]) / "serve.log", "a")  # noqa: SIM115 (closed below)
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/v1/members?limit=1",
            headers={"Authorization": f"Bearer {token}"},
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(request, timeout=5) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"ixp serve did not come up; see {log.name}") from None
                time.sleep(0.2)
        time.sleep(2.0)  # every worker has started
        yield [server.pid, *_descendants(server.pid)]
    finally:
        workers_left = _descendants(server.pid)
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        # A worker stuck in a request outlives its parent's shutdown: end it too.
        netns.stop_pids(workers_left, grace=1.0)
        log.close()


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def open_loop_run(
    endpoint: Endpoint,
    port: int,
    token: str,
    args: argparse.Namespace,
    server_pids: Sequence[int],
    bird_pid: int | None,
) -> None:
    """Warm-up, then the measured run at the endpoint's rate; prints one block of figures."""
    rate = endpoint.rate or args.rate
    target = PAGE_TARGET_P99 if endpoint.rate else TARGET_P99
    headers = {"Authorization": f"Bearer {token}"}
    if args.warmup > 0:
        open_loop.run(
            "127.0.0.1", port, endpoint.paths, rate=rate, duration=args.warmup,
            headers=headers,
        )  # fmt: skip
    cpu = _cpu_of(server_pids)
    bird_cpu = cpu_seconds(bird_pid) if bird_pid else 0.0
    outcome = open_loop.run(
        "127.0.0.1", port, endpoint.paths, rate=rate, duration=args.duration, headers=headers
    )
    server_cpu = _cpu_of(server_pids) - cpu
    bird_cpu = (cpu_seconds(bird_pid) if bird_pid else 0.0) - bird_cpu
    lat = outcome.latencies
    slow = sum(1 for x in lat if x > target)
    answered = max(1, len(lat))
    errors = ", ".join(f"{k} x{v}" for k, v in outcome.errors.items()) or "0"
    p50, p90, p99 = (open_loop.percentile(lat, q) for q in (0.5, 0.9, 0.99))
    print(f"\n{endpoint.label}")
    print(
        f"  open loop at {rate:g}/s for {args.duration:g} s: {outcome.sent:,} sent, "
        f"{outcome.achieved:,.1f} answered/s; latency from due time p50 {_ms(p50)} "
        f"p90 {_ms(p90)} p99 {_ms(p99)} max {_ms(max(lat, default=0.0))} ms; errors {errors}; "
        f"over {target * 1000:.0f} ms: {slow:,} ({slow / answered:.2%})"
    )
    print(
        f"  service time (from write) p50 {_ms(open_loop.percentile(outcome.service, 0.5))} "
        f"p99 {_ms(open_loop.percentile(outcome.service, 0.99))} ms; server CPU "
        f"{server_cpu:.1f} s = {server_cpu / answered * 1000:.2f} ms per answer "
        f"({server_cpu / outcome.elapsed:.2f} of 2 cores); BIRD CPU {bird_cpu:.2f} s; "
        f"{outcome.bytes_read / answered / 1024:.1f} KiB per answer; "
        f"client: {outcome.connections} connections, CPU {outcome.client_cpu:.1f} s, "
        f"send lag p99 {_ms(open_loop.percentile(outcome.send_lag, 0.99))} "
        f"max {_ms(max(outcome.send_lag, default=0.0))} ms",
        flush=True,
    )
    slices = " ".join(_ms(p) for p in outcome.p99_by_slice(SLICE_SECONDS))
    print(f"  p99 of each {SLICE_SECONDS:g} s of the run (ms): {slices}", flush=True)


_WRK_LINE = re.compile(r"^\s*(Requests/sec|Latency|\s*50%|\s*90%|\s*99%|Non-2xx|Socket errors)")


def wrk_run(endpoint: Endpoint, port: int, token: str, args: argparse.Namespace) -> None:
    """A closed-loop ``wrk`` run (its connections each wait for their answer): the most the
    server answers; its latencies are not comparable with the open-loop ones."""
    if shutil.which("wrk") is None:
        print("  wrk: not installed (apt-get install wrk)")
        return
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        quoted = ",\n".join(f'  "{p}"' for p in endpoint.paths)
        script.write(
            f"paths = {{\n{quoted}\n}}\nn = 0\n"
            "request = function()\n  n = n % #paths + 1\n"
            "  return wrk.format('GET', paths[n])\nend\n"
        )
    try:
        command = [
            "wrk", "-t2", f"-c{args.wrk_connections}", f"-d{args.wrk_duration:g}s", "--latency",
            "-H", f"Authorization: Bearer {token}", "-s", script.name,
            f"http://127.0.0.1:{port}/",
        ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, check=False)
    finally:
        os.unlink(script.name)
    kept = [line.strip() for line in result.stdout.splitlines() if _WRK_LINE.match(line)]
    print(
        f"  wrk -t2 -c{args.wrk_connections} -d{args.wrk_duration:g}s (closed loop): "
        + "; ".join(kept)
    )


# -- main -----------------------------------------------------------------------------------------


def options() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--routes", type=int, default=1_000_000, help="routes on rs1")
    parser.add_argument("--v6-share", type=float, default=0.1, help="of the routes, IPv6")
    parser.add_argument("--objects", type=int, default=100_000, help="synthetic registry size")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--database-url", help="an empty database (default: SQLite in the home)")
    parser.add_argument("--workers", type=int, default=2, help="ixp serve --workers")
    parser.add_argument("--rate", type=float, default=200.0, help="requests/s of the open loop")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds per endpoint")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds, not measured")
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument(
        "--lg-cache-seconds", type=float, help="web_lg_cache_seconds (default: the setting's)"
    )
    parser.add_argument("--wrk-duration", type=float, default=10.0, help="0: no wrk runs")
    parser.add_argument("--wrk-connections", type=int, default=16)
    parser.add_argument("--converge-timeout", type=float, default=1800.0)
    parser.add_argument(
        "--hold", action="store_true", help="keep the exchange up after setting it up, no load"
    )
    parser.add_argument("--profile", type=int, default=0, help="profile N requests/endpoint")
    parser.add_argument("--only", nargs="+", choices=ENDPOINT_NAMES, help="endpoints to load")
    return parser.parse_args()


def _terminate(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def main() -> None:
    """Build everything in a temporary home, load each endpoint, print the figures."""
    args = options()
    signal.signal(signal.SIGTERM, _terminate)
    reason = netns.available()
    if reason is not None:
        raise SystemExit(f"the lab is needed for a real route server: {reason}")
    print(f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; {' '.join(sys.argv)}")
    for what, value in machine_notes():
        print(f"  {what}: {value}")
    with tempfile.TemporaryDirectory(prefix="ixpa-", dir="/tmp") as temp:
        home = Path(temp) / "home"
        key = secrets.token_urlsafe(48)
        env = {k: v for k, v in os.environ.items() if not k.startswith("IXP_")}
        env |= {"IXP_HOME": str(home), "IXP_WEB_SECRET_KEY": key}
        env["IXP_WEB_ENVIRONMENT"] = "production"
        if args.database_url:
            env["IXP_DATABASE_URL"] = args.database_url
        if args.lg_cache_seconds is not None:
            env["IXP_WEB_LG_CACHE_SECONDS"] = f"{args.lg_cache_seconds:g}"
        os.environ.update(env)
        settings = Settings()
        started = time.perf_counter()
        exchange = generate(Path(temp), members=args.members, objects=args.objects, seed=args.seed)
        members = announcers(exchange, args.routes, args.v6_share)
        plan, large = endpoints(members, args.page_size, args.seed)
        top = sorted((m.routes4 + m.routes6 for m in members), reverse=True)
        print(
            f"  {len(members):,} members, {sum(top):,} routes "
            f"({sum(m.routes6 for m in members):,} IPv6); the largest five carry "
            f"{', '.join(f'{n:,}' for n in top[:5])}; median {top[len(top) // 2]:,}; "
            f"generated in {time.perf_counter() - started:.1f} s",
            flush=True,
        )
        with running_lab(settings, members, args.converge_timeout) as lab:
            bird = lab.bird(ROUTE_SERVERS[0][0])
            started = time.perf_counter()
            token = populate(settings, exchange, str(bird.socket))
            print(
                f"  database ({settings.effective_database_url.split(':')[0]}) populated with "
                f"{len(members):,} members and the monitor's session rows in "
                f"{time.perf_counter() - started:.1f} s",
                flush=True,
            )
            query_counts(settings, token, members)
            if args.hold:
                print(
                    f"\nholding (Ctrl-C ends): IXP_HOME={home} IXP_WEB_SECRET_KEY={key} "
                    f"token {token}; rs1 {bird.socket}",
                    flush=True,
                )
                signal.pause()
            if args.profile:
                members_cost(settings)
                uncached_lg(str(bird.socket), protocol_name(large.asn, 4, 1))
                profile(settings, token, plan, args.profile)
            chosen = dict(zip(ENDPOINT_NAMES, plan, strict=True))
            print(f"\nweb_lg_cache_seconds {settings.web_lg_cache_seconds:g}")
            for name in args.only or chosen:
                endpoint = chosen[name]
                # A fresh server per run: one that a run overloaded is not the next's.
                for closed_loop in (False, True) if args.wrk_duration > 0 else (False,):
                    port = _free_port()
                    with serving(env, port, args.workers, token) as pids:
                        print(
                            f"\n[ixp serve --workers {args.workers} on 127.0.0.1:{port}; "
                            "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg()) + "]"
                        )
                        if closed_loop:
                            wrk_run(endpoint, port, token, args)
                        else:
                            open_loop_run(endpoint, port, token, args, pids, bird.pid())
            print("\nload average at the end: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
