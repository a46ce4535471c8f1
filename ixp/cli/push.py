"""``ixp push``: deliver the built configurations to the route servers; ``ixp push list|show``."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer

from ixp.cli.common import (
    REMEDY_WORDS,
    JsonOption,
    cli_session,
    console,
    emit,
    emit_json,
    err_console,
    handles_errors,
    plain,
    printable_lines,
    say,
)
from ixp.errors import Remedy
from ixp.lab.monitoring import lab_sockets, running_lab
from ixp.push import records
from ixp.push.pipeline import PushRequest, run_push
from ixp.push.recorder import Progress
from ixp.settings import Settings, get_settings

push_app = typer.Typer(
    help="Push the route-server configurations: build, diff, impact preview, canary, record.",
)

_LIST_COLUMNS = ("id", "started_at", "actor", "state", "route_servers", "reason")
# Route changes shown per member on the terminal (the record keeps more; --json shows them).
_CHANGES_SHOWN = 5


@contextmanager
def _progress(quiet: bool) -> Iterator[Progress]:
    """Each step as it starts: a spinner on a terminal, a line on stderr otherwise (the
    journal of the nightly timer)."""
    if quiet:
        yield lambda _stage: None
    elif err_console.is_terminal:
        with err_console.status("push: starting") as status:
            yield lambda stage: status.update(f"push: {stage}")
    else:
        yield lambda stage: say(f"push: {stage}", stderr=True)


def _line(text: str) -> None:
    console.print(text, soft_wrap=True)


def _print_diffs(report: dict[str, Any]) -> None:
    for name, diff in (report.get("diffs") or {}).items():
        if diff["same"]:
            _line(f"{name}: runs this configuration already (comments aside)")
            continue
        if diff["baseline"] is None:
            _line(
                f"{name}: nothing recorded of what it runs, so every one of its "
                f"{len(diff['members'])} members is new here (+{diff['lines_added']} lines); "
                "a push first fetches the file it runs and compares with that"
            )
            continue
        baseline = "the file found there" if diff["baseline"] == "found" else "the last push"
        _line(
            f"{name}: against {baseline}: {len(diff['members'])} members change, "
            f"{diff['unchanged_members']} unchanged; "
            f"+{diff['lines_added']} -{diff['lines_removed']} lines"
        )
        for member in diff["members"]:
            parts = [
                f"{s['label']} +{len(s['added'])} -{len(s['removed'])}" for s in member["sets"]
            ]
            parts += [f"session {s['name']} {s['change']}" for s in member["sessions"]]
            note = f" ({member['note']})" if member.get("note") else ""
            changes = "; ".join(parts)
            _line(f"  AS{member['asn']} {member['name']}: {member['change']}{note}: {changes}")


def _print_preview(report: dict[str, Any]) -> None:
    preview = report.get("preview")
    if not preview:
        return
    if "error" in preview:
        _line(preview["error"])
        return
    _line(
        f"impact preview ({preview['rs_name']}): {preview['routes_offered']} routes from "
        f"{preview['sessions']} sessions replayed in {preview['seconds'].get('total', 0):g} s: "
        f"{preview['newly_filtered']} newly filtered, {preview['not_taken']} not taken in, "
        f"{preview['newly_accepted']} newly accepted ({preview['lost_percent']:g}% of "
        f"{preview['accepted_before']} accepted lost); {preview['routes_not_replayed']} "
        "could not be replayed"
    )
    for member in preview["members"]:
        mark = " STOPS THE PUSH" if member["over_threshold"] else ""
        _line(
            f"  AS{member['asn']} {member['name']}: {member['newly_filtered']} newly filtered, "
            f"{member['not_taken']} not taken in, {member['newly_accepted']} newly accepted "
            f"of {member['accepted_before']} accepted ({member['lost_percent']:g}% lost){mark}"
        )
        for problem in member["session_problems"]:
            _line(f"    {problem}")
        for route in member["routes"][:_CHANGES_SHOWN]:
            _line(f"    {route['prefix']} {route['change']}: {'; '.join(route['reasons'])}")
    for removed in preview["removed_sessions"]:
        _line(f"  removed: {removed}")


def _print(detail: records.PushDetail) -> None:
    by = f"by {detail.actor}" + (", approved" if detail.approved else "")
    build = f"build #{detail.build_id}" if detail.build_id else "no build"
    holds = detail.report.get("holds") or []
    _line(f"push #{detail.id}: {detail.state} ({build}, {by})")
    for hold in holds:
        _line(f"held: {hold}")
    _print_diffs(detail.report)
    _print_preview(detail.report)
    for target in detail.targets:
        health = (target.health or {}).get("health") or {}
        counts = (
            f" (sessions {health['established_before']} -> {health['established_after']}, "
            f"accepted {health['accepted_before']} -> {health['accepted_after']})"
            if health.get("healthy") is not None
            else ""
        )
        reason = f": {target.reason}" if target.reason else ""
        _line(f"{target.route_server}: {target.state}{counts}{reason}")
    if detail.reason:
        _line(f"reason: {detail.reason}")
    if remedy := detail.report.get("remedy"):
        _line(f"to go on: {REMEDY_WORDS[Remedy(remedy)]}")


def _lab_files(settings: Settings) -> dict[str, Path]:
    """The configuration files the running lab's route servers run, by name."""
    lab = running_lab(settings)
    return {rs.name: lab.bird(rs.name).config for rs in lab.layout.route_servers}


