"""``ixp rs build``: render every route server's configuration, parse-check it, then publish.

Each configuration is written to a temporary file next to its destination and
checked with ``bird -p``; only when every one of them parses are they renamed
into place, so a failure leaves the previous files exactly as they were.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from ixp.exchange import get_exchange, get_route_server
from ixp.models import Exchange, RouteServer
from ixp.rs.check import bird_parse
from ixp.rs.context import IrrNote, build_context, load_roas
from ixp.rs.render import render
from ixp.rs.types import Excluded, RsContext
from ixp.settings import Settings


@dataclass(frozen=True)
class MemberSummary:
    """One configured member as the build report lists it."""

    asn: int
    name: str
    sessions: tuple[str, ...]
    prefixes_v4: int
    prefixes_v6: int
    irr_held: bool


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
    render_seconds: float
    check_seconds: float


@dataclass(frozen=True)
class BuildReport:
    """The result of one ``ixp rs build``: every route server's config is in place."""

    out_dir: str
    route_servers: tuple[RsBuild, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain data for ``--json`` and the API."""
        return asdict(self)


def _summary(context: RsContext) -> tuple[MemberSummary, ...]:
    return tuple(
        MemberSummary(
            asn=m.asn,
            name=m.display_name,
            sessions=tuple(s.name for s in m.sessions),
            prefixes_v4=len(m.prefixes_v4),
            prefixes_v6=len(m.prefixes_v6),
            irr_held=m.irr_held,
        )
        for m in context.members
    )


def _route_servers(session: Session, exchange: Exchange, rs_name: str | None) -> list[RouteServer]:
    if rs_name is not None:
        return [get_route_server(session, rs_name, exchange)]
    return list(exchange.route_servers)


def _write_temp(out_dir: Path, name: str, text: str) -> Path:
    handle, temp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=out_dir)
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        stream.write(text)
    os.chmod(temp, 0o644)  # mkstemp's 0600 would follow the rename; configs hold no secrets
    return Path(temp)


def build(
    session: Session,
    settings: Settings,
    out_dir: Path,
    *,
    rs_name: str | None = None,
    exchange: Exchange | None = None,
) -> BuildReport:
    """Build, check and publish ``out_dir/<rs-name>.conf`` for each (or the named) route server."""
    exchange = exchange or get_exchange(session)
    out_dir.mkdir(parents=True, exist_ok=True)
    staged: list[tuple[Path, Path]] = []
    results: list[RsBuild] = []
    roas = None if settings.rpki_rtr_host else load_roas(session)
    try:
        for rs in _route_servers(session, exchange, rs_name):
            started = time.monotonic()
            built = build_context(session, rs, settings, roas)
            context = built.context
            rendered = render(context)
            render_seconds = time.monotonic() - started
            final = out_dir / f"{rs.name}.conf"
            temp = _write_temp(out_dir, rs.name, rendered.text)
            staged.append((temp, final))
            checked = bird_parse(
                temp, bird=settings.bird_path, timeout=settings.bird_timeout_seconds
            )
            results.append(
                RsBuild(
                    rs_name=rs.name,
                    path=str(final),
                    build_id=rendered.build_id,
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
                    render_seconds=round(render_seconds, 3),
                    check_seconds=round(checked, 3),
                )
            )
        for temp, final in staged:
            os.replace(temp, final)
        staged.clear()
    finally:
        for temp, _ in staged:
            temp.unlink(missing_ok=True)
    return BuildReport(out_dir=str(out_dir), route_servers=tuple(results))
