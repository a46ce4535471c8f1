"""``ixp rs build``: render every route server's configuration, parse-check it, then publish.

Publishing is all or none. Every configuration is first staged as a temporary file
in the output directory (so the final rename never crosses file systems) and checked
with ``bird -p``; a configuration BIRD rejects, or one that cannot be written, stops
the build before any file is replaced. Then the staged files are renamed into place
one by one, each after a hard link to the file it replaces has been kept aside; if
any rename fails, the files already replaced are put back from those links, so every
route server keeps its previous configuration, and the error says which file failed.

Why renames with a rollback and not a new generation directory behind one switched
symlink (the only way to replace several files in one atomic step): BIRD, the lab,
the benchmarks and the tools that copy the files to the route servers (rsync,
ansible) all read plain ``<out>/<rs-name>.conf`` files, and a copy that does not
follow symlinks would ship dangling links. The price is a short window between the
first and the last rename in which a reader can see both generations; a process
killed inside it leaves the previous files as ``.<rs-name>.conf.<random>.previous``
next to the new ones.
"""

from __future__ import annotations

import os
import secrets
import stat
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, fields, is_dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from ixp.errors import ValidationError
from ixp.exchange import get_exchange, get_route_server
from ixp.heap import cycle_collection_paused
from ixp.models import Exchange, RouteServer
from ixp.rs.check import bird_parse
from ixp.rs.context import ContextResult, ExchangeData, IrrNote, build_context, load_roas
from ixp.rs.render import render
from ixp.rs.types import DroppedRule, Excluded, RegistryState, RsContext
from ixp.settings import Settings


@dataclass(frozen=True)
class MemberSummary:
    """One configured member as the build report lists it."""

    asn: int
    name: str
    sessions: tuple[str, ...]
    prefixes_v4: int
    prefixes_v6: int
    registry: RegistryState


@dataclass(frozen=True)
class RsBuild:
    """What was built for one route server."""

    rs_name: str
    path: str
    build_id: str
    members: tuple[MemberSummary, ...]
    sessions: int
    roas: int
    rpki_source: str
    excluded: tuple[Excluded, ...]
    irr_notes: tuple[IrrNote, ...]
    dropped_rules: tuple[DroppedRule, ...]
    render_seconds: float
    check_seconds: float


@dataclass(frozen=True)
class BuildReport:
    """The result of one ``ixp rs build``: every route server's config is in place."""

    out_dir: str
    route_servers: tuple[RsBuild, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain data for ``--json`` and the API: ``dataclasses.asdict``'s result, without
        its deep copy of every value (a 1,000-member report holds 17,000 records)."""
        return _record(self)


def _record(record: Any) -> dict[str, Any]:
    return {f.name: _plain(getattr(record, f.name)) for f in fields(record)}


def _plain(value: Any) -> Any:
    """Dataclasses as dicts, tuples item by item, other values as they are (strings,
    numbers, enums: immutable, so sharing them is what copying them gives)."""
    if is_dataclass(value) and not isinstance(value, type):
        return _record(value)
    if isinstance(value, tuple):
        return tuple(_plain(item) for item in value)
    return value


def _summary(context: RsContext) -> tuple[MemberSummary, ...]:
    return tuple(
        MemberSummary(
            asn=m.asn,
            name=m.display_name,
            sessions=tuple(s.name for s in m.sessions),
            prefixes_v4=len(m.prefixes_v4),
            prefixes_v6=len(m.prefixes_v6),
            registry=m.registry,
        )
        for m in context.members
    )


def _route_servers(session: Session, exchange: Exchange, rs_name: str | None) -> list[RouteServer]:
    if rs_name is not None:
        return [get_route_server(session, rs_name, exchange)]
    return list(exchange.route_servers)


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def prepare_out_dir(out_dir: Path) -> None:
    """Create the output directory; a path that cannot be one is the operator's ``out`` error."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise ValidationError("out", str(out_dir), "is not a directory") from None
    except OSError as exc:
        raise ValidationError("out", str(out_dir), f"cannot be created ({_reason(exc)})") from None


@dataclass(frozen=True)
class _Staged:
    """A rendered configuration written next to the file it is to replace."""

    temp: Path
    final: Path


def _stage(out_dir: Path, name: str, text: str) -> _Staged:
    """Write ``text`` to a temporary file in ``out_dir`` (``bird -p`` checks it there)."""
    try:
        handle, temp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=out_dir)
    except OSError as exc:
        raise _cannot_stage(out_dir, exc) from None
    staged = _Staged(Path(temp), out_dir / f"{name}.conf")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.chmod(temp, 0o644)  # mkstemp's 0600 would follow the rename; configs hold no secrets
    except OSError as exc:
        staged.temp.unlink(missing_ok=True)
        raise _cannot_stage(out_dir, exc) from None
    return staged


def _cannot_stage(out_dir: Path, exc: OSError) -> ValidationError:
    return ValidationError(
        "out",
        str(out_dir),
        f"cannot hold the new configurations ({_reason(exc)}); nothing was published",
    )


