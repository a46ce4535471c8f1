"""``ixp monitor ...``, ``ixp routes ASN`` and ``ixp reach ...``: what the monitor observed."""

from __future__ import annotations

import logging
from pathlib import Path

import typer

from ixp.cli.common import JsonOption, cli_session, emit, emit_json, handles_errors, plain, say
from ixp.exchange import get_exchange, get_route_server
from ixp.lab.monitoring import lab_overrides, lab_sockets
from ixp.monitor import alerts, reach, routes, service, sessions
from ixp.monitor.filtered import member_filtered
from ixp.settings import get_settings

monitor_app = typer.Typer(help="BGP monitor: collector, sessions, alerts.", no_args_is_help=True)
reach_app = typer.Typer(help="Domestic reachability over the exchange.", no_args_is_help=True)

_SESSION_COLUMNS = (
    "route_server",
    "asn",
    "protocol",
    "family",
    "state",
    "imported",
    "filtered",
    "exported",
    "import_limit",
    "last_error",
)
_ALERT_COLUMNS = (
    "id",
    "opened_at",
    "severity",
    "rule",
    "route_server",
    "asn",
    "message",
    "acknowledged_by",
    "closed_at",
)
_ROUTE_COLUMNS = ("route_server", "prefix", "next_hop", "as_path", "large_communities")
_REACH_COLUMNS = (
    "asn",
    "ipv4_percent",
    "ipv6_48_percent",
    "asn_percent",
    "ipv4_reachable",
    "ipv6_48_reachable",
    "asns_reachable",
)


@monitor_app.command("run")
@handles_errors
def monitor_run(
    once: bool = typer.Option(
        False, "--once", help="One round: load the RIBs, check, sample reachability, exit."
    ),
    lab: bool = typer.Option(False, "--lab", help="Monitor the running lab (ixp lab up)."),
) -> None:
    """Run the monitor (collectors, session checks, alerts, /metrics) until stopped."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = get_settings()
    sockets: dict[str, str] = {}
    if lab:
        settings, sockets = lab_overrides(settings)
    service.run(settings, once=once, sockets=sockets)


@monitor_app.command("sessions")
@handles_errors
def monitor_sessions(as_json: bool = JsonOption) -> None:
    """Every member session as last seen on every route server."""
    with cli_session() as session:
        emit(as_json, sessions.session_rows(session), "Sessions", _SESSION_COLUMNS)


@monitor_app.command("events")
@handles_errors
def monitor_events(
    limit: int = typer.Option(50, help="How many, newest first."), as_json: bool = JsonOption
) -> None:
    """Session events: up, down (with reason), prefix-count jumps."""
    columns = ("at", "route_server", "asn", "protocol", "family", "kind", "reason")
    with cli_session() as session:
        emit(as_json, sessions.event_rows(session, limit), "Session events", columns)


alerts_app = typer.Typer(help="Open alerts (or all with --all); 'ack ID' acknowledges one.")
monitor_app.add_typer(alerts_app, name="alerts")


@alerts_app.callback(invoke_without_command=True)
@handles_errors
def monitor_alerts(
    context: typer.Context,
    include_closed: bool = typer.Option(False, "--all", help="Closed alerts too."),
    as_json: bool = JsonOption,
) -> None:
    """Open alerts (or all with --all), newest first."""
    if context.invoked_subcommand is not None:
        return
    with cli_session() as session:
        status = alerts.AlertStatus.all if include_closed else alerts.AlertStatus.open
        emit(as_json, alerts.alert_list(session, status), "Alerts", _ALERT_COLUMNS)


@alerts_app.command("ack")
@handles_errors
def monitor_alerts_ack(
    alert_id: int = typer.Argument(..., help="The alert's id (ixp monitor alerts --json)."),
    as_json: bool = JsonOption,
) -> None:
    """Acknowledge an open alert: it is being dealt with (it stays open until it clears)."""
    settings = get_settings()
    with cli_session(settings) as session:
        row = alerts.acknowledge(session, alert_id, actor=settings.actor)
    emit(as_json, row, "Alert acknowledged", _ALERT_COLUMNS)


@handles_errors
def routes_command(
    asn: int = typer.Argument(..., help="The member's ASN."),
    filtered: bool = typer.Option(
        False, "--filtered", help="Filtered routes with reasons, as the monitor last read them."
    ),
    live: bool = typer.Option(
        False,
        "--live",
        help="Filtered routes asked of BIRD now (a walk of its whole table per session).",
    ),
    rs: str = typer.Option(None, "--rs", help="Only this route server."),
    lab: bool = typer.Option(False, "--lab", help="Ask the running lab's route servers."),
    as_json: bool = JsonOption,
) -> None:
    """A member's accepted routes on the route servers, or its filtered ones and why."""
    settings = get_settings()
    with cli_session(settings) as session:
        exchange = get_exchange(session)
        targets = [get_route_server(session, rs, exchange)] if rs else exchange.route_servers
        if filtered and not live:
            rows: list[routes.RouteRow] = list(member_filtered(session, targets, asn).rows)
        else:
            rows = routes.member_routes(
                targets,
                asn,
                filtered=filtered,
                reader=routes.DirectReader(settings.bird_timeout_seconds),
                sockets=lab_sockets(settings) if lab else None,
            )
    columns = (*_ROUTE_COLUMNS, "reasons", "since") if filtered else (*_ROUTE_COLUMNS, "rpki")
    title = f"AS{asn}: {'filtered' if filtered else 'accepted'} routes"
    emit(as_json, rows, title, columns)


@reach_app.command("load")
@handles_errors
def reach_load(file: Path = typer.Argument(..., help="RIR delegated-extended file.")) -> None:
    """Load the country's delegations (the exchange's country) from a delegated-extended file."""
    with cli_session() as session:
        country = get_exchange(session).country
        counts = reach.load_delegations(session, file, country)
    say(f"{country}: {counts['ipv4']} ipv4, {counts['ipv6']} ipv6, {counts['asn']} asn delegations")


@reach_app.command("report")
@handles_errors
def reach_report(
    top: int = typer.Option(None, "--top", min=1, help="Only the N members reaching most."),
    as_json: bool = JsonOption,
) -> None:
    """Domestic reachability from the newest sample: overall, then members by contribution."""
    with cli_session() as session:
        data = reach.report(session, get_exchange(session), top=top)
    if as_json:
        emit_json(data)
        return
    if data.overall is None or data.at is None:
        say("no reachability sample yet (run the monitor with delegations loaded)")
        return
    rows = [{**plain(data.overall), "asn": "all"}, *plain(data.members)]
    emit(False, rows, f"Reachability of {data.country} at {data.at:%Y-%m-%d %H:%M}", _REACH_COLUMNS)
