"""Benchmark: a nightly push of a 1,000-member exchange to two route servers, stage by stage.

Setup, not timed (its figures are printed too): the synthetic exchange of
``bench/synthetic_exchange.py`` (1,000 members, a 1,000,000-object RPSL dump,
its ROAs) in a temporary ``IXP_HOME``, synced, loaded and built; both route
servers (rs1, rs2) in the lab's namespaces (:mod:`ixp.lab`), each with its own
``sshd`` (:mod:`ixp.push.labssh`), running that configuration for all 1,000
members. The members announcing ``--routes`` (by default 100,000) registered
prefixes, most routes first (about 30 of them), run as one BIRD each
(:mod:`ixp.push.speakers`, the preview's own speakers) with sessions to both
route servers in both families; ``--changed-members`` of them also announce five
prefixes no route object covers yet, which both route servers filter. The other
members' sessions stay down: a route server sends every accepted route to every
live session, and 100,000 routes to 1,863 sessions, twice, take longer on two
shared cores than the push being measured (``--live-members 1000`` tries it).

Then ``ixp push``'s own function, timed by the steps it reports:

1. a first push: the files the route servers run are fetched over SSH as the
   baseline, and nothing differs;
2. the nightly change: a registry dump with the missing route objects joins the
   sync, so the changed members' prefixes become acceptable. Registry sync,
   ROAs, build (``bird -p`` included), diff, the impact preview replaying every
   route the members send rs1 (one BIRD per member again, in scratch namespaces),
   then rs1 and rs2 over SSH, each under BIRD's undo timer with the health check.

Prints figures; asserts nothing. Root is needed (namespaces).
Run: ``.venv/bin/python bench/push.py [--quick]``.
"""

from __future__ import annotations

import argparse
import ipaddress
import math
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import rs_build
from bird_convergence import cpu_seconds
from speakers import Member, start_speakers
from sqlalchemy import select
from synthetic_exchange import LAN4, LAN6, ROUTE_SERVERS, RS_ASN, SyntheticExchange, generate

from ixp.bird import BirdClient
from ixp.irr.service import approve, sync
from ixp.irr.types import SyncOutcome
from ixp.lab import netns
from ixp.lab.lab import Lab
from ixp.lab.layout import LabLayout, RouteServerNode
from ixp.members import get_member
from ixp.models import RouteServer
from ixp.push import labssh
from ixp.push.labssh import LabSshd, SshKeys
from ixp.push.pipeline import PushRequest, run_push
from ixp.push.records import PushDetail
from ixp.push.speakers import member_sessions
from ixp.rpki.service import load_file
from ixp.rs.build import build
from ixp.settings import Settings

EXTRA_PER_MEMBER = 5
# Public space the synthetic registry never allocates (it starts at 11.0.0.0 and stays low).
EXTRA_FIRST = (100 << 24) | (128 << 16)


def extra_prefixes(index: int) -> list[str]:
    """The not-yet-registered prefixes of the ``index``-th changed member."""
    first = EXTRA_FIRST + index * EXTRA_PER_MEMBER * 256
    return [f"{ipaddress.IPv4Address(first + n * 256)}/24" for n in range(EXTRA_PER_MEMBER)]


def live_members(
    exchange: SyntheticExchange, routes: int, count: int | None, changed: int
) -> list[Member]:
    """The members with a live speaker, most routes first: as many as it takes to announce
    ``routes`` registered prefixes (or ``count``, each then announcing the same share of
    its own); the first ``changed`` also announce five prefixes nobody registered yet."""
    registered = {
        m.asn: {f: exchange.announcements(m, f) for f in (4, 6) if f == 4 or m.ipv6}
        for m in exchange.members
    }
    sizes = {asn: sum(len(r) for r in by_family.values()) for asn, by_family in registered.items()}
    ranked = sorted(exchange.members, key=lambda m: (-sizes[m.asn], m.asn))
    if count is None:
        total, count = 0, 0
        while count < len(ranked) and total < routes:
            total += sizes[ranked[count].asn]
            count += 1
    chosen = ranked[:count]
    share = min(1.0, routes / sum(sizes[m.asn] for m in chosen))
    members = []
    for index, m in enumerate(chosen):
        mine = {
            f: announced[: math.ceil(len(announced) * share)]
            for f, announced in registered[m.asn].items()
        }
        if index < changed:
            mine[4] = mine[4] + [(prefix, (m.asn,)) for prefix in extra_prefixes(index)]
        members.append(Member(m.asn, m.ipv4, m.ipv6, mine))
    return members


