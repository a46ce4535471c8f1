"""The monitor's store of filtered routes: each round writes only what changed, and the
pages read back what BIRD showed, with since when (on SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ixp.bird import BirdRoute
from ixp.errors import NotFound
from ixp.models import FilteredRoute, SessionState
from ixp.monitor.filtered import member_filtered, record
from tests.monitor.conftest import RS_ASN, make_rs

T0 = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
T1 = T0 + dt.timedelta(minutes=1)
OWNERS = {"AS38193_v4_1": 38193, "AS55714_v4_1": 55714}


def route(protocol: str, prefix: str, *codes: int, path: tuple[int, ...] = (38193,)) -> BirdRoute:
    return BirdRoute(
        table="master4",
        prefix=prefix,
        protocol=protocol,
        primary=False,
        next_hop="185.1.10.20",
        as_path=path,
        communities=("65535:666",),
        large_communities=tuple(f"{RS_ASN}:1101:{code}" for code in codes),
    )


def seen(session: Session, rs_id: int, asn: int, at: dt.datetime) -> None:
    """A session state of ``asn``, as the monitor's round writes it beside the routes."""
    session.add(
        SessionState(
            route_server_id=rs_id,
            protocol=f"AS{asn}_v4_1",
            family="ipv4",
            asn=asn,
            state="Established",
            checked_at=at,
        )
    )


def kept_ids(session: Session) -> dict[str, int]:
    return {
        prefix: row_id
        for prefix, row_id in session.execute(select(FilteredRoute.prefix, FilteredRoute.id))
    }


def test_a_round_keeps_members_routes_and_counts_their_reasons(session: Session) -> None:
    rs = make_rs(session)
    found = [
        route("AS38193_v4_1", "103.151.10.0/24", 9),
        route("AS38193_v4_1", "192.168.0.0/16", 3, 9),
        route("AS55714_v4_1", "45.64.0.0/22", 13, path=(55714, 64512)),
        route("bgp_unknown", "45.65.0.0/22", 9),  # not a member's session: not kept
    ]
    counts = record(session, rs, found, OWNERS, T0)
    seen(session, rs.id, 38193, T0)
    session.commit()
    assert counts == {38193: {9: 2, 3: 1}, 55714: {13: 1}}
    assert session.scalar(select(func.count()).select_from(FilteredRoute)) == 3
    kept = member_filtered(session, [rs], 38193)
    assert [(row.prefix, row.reject_codes, row.since) for row in kept.rows] == [
        ("103.151.10.0/24", (9,), T0),
        ("192.168.0.0/16", (3, 9), T0),
    ]
    assert kept.rows[1].reasons == "bogon-prefix, prefix-not-in-as-set"
    assert kept.rows[0].communities == "65535:666" and kept.rows[0].as_path == "38193"
    assert kept.read_at == {"rs1": T0}


def test_the_next_round_writes_only_what_changed_and_keeps_since(session: Session) -> None:
    rs = make_rs(session)
    record(
        session,
        rs,
        [
            route("AS38193_v4_1", "103.151.10.0/24", 9),
            route("AS38193_v4_1", "103.151.11.0/24", 9),
            route("AS55714_v4_1", "45.64.0.0/22", 13),
        ],
        OWNERS,
        T0,
    )
    seen(session, rs.id, 38193, T1)
    session.commit()
    ids = kept_ids(session)
    # Round two: one route unchanged, one now carrying another reason, one gone, one new.
    record(
        session,
        rs,
        [
            route("AS38193_v4_1", "103.151.10.0/24", 9),
            route("AS38193_v4_1", "103.151.11.0/24", 13),
            route("AS38193_v4_1", "103.151.12.0/24", 9),
        ],
        {"AS38193_v4_1": 38193},
        T1,
    )
    session.commit()
    rows = {row.prefix: row for row in member_filtered(session, [rs], 38193).rows}
    assert {prefix: (row.reject_codes, row.since) for prefix, row in rows.items()} == {
        "103.151.10.0/24": ((9,), T0),
        "103.151.11.0/24": ((13,), T0),
        "103.151.12.0/24": ((9,), T1),
    }
    after = kept_ids(session)
    assert after["103.151.10.0/24"] == ids["103.151.10.0/24"]  # updated in place, not re-added
    assert "45.64.0.0/22" not in after


def test_a_round_with_nothing_filtered_empties_the_store(session: Session) -> None:
    rs = make_rs(session)
    routes = [route("AS38193_v4_1", f"103.151.{n}.0/24", 9) for n in range(200)]
    record(session, rs, routes, OWNERS, T0)
    session.commit()
    assert record(session, rs, [], {}, T1) == {}
    session.commit()
    assert session.scalar(select(func.count()).select_from(FilteredRoute)) == 0


def test_a_member_the_monitor_saw_no_session_of_is_not_found(session: Session) -> None:
    rs = make_rs(session)
    record(session, rs, [route("AS38193_v4_1", "103.151.10.0/24", 9)], OWNERS, T0)
    session.commit()
    with pytest.raises(NotFound, match="AS38193 has no session on route server"):
        member_filtered(session, [rs], 38193)
