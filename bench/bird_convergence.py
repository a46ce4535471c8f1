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
"""

from __future__ import annotations

import os
import re
import resource
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import median

from ixp.lab.bird import BirdDaemon
from ixp.lab.lab import Lab
from ixp.lab.netns import LabError, run, wait_until
from ixp.rs.types import RsContext

_COUNT = re.compile(r"(\d+) of (\d+) routes for (\d+) networks in table (\S+)")
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


def _route_counts(bird: BirdDaemon) -> tuple[int, int]:
    """(routes, filtered routes) in master4 + master6."""
    routes = filtered = 0
    for table in ("master4", "master6"):
        for kind in ("", "filtered "):
            answer = bird.birdc(f"show route {kind}count table {table}", timeout=120.0)
            match = _COUNT.search(answer)
            if match:
                if kind:
                    filtered += int(match.group(1))
                else:
                    routes += int(match.group(1))
    return routes, filtered


def _established(bird: BirdDaemon) -> int:
    answer = bird.birdc("show protocols", timeout=120.0)
    return sum(1 for line in answer.splitlines() if " BGP " in line and "Established" in line)


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


def measure(
    lab: Lab,
    rs_name: str,
    variant: str,
    config: str,
    expected_sessions: int,
    *,
    settle: float = 10.0,
    timeout: float = 600.0,
) -> Convergence:
    """Start BIRD on ``config`` and wait until it holds still with every session up.

    The daemon's CPU time starts after the configuration was parsed (see
    :func:`parse_cpu`). ``settle`` is also the window the idle rate is
    measured over: CPU time comes in 10 ms ticks, so 10 s gives it to
    0.001 CPU-s/s.
    """
    bird = lab.bird(rs_name)
    bird.stop()
    bird.config.write_text(config, encoding="utf-8")
    started = time.monotonic()
    _start(bird)
    pid = bird.pid()
    if pid is None:
        raise RuntimeError(f"BIRD of {rs_name} has no pid file")
    startup = cpu_seconds(pid)
    last: tuple[int, int] | None = None
    quiet_since = time.monotonic()
    quiet_cpu = startup
    deadline = started + timeout
    while time.monotonic() < deadline:
        time.sleep(1.0)
        counts = _route_counts(bird)
        cpu = cpu_seconds(pid)
        now = time.monotonic()
        if counts != last or cpu - quiet_cpu > 0.02 * settle or counts[0] + counts[1] == 0:
            last, quiet_since, quiet_cpu = counts, now, cpu
            continue
        if now - quiet_since < settle:
            continue
        idle_rate = (cpu - quiet_cpu) / (now - quiet_since)
        established = _established(bird)
        if established >= expected_sessions:
            return Convergence(
                variant=variant,
                startup_cpu=startup,
                total_cpu=quiet_cpu,
                wall=quiet_since - started,
                routes=counts[0],
                filtered=counts[1],
                established=established,
                max_rss_mb=rss_mb(pid),
                idle_rate=idle_rate,
            )
        quiet_since, quiet_cpu = now, cpu
    raise TimeoutError(f"BIRD on {variant} did not settle in {timeout:g} s (counts {last})")


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
