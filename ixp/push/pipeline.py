"""``ixp push``: build, diff, preview, then the canary and the other route server, all recorded.

:func:`run_push` is what the CLI, the nightly timer and (later) the API call. The
steps and why each is there are in :mod:`ixp.push`; here is how they hold
together:

* **One push at a time, for the whole pair**: a ``flock`` beside the data
  (``<home>/push/.ixp-push.lock``, :mod:`ixp.locks`) is held from before the
  first look at a route server to after the last; a second push waits
  ``push_lock_wait_seconds`` and then exits naming the one running. Route
  servers are changed strictly one after the other. A dry run changes no route
  server and takes no push lock.
* **Recorded from the start**: the push's row exists, state ``running``, before
  anything happens, and each route server's row is ``applying`` before Ansible
  is started on it. A run killed half way (SIGKILL, a power cut) leaves exactly
  that behind; the next run, holding the lock, finds it and puts each route
  server it was changing back on the previous configuration (kept in the
  database) through the same safe procedure, marks it ``interrupted``, and then
  does its own push, which completes the work.
* **Stops are outcomes, not errors**: data held for approval and a preview past
  its thresholds end the push as ``stopped``, with the reason and what to do;
  a route server that fails ends it as ``failed`` and the next one is never
  touched. Each is a record, an alert where one applies, and exit status 1.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from ixp import locks, validate
from ixp.db import transaction
from ixp.errors import HeldForApproval, IxpError, Remedy, ValidationError
from ixp.exchange import get_exchange, get_route_server, peering_lan
from ixp.irr import service as irr_service
from ixp.irr.types import SyncOutcome
from ixp.models import (
    ConfigVersion,
    Exchange,
    PushRecord,
    PushState,
    PushTarget,
    RouteServer,
    TargetState,
)
from ixp.models.base import utcnow
from ixp.monitor import alerts
from ixp.push import ansible, records, versions
from ixp.push.diff import RsDiff, diff_configs
from ixp.push.impact import ImpactPreview, PreviewInput, Thresholds, run_preview
from ixp.push.recorder import Progress, PushRecorder
from ixp.push.recovery import recover
from ixp.push.speakers import read_offered
from ixp.rpki import service as rpki_service
from ixp.rs import history
from ixp.rs.build import BuildReport
from ixp.rs.context import build_context, load_roas
from ixp.rs.render import render
from ixp.settings import Settings

PUSH_LOCK = ".ixp-push.lock"
_ACTOR_LENGTH = int(PushRecord.__table__.c.actor.type.length)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class PushRequest:
    """What to push and how: the route server (None: all), dry run, approval, who asks.

    ``rpsl_files`` and ``rpki_file`` replace the settings' registry dumps and ROA
    file for this push; ``sockets`` the stored control sockets, by route-server
    name, for reading the routes the preview replays, and ``running_files`` the
    files the route servers run, read here when no push recorded what they run
    (both the lab's: ``ixp push --lab``).
    """

    actor: str
    rs_name: str | None = None
    dry_run: bool = False
    approve: bool = False
    rpsl_files: tuple[Path, ...] | None = None
    rpki_file: Path | None = None
    sockets: Mapping[str, str] = field(default_factory=dict)
    running_files: Mapping[str, Path] = field(default_factory=dict)


class _Stop(Exception):
    """Ends the pipeline early with a state and a reason (held data, preview, a failure)."""

    def __init__(self, state: PushState, reason: str, hint: Remedy | None = None) -> None:
        super().__init__(reason)
        self.state = state
        self.reason = reason
        self.hint = hint


def push_dir(settings: Settings) -> Path:
    """Where pushes keep their lock: ``<home>/push``."""
    return settings.home / "push"


# -- the route servers ---------------------------------------------------------------------------


def _ordered(
    session: Session, exchange: Exchange, settings: Settings, rs_name: str | None
) -> list[RouteServer]:
    """The route servers to push, canary first: ``push_canary``, else by name."""
    if rs_name is not None:
        return [get_route_server(session, rs_name, exchange)]
    servers = sorted(exchange.route_servers, key=lambda rs: rs.name)
    if settings.push_canary is not None:
        canary = [rs for rs in servers if rs.name == settings.push_canary]
        if not canary:
            raise ValidationError(
                "settings: push_canary", settings.push_canary, "is not a route server"
            )
        servers = canary + [rs for rs in servers if rs is not canary[0]]
    return servers


def _sync_push_alerts(session: Session, settings: Settings) -> None:
    """Open or close the push alerts now, not at the monitor's next round."""
    now = utcnow()
    findings = list(
        alerts.push_findings(
            records.rs_push_states(session), now, alerts.Thresholds.from_settings(settings)
        )
    )
    with transaction(session):
        alerts.sync_alerts(session, findings, now, rules=alerts.PUSH_RULES)


# -- step 1: build --------------------------------------------------------------------------------


def _holds_from_sync(session: Session, settings: Settings, request: PushRequest) -> list[str]:
    """Refresh the registry data; the members whose data waits for approval or failed."""
    files = request.rpsl_files if request.rpsl_files is not None else settings.push_irr_rpsl
    report = irr_service.sync(session, settings, rpsl_files=list(files) or None)
    return [
        f"AS{result.asn} {result.as_set}: {result.outcome.value}"
        + (f" ({result.note})" if result.note else "")
        for result in report.results
        if result.outcome in (SyncOutcome.held, SyncOutcome.failed)
    ]


def _holds_from_rpki(session: Session, settings: Settings, request: PushRequest) -> list[str]:
    """Load the ROA file (unless exactly it is loaded); a shrink past the limit is a hold."""
    path = request.rpki_file or settings.push_rpki_file
    if path is None:
        return []
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        return [f"ROA file {path}: cannot be read ({exc.strerror or exc}); loaded ROAs kept"]
    last = rpki_service.last_load(session)
    if last is not None and last.sha256 == digest:
        return []
    try:
        rpki_service.load_file(session, path, settings=settings, actor="push")
    except HeldForApproval as exc:
        return [f"ROA file: {exc}; loaded ROAs kept"]
    return []


def _build(
    session: Session, settings: Settings, request: PushRequest, rec: PushRecorder
) -> BuildReport:
    """Fresh registry and RPKI data, then a recorded build; stop on holds unless approved."""
    holds: list[str] = []
    if settings.push_irr_sync:
        rec.stage("build: registry sync")
        holds += _holds_from_sync(session, settings, request)
    rec.stage("build: ROAs")
    holds += _holds_from_rpki(session, settings, request)
    rec.stage("build")
    outcome = history.run_build(
        session,
        settings,
        history.default_out_dir(settings),
        rs_name=request.rs_name,
        actor=rec.record.actor,
    )
    with transaction(session):
        rec.record.build_id = outcome.record.id
    if outcome.failure is not None or outcome.report is None:
        raise _Stop(PushState.failed, f"build #{outcome.record.id} failed: {outcome.failure}")
    holds += [
        f"AS{note.asn} {note.as_set}: {note.note}"
        for rs in outcome.report.route_servers
        for note in rs.irr_notes
        if note.held
    ]
    holds = list(dict.fromkeys(holds))
    rec.note("holds", holds)
    if holds and not request.approve:
        raise _Stop(
            PushState.stopped,
            f"held for approval: {'; '.join(holds)}. Approve the registry data, "
            "or approve the push to go on with the last good data",
            Remedy.APPROVE,
        )
    return outcome.report


# -- step 2: diff ---------------------------------------------------------------------------------


def _fetch_found(
    session: Session, settings: Settings, rs: RouteServer, target: ansible.Target
) -> ConfigVersion | None:
    """Before the first push to ``rs``: the file it runs, kept as a version (None: none there,
    or it cannot be reached; the push step says so)."""
    with tempfile.TemporaryDirectory(prefix="ixp-fetch-") as directory:
        outcome = ansible.run(
            target, settings, action="fetch", variables={"bird_push_fetch_dir": directory}
        )
        path = Path(directory) / f"{rs.name}.conf"
        if outcome.outcome != "fetched" or not path.exists():
            return None
        with transaction(session):
            return versions.store(session, rs, path.read_text("utf-8"), origin="found")


def _diffs(
    session: Session,
    settings: Settings,
    request: PushRequest,
    report: BuildReport,
    servers: Sequence[RouteServer],
    rec: PushRecorder,
) -> tuple[list[tuple[RouteServer, PushTarget, RsDiff, Path]], dict[int, str]]:
    """Each route server's new configuration against the one it runs, and its target row."""
    rec.stage("diff")
    built = {rs.rs_name: rs for rs in report.route_servers}
    names = {m.asn: m.name for rs in report.route_servers for m in rs.members}
    names |= {e.asn: e.display_name for rs in report.route_servers for e in rs.excluded}
    notes = {e.asn: e.reason for rs in report.route_servers for e in rs.excluded}
    planned = []
    summaries = {}
    for position, rs in enumerate(servers):
        path = Path(built[rs.name].path)
        text = path.read_text("utf-8")
        running = versions.running(session, rs)
        if running is None and rs.name in request.running_files:
            found = request.running_files[rs.name].read_text("utf-8")
            with transaction(session):
                running = versions.store(session, rs, found, origin="found")
        elif running is None and not request.dry_run:
            rec.progress(f"diff: fetching the configuration {rs.name} runs (first push)")
            running = _fetch_found(session, settings, rs, ansible.target_of(rs, settings))
        old = versions.text_of(running) if running is not None else None
        diff = diff_configs(
            rs.name, old, text, names=names, notes=notes, max_bytes=settings.push_diff_max_bytes
        )
        with transaction(session):
            version = versions.store(
                session, rs, text, origin="build", build_id=rec.record.build_id
            )
            target = PushTarget(
                push=rec.record,
                route_server=rs,
                position=position,
                state=TargetState.pending,
                version=version,
                previous_version=running,
            )
            session.add(target)
        planned.append((rs, target, diff, path))
        summaries[rs.name] = {**asdict(diff), "baseline": running.origin if running else None}
    rec.note("diffs", summaries)
    return planned, names


# -- step 3: impact preview -----------------------------------------------------------------------


def _preview_config(session: Session, settings: Settings, rs: RouteServer, text: str) -> str:
    """The configuration the scratch BIRD runs: the new one, or in RTR mode the same policy
    with the stored ROAs compiled in (the scratch namespaces reach no validator)."""
    if not settings.rpki_rtr_host:
        return text
    static = settings.model_copy(update={"rpki_rtr_host": None})
    return render(build_context(session, rs, static, load_roas(session)).context).text


def _preview(
    session: Session,
    settings: Settings,
    request: PushRequest,
    planned: Sequence[tuple[RouteServer, PushTarget, RsDiff, Path]],
    names: Mapping[int, str],
    rec: PushRecorder,
) -> ImpactPreview | None:
    """The impact preview of the canary's new configuration (the first that changes; in a
    dry run the first, changed or not)."""
    changing = [(rs, path) for rs, _target_row, diff, path in planned if not diff.same]
    if request.dry_run and not changing:
        # Nothing to push, but the operator asked to see what the configuration does.
        changing = [(rs, path) for rs, _target_row, _diff, path in planned[:1]]
    if not settings.push_preview or not changing:
        return None
    rs, path = changing[0]
    rec.stage(f"preview: {rs.name}")
    socket_path = request.sockets.get(rs.name) or settings.bird_sockets.get(
        rs.name, rs.control_socket
    )
    try:
        offered = read_offered(socket_path, rs.asn, timeout=settings.bird_timeout_seconds)
    except IxpError as exc:
        reason = f"impact preview: the routes {rs.name} holds cannot be read ({exc})"
        rec.note("preview", {"rs_name": rs.name, "error": reason})
        if request.approve or request.dry_run:
            return None
        raise _Stop(PushState.stopped, reason, Remedy.APPROVE) from None
    lan = peering_lan(rs.exchange)
    given = PreviewInput(
        rs_name=rs.name,
        rs_asn=rs.asn,
        rs_addresses={f: a for f, a in ((4, rs.ipv4), (6, rs.ipv6)) if a},
        lan={f: p for f, p in ((4, lan.ipv4_prefix), (6, lan.ipv6_prefix)) if p},
        offered=offered,
        names=names,
    )
    config = _preview_config(session, settings, rs, path.read_text("utf-8"))
    preview = run_preview(
        config,
        given,
        settings,
        thresholds=Thresholds.from_settings(settings),
        progress=rec.progress,
    )
    rec.note("preview", asdict(preview))
    if preview.stops and not request.approve:
        raise _Stop(
            PushState.stopped,
            f"impact preview of {rs.name}: {'; '.join(preview.stop_reasons)}. "
            "Check the preview in the push's report before approving it",
            Remedy.APPROVE,
        )
    return preview


def _deltas(preview: ImpactPreview | None) -> dict[int, int]:
    """Per member, the change in accepted routes the preview expects (for the health check)."""
    if preview is None:
        return {}
    return {
        m.asn: m.newly_accepted - m.newly_filtered - m.not_taken
        for m in preview.members
        if m.newly_accepted or m.newly_filtered or m.not_taken
    }


# -- step 4: canary, then the other ---------------------------------------------------------------


_TARGET_STATES = {
    "confirmed": TargetState.confirmed,
    "unchanged": TargetState.unchanged,
    "rolled-back": TargetState.rolled_back,
    "failed": TargetState.failed,
    "unreachable": TargetState.unreachable,
}


def _outcome_health(outcome: ansible.HostOutcome) -> dict[str, Any]:
    return {
        "stage": outcome.stage,
        "replies": outcome.replies,
        "health": outcome.health,
        "live_sha256_before": outcome.live_sha256_before,
        "unconfirmed_found": outcome.unconfirmed_found,
        "seconds": outcome.seconds,
    }


def _push_one(
    settings: Settings,
    rs: RouteServer,
    target_row: PushTarget,
    diff: RsDiff,
    path: Path,
    delta: Mapping[int, int],
    rec: PushRecorder,
) -> str | None:
    """Push to one route server; None when it runs the new configuration, else why not."""
    if diff.same:
        rec.target(target_row, TargetState.unchanged, reason="runs this configuration already")
        return None
    rec.stage(f"push: {rs.name}")
    rec.target(target_row, TargetState.applying)
    outcome = ansible.run(
        ansible.target_of(rs, settings),
        settings,
        action="apply",
        variables=ansible.apply_variables(
            settings,
            path,
            delta,
            reload_protocols=diff.roa_reloads,
            refreshed=diff.reloaded + diff.roa_reloads,
        ),
    )
    state = _TARGET_STATES.get(outcome.outcome, TargetState.failed)
    reason = outcome.reason or None
    if outcome.outcome == "error":
        reason = f"ansible: {outcome.reason}"
    if state in (TargetState.confirmed, TargetState.unchanged):
        expected = diff.running_sha256
        if expected is not None and outcome.live_sha256_before not in (None, expected):
            reason = (
                f"the live file was not the version last pushed (SHA-256 "
                f"{outcome.live_sha256_before}): changed outside ixp"
            )
        rec.target(target_row, state, reason=reason, health=_outcome_health(outcome))
        return None
    rec.target(target_row, state, reason=reason, health=_outcome_health(outcome))
    return f"{rs.name} {state.value}: {reason or 'no reason given'}"


def _push_all(
    settings: Settings,
    planned: Sequence[tuple[RouteServer, PushTarget, RsDiff, Path]],
    preview: ImpactPreview | None,
    rec: PushRecorder,
) -> None:
    """The canary first, then each other route server, stopping at the first that fails."""
    delta = _deltas(preview)
    for index, (rs, target_row, diff, path) in enumerate(planned):
        failure = _push_one(settings, rs, target_row, diff, path, delta, rec)
        if failure is None:
            continue
        for _rs, later, _diff, _path in planned[index + 1 :]:
            rec.target(later, TargetState.skipped, reason=f"not touched: {rs.name} did not succeed")
        raise _Stop(PushState.failed, failure)


# -- the whole push -------------------------------------------------------------------------------


@contextlib.contextmanager
def _push_lock(settings: Settings, request: PushRequest) -> Iterator[None]:
    if request.dry_run:
        yield
        return
    with locks.exclusive(
        push_dir(settings) / PUSH_LOCK,
        "a push to the route servers",
        holder=f"started by {request.actor}",
        wait_seconds=settings.push_lock_wait_seconds,
    ):
        yield


def run_push(
    session: Session,
    settings: Settings,
    request: PushRequest,
    *,
    progress: Progress | None = None,
) -> records.PushDetail:
    """Run a push (see the module docstring) and return its record.

    The outcome is the record's state: ``succeeded`` or ``dry-run``, or
    ``stopped``/``failed`` with the reason. Requests that cannot start (no such
    route server, no management host, another push running) raise and leave no
    record; a bug is recorded as a failure and raised.
    """
    say = progress or (lambda _stage: None)
    validate.text(request.actor, "actor", max_length=_ACTOR_LENGTH)
    exchange = get_exchange(session)
    servers = _ordered(session, exchange, settings, request.rs_name)
    if not request.dry_run:
        for rs in servers:
            ansible.target_of(rs, settings)
    with _push_lock(settings, request):
        if not request.dry_run:
            recover(session, settings, exchange, say)
        record = PushRecord(
            exchange_id=exchange.id,
            actor=request.actor,
            state=PushState.running,
            dry_run=request.dry_run,
            approved=request.approve,
            stage="start",
            host=socket.gethostname(),
            pid=os.getpid(),
            report={},
        )
        with transaction(session):
            session.add(record)
        rec = PushRecorder(session, record, say)
        try:
            _pipeline(session, settings, request, servers, rec)
        except _Stop as stop:
            rec.skip_pending(f"not pushed: the push {stop.state.value}")
            if stop.hint is not None:
                rec.note("remedy", stop.hint.value)
            rec.finish(stop.state, stop.reason)
        except IxpError as exc:
            session.rollback()
            rec.finish(PushState.failed, f"{record.stage}: {exc}")
        except Exception as exc:
            session.rollback()
            if not any(t.state is TargetState.applying for t in record.targets):
                bug = f"{record.stage}: internal error ({type(exc).__name__})"
                rec.finish(PushState.failed, bug)
            raise
        if not request.dry_run:
            _sync_push_alerts(session, settings)
    return records.show_push(session, record.id)


def _pipeline(
    session: Session,
    settings: Settings,
    request: PushRequest,
    servers: Sequence[RouteServer],
    rec: PushRecorder,
) -> None:
    report = _build(session, settings, request, rec)
    planned, names = _diffs(session, settings, request, report, servers, rec)
    preview = _preview(session, settings, request, planned, names, rec)
    if request.dry_run:
        rec.skip_pending("not pushed: a dry run")
        rec.finish(PushState.dry_run, None)
        return
    _push_all(settings, planned, preview, rec)
    rec.finish(PushState.succeeded, None)
