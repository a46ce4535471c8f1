"""``ixp rs ...``: route servers: add and list them, build and explain their configurations."""

from __future__ import annotations

import re
from dataclasses import asdict
from pathlib import Path

import typer

from ixp import exchange as exchange_service
from ixp import validate
from ixp.cli.common import (
    JsonOption,
    cli_session,
    emit,
    emit_json,
    emit_table,
    handles_errors,
)
from ixp.cli.common import console as out
from ixp.errors import ValidationError
from ixp.exchange import get_exchange, get_route_server
from ixp.heap import cycle_collection_paused, frozen_at_exit
from ixp.irr.prefixes import is_ascii_number
from ixp.rs import history
from ixp.rs.build import BuildReport, RsBuild
from ixp.rs.context import build_context
from ixp.rs.explain import Explanation, explain_route, parse_community
from ixp.settings import get_settings

rs_app = typer.Typer(
    help="Route servers: add, list, build and explain configs.", no_args_is_help=True
)

_RS_COLUMNS = ("name", "asn", "router_id", "ipv4", "ipv6", "control_socket")


@rs_app.command("add")
@handles_errors
def rs_add(
    name: str = typer.Option(..., help="Short name, e.g. rs1-isb (file and BIRD names)."),
    asn: str = typer.Option(..., help="The route server's ASN."),
    router_id: str = typer.Option(..., help="BGP router id (an IPv4 address)."),
    ipv4: str = typer.Option(None, help="Address on the peering LAN."),
    ipv6: str = typer.Option(None, help="Address on the peering LAN."),
    mgmt_host: str = typer.Option(None, help="Management host name for pushes."),
    socket: str = typer.Option(None, help="BIRD control socket path on the route server."),
    as_json: bool = JsonOption,
) -> None:
    """Add a route server; every member gets sessions with it."""
    settings = get_settings()
    with cli_session(settings) as session:
        rs = exchange_service.add_route_server(
            session,
            name=name,
            asn=asn,
            router_id=router_id,
            ipv4=ipv4,
            ipv6=ipv6,
            mgmt_host=mgmt_host,
            control_socket=socket,
            allow_lab=settings.allow_lab_asns,
            actor=settings.actor,
        )
    emit(as_json, rs, "Route server", _RS_COLUMNS)


@rs_app.command("list")
@handles_errors
def rs_list(as_json: bool = JsonOption) -> None:
    """List the route servers."""
    with cli_session() as session:
        servers = exchange_service.list_route_servers(session)
    emit(as_json, servers, "Route servers", _RS_COLUMNS)


def _print_report(report: BuildReport, *, verbose: bool) -> None:
    """One line per route server and what needs a look (members left out, registry
    notes, rules left out); every member's line only with ``verbose``: at 1,000 members
    the table took longer to print than the build took to render."""
    for rs in report.route_servers:
        out.print(
            f"{rs.rs_name}: {rs.path} (build {rs.build_id}): {len(rs.members)} members, "
            f"{rs.sessions} sessions, {rs.roas} ROAs ({rs.rpki_source}), "
            f"rendered in {rs.render_seconds:.2f} s, bird -p {rs.check_seconds:.2f} s",
            highlight=False,
            markup=False,
        )
        if verbose:
            _print_members(rs)
        _print_exceptions(rs)
    if not verbose:
        out.print("(every member's line: --verbose, or --json)", highlight=False, markup=False)


def _print_members(rs: RsBuild) -> None:
    emit_table(
        f"{rs.rs_name}: members",
        ("asn", "name", "sessions", "v4 prefixes", "v6 prefixes", "registry"),
        [
            (
                m.asn,
                m.name,
                " ".join(m.sessions),
                m.prefixes_v4,
                m.prefixes_v6,
                m.registry.describe(),
            )
            for m in rs.members
        ],
    )


def _print_exceptions(rs: RsBuild) -> None:
    if rs.excluded:
        emit_table(
            f"{rs.rs_name}: excluded",
            ("asn", "name", "reason"),
            [(e.asn, e.display_name, e.reason) for e in rs.excluded],
        )
    if rs.irr_notes:
        emit_table(
            f"{rs.rs_name}: registry notes",
            ("asn", "as_set", "held", "note"),
            [(n.asn, n.as_set, n.held, n.note) for n in rs.irr_notes],
        )
    if rs.dropped_rules:
        emit_table(
            f"{rs.rs_name}: filtering rules left out",
            ("asn", "rule", "reason"),
            [(d.asn, d.rule, d.reason) for d in rs.dropped_rules],
        )