@push_app.callback(invoke_without_command=True)
@handles_errors
def push(
    context: typer.Context,
    rs: str = typer.Option(None, "--rs", help="Push only this route server."),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Build, diff and preview; change no route server."
    ),
    approve: bool = typer.Option(
        False, "--approve", help="Go on past held registry data and the preview's thresholds."
    ),
    rpsl: list[Path] = typer.Option(
        [], "--rpsl", help="RPSL dump to sync from instead of push_irr_rpsl/bgpq4 (repeatable)."
    ),
    rpki: Path = typer.Option(None, "--rpki", help="ROA file to load instead of push_rpki_file."),
    lab: bool = typer.Option(
        False,
        "--lab",
        help="Compare with the configurations the running lab (ixp lab up) runs, and replay "
        "its routes.",
    ),
    as_json: bool = JsonOption,
) -> None:
    """Build with fresh registry and RPKI data, diff, preview the impact, then push to the
    canary and the other route server; exits 1 unless it succeeded (or the dry run ran)."""
    if context.invoked_subcommand is not None:
        return
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    settings = get_settings()
    request = PushRequest(
        actor=settings.actor,
        rs_name=rs,
        dry_run=dry_run,
        approve=approve,
        rpsl_files=tuple(rpsl) or None,
        rpki_file=rpki,
        sockets=lab_sockets(settings) if lab else {},
        running_files=_lab_files(settings) if lab else {},
    )
    with cli_session(settings) as session, _progress(as_json) as progress:
        detail = run_push(session, settings, request, progress=progress)
    if as_json:
        emit_json(detail)
    else:
        _print(detail)
    if detail.state not in ("succeeded", "dry-run"):
        raise typer.Exit(1)


@push_app.command("list")
@handles_errors
def push_list(
    limit: int = typer.Option(20, "--limit", min=1, max=1000, help="How many, newest first."),
    as_json: bool = JsonOption,
) -> None:
    """The recorded pushes, newest first: who, when, how each route server ended."""
    with cli_session() as session:
        pushes, total = records.list_pushes(session, limit=limit)
    emit(as_json, pushes, f"Pushes ({len(pushes)} of {total})", _LIST_COLUMNS)


@push_app.command("show")
@handles_errors
def push_show(
    push_id: int = typer.Argument(..., help="The push's id (ixp push list)."),
    diff: bool = typer.Option(False, "--diff", help="Print the unified diffs."),
    rs: str = typer.Option(None, "--rs", help="With --diff: only this route server's."),
    as_json: bool = JsonOption,
) -> None:
    """One push in full: holds, per-member changes, impact preview, each route server's
    health and outcome; --diff adds the unified diffs."""
    with cli_session() as session:
        detail = records.show_push(session, push_id)
        diffs = records.push_diff(session, push_id, rs) if diff else {}
    if as_json:
        emit_json({**plain(detail), "unified": diffs} if diff else detail)
        return
    _print(detail)
    for text in diffs.values():
        sys.stdout.write(printable_lines(text))
