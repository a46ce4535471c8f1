"""BIRD convergence cost: CPU seconds until the route server's tables hold still.

Runs the project's lab (``ixp.lab``: a namespace per node, one bridge as the
peering LAN, BIRD in the route server's namespace, an ExaBGP speaker per
member). The speakers keep running for the whole measurement; for each run
BIRD is stopped and started again on the configuration under test (sessions
of members outside the lab disabled, the others passive: see
:func:`lab_sessions`), and the speakers reconnect to it. BIRD's CPU time
(utime + stime from ``/proc/<pid>/stat``) is read when it answers on its
socket (startup: loading the ROA tables, opening the protocols) and when its
route counts and CPU have stopped moving for ``settle`` seconds. Wall time is
reported too, but it depends on ExaBGP's reconnect back-off and on how fast
the speakers read, so CPU is the figure to compare.

Run as a script, it is the route-server convergence benchmark of issue 14: the
synthetic exchange of ``bench/synthetic_exchange.py`` (members with their
registered route objects, ROAs), rs1's generated configuration for all of its
members, and the live members announcing every route object registered for
their AS-SET (``--routes-per-member`` caps it), played by one small BIRD each
(``bench/speakers.py``, the default) or by ExaBGP (``--speakers exabgp``, the
lab's own speakers as in ``bench/rs_build.py``). Each variant changes one thing
of the generated configuration (see :data:`VARIANTS`); each run prints one line
(load average at its start, route-server CPU at start-up and on routes, peak
memory, wall time, routes accepted and filtered, import filter runs, session
flaps), and the end prints medians per variant. ``--perf DIR`` records each
run's route-server BIRD with ``perf record -g``. Prints, never asserts; root is
needed (namespaces).

Run: ``.venv/bin/python bench/bird_convergence.py --members 100 [--variants bare,generated]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import re
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from statistics import median

import rs_build
from speakers import NAMESPACE, Member, start_speakers
from synthetic_exchange import LAN4, LAN6, ROUTE_SERVERS, RS_ASN, SyntheticExchange, generate

from ixp.bird import ProtocolStatus
from ixp.exchange import get_route_server
from ixp.irr.service import approve, sync
from ixp.irr.types import SyncOutcome
from ixp.lab import netns
from ixp.lab.bird import BirdDaemon
from ixp.lab.lab import Lab
from ixp.lab.layout import LabLayout, RouteServerNode
from ixp.lab.netns import LabError, run, wait_until
from ixp.members import get_member
from ixp.rpki.service import load_file
from ixp.rs.build import build
from ixp.rs.context import build_context
from ixp.rs.render import render_config
from ixp.rs.types import RsContext
from ixp.settings import Settings

_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Convergence:
    """One measured start of BIRD on one configuration."""

    variant: str
    startup_cpu: float
    total_cpu: float
    wall: float
    routes: int
    filtered: int
    established: int
    max_rss_mb: float
    idle_rate: float
    flaps: int = 0
    """Established sessions that went down (or came back between two polls) during the run."""
    import_runs: int = 0
    """Routes the import filters decided on (BIRD's import updates accepted + filtered): more
    than the routes offered means routes were taken in again (a flap, a refeed)."""
    load: float = 0.0
    """One-minute load average when the run started."""
    settled: bool = True
    """False when the run hit its timeout: the figures are what it had reached by then."""

    @property
    def route_cpu(self) -> float:
        """CPU seconds spent on the routes: the total less what BIRD spends idle over the same time.

        An idle BIRD still burns CPU (timers, and this benchmark's own
        ``birdc`` polling, once a second, of 1,000+ protocols), and how long
        a run lasts depends on ExaBGP's reconnect back-off (30 to 60 s here),
        not on the configuration; ``idle_rate`` is measured in the same run.
        """
        return max(0.0, self.total_cpu - self.idle_rate * self.wall)


def parse_cpu(config: str, directory: Path) -> float:
    """CPU seconds of ``bird -p`` on ``config``.

    BIRD parses its configuration before it forks into the background, so the
    daemon's own CPU time never includes the parse; this measures it apart.
    """
    path = directory / "parse-check.conf"
    path.write_text(config, encoding="utf-8")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(["bird", "-p", "-c", str(path)], check=True, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    path.unlink()
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def rss_mb(pid: int) -> float:
    """Peak resident memory of ``pid`` in MB (VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def baseline_config(context: RsContext) -> str:
    """The same BGP sessions as ``context`` with no policy: import all, export all, rs client."""
    lines = [
        f"# Baseline for bench/rs_build.py: the sessions of {context.rs_name}, no filters.",
        f"router id {context.router_id};",
        "protocol device {}",
    ]
    for member in context.members:
        for session in member.sessions:
            lines += [
                f"protocol bgp {session.name} {{",
                f"\tlocal {session.local} as {context.rs_asn};",
                f"\tneighbor {session.neighbor} as {member.asn};",
                "\trs client;",
                f"\tipv{session.family} {{ import all; export all; }};",
                "}",
            ]
    return "\n".join(lines) + "\n"


_IMPORT = re.compile(r"import where rs_import\([^;]*\);", re.DOTALL)
_EXPORT = re.compile(r"export where [^;]*rs_export\([^;]*\);")
_ROA_ROUTE = re.compile(r"^\troute \S+ max \d+ as \d+;\n", re.MULTILINE)


_BGP_PROTOCOL = re.compile(r"^protocol bgp (\S+)[^\n]*\{\n", re.MULTILINE)


def lab_sessions(config: str, enabled: set[str]) -> str:
    """``config`` as the lab runs it: sessions in ``enabled`` passive, every other one disabled.

    Both changes keep BIRD's CPU time a measure of routes rather than of wall
    time. A route server configured for 1,000 members with only 100 of them in
    the lab keeps trying to connect to the other 900 (about 60 connection
    attempts a second, 0.12 CPU-seconds per second here, measured with strace);
    and its attempts to reach the speakers, which never listen, repeat for as
    long as ExaBGP's reconnect back-off keeps them away (10 to 60 seconds per
    run). The speakers always connect to the route server, so passive sessions
    change nothing else. Disabled protocols are still parsed, filters included.
    """

    def mark(match: re.Match[str]) -> str:
        extra = "\tpassive on;\n" if match.group(1) in enabled else "\tdisabled;\n"
        return match.group(0) + extra

    return _BGP_PROTOCOL.sub(mark, config)


def without_import_filters(config: str) -> str:
    """The generated config with every session's import filter replaced by ``import all``.

    Tables, channel options (``secondary``, ``import keep filtered``, import
    limits), export filters and the ROA tables stay.
    """
    return _IMPORT.sub("import all;", config)


def without_export_filters(config: str) -> str:
    """The generated config with every session's export filter replaced by ``export all``."""
    return _EXPORT.sub("export all;", config)


def without_filters(config: str) -> str:
    """Both filters replaced by ``all``: what the tables and channel options alone cost."""
    return without_export_filters(without_import_filters(config))


_SESSION = re.compile(
    r"^protocol bgp (?P<name>\S+) from rs_client_v(?P<family>[46]) \{\n(?P<body>.*?)^\}\n",
    re.MULTILINE | re.DOTALL,
)


def with_member_tables(config: str) -> str:
    """``config`` rebuilt in the other route-server design: a table per member, joined by pipes.

    Each session imports into its own table (same import filter, limits and
    kept filtered routes) and exports all of it; a pipe between the shared
    table and the member's table carries the member's export filter. This is
    the design BIRD route servers used before ``secondary`` (no path hiding,
    each member table holds every route allowed to that member); it exists
    here only to measure what the generated design saves. Apply it after
    :func:`lab_sessions`: the pipe of a disabled session is disabled too.
    """

    def rebuild(match: re.Match[str]) -> str:
        name, family, body = match.group("name"), match.group("family"), match.group("body")
        export = _EXPORT.search(body)
        if export is None:
            raise ValueError(f"session {name} has no export filter")
        body = body.replace(
            export.group(0), f"table t_{name};\n\t\tsecondary off;\n\t\texport all;"
        )
        disabled = "\tdisabled;\n" if "\tdisabled;\n" in body else ""
        return (
            f"ipv{family} table t_{name};\n"
            f"protocol pipe p_{name} {{\n{disabled}\ttable master{family};\n"
            f"\tpeer table t_{name};\n\timport all;\n"
            f"\t{export.group(0).removesuffix(';')};\n}}\n"
            f"protocol bgp {name} from rs_client_v{family} {{\n{body}}}\n"
        )

    return _SESSION.sub(rebuild, config)


def without_roas(config: str) -> str:
    """The generated config with empty static ROA tables (every route RPKI-unknown)."""
    return _ROA_ROUTE.sub("", config)


def _substituted(pattern: str, replacement: str, config: str, what: str, *, once: bool) -> str:
    """``config`` with ``pattern`` (a multi-line regular expression) replaced; an error if it
    matches nowhere (or, ``once``, not exactly once), so a variant never silently measures
    the unchanged configuration."""
    changed, count = re.subn(pattern, replacement, config, flags=re.MULTILINE)
    if count == 0 or (once and count != 1):
        raise ValueError(f"the configuration has {count} {what}, not {'one' if once else 'any'}")
    return changed


def _removed(pattern: str, config: str, what: str) -> str:
    """``config`` without every line matching ``pattern``."""
    return _substituted(pattern, "", config, what, once=False)


def without_secondary(config: str) -> str:
    """The member channels without ``secondary``: each member is offered only the best route."""
    return _removed(r"^\t+secondary;\n", config, "secondary")


def without_keep_filtered(config: str) -> str:
    """The member channels without ``import keep filtered``: filtered routes are dropped."""
    return _removed(r"^\t+import keep filtered on;\n", config, "import keep filtered")


def without_rpki_state(config: str) -> str:
    """The import filter validating RPKI as before (invalid rejected) but recording no
    state on accepted routes: its RPKI case block reduced to the rejection."""
    return _substituted(
        r"^\tcase rs_rpki_state\(\) \{\n\t\tROA_INVALID: (.*)\n(?:\t\t.*\n){2}\t\}\n",
        "\tif rs_rpki_state() = ROA_INVALID then { \\1 }\n",
        config,
        "RPKI case blocks",
        once=True,
    )


def with_rpki_tags(context: RsContext) -> str:
    """The configuration of an exchange that sends members the RPKI state as a large
    community (``settings.rpki_tag_routes``): a community on every accepted route, which
    the 15 million exports of a convergence carry."""
    tagged = dataclasses.replace(context.rpki, tag_routes=True)
    return render_config(dataclasses.replace(context, rpki=tagged))


def without_limits(config: str) -> str:
    """The member channels without their ``import limit`` (max-prefix) and ``receive limit``."""
    return _removed(r"^\t+(import|receive) limit [^;]*;\n", config, "import or receive limit")


def _ready(bird: BirdDaemon) -> bool:
    """Whether BIRD answers; a busy BIRD (loading 400,000 ROAs) may not within birdc's timeout."""
    try:
        return bird.ready()
    except LabError:
        return False


def _start(bird: BirdDaemon, timeout: float = 120.0) -> None:
    """Start BIRD like ``BirdDaemon.start``, waiting patiently for a busy daemon to answer."""
    settings = bird.settings
    command = [settings.bird_path, "-c", str(bird.config), "-s", str(bird.socket)]
    run([*command, "-P", str(bird.pidfile)], namespace=bird.namespace, timeout=timeout)
    wait_until(lambda: _ready(bird), timeout=timeout, what=f"BIRD on {bird.socket}")


_STATE_CHANGE = re.compile(r" (\S+): State changed to (\w+)$")


ROUTE_SERVER_CPU = 0


def pin_speakers(lab: Lab) -> None:
    """Keep the speakers and this process off the route server's CPU.

    On a shared 2-core machine the route server otherwise competes with 100
    speakers for the cores, and how fast they read its updates changes how much
    it holds pending and so its CPU per route (2x between runs); a real route
    server has its machine to itself. The speakers' pid files are in the lab's
    ``members`` directory.
    """
    others = set(range(os.cpu_count() or 1)) - {ROUTE_SERVER_CPU}
    if not others:
        raise SystemExit("--pin needs at least two CPUs")
    os.sched_setaffinity(0, others)
    for pidfile in (lab.directory / NAMESPACE).glob("*.pid"):
        os.sched_setaffinity(int(pidfile.read_text().strip()), others)


def with_state_log(config: str, log: Path) -> str:
    """``config`` logging every protocol state change to ``log`` (how flaps are counted).

    A flap is a session leaving the up state (BIRD's ``stop``): its routes are
    withdrawn from every other member and, once it is back, taken in and sent
    out again. Polling cannot see it reliably: a session can go and come back
    between two polls, and the ``since`` BIRD shows moves by as much as BIRD
    was busy. Logging the state changes costs a line per change.
    """
    return f'log "{log}" all;\ndebug protocols {{ states }};\n{config}'


@dataclass
class SessionWatch:
    """The member sessions of one route server, polled once a second.

    Each poll reads the new lines of BIRD's log for flaps (see
    :func:`with_state_log`) and ``show protocols`` (a line per protocol) for the
    sessions established; every ``detail_every`` polls it also reads the
    channels' counters (``show protocols all``): routes accepted and filtered,
    and how often the import filters decided. Neither walks BIRD's tables, where
    ``show route count`` walks them all; the details of 2,000 protocols are
    still more than this process should parse every second while it shares two
    cores with the route server.
    """

    log: Path
    sessions: set[str] | None
    """Protocols to watch; None: every BGP protocol."""
    detail_every: int = 5
    flaps: int = 0
    accepted: int = 0
    filtered: int = 0
    import_runs: int = 0
    established: int = 0
    events: list[str] = field(default_factory=list)
    """Each flap as BIRD logged it."""
    _polls: int = 0
    _read: int = 0
    _decided: dict[str, int] = field(default_factory=dict)
    _earlier: dict[str, int] = field(default_factory=dict)

    def _watched(self, protocols: list[ProtocolStatus]) -> list[ProtocolStatus]:
        return [
            p
            for p in protocols
            if p.proto == "BGP" and (self.sessions is None or p.name in self.sessions)
        ]

    def poll(self, bird: BirdDaemon) -> None:
        """Read the sessions once and count what changed since the last poll."""
        with bird.client(timeout=120.0) as client:
            rows = self._watched(client.protocol_rows())
            details = None
            if self._polls % self.detail_every == 0:
                details = self._watched(client.protocols())
        self._polls += 1
        self.established = sum(p.info.startswith("Established") for p in rows)
        self._read_log()
        if details is not None:
            self._count(details)

    def _read_log(self) -> None:
        with self.log.open("rb") as log:
            log.seek(self._read)
            text = log.read()
        complete = text.rfind(b"\n") + 1
        self._read += complete
        for line in text[:complete].decode("utf-8", "replace").splitlines():
            change = _STATE_CHANGE.search(line)
            if change is None or change.group(2) != "stop":
                continue
            if self.sessions is None or change.group(1) in self.sessions:
                self.flaps += 1
                self.events.append(line)

    def _count(self, protocols: list[ProtocolStatus]) -> None:
        accepted = filtered = runs = 0
        for p in protocols:
            accepted += p.imported
            filtered += p.filtered
            decided = 0
            for channel in p.channels.values():
                updates = channel.route_changes.get("import_updates", {})
                decided += updates.get("accepted", 0) + updates.get("filtered", 0)
            # BIRD zeroes a channel's counters when it restarts: keep what came before.
            if decided < self._decided.get(p.name, 0):
                self._earlier[p.name] = self._earlier.get(p.name, 0) + self._decided[p.name]
            self._decided[p.name] = decided
            runs += decided + self._earlier.get(p.name, 0)
        self.accepted, self.filtered, self.import_runs = accepted, filtered, runs


class PerfRecord:
    """``perf record -g`` of one process until :meth:`stop` (where the CPU goes)."""

    def __init__(self, pid: int, output: Path) -> None:
        self.output = output
        self.process = subprocess.Popen(
            ["perf", "record", "-g", "-F", "499", "-p", str(pid), "-o", str(output)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def stop(self) -> None:
        """End the recording and wait until perf has written its file."""
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=120)


def measure(
    lab: Lab,
    rs_name: str,
    variant: str,
    config: str,
    expected_sessions: int,
    *,
    settle: float = 10.0,
    timeout: float = 600.0,
    offered: int | None = None,
    sessions: set[str] | None = None,
    perf: Path | None = None,
    pin: bool = False,
) -> Convergence:
    """Start BIRD on ``config`` and wait until it holds still with every session up.

    The daemon's CPU time starts after the configuration was parsed (see
    :func:`parse_cpu`). ``settle`` is also the window the idle rate is
    measured over: CPU time comes in 10 ms ticks, so 10 s gives it to
    0.001 CPU-s/s. With ``offered`` (routes the members send), a count that
    holds still short of it must hold still three times as long: a route server
    that blocked a session or waits for one to come back is not converged. At
    ``timeout`` the figures reached so far come back, marked not settled.
    ``sessions`` are the protocols that count (default: every BGP protocol);
    ``perf`` records BIRD with ``perf record -g`` into that file; ``pin`` puts BIRD
    on CPU 0 alone (see :func:`pin_speakers`).
    """
    load = os.getloadavg()[0]
    bird = lab.bird(rs_name)
    bird.stop()
    log = bird.config.with_suffix(".log")
    log.write_bytes(b"")
    bird.config.write_text(with_state_log(config, log), encoding="utf-8")
    started = time.monotonic()
    _start(bird)
    pid = bird.pid()
    if pid is None:
        raise RuntimeError(f"BIRD of {rs_name} has no pid file")
    if pin:
        os.sched_setaffinity(pid, {ROUTE_SERVER_CPU})
    startup = cpu_seconds(pid)
    recording = PerfRecord(pid, perf) if perf is not None else None
    watch = SessionWatch(log, sessions)
    last: tuple[int, int] | None = None
    quiet_since = time.monotonic()
    quiet_cpu = startup
    deadline = started + timeout
    settled = False
    try:
        while time.monotonic() < deadline:
            time.sleep(1.0)
            watch.poll(bird)
            counts = (watch.accepted, watch.filtered)
            cpu = cpu_seconds(pid)
            now = time.monotonic()
            if counts != last or cpu - quiet_cpu > 0.02 * settle or sum(counts) == 0:
                last, quiet_since, quiet_cpu = counts, now, cpu
                continue
            short = offered is not None and sum(counts) < offered
            if now - quiet_since < settle * (3 if short else 1):
                continue
            if watch.established >= expected_sessions:
                settled = True
                break
            quiet_since, quiet_cpu = now, cpu
        now = time.monotonic()
        cpu = cpu_seconds(pid)
        idle_rate = (cpu - quiet_cpu) / max(now - quiet_since, 1e-9) if settled else 0.0
    finally:
        if recording is not None:
            recording.stop()
    return Convergence(
        variant=variant,
        startup_cpu=startup,
        total_cpu=quiet_cpu if settled else cpu,
        wall=(quiet_since if settled else now) - started,
        routes=watch.accepted,
        filtered=watch.filtered,
        established=watch.established,
        max_rss_mb=rss_mb(pid),
        idle_rate=idle_rate,
        flaps=watch.flaps,
        import_runs=watch.import_runs,
        load=load,
        settled=settled,
    )


def record(path: Path, members: int, offered: int, run: Convergence) -> None:
    """Append one run to ``path`` as a JSON line, with its size and CPU on routes."""
    line = {"members": members, "offered": offered, **asdict(run), "route_cpu": run.route_cpu}
    with path.open("a", encoding="utf-8") as stream:
        stream.write(json.dumps(line) + "\n")


def summarize(runs: Sequence[Convergence]) -> dict[str, float]:
    """Medians of one variant's runs."""
    return {
        "startup_cpu": median(r.startup_cpu for r in runs),
        "total_cpu": median(r.total_cpu for r in runs),
        "route_cpu": median(r.route_cpu for r in runs),
        "wall": median(r.wall for r in runs),
        "routes": median(r.routes for r in runs),
        "filtered": median(r.filtered for r in runs),
        "max_rss_mb": median(r.max_rss_mb for r in runs),
        "idle_rate": median(r.idle_rate for r in runs),
    }


# -- the benchmark (run as a script) --------------------------------------------------------------

Transform = Callable[[str, RsContext], str]

VARIANTS: dict[str, Transform] = {
    "bare": lambda _generated, context: baseline_config(context),
    "generated": lambda generated, _context: generated,
    "filters -> all": lambda generated, _context: without_filters(generated),
    "no secondary": lambda generated, _context: without_secondary(generated),
    "no keep filtered": lambda generated, _context: without_keep_filtered(generated),
    "no limits": lambda generated, _context: without_limits(generated),
    "empty ROA tables": lambda generated, _context: without_roas(generated),
    "no RPKI state": lambda generated, _context: without_rpki_state(generated),
    "RPKI tags to members": lambda _generated, context: with_rpki_tags(context),
    "export filter only": lambda generated, _context: without_import_filters(generated),
    "import filter only": lambda generated, _context: without_export_filters(generated),
}
"""What each run starts the route server on: the same sessions, one thing changed at a time."""

EXTRA_VARIANTS: dict[str, Transform] = {
    "per-member tables + pipes": lambda generated, _context: generated,
}
"""Variants run only when named; the pipes are added after the sessions are marked."""


@dataclass(frozen=True)
class Prepared:
    """The exchange set up for the benchmark: its data, settings, rs1's configuration."""

    exchange: SyntheticExchange
    settings: Settings
    generated: str
    context: RsContext


def prepare(base: Path, members: int, objects: int, seed: int) -> Prepared:
    """The synthetic exchange in ``base``: populated, synced (held AS-SETs approved, as an
    operator would), ROAs loaded and rs1 built. A second run on the same ``base`` only
    regenerates the exchange in memory (deterministic for its seed) and rebuilds."""
    settings = Settings(home=base / "home", database_url=f"sqlite:///{base / 'ixp.sqlite3'}")
    exchange = generate(base, members=members, objects=objects, seed=seed)
    marker = base / "prepared"
    expected = f"{members} members, {objects} objects, seed {seed}\n"
    if marker.exists() and marker.read_text() != expected:
        raise SystemExit(f"{base} holds another exchange ({marker.read_text().strip()})")
    if not marker.exists():
        rs_build.populate(settings, exchange)
        with rs_build.database(settings) as session:
            synced = sync(session, settings, rpsl_files=[exchange.dump])
            for result in synced.results:
                if result.outcome is SyncOutcome.held:
                    approve(session, get_member(session, result.asn), actor=rs_build.ACTOR)
            load_file(session, exchange.roas, settings=settings, actor=rs_build.ACTOR)
        marker.write_text(expected)
    with rs_build.database(settings) as session:
        built = build(session, settings, base / "build", rs_name="rs1")
        context = build_context(session, get_route_server(session, "rs1"), settings).context
    generated = Path(built.route_servers[0].path).read_text(encoding="utf-8")
    return Prepared(exchange, settings, generated, context)


def bird_members(
    exchange: SyntheticExchange, count: int, pick: str, cap: int | None, scale: float
) -> list[Member]:
    """``count`` members, each announcing the route objects registered for its AS-SET.

    ``pick`` is ``largest`` (most routes first, as a route server's heaviest
    sessions) or ``spread`` (every ``k``-th member: the exchange's mix, mostly
    small networks). Each announces the first ``scale`` share of its registered
    prefixes per family, at most ``cap``.
    """
    registered = {
        m.asn: {f: exchange.announcements(m, f) for f in (4, 6) if f == 4 or m.ipv6}
        for m in exchange.members
    }
    if pick == "largest":
        sizes = {asn: sum(len(r) for r in fam.values()) for asn, fam in registered.items()}
        chosen = sorted(exchange.members, key=lambda m: (-sizes[m.asn], m.asn))[:count]
    else:
        chosen = exchange.members[:: max(1, len(exchange.members) // count)][:count]
    return [
        Member(
            m.asn,
            m.ipv4,
            m.ipv6,
            {
                family: routes[: min(cap or len(routes), math.ceil(len(routes) * scale))]
                for family, routes in registered[m.asn].items()
            },
        )
        for m in sorted(chosen, key=lambda m: m.asn)
    ]


def describe_run(members: int, offered: int, run: Convergence) -> str:
    """One run as one line."""
    return (
        f"{members} members, {offered} routes | {run.variant:<20} | load {run.load:4.2f} | "
        f"start-up {run.startup_cpu:6.2f} CPU-s | on routes {run.route_cpu:7.2f} CPU-s | "
        f"total {run.total_cpu:7.2f} | idle {run.idle_rate:.3f}/s | peak {run.max_rss_mb:5.0f} MB"
        f" | wall {run.wall:6.1f} s | accepted {run.routes} filtered {run.filtered} | "
        f"import filter runs {run.import_runs} | flaps {run.flaps} | "
        f"sessions {run.established}{'' if run.settled else ' | NOT SETTLED (timeout)'}"
    )


def options() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=100, help="live members (default 100)")
    parser.add_argument(
        "--exchange-members",
        type=int,
        help="members of the exchange, all configured on rs1 (default: --members)",
    )
    parser.add_argument(
        "--objects", type=int, help="registry objects (default 1,000 per exchange member)"
    )
    parser.add_argument(
        "--routes-per-member", type=int, help="at most this many prefixes per member and family"
    )
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="share of its registered prefixes each live member announces (default all)",
    )
    parser.add_argument(
        "--pick",
        choices=("largest", "spread"),
        default="largest",
        help="live members: most routes first, or every k-th (BIRD speakers only)",
    )
    parser.add_argument("--speakers", choices=("bird", "exabgp"), default="bird")
    parser.add_argument(
        "--variants",
        default=",".join(VARIANTS),
        help=f"comma-separated, run in this order each round (also: {', '.join(EXTRA_VARIANTS)})",
    )
    parser.add_argument("--runs", type=int, default=1, help="rounds over the variants")
    parser.add_argument("--settle", type=float, default=10.0)
    parser.add_argument("--timeout", type=float, default=600.0, help="per run, seconds")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--home", type=Path, help="keep the prepared exchange here and reuse it")
    parser.add_argument("--perf", type=Path, help="perf record -g each run into this directory")
    parser.add_argument(
        "--bird",
        type=Path,
        help="the route server's BIRD binary (e.g. one built with symbols for --perf; "
        "the speakers keep the system's)",
    )
    parser.add_argument("--keep", type=Path, help="copy each variant's configuration here")
    parser.add_argument(
        "--record",
        type=Path,
        help="append each run as a JSON line to this file (bench/convergence_curve.py draws them)",
    )
    parser.add_argument(
        "--pin",
        action="store_true",
        help="the route server alone on CPU 0; the speakers and this script on the others",
    )
    args = parser.parse_args()
    args.exchange_members = args.exchange_members or args.members
    args.objects = args.objects or 1000 * args.exchange_members
    args.variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = set(args.variants) - set(VARIANTS) - set(EXTRA_VARIANTS)
    if unknown:
        parser.error(f"unknown variants: {', '.join(sorted(unknown))}")
    return args


def _terminate(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def main() -> None:
    """Prepare the exchange, start the lab and its speakers, run every variant, print."""
    args = options()
    reason = netns.available()
    if reason:
        sys.exit(f"bench/bird_convergence.py needs {reason}")
    signal.signal(signal.SIGTERM, _terminate)
    for what, value in rs_build.machine_notes():
        print(f"{what}: {value}", flush=True)
    with tempfile.TemporaryDirectory(prefix="ixpbc-", dir="/tmp") as temp:
        base = args.home or Path(temp)
        base.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        prepared = prepare(base, args.exchange_members, args.objects, args.seed)
        name, ipv4, ipv6 = ROUTE_SERVERS[0]
        if args.speakers == "exabgp":
            layout, families = rs_build.lab_layout(
                prepared.exchange, args.members, args.routes_per_member or 100
            )
            addresses = {a for m in layout.members for a in (m.ipv4, m.ipv6) if a}
            offered = sum(len(m.routes) for m in layout.members)
            expected = sum(families)
            # ExaBGP's reactor wakes every speed/100 s; 100 idle speakers waking every
            # 10 ms (the default) saturate two cores and starve BIRD.
            os.environ["exabgp_reactor_speed"] = "5.0"  # noqa: SIM112 (ExaBGP's spelling)
            live: list[Member] = []
        else:
            live = bird_members(
                prepared.exchange, args.members, args.pick, args.routes_per_member, args.scale
            )
            addresses = {a for m in live for a in (m.ipv4, m.ipv6) if a}
            offered = sum(m.count for m in live)
            expected = sum(len(m.routes) for m in live)
            layout = LabLayout(
                lan4=LAN4,
                lan6=LAN6,
                route_servers=(RouteServerNode(name, RS_ASN, ipv4, ipv4, ipv6),),
                members=(),
            )
        context = prepared.context
        enabled = {s.name for m in context.members for s in m.sessions if s.neighbor in addresses}
        configs = {}
        for variant in args.variants:
            transform = VARIANTS.get(variant) or EXTRA_VARIANTS[variant]
            configs[variant] = lab_sessions(transform(prepared.generated, context), enabled)
            if variant == "per-member tables + pipes":
                configs[variant] = with_member_tables(configs[variant])
            if args.keep:
                args.keep.mkdir(parents=True, exist_ok=True)
                slug = re.sub(r"[^a-z0-9]+", "-", variant).strip("-")
                (args.keep / f"{slug}.conf").write_text(configs[variant], encoding="utf-8")
        prefixes = len({p for m in live for routes in m.routes.values() for p, _ in routes})
        print(
            f"setup {time.perf_counter() - started:.1f} s: {len(context.members)} members on rs1, "
            f"{len(enabled)} live sessions ({args.speakers} speakers), {offered} routes offered"
            + (f" for {prefixes} prefixes" if live else ""),
            flush=True,
        )
        parse = {v: parse_cpu(c, base) for v, c in configs.items()}
        rs_settings = prepared.settings
        if args.bird:
            rs_settings = rs_settings.model_copy(update={"bird_path": str(args.bird)})
        lab = Lab(layout, rs_settings, {name: configs[args.variants[0]]})
        results: dict[str, list[Convergence]] = {v: [] for v in args.variants}
        try:
            lab.up()
            if live:
                start_speakers(lab, prepared.settings, live, ROUTE_SERVERS[:1])
                if args.pin:
                    pin_speakers(lab)
            for round_number in range(args.runs):
                for variant, config in configs.items():
                    perf = None
                    if args.perf:
                        args.perf.mkdir(parents=True, exist_ok=True)
                        slug = re.sub(r"[^a-z0-9]+", "-", variant).strip("-")
                        perf = args.perf / f"{slug}-{round_number + 1}.data"
                    run_result = measure(
                        lab,
                        name,
                        variant,
                        config,
                        expected,
                        settle=args.settle,
                        timeout=args.timeout,
                        offered=offered,
                        sessions=enabled,
                        perf=perf,
                        pin=args.pin,
                    )
                    results[variant].append(run_result)
                    print("run: " + describe_run(args.members, offered, run_result), flush=True)
                    if args.record:
                        record(args.record, args.members, offered, run_result)
        finally:
            lab.down()
    print(f"\nmedians ({args.runs} run(s) each; config parse with bird -p apart):")
    for variant, runs in results.items():
        if not runs:
            continue
        m = summarize(runs)
        flaps = ", ".join(str(r.flaps) for r in runs)
        spread = ", ".join(f"{r.route_cpu:.2f}" for r in runs)
        print(
            f"{args.members} members, {offered} routes | {variant:<20} | "
            f"start-up {m['startup_cpu']:.2f} CPU-s | on routes {m['route_cpu']:.2f} CPU-s "
            f"(runs {spread}) | parse {parse[variant]:.2f} s | peak {m['max_rss_mb']:.0f} MB | "
            f"wall {m['wall']:.1f} s | accepted {m['routes']:.0f} filtered {m['filtered']:.0f} | "
            f"flaps {flaps} | settled {sum(r.settled for r in runs)}/{len(runs)}",
            flush=True,
        )


if __name__ == "__main__":
    main()
