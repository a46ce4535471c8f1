"""Members' international (or total) traffic per month: what the local share is computed against.

The exchange measures the traffic its members exchange over the fabric; how much
they carry over international transit only they know (their transit invoices, their
own interface counters). A member or an operator enters it per month, in bytes both
ways (``set_figure``, ``ixp traffic international set``), or an operator imports a
CSV of them (``import_csv``): every row is checked first and every bad field named,
then all are written in one transaction, or none. Every change is audited. A member
without a figure for a month has no local share for it: the report says so and never
guesses one.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ixp import audit, validate
from ixp.db import transaction
from ixp.errors import Problems, ValidationError
from ixp.exchange import get_exchange
from ixp.models import FigureKind, Member, TrafficInternational
from ixp.models.base import utcnow

_MONTH = re.compile(r"(\d{4})-(\d{2})")
_MAX_BYTES = 2**63 - 1
CSV_COLUMNS = ("asn", "month", "bytes", "kind")


@dataclass(frozen=True)
class Figure:
    """One member's figure for one month, as entered."""

    asn: int
    month: str  # YYYY-MM
    kind: FigureKind
    bytes: int
    entered_by: str
    entered_at: dt.datetime

    @classmethod
    def of(cls, row: TrafficInternational) -> Figure:
        """The figure of a stored row."""
        return cls(row.asn, row.month, row.kind, row.bytes, row.entered_by, row.entered_at)


def check_month(value: object, field: str = "month", *, today: dt.date | None = None) -> str:
    """A month as ``YYYY-MM`` that has begun (a figure for the future cannot be known)."""
    text = value.strip() if isinstance(value, str) else ""
    match = _MONTH.fullmatch(text)
    if match is None or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1970:
        raise ValidationError(field, value, "is not a month (YYYY-MM)")
    today = today or utcnow().date()
    if (int(match.group(1)), int(match.group(2))) > (today.year, today.month):
        raise ValidationError(field, value, "has not begun yet")
    return text


def check_bytes(value: object, field: str = "bytes") -> int:
    """A byte count: a whole number from 0 to 2**63 - 1 (digits, or an int)."""
    if isinstance(value, bool):
        raise ValidationError(field, value, "is not a number of bytes")
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or not 0 <= value <= _MAX_BYTES:
        raise ValidationError(field, value, "is not a number of bytes (0 to 2**63 - 1)")
    return value


def check_kind(value: object, field: str = "kind") -> FigureKind:
    """``international`` or ``total``."""
    try:
        return FigureKind(value.strip() if isinstance(value, str) else str(value))
    except ValueError:
        choices = " or ".join(kind.value for kind in FigureKind)
        raise ValidationError(field, value, f"is not {choices}") from None


def _members(session: Session) -> dict[int, int]:
    """The exchange's members, ASN -> id."""
    exchange = get_exchange(session)
    rows = session.execute(select(Member.asn, Member.id).where(Member.exchange_id == exchange.id))
    return {int(asn): value for asn, value in rows}


def _member_asn(value: object, members: dict[int, int], field: str = "asn") -> int:
    number = validate.asn(value, field, allow_lab=True)
    if number not in members:
        raise ValidationError(field, value, "is not a member of the exchange")
    return number


def _store(session: Session, asn: int, month: str, kind: FigureKind, size: int, actor: str) -> None:
    """Write one figure (replacing the month's), with its audit entry (caller's transaction)."""
    row = session.scalar(
        select(TrafficInternational).where(
            TrafficInternational.asn == asn, TrafficInternational.month == month
        )
    )
    before = None if row is None else {"kind": str(row.kind), "bytes": row.bytes}
    if row is None:
        row = TrafficInternational(asn=asn, month=month)
        session.add(row)
    row.kind, row.bytes = kind, size
    row.entered_by, row.entered_at = audit.check_actor(actor), utcnow()
    audit.record(
        session,
        actor=actor,
        action="set",
        entity="traffic-figure",
        key=f"AS{asn} {month}",
        before=before,
        after={"kind": str(kind), "bytes": size},
    )


def set_figure(
    session: Session,
    asn: int | str,
    month: str,
    size: int | str,
    *,
    kind: FigureKind | str = FigureKind.international,
    actor: str,
) -> Figure:
    """Enter member ``asn``'s international (or total) traffic of ``month``, in bytes both
    ways, replacing what was entered before; every bad field is named at once."""
    problems = Problems()
    number = problems.check(_member_asn, asn, _members(session))
    checked_month = problems.check(check_month, month)
    checked_size = problems.check(check_bytes, size)
    checked_kind = problems.check(check_kind, kind)
    problems.raise_any()
    assert number is not None and checked_month is not None
    assert checked_size is not None and checked_kind is not None
    with transaction(session):
        _store(session, number, checked_month, checked_kind, checked_size, actor)
    return figures(session, asn=number, months=[checked_month])[0]


def import_csv(session: Session, lines: Iterable[str], *, actor: str) -> list[Figure]:
    """Enter every row of a CSV with the header ``asn,month,bytes`` (and optionally ``kind``,
    ``international`` when absent): all rows checked first, each bad field named by its
    line, then all written in one transaction, or none."""
    reader = csv.DictReader(lines)
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [name for name in CSV_COLUMNS[:3] if name not in header]
    if missing:
        raise ValidationError(
            "header", ",".join(header), f"lacks {', '.join(missing)} (asn,month,bytes[,kind])"
        )
    members = _members(session)
    problems = Problems()
    rows: dict[tuple[int, str], tuple[FigureKind, int]] = {}
    for line, raw in enumerate(reader, start=2):
        row = {str(key).strip(): value for key, value in raw.items() if key is not None}
        number = problems.check(_member_asn, row.get("asn"), members, f"line {line} asn")
        month = problems.check(check_month, row.get("month"), f"line {line} month")
        size = problems.check(check_bytes, row.get("bytes"), f"line {line} bytes")
        kind = problems.check(check_kind, row.get("kind") or "international", f"line {line} kind")
        if number is None or month is None or size is None or kind is None:
            continue
        if (number, month) in rows:
            problems.add(ValidationError(f"line {line}", f"AS{number} {month}", "is given twice"))
        rows[(number, month)] = (kind, size)
    if not rows and not problems:
        raise ValidationError("file", "", "has no rows")
    problems.raise_any()
    with transaction(session):
        for (number, month), (kind, size) in sorted(rows.items()):
            _store(session, number, month, kind, size, actor)
    return [figure for figure in figures(session) if (figure.asn, figure.month) in rows]


def figures(
    session: Session, *, asn: int | None = None, months: Iterable[str] | None = None
) -> list[Figure]:
    """Entered figures by member and month; ``asn`` keeps one member's, ``months`` some months."""
    query = select(TrafficInternational)
    if asn is not None:
        query = query.where(TrafficInternational.asn == asn)
    if months is not None:
        query = query.where(TrafficInternational.month.in_(list(months)))
    rows = session.scalars(query.order_by(TrafficInternational.asn, TrafficInternational.month))
    return [Figure.of(row) for row in rows]
