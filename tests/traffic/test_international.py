"""Members' monthly international (or total) traffic: validated, one transaction, audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ixp.errors import InvalidInput, ValidationError
from ixp.models import AuditEntry, FigureKind, TrafficInternational
from ixp.traffic import international
from tests.traffic.exchange import asn_of, traffic_exchange

A, B = asn_of(0), asn_of(1)


def stored(session: Session) -> list[tuple[int, str, str, int]]:
    rows = session.scalars(select(TrafficInternational).order_by(TrafficInternational.asn))
    return [(row.asn, row.month, str(row.kind), row.bytes) for row in rows]


def test_a_figure_is_set_replaced_and_audited(session: Session) -> None:
    traffic_exchange(session, 2)
    first = international.set_figure(session, f"AS{A}", "2024-03", "1000", actor="noc")
    assert (first.asn, first.month, first.kind, first.bytes, first.entered_by) == (
        A, "2024-03", FigureKind.international, 1000, "noc",
    )  # fmt: skip
    international.set_figure(session, A, "2024-03", 5000, kind="total", actor="op")
    assert stored(session) == [(A, "2024-03", "total", 5000)]
    entries = session.scalars(
        select(AuditEntry).where(AuditEntry.entity == "traffic-figure").order_by(AuditEntry.id)
    ).all()
    assert [(e.actor, e.entity_key, e.before, e.after) for e in entries] == [
        ("noc", f"AS{A} 2024-03", None, {"kind": "international", "bytes": 1000}),
        ("op", f"AS{A} 2024-03", {"kind": "international", "bytes": 1000},
         {"kind": "total", "bytes": 5000}),
    ]  # fmt: skip


def test_every_bad_field_is_named_and_nothing_is_written(session: Session) -> None:
    traffic_exchange(session, 2)
    with pytest.raises(InvalidInput) as refused:
        international.set_figure(session, 64999, "2999-01", -5, kind="transit", actor="noc")
    assert [e.field for e in refused.value.errors] == ["asn", "month", "bytes", "kind"]
    assert "is not a member of the exchange" in str(refused.value)
    assert "has not begun yet" in str(refused.value)
    with pytest.raises(ValidationError, match="is not a month"):
        international.set_figure(session, A, "2024-13", 1, actor="noc")
    assert stored(session) == []


def test_a_csv_is_imported_whole_or_not_at_all(session: Session) -> None:
    traffic_exchange(session, 2)
    good = ["asn,month,bytes,kind", f"{A},2024-01,100,", f"AS{B},2024-01,200,total",
            f"{A},2024-02,300,international"]  # fmt: skip
    done = international.import_csv(session, good, actor="op")
    assert [(f.asn, f.month, f.bytes) for f in done] == [
        (A, "2024-01", 100), (A, "2024-02", 300), (B, "2024-01", 200),
    ]  # fmt: skip
    bad = ["asn,month,bytes", f"{A},2024-01,999", "38999,2024-01,1", f"{B},2024-1,x",
           f"{A},2024-01,5"]  # fmt: skip
    with pytest.raises(InvalidInput) as refused:
        international.import_csv(session, bad, actor="op")
    assert [e.field for e in refused.value.errors] == [
        "line 3 asn", "line 4 month", "line 4 bytes", "line 5",
    ]  # fmt: skip
    assert stored(session) == [(A, "2024-01", "international", 100),
                               (A, "2024-02", "international", 300),
                               (B, "2024-01", "total", 200)]  # fmt: skip
    with pytest.raises(ValidationError, match="lacks month, bytes"):
        international.import_csv(session, ["asn,volume", "1,2"], actor="op")