def extra_dump(path: Path, members: Sequence[Member], changed: int) -> Path:
    """An RPSL dump with the route objects that make the changed members' prefixes acceptable."""
    objects = []
    for index, member in enumerate(members[:changed]):
        for prefix in extra_prefixes(index):
            objects.append(
                f"route:          {prefix}\norigin:         AS{member.asn}\nsource:         BENCH\n"
            )
    path.write_text("\n".join(objects), encoding="ascii")
    return path


def held(lab: Lab, rs: str) -> tuple[int, int, int]:
    """(routes taken in, sessions established, member sessions) on route server ``rs``."""
    with BirdClient(str(lab.bird(rs).socket), timeout=300) as bird:
        sessions = member_sessions(bird.protocols())
    taken = sum(p.imported + p.filtered for p in sessions)
    return taken, sum(1 for p in sessions if p.established), len(sessions)


def wait_converged(lab: Lab, expected: int, sessions: int, timeout: float) -> None:
    """Until both route servers took in every route on every live session."""
    deadline = time.monotonic() + timeout
    shown = time.monotonic()
    while True:
        status = {rs: held(lab, rs) for rs, _v4, _v6 in ROUTE_SERVERS}
        if all(taken >= expected and up >= sessions for taken, up, _ in status.values()):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"route servers not converged: {status}")
        if time.monotonic() - shown > 30:
            print(f"  ... {status} (want {expected} routes, {sessions} sessions)", flush=True)
            shown = time.monotonic()
        time.sleep(3)


@contextmanager
def live_exchange(
    settings: Settings, configs: dict[str, str], directory: Path
) -> Iterator[tuple[Lab, dict[str, LabSshd], SshKeys]]:
    """Both route servers in the lab with an sshd each; removed afterwards whatever happens."""
    layout = LabLayout(
        lan4=LAN4,
        lan6=LAN6,
        route_servers=tuple(RouteServerNode(n, RS_ASN, v4, v4, v6) for n, v4, v6 in ROUTE_SERVERS),
        members=(),
    )
    lab = Lab(layout, settings, configs)
    try:
        lab.up()
        keys = SshKeys.create(directory / "keys")
        sshds = {}
        for name, _v4, _v6 in ROUTE_SERVERS:
            sshds[name] = LabSshd(
                lab.node(f"rs-{name}").namespace, directory / f"sshd-{name}", keys
            )
            sshds[name].start()
        yield lab, sshds, keys
    finally:
        lab.down()


class Stages:
    """The steps a push reports, with the time each started; durations between them."""

    def __init__(self) -> None:
        self.events: list[tuple[float, str]] = []

    def __call__(self, stage: str) -> None:
        self.events.append((time.perf_counter(), stage))
        print(f"    {stage}", flush=True)

    def durations(self, end: float) -> list[tuple[str, float]]:
        """Each step and how long it lasted (until the next began, or ``end``)."""
        times = [t for t, _ in self.events[1:]] + [end]
        return [(stage, after - at) for (at, stage), after in zip(self.events, times, strict=True)]


def timed_push(
    settings: Settings, request: PushRequest, lab: Lab, report: rs_build.Report, label: str
) -> PushDetail:
    """One push through ixp's own function, its steps reported, with the CPU the route
    servers' BIRD spent meanwhile (reconfiguring, reloading, answering the health checks)."""
    stages = Stages()
    pids = {rs: lab.bird(rs).pid() for rs, _v4, _v6 in ROUTE_SERVERS}
    cpu = {rs: cpu_seconds(pid) for rs, pid in pids.items() if pid}
    started = time.perf_counter()
    with rs_build.database(settings) as session:
        detail = run_push(session, settings, request, progress=stages)
    end = time.perf_counter()
    spent = {rs: cpu_seconds(pid) - cpu[rs] for rs, pid in pids.items() if pid}
    report.add(
        f"{label}: whole push", f"{end - started:.1f} s", f"{detail.state}; {detail.reason or ''}"
    )
    for stage, seconds in stages.durations(end):
        report.add(f"  {stage}", f"{seconds:.1f} s")
    report.add(
        "  route servers' BIRD CPU meanwhile",
        ", ".join(f"{rs} {seconds:.1f} s" for rs, seconds in spent.items()),
    )
    return detail


def options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the size")
    parser.add_argument("--members", type=int, help="members (default 1000; quick 100)")
    parser.add_argument("--objects", type=int, help="registry objects (default 1e6; quick 1e5)")
    parser.add_argument("--routes", type=int, help="routes announced (default 100000; quick 10000)")
    parser.add_argument(
        "--live-members",
        type=int,
        help="members with a speaker (default: the fewest, most routes first, that announce "
        "--routes; every live session gets every accepted route, which on two shared cores "
        "takes far longer than the push for all 1,000 members)",
    )
    parser.add_argument("--changed-members", type=int, default=20)
    parser.add_argument("--converge-timeout", type=float, default=1800.0)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    args.members = args.members or 1000 // scale
    args.objects = args.objects or 1_000_000 // scale
    args.routes = args.routes or 100_000 // scale
    return args


