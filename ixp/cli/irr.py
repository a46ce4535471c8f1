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
from ixp.irr.types import SyncOutcome
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


def _show(detail: service.IrrDetail, as_json: bool) -> None:
    if as_json:
        emit_json(detail)
        return
    if not detail.synced:
        emit(False, detail, f"AS{detail.asn}: never synced", ("asn", "synced"))
    else:
        columns = ("as_set", "asns", "prefixes_v4", "prefixes_v6", "fetched_at", "source", "held")
        emit(False, detail, f"AS{detail.asn} registry data", columns)
        if detail.note:
            say(f"note: {detail.note}", stderr=True)
        emit(
            False,
            [*detail.v4, *detail.v6],
            f"AS{detail.asn} accepted prefixes",
            ("prefix", "max_length"),
        )
    if detail.pending is not None:
        held = ("as_set", "asns", "prefixes_v4", "prefixes_v6", "fetched_at", "reason")
        emit(False, detail.pending, f"AS{detail.asn} held for approval", held)


@irr_app.command("show")
@handles_errors
def irr_show(
    asn: str = typer.Argument(..., help="Member ASN."), as_json: bool = JsonOption
) -> None:
    """A member's registry data in use: AS-SET, ASNs, prefixes, when and where fetched."""
    with cli_session() as session:
        member = members.get_member(session, asn)
        _show(service.irr_detail(session, member), as_json)


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
        _show(service.irr_detail(session, member), as_json)
