"""``ixp traffic ...``: the sFlow collector, its storage, the report and the local share.

``collect`` runs the collector until stopped; ``import-pmacct`` moves what sfacctd
wrote into the same tables (``--follow``: until stopped); ``rollup`` rolls up and
applies the retention now (both do it themselves as they go); ``report`` prints what
the stored traffic says; ``international set|import|list`` keep the members' monthly
international figures; ``sfacctd-config`` prints the shipped sfacctd configuration;
``demo`` fills the demo exchange with days of generated traffic.
"""

from __future__ import annotations

import datetime as dt
import logging
import signal
import threading
from pathlib import Path
from typing import Any

import typer

from ixp.cli.common import JsonOption, cli_session, emit, emit_json, emit_table, handles_errors, say
from ixp.errors import ValidationError
from ixp.members import check_member
from ixp.models.base import utcnow
from ixp.settings import get_settings
from ixp.traffic import collector, demo, international, pmacct, pmacct_sql, report, rollup
from ixp.traffic.buckets import BUCKET_SECONDS

traffic_app = typer.Typer(
    help="Traffic over the fabric: sFlow collector, matrix, local share.", no_args_is_help=True
)
international_app = typer.Typer(
    help="Members' monthly international (or total) traffic, for the local share.",
    no_args_is_help=True,
)
traffic_app.add_typer(international_app, name="international")

_DATE = ["%Y-%m-%d"]
_FIGURE_COLUMNS = ("asn", "month", "kind", "bytes", "entered_by", "entered_at")


def _logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")


@traffic_app.command("collect")
@handles_errors
def traffic_collect() -> None:
    """Collect sFlow from the switches in traffic_agents until stopped (SIGTERM, Ctrl-C)."""
    _logging()
    collector.run(get_settings())


@traffic_app.command("import-pmacct")
@handles_errors
def traffic_import_pmacct(
    follow: bool = typer.Option(False, "--follow", help="Import every interval until stopped."),
    as_json: bool = JsonOption,
) -> None:
    """Move the finished buckets sfacctd wrote into PostgreSQL into the traffic tables."""
    settings = get_settings()
    with cli_session(settings) as session:
        if follow:
            _logging()
            stop = threading.Event()
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, lambda *_: stop.set())
            pmacct_sql.follow(session, settings, stop)
            return
        pmacct_sql.ensure_table(session, settings)
        done = pmacct_sql.import_pmacct(
            session, settings, margin=2 * settings.traffic_pmacct_interval_seconds
        )
    if as_json:
        emit_json(done)
        return
    say(f"imported {done.rows} rows: {len(done.buckets)} buckets, {done.pairs} member pairs"
        + (f"; {done.too_old} rows too old, dropped" if done.too_old else ""))  # fmt: skip


@traffic_app.command("sfacctd-config")
@handles_errors
def traffic_sfacctd_config(
    pgsql: bool = typer.Option(
        False, "--pgsql", help="Write into ixp's PostgreSQL (and create the table) instead of JSON."
    ),
    output: Path = typer.Option(
        Path("/var/lib/ixp/pmacct/matrix.json"), help="The JSON lines file (print plugin)."
    ),
    listen: str = typer.Option("::", help="Address sfacctd listens on."),
    port: int = typer.Option(6343, help="sFlow UDP port."),
) -> None:
    """Print the shipped sfacctd configuration (pmacct in front of ixp, see the README)."""
    settings = get_settings()
    if pgsql:
        with cli_session(settings) as session:
            pmacct_sql.ensure_table(session, settings)
        text = pmacct_sql.sfacctd_pgsql_config(
            settings, listen=listen, port=port,
            refresh_seconds=int(settings.traffic_pmacct_interval_seconds),
        )  # fmt: skip
    else:
        text = pmacct.sfacctd_config(output, listen=listen, port=port)
    typer.echo(text, nl=False)


@traffic_app.command("rollup")
@handles_errors
def traffic_rollup(as_json: bool = JsonOption) -> None:
    """Roll up the hours and days whose buckets are complete, and apply the retention."""
    settings = get_settings()
    now = int(utcnow().timestamp())
    complete = now - int(settings.traffic_flush_delay_seconds) - BUCKET_SECONDS
    with cli_session(settings) as session:
        done = rollup.rollup(
            session,
            complete_until=complete - complete % BUCKET_SECONDS,
            now=now,
            keep_5min_days=settings.traffic_keep_5min_days,
            keep_hourly_days=settings.traffic_keep_hourly_days,
        )
    if as_json:
        emit_json(done)
        return

    def span(value: tuple[int, int] | None) -> str:
        if value is None:
            return "nothing new"
        first, last = (dt.datetime.fromtimestamp(v, dt.UTC) for v in value)
        return f"{first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M} UTC"

    say(f"hourly: {span(done.hourly)}; daily: {span(done.daily)}; "
        f"deleted {sum(done.deleted.values())} rows past their retention")  # fmt: skip