def main() -> None:
    args = options()
    reason = netns.available() or labssh.available()
    if reason:
        sys.exit(f"bench/push.py needs {reason}")
    report = rs_build.Report()
    for what, value in rs_build.machine_notes():
        report.add(what, value)
    with tempfile.TemporaryDirectory(prefix="ixp-bench-push-") as tmp:
        directory = Path(tmp)
        started = time.perf_counter()
        exchange = generate(directory, members=args.members, objects=args.objects, seed=args.seed)
        settings = Settings(
            home=directory / "home", database_url=f"sqlite:///{directory / 'ixp.sqlite3'}"
        )
        rs_build.populate(settings, exchange)
        with rs_build.database(settings) as session:
            synced = sync(session, settings, rpsl_files=[exchange.dump])
            # An operator approves the few AS-SETs the safety rules hold the first time.
            approved = [r.asn for r in synced.results if r.outcome is SyncOutcome.held]
            for asn in approved:
                approve(session, get_member(session, asn), actor=rs_build.ACTOR)
            load_file(session, exchange.roas, settings=settings, actor=rs_build.ACTOR)
            built = build(session, settings, directory / "initial")
        configs = {
            rs.rs_name: Path(rs.path).read_text(encoding="utf-8") for rs in built.route_servers
        }
        report.add(
            "setup: exchange generated, synced, ROAs loaded, built",
            f"{time.perf_counter() - started:.1f} s",
            f"{args.members} members ({len(approved)} held AS-SETs approved), "
            f"{exchange.roa_count} ROAs; "
            f"{sum(rs.sessions for rs in built.route_servers)} sessions on 2 route servers",
        )
        members = live_members(exchange, args.routes, args.live_members, args.changed_members)
        sent = sum(m.count for m in members)
        sessions = sum(2 if m.ipv6 else 1 for m in members)
        with live_exchange(settings, configs, directory) as (lab, sshds, keys):
            with rs_build.database(settings) as session:
                for rs in session.scalars(select(RouteServer)):
                    rs.mgmt_host = sshds[rs.name].address
                    rs.control_socket = str(lab.bird(rs.name).socket)
                session.commit()
            started = time.perf_counter()
            start_speakers(lab, settings, members)
            report.add(
                "setup: member speakers started",
                f"{time.perf_counter() - started:.1f} s",
                f"{len(members)} BIRDs, {sessions} live sessions per route server",
            )
            wait_converged(lab, sent, sessions, args.converge_timeout)
            report.add(
                "setup: both route servers converged",
                f"{time.perf_counter() - started:.1f} s",
                f"{sent:,} routes sent to each",
            )
            push_settings = settings.model_copy(
                update={
                    "push_irr_rpsl": [exchange.dump],
                    "push_ssh_key": keys.client_key,
                    "push_ssh_known_hosts": keys.known_hosts,
                    "push_ssh_port": sshds["rs1"].port,
                    "push_config_paths": {n: str(lab.bird(n).config) for n, _, _ in ROUTE_SERVERS},
                    "push_preview_timeout_seconds": 600.0,
                    "push_ansible_timeout_seconds": 1800.0,
                }
            )
            timed_push(push_settings, PushRequest(actor="bench"), lab, report, "first push")
            change = extra_dump(directory / "extra.rpsl", members, args.changed_members)
            request = PushRequest(actor="bench", rpsl_files=(exchange.dump, change))
            detail = timed_push(push_settings, request, lab, report, "nightly change")
            preview = detail.report.get("preview") or {}
            report.add(
                "  impact preview",
                f"{preview.get('seconds', {}).get('total', 0):.1f} s",
                f"{preview.get('routes_offered', 0):,} routes from {preview.get('sessions', 0)} "
                f"sessions; {preview.get('newly_accepted', 0)} newly accepted, "
                f"{preview.get('newly_filtered', 0)} newly filtered; "
                + ", ".join(f"{k} {v:.1f} s" for k, v in preview.get("seconds", {}).items()),
            )
            for target in detail.targets:
                health = (target.health or {}).get("health") or {}
                report.add(
                    f"  {target.route_server}: {target.state}",
                    f"{(target.health or {}).get('seconds', 0):.1f} s",
                    f"ansible-playbook; sessions {health.get('established_before')} -> "
                    f"{health.get('established_after')}, accepted {health.get('accepted_before')} "
                    f"-> {health.get('accepted_after')}",
                )
    report.print()


if __name__ == "__main__":
    main()
