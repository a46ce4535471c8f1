"""Finishing what a killed push left half done, before the next push does anything.

A push killed by SIGKILL (or a power cut) leaves its row ``running`` and the
route server it was changing ``applying``: the new file may or may not be in
place, BIRD may be under its undo timer or back on the old configuration
already. The next push, holding the push lock, puts that route server back on
the previous configuration (kept in the database) through the same safe
procedure as any push: the role applies it only if the live file is not the
previous one or an unconfirmed mark says BIRD may not run what the file says,
and then checks health and confirms. The killed push is marked
``interrupted``; the new push then completes the work with a fresh build.
"""

from __future__ import annotations

import socket
import tempfile
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ixp.db import transaction
from ixp.errors import Conflict, SourceUnavailable
from ixp.models import Exchange, PushRecord, PushState, PushTarget, TargetState
from ixp.models.base import utcnow
from ixp.push import ansible, versions
from ixp.push.recorder import Progress, PushRecorder
from ixp.settings import Settings


def _put_back(session: Session, settings: Settings, target: PushTarget, push: PushRecord) -> str:
    """Put the previous configuration back on a route server a killed push was changing."""
    rs = target.route_server
    previous = target.previous_version
    if previous is None:
        state, reason = TargetState.failed, "no previous configuration recorded to put back"
    else:
        with tempfile.TemporaryDirectory(prefix="ixp-recover-") as directory:
            path = Path(directory) / f"{rs.name}.conf"
            path.write_text(versions.text_of(previous), encoding="utf-8")
            outcome = ansible.run(
                ansible.target_of(rs, settings),
                settings,
                action="apply",
                # The killed push may have validated routes against other ROAs.
                variables=ansible.apply_variables(settings, path, {}, reload_in=True),
            )
        if outcome.outcome not in ("confirmed", "unchanged"):
            raise SourceUnavailable(
                f"push #{push.id} was killed while changing {rs.name}, and its previous "
                f"configuration could not be put back ({outcome.outcome}: {outcome.reason}); "
                "nothing else is pushed until it is"
            )
        reason = (
            "it still ran the previous configuration"
            if outcome.outcome == "unchanged"
            else "the previous configuration was put back"
        )
        state = TargetState.rolled_back
    with transaction(session):
        target.state = state
        target.reason = f"interrupted; {reason}"
        target.finished_at = utcnow()
    return f"{rs.name}: {reason}"


def recover(session: Session, settings: Settings, exchange: Exchange, progress: Progress) -> None:
    """Find pushes a killed run left ``running`` and roll back what they were changing.

    Called with the push lock held, so a running push of this host is a dead one.
    One recorded on another host may be alive: that is a ``Conflict``.
    """
    here = socket.gethostname()
    unfinished = session.scalars(
        select(PushRecord)
        .where(
            PushRecord.exchange_id == exchange.id,
            PushRecord.state == PushState.running,
            PushRecord.dry_run.is_(False),
        )
        .order_by(PushRecord.id)
    ).all()
    for push in unfinished:
        if push.host != here:
            raise Conflict(
                f"push #{push.id} from host {push.host} (pid {push.pid}) is recorded as running; "
                "pushes must run from one host"
            )
        progress(f"recovering push #{push.id}, killed at {push.stage}")
        done = [
            _put_back(session, settings, target, push)
            for target in push.targets
            if target.state is TargetState.applying
        ]
        recorder = PushRecorder(session, push, progress)
        recorder.skip_pending("interrupted before it was reached")
        what = "; ".join(done) or "no route server was being changed"
        recorder.finish(
            PushState.interrupted,
            f"killed at {push.stage} (pid {push.pid}); recovered by a later push: {what}",
        )