def _size(value: float | None) -> str:
    """Bytes in decimal units: 1.23 GB."""
    if value is None:
        return "?"
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if abs(value) >= scale:
            return f"{value / scale:.2f} {unit}"
    return f"{value:.0f} B"


def _estimate(value: report.Estimate) -> str:
    """``1.23 GB ±4%`` (``thin``: too few samples to read)."""
    if value.high is None or not value.bytes:
        return _size(value.bytes)
    error = (value.high - value.bytes) / value.bytes
    shown = f"{error:.1%}" if error < 0.1 else f"{error:.0%}"
    return f"{_size(value.bytes)} ±{shown}" + (" (thin)" if value.thin else "")


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value:.1%}"


def _largest_shares(shares: tuple[report.Share, ...], top: int) -> list[report.Share]:
    """Per month, the exchange's share and the ``top`` members by local traffic."""
    shown: list[report.Share] = []
    for month in sorted({share.month for share in shares}):
        rows = [share for share in shares if share.month == month]
        shown += [share for share in rows if share.asn is None]
        members = sorted((s for s in rows if s.asn is not None), key=lambda s: -s.local.bytes)
        shown += members[:top]
    return shown


def _print_report(data: report.TrafficReport, top: int) -> None:
    """The report as tables, one per section (the local share of the ``top`` members by
    local traffic each month; ``--json`` has every member's)."""
    whose = f" of AS{data.asn}" if data.asn is not None else ""
    period = f"{data.since} to {data.until - dt.timedelta(days=1)}"
    emit_table(
        f"Traffic kept local{whose}, per day ({period}, UTC)",
        ("day", "local", "IPv6", "sent", "received"),
        [(d.day, _estimate(d.local), _size(d.ipv6_bytes),
          _estimate(d.sent) if d.sent else "", _estimate(d.received) if d.received else "")
         for d in data.days],
    )  # fmt: skip
    emit_table(
        "Top members",
        ("asn", "name", "sent", "received", "total", "peers"),
        [(m.asn, m.name or "(no longer a member)", _estimate(m.sent), _estimate(m.received),
          _estimate(m.total), m.peers) for m in data.members],
    )  # fmt: skip
    emit_table(
        "Top member pairs",
        ("from", "to", "bytes", "IPv6"),
        [(f"AS{p.src_asn} {p.src_name or ''}", f"AS{p.dst_asn} {p.dst_name or ''}",
          _estimate(p.traffic), _size(p.ipv6_bytes)) for p in data.pairs],
    )  # fmt: skip
    emit_table(
        f"Local share: local / (local + international), the {top} largest members",
        ("month", "asn", "name", "local", "figure", "share", "95% interval", "status", "days"),
        [(s.month, "all" if s.asn is None else s.asn,
          f"{s.members} with a figure, {s.members_without} without" if s.asn is None
          else s.name or "", _estimate(s.local),
          f"{s.kind} {_size(s.figure_bytes)}" if s.kind else "", _percent(s.share),
          f"{_percent(s.low)}-{_percent(s.high)}" if s.low is not None else "", s.status,
          s.days_measured) for s in _largest_shares(data.shares, top)],
    )  # fmt: skip
    if data.opportunity is not None:
        found = data.opportunity
        emit_table(
            f"Opportunity: the largest networks of {found.country} that do not reach the "
            f"exchange ({found.reached} of {found.total} do; basis: {found.basis})",
            ("holder", "asns", "IPv4 addresses", "IPv6 /48s"),
            [(n.holder, ", ".join(map(str, n.asns)), f"{n.ipv4_addresses:,}",
              f"{n.ipv6_48s:,}") for n in found.networks],
        )  # fmt: skip
    emit_table(
        "Ports whose sampled estimate strays from their interface counters",
        ("agent", "port", "asn", "direction", "sampled", "counters", "deviation"),
        [(c.agent, c.if_index, c.asn or "", c.direction, _estimate(c.sampled), _size(c.counted),
          _percent(c.deviation)) for c in data.counter_check],
    )  # fmt: skip
    if data.asn is not None:
        return
    emit_table(
        "Possible double counting (sample ingress only, on member-facing ports)",
        ("agent", "port", "kind", "samples", "of", "share"),
        [(d.agent, d.if_index or "", d.kind, d.samples, d.of_samples, _percent(d.share))
         for d in data.double_counting],
    )  # fmt: skip
    emit_table(
        "Agents",
        ("agent", "datagrams", "malformed", "lost", "lost %", "samples", "missed", "dropped",
         "dropped %", "not ingress"),
        [(a.agent, a.datagrams, a.malformed, a.lost, _percent(a.lost_share), a.flow_samples,
          a.missed, a.dropped, _percent(a.dropped_share), a.not_ingress) for a in data.agents],
    )  # fmt: skip
    emit_table(
        "Unknown MACs (of no member)",
        ("mac", "role", "agent", "port", "samples", "bytes", "last seen"),
        [(u.mac, u.role, u.agent, u.if_index, u.samples, _size(u.bytes),
          f"{u.last_seen:%Y-%m-%d %H:%M}") for u in data.unknown_macs],
    )  # fmt: skip


