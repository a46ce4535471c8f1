"""``ixp irr ...``: refresh, inspect and approve members' routing-registry data."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import Progress

from ixp import members
from ixp.cli.common import (
    JsonOption,
    cli_session,
    emit,
    emit_json,
    err_console,
    handles_errors,
    say,
)
from ixp.irr import service
from ixp.irr.types import IrrData, SyncOutcome
from ixp.settings import get_settings

irr_app = typer.Typer(
    help="Routing-registry data: sync from bgpq4 or RPSL dumps, show, approve held data.",
    no_args_is_help=True,
)

_SYNC_COLUMNS = ("asn", "as_set", "outcome", "prefixes_v4", "prefixes_v6", "note")


@irr_app.command("sync")
@handles_errors
def irr_sync(
    rpsl: list[Path] = typer.Option(
        [], "--rpsl", help="RPSL dump (plain or gzip) to use instead of bgpq4; repeatable."
    ),
    asn: list[str] = typer.Option([], "--asn", help="Only this member (repeatable)."),
    as_json: bool = JsonOption,
) -> None:
    """Refresh every member's prefix lists; exits 1 if any member failed or was held."""
    settings = get_settings()
    with cli_session(settings) as session:
        targets = [members.get_member(session, a) for a in asn] or None
        quiet = as_json or not err_console.is_terminal
        with Progress(console=err_console, transient=True, disable=quiet) as bar:
            task = bar.add_task("expanding AS-SETs", total=None)
            report = service.sync(
                session,
                settings,
                members=targets,
                rpsl_files=rpsl or None,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
    rows = [
        {
            "asn": r.asn,
            "as_set": r.as_set,
            "outcome": r.outcome.value,
            "prefixes_v4": r.prefixes_v4,
            "prefixes_v6": r.prefixes_v6,
            "note": r.note,
        }
        for r in report.results
    ]
    if as_json:
        emit_json({"source": report.source, "members": rows})
    else:
        emit(False, rows, f"IRR sync from {report.source}", _SYNC_COLUMNS)
        counts = ", ".join(f"{report.count(o)} {o.value}" for o in SyncOutcome)
        say(f"{len(rows)} members: {counts}", stderr=True)
    if report.count(SyncOutcome.failed) or report.count(SyncOutcome.held):
        raise typer.Exit(1)


def _show(asn: int, data: IrrData | None, as_json: bool) -> None:
    record = service.irr_to_dict(asn, data)
    if as_json:
        emit_json(record)
        return
    if data is None:
        emit(False, record, f"AS{asn}: never synced", ("asn", "synced"))
        return
    summary = service.irr_summary(data) or {}
    columns = ("as_set", "asns", "prefixes_v4", "prefixes_v6", "fetched_at", "source", "held")
    emit(False, summary, f"AS{asn} registry data", columns)
    if data.note:
        say(f"note: {data.note}", stderr=True)
    entries = [{"prefix": e.prefix, "max_length": e.max_length} for e in (*data.v4, *data.v6)]
    emit(False, entries, f"AS{asn} accepted prefixes", ("prefix", "max_length"))


@irr_app.command("show")
@handles_errors
def irr_show(
    asn: str = typer.Argument(..., help="Member ASN."), as_json: bool = JsonOption
) -> None:
    """A member's registry data in use: AS-SET, ASNs, prefixes, when and where fetched."""
    with cli_session() as session:
        member = members.get_member(session, asn)
        _show(member.asn, service.irr_for_member(session, member), as_json)


@irr_app.command("approve")
@handles_errors
def irr_approve(
    asn: str = typer.Argument(..., help="Member ASN."), as_json: bool = JsonOption
) -> None:
    """Release a member's held registry data (it changed past the thresholds) into use."""
    settings = get_settings()
    with cli_session(settings) as session:
        member = members.get_member(session, asn)
        service.approve(session, member, actor=settings.actor)
        _show(member.asn, service.irr_for_member(session, member), as_json)