@rs_app.command("build")
@handles_errors
def rs_build(
    out_dir: str = typer.Option(
        None,
        "--out",
        metavar="DIR",
        help="Directory for <rs-name>.conf files [default: $IXP_HOME/rs].",
    ),
    rs: str = typer.Option(None, "--rs", help="Build only this route server."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="A line for every member."),
    as_json: bool = JsonOption,
) -> None:
    """Build and bird -p check every route server's BIRD configuration; publish all or none.

    Every build, published or not, is recorded (see ixp rs builds)."""
    # Path("") is the current directory: `--out "$DIR"` with DIR unset must not write there.
    if out_dir is not None and not out_dir.strip():
        raise ValidationError("out", out_dir, "must not be empty")
    settings = get_settings()
    out = Path(out_dir) if out_dir is not None else history.default_out_dir(settings)
    # The command ends with the build's million objects alive: walking them again (after
    # the build, and as the interpreter exits) would free nothing.
    frozen_at_exit()
    with cycle_collection_paused():
        with cli_session(settings) as session:
            outcome = history.run_build(session, settings, out, rs_name=rs, actor=settings.actor)
        if outcome.failure is not None:
            raise outcome.failure
        assert outcome.report is not None
        if as_json:
            emit_json(outcome.report.to_dict())
        else:
            _print_report(outcome.report, verbose=verbose)


_BUILD_COLUMNS = (
    "id",
    "started_at",
    "actor",
    "ok",
    "route_servers",
    "members",
    "size_bytes",
    "error",
)


@rs_app.command("builds")
@handles_errors
def rs_builds(
    limit: int = typer.Option(20, "--limit", min=1, max=1000, help="How many, newest first."),
    as_json: bool = JsonOption,
) -> None:
    """List the recorded builds, newest first: who, when, published or why not."""
    with cli_session() as session:
        builds, total = history.list_builds(session, limit=limit, offset=0)
    emit(as_json, builds, f"Builds ({len(builds)} of {total})", _BUILD_COLUMNS)


def _parse_path(text: str | None) -> tuple[int, ...] | None:
    if text is None:
        return None
    parts = [p for p in re.split(r"[\s,]+", text.strip()) if p]
    if not all(is_ascii_number(p) and int(p) <= validate.MAX_ASN for p in parts):
        raise ValidationError("path", text, "must be ASNs separated by spaces or commas")
    return tuple(int(p) for p in parts)


def _print_explanation(result: Explanation) -> None:
    verdict = "accepted" if result.accepted else "rejected"
    path = " ".join(map(str, result.path)) or "(empty)"
    out.print(
        f"{result.rs_name}: {result.prefix} from AS{result.asn} via {result.next_hop} "
        f"(session {result.session}, path {path}): {verdict}; RPKI {result.rpki}",
        highlight=False,
        markup=False,
    )
    for reason in result.reasons:
        out.print(
            f"  {reason.code:>2} {reason.name}: {reason.detail}", highlight=False, markup=False
        )
    for note in result.notes:
        out.print(f"  note: {note}", highlight=False, markup=False)


@rs_app.command("explain")
@handles_errors
def rs_explain(
    asn: str = typer.Argument(..., help="The member's ASN."),
    prefix: str = typer.Argument(..., help="The announced prefix."),
    path: str = typer.Option(None, "--path", help="AS path, first AS first (default: ASN)."),
    next_hop: str = typer.Option(None, "--next-hop", help="Default: the member's LAN address."),
    community: list[str] = typer.Option(
        [], "--community", help="Community on the route, A:B or A:B:C (repeatable)."
    ),
    rs: str = typer.Option(None, "--rs", help="Route server (default: the first)."),
    as_json: bool = JsonOption,
) -> None:
    """Say whether a route from a member would be accepted and, if not, every reason."""
    settings = get_settings()
    number = validate.asn(asn, "asn", allow_lab=True)
    communities = [parse_community(c) for c in community]
    with cli_session(settings) as session:
        exchange = get_exchange(session)
        if rs is not None:
            server = get_route_server(session, rs, exchange)
        elif exchange.route_servers:
            server = exchange.route_servers[0]
        else:
            raise ValidationError("rs", None, f"exchange {exchange.name!r} has no route server")
        context = build_context(session, server, settings).context
    result = explain_route(
        context,
        number,
        prefix,
        path=_parse_path(path),
        next_hop=next_hop,
        communities=communities,
    )
    if as_json:
        emit_json(asdict(result))
    else:
        _print_explanation(result)