@traffic_app.command("report")
@handles_errors
def traffic_report(
    since: dt.datetime = typer.Option(None, formats=_DATE, help="First day (default: 30 days)."),
    until: dt.datetime = typer.Option(None, formats=_DATE, help="Last day (default: today)."),
    member: str = typer.Option(None, "--member", help="Only this member's figures (ASN)."),
    top: int = typer.Option(10, min=1, help="How many members, pairs and networks."),
    as_json: bool = JsonOption,
) -> None:
    """Traffic kept local per day, top members and pairs, local share, opportunity, and the
    health of the measurement (counters, double counting, agents, unknown MACs)."""
    settings = get_settings()
    today = utcnow().date()
    last = until.date() + dt.timedelta(days=1) if until is not None else None
    period = report.Period.of(since.date() if since is not None else None, last, today)
    with cli_session(settings) as session:
        asn = check_member(session, member) if member is not None else None
        data = report.report(
            session,
            period,
            max_error=settings.traffic_max_error,
            tolerance=settings.traffic_counter_tolerance,
            asn=asn,
            top=top,
        )
    if as_json:
        emit_json(data)
        return
    _print_report(data, top)


@international_app.command("set")
@handles_errors
def international_set(
    asn: str = typer.Argument(..., help="The member's ASN."),
    month: str = typer.Argument(..., help="The month, YYYY-MM."),
    size: str = typer.Argument(..., metavar="BYTES", help="Bytes, both directions together."),
    total: bool = typer.Option(
        False, "--total", help="The figure is all the member's traffic, not only international."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Enter a member's international (or --total) traffic of one month."""
    settings = get_settings()
    kind = "total" if total else "international"
    with cli_session(settings) as session:
        figure = international.set_figure(
            session, asn, month, size, kind=kind, actor=settings.actor
        )
    emit(as_json, figure, "Traffic figure", _FIGURE_COLUMNS)


@international_app.command("import")
@handles_errors
def international_import(
    file: Path = typer.Argument(..., help="CSV with the header asn,month,bytes[,kind]."),
    as_json: bool = JsonOption,
) -> None:
    """Enter many figures from a CSV: all rows or none."""
    settings = get_settings()
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError("file", str(file), f"cannot be read: {exc}") from None
    with cli_session(settings) as session:
        done = international.import_csv(session, lines, actor=settings.actor)
    emit(as_json, done, f"{len(done)} traffic figures entered", _FIGURE_COLUMNS)


@international_app.command("list")
@handles_errors
def international_list(
    member: str = typer.Option(None, "--member", help="Only this member's (ASN)."),
    as_json: bool = JsonOption,
) -> None:
    """The entered figures by member and month."""
    with cli_session() as session:
        asn = check_member(session, member) if member is not None else None
        rows: list[Any] = international.figures(session, asn=asn)
    emit(as_json, rows, "Traffic figures", _FIGURE_COLUMNS)


@traffic_app.command("demo")
@handles_errors
def traffic_demo(
    days: int = typer.Option(3, min=1, max=6, help="Days of traffic up to now."),
    as_json: bool = JsonOption,
) -> None:
    """Fill the demo exchange with days of traffic from a generated sFlow stream."""
    settings = get_settings()
    with cli_session(settings) as session:
        done = demo.load_demo_traffic(session, settings, days=days, actor=settings.actor)
    if as_json:
        emit_json(done)
        return
    if not done.buckets:
        say("the database holds traffic already: nothing written")
        return
    say(f"{done.buckets} buckets of {done.members} members' traffic ({done.samples:,} samples) "
        f"from {done.since:%Y-%m-%d %H:%M} to {done.until:%Y-%m-%d %H:%M} UTC; "
        f"{done.figures} international figures entered")  # fmt: skip
