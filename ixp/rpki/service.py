"""Loading ROA files into the database and reading the current set back.

A load validates the whole file first, refuses one that would shrink the
stored set by more than ``rpki_max_shrink_percent`` (a validator that lost a
trust anchor or a truncated export looks exactly like that, and fewer ROAs
turn invalid routes into accepted "unknown" ones) unless forced, and then
replaces the set in one transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from itertools import starmap
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, delete, func, insert, select
from sqlalchemy.orm import Session

from ixp import audit, jsonload, validate
from ixp.db import transaction
from ixp.errors import HeldForApproval, Remedy, ValidationError
from ixp.models import RpkiLoad, RpkiRoa
from ixp.models.base import utcnow
from ixp.rpki.formats import Entry, parse_document
from ixp.rpki.types import LoadReport, Roa
from ixp.settings import Settings, get_settings

_INSERT_BATCH = 10_000


def current_roas(session: Session) -> list[Roa]:
    """The stored ROAs, IPv4 before IPv6, in address order (deterministic for the renderer).

    ``load_file`` numbers the rows in that order, so reading by id is the sort.
    The rows are read through the driver's own cursor: for half a million ROAs
    that is several times faster than building SQLAlchemy rows first.
    """
    cursor = session.connection().connection.cursor()
    try:
        cursor.execute("SELECT prefix, max_length, asn FROM rpki_roas ORDER BY id")
        return list(starmap(Roa, cursor.fetchall()))
    finally:
        cursor.close()


def last_load(session: Session) -> RpkiLoad | None:
    """The newest accepted load, which describes the stored set."""
    return session.scalar(select(RpkiLoad).order_by(RpkiLoad.id.desc()).limit(1))


def _rows_in_order(entries: list[Entry]) -> list[dict[str, Any]]:
    """Deduplicated rows in address order, numbered so that reading by id needs no sort.

    The same VRP from two trust anchors is one row (the first anchor by name).
    """
    entries.sort(key=lambda e: (*e[:5], e[6] or ""))
    rows: list[dict[str, Any]] = []
    last: tuple[int, ...] | None = None
    for family, value, length, max_length, asn, prefix, ta in entries:
        if (family, value, length, max_length, asn) == last:
            continue
        last = (family, value, length, max_length, asn)
        rows.append(
            {"id": len(rows) + 1, "prefix": prefix, "max_length": max_length, "asn": asn, "ta": ta}
        )
    return rows


def _source(path: Path) -> str:
    """The file's absolute name as the load records it, if a database can store it.

    A name that is not UTF-8 (Linux allows any bytes) or holds control characters
    would fail the insert, after the whole file had been read and checked.
    """
    name = str(path.resolve())
    try:
        return validate.text(name, "file", max_length=RpkiLoad.source.type.length)
    except ValidationError as exc:
        reason = f"has a name that cannot be stored: {exc.reason}"
        raise ValidationError("file", name, reason) from None


def load_file(
    session: Session,
    path: Path,
    *,
    force: bool = False,
    settings: Settings | None = None,
    actor: str,
) -> LoadReport:
    """Replace the stored ROAs with the validated contents of ``path``."""
    settings = settings or get_settings()
    source = _source(path)
    raw = jsonload.read(path)
    kind, entries = parse_document(raw, str(path))
    rows = _rows_in_order(entries)
    previous = session.scalar(select(func.count()).select_from(RpkiRoa)) or 0
    if not rows and not force:
        raise ValidationError("file", str(path), "has no ROAs", hint=Remedy.FORCE)
    floor = previous * (1 - settings.rpki_max_shrink_percent / 100)
    if not force and previous and len(rows) < floor:
        raise HeldForApproval(
            f"has {len(rows)} ROAs against {previous} loaded now, "
            f"a drop of more than {settings.rpki_max_shrink_percent:g}% "
            "(rpki_max_shrink_percent); check the validator",
            field="file",
            value=str(path),
            hint=Remedy.FORCE,
        )
    v4 = sum(1 for row in rows if ":" not in row["prefix"])
    load = RpkiLoad(
        loaded_at=utcnow(),
        source=source,
        format=kind,
        sha256=hashlib.sha256(raw).hexdigest(),
        roas_v4=v4,
        roas_v6=len(rows) - v4,
        forced=force,
    )
    with transaction(session):
        connection = session.connection()
        table = cast(Table, RpkiRoa.__table__)  # Core statements: no ORM cost per ROA
        connection.execute(delete(table))
        for start in range(0, len(rows), _INSERT_BATCH):
            connection.execute(insert(table), rows[start : start + _INSERT_BATCH])
        session.add(load)
        audit.record(
            session,
            actor=actor,
            action="load",
            entity="rpki",
            key=load.source[:200],
            before={"roas": previous},
            after={"roas": len(rows), "format": kind, "sha256": load.sha256, "forced": force},
        )
    return LoadReport(
        source=load.source,
        format=kind,
        roas_v4=load.roas_v4,
        roas_v6=load.roas_v6,
        previous=previous,
        loaded_at=load.loaded_at,
        forced=force,
        duplicates=len(entries) - len(rows),
    )


@dataclass(frozen=True)
class RpkiStatus:
    """Counts and provenance of the stored ROA set (``ixp rpki show``); the load's fields
    are None until a file was loaded."""

    roas: int
    roas_v4: int
    roas_v6: int
    loaded_at: dt.datetime | None
    source: str | None
    format: str | None
    sha256: str | None
    forced: bool | None


def rpki_status(session: Session) -> RpkiStatus:
    """What the stored ROA set is and where it came from."""
    load = last_load(session)
    count = session.execute(select(func.count()).select_from(RpkiRoa)).scalar_one()
    if load is None:
        return RpkiStatus(count, 0, 0, None, None, None, None, None)
    return RpkiStatus(
        roas=count,
        roas_v4=load.roas_v4,
        roas_v6=load.roas_v6,
        loaded_at=load.loaded_at,
        source=load.source,
        format=load.format,
        sha256=load.sha256,
        forced=load.forced,
    )


@dataclass(frozen=True)
class MemberRpki:
    """The ROAs that authorise a member's ASN as origin, and the load they come from."""

    asn: int
    roas_v4: int
    roas_v6: int
    roas: tuple[Roa, ...]
    loaded_at: dt.datetime | None
    source: str | None


def member_rpki(session: Session, asn: int) -> MemberRpki:
    """The stored ROAs with origin ``asn``, in the set's order (IPv4 first, by address)."""
    query = (
        select(RpkiRoa.prefix, RpkiRoa.max_length, RpkiRoa.asn)
        .where(RpkiRoa.asn == asn)
        .order_by(RpkiRoa.id)
    )
    roas = tuple(starmap(Roa, session.execute(query)))
    v6 = sum(1 for roa in roas if ":" in roa.prefix)
    load = last_load(session)
    return MemberRpki(
        asn=asn,
        roas_v4=len(roas) - v6,
        roas_v6=v6,
        roas=roas,
        loaded_at=load.loaded_at if load else None,
        source=load.source if load else None,
    )