def _keep_previous(final: Path) -> Path | None:
    """A hard link to the file ``final`` still is, to put back if publishing fails.

    ``None`` when there is nothing to put back: no file yet, or a directory in the
    way (a rename onto a directory fails by itself and changes nothing).
    """
    try:
        if stat.S_ISDIR(final.lstat().st_mode):
            return None
    except FileNotFoundError:
        return None
    kept = final.with_name(f".{final.name}.{secrets.token_hex(4)}.previous")
    os.link(final, kept, follow_symlinks=False)
    return kept


def _put_back(replaced: Sequence[tuple[Path, Path | None]]) -> list[tuple[Path | None, str]]:
    """Undo the renames already done; returns the files it could not restore, and why.

    Each failure comes with the previous file kept aside for it, which must then stay
    on disk: the operator needs it to restore by hand.
    """
    failures = []
    for final, kept in reversed(replaced):
        try:
            if kept is None:
                final.unlink()
            else:
                os.replace(kept, final)
        except OSError as exc:
            where = f"kept as {kept.name}" if kept else "none"
            failures.append((kept, f"{final.name} ({_reason(exc)}; previous file: {where})"))
    return failures


def _publish_failed(
    failed: Path, exc: OSError, staged: Sequence[_Staged], not_restored: Sequence[str]
) -> ValidationError:
    names = ", ".join(item.final.name for item in staged)
    if not_restored:
        outcome = (
            f"publishing stopped half way: could not restore {', '.join(not_restored)}, "
            f"left with the new configuration; the others of {names} keep the previous one"
        )
    else:
        outcome = f"nothing was published, every file keeps its previous configuration: {names}"
    return ValidationError("out", str(failed), f"could not be replaced ({_reason(exc)}); {outcome}")


def _publish(staged: Sequence[_Staged]) -> None:
    """Rename every staged file into place, or put every replaced file back."""
    replaced: list[tuple[Path, Path | None]] = []
    kept_aside: list[Path] = []
    try:
        for item in staged:
            try:
                kept = _keep_previous(item.final)
                if kept is not None:
                    kept_aside.append(kept)
                os.replace(item.temp, item.final)
            except OSError as exc:
                failures = _put_back(replaced)
                stranded = {path for path, _ in failures}
                kept_aside = [path for path in kept_aside if path not in stranded]
                raise _publish_failed(
                    item.final, exc, staged, [why for _, why in failures]
                ) from None
            replaced.append((item.final, kept))
    finally:
        for path in kept_aside:
            path.unlink(missing_ok=True)


def build(
    session: Session,
    settings: Settings,
    out_dir: Path,
    *,
    rs_name: str | None = None,
    exchange: Exchange | None = None,
) -> BuildReport:
    """Build, check and publish ``out_dir/<rs-name>.conf`` for each (or the named) route server.

    The members, their registry data and the ROA set are read once for all route
    servers. BIRD parses each configuration while Python renders the next (two
    processes on two cores); every check has ended before the first route server's
    error is raised, so no ``bird`` outlives the build. The cycle collector is paused
    meanwhile (``ixp.heap``): it cost a sixth of a build's CPU in a new process.
    """
    with cycle_collection_paused():
        return _build(session, settings, out_dir, rs_name, exchange or get_exchange(session))


def _build(
    session: Session, settings: Settings, out_dir: Path, rs_name: str | None, exchange: Exchange
) -> BuildReport:
    prepare_out_dir(out_dir)
    staged: list[_Staged] = []
    built: list[tuple[ContextResult, str, float]] = []
    roas = None if settings.rpki_rtr_host else load_roas(session)
    data = ExchangeData(session, exchange)
    checks: list[Future[float]] = []
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            for rs in _route_servers(session, exchange, rs_name):
                started = time.monotonic()
                result = build_context(session, rs, settings, roas, data)
                rendered = render(result.context)
                built.append((result, rendered.build_id, time.monotonic() - started))
                item = _stage(out_dir, rs.name, rendered.text)
                staged.append(item)
                checks.append(
                    pool.submit(
                        bird_parse,
                        item.temp,
                        bird=settings.bird_path,
                        timeout=settings.bird_timeout_seconds,
                    )
                )
        check_seconds = [check.result() for check in checks]
        results = [
            _report(item, result, build_id, render_seconds, checked)
            for item, (result, build_id, render_seconds), checked in zip(
                staged, built, check_seconds, strict=True
            )
        ]
        _publish(staged)
    finally:
        for item in staged:
            item.temp.unlink(missing_ok=True)
    return BuildReport(out_dir=str(out_dir), route_servers=tuple(results))


def _report(
    item: _Staged, built: ContextResult, build_id: str, render_seconds: float, checked: float
) -> RsBuild:
    context = built.context
    return RsBuild(
        rs_name=context.rs_name,
        path=str(item.final),
        build_id=build_id,
        members=_summary(context),
        sessions=sum(len(m.sessions) for m in context.members),
        roas=len(context.rpki.roas),
        rpki_source=(
            f"rtr {context.rpki.rtr_host}:{context.rpki.rtr_port}"
            if context.rpki.rtr_host
            else "static"
        ),
        excluded=context.excluded,
        irr_notes=built.irr_notes,
        dropped_rules=context.dropped_rules,
        render_seconds=round(render_seconds, 3),
        check_seconds=round(checked, 3),
    )
