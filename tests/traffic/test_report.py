"""The report: local traffic per day, top members and pairs, the matrix, local shares with
their intervals, the opportunity list, and the health figures an operator acts on."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from ixp.errors import ValidationError
from ixp.members import remove_member
from ixp.monitor import reach
from ixp.traffic import international, report, rollup, sampling, store
from tests.traffic.exchange import asn_of, traffic_exchange

DAY0 = dt.date(2023, 11, 14)
START = 1_699_920_000  # DAY0 at midnight, UTC
A, B, C, D = (asn_of(i) for i in range(4))
ERROR, TOLERANCE = 0.2, 0.05
PERIOD = report.Period(DAY0, DAY0 + dt.timedelta(days=2))


def write(session: Session, start: int, traffic: dict[tuple[int, int], tuple[int, int]],
          ipv6: bool = False) -> None:  # fmt: skip
    """A bucket with ``(src, dst) -> (samples, bytes)``, as IPv4 (or IPv6)."""
    rows = store.BucketRows(start)
    for (src, dst), (samples, size) in traffic.items():
        rows.add_pair(src, dst, 6 if ipv6 else 4, samples, samples * 100, size)
    store.write(session, rows)


@pytest.fixture
def traffic(session: Session) -> Session:
    """Two days: on the first A->B 4 GB and B->A 1 GB, C->A 100 MB (thin); on the second
    A->B 2 GB over IPv6. D exchanges nothing."""
    traffic_exchange(session, 4)
    write(session, START + 600, {(A, B): (4000, 4 * 10**9), (B, A): (1000, 10**9)})
    write(session, START + 3600, {(C, A): (50, 10**8)})
    write(session, START + 86400 + 300, {(A, B): (2000, 2 * 10**9)}, ipv6=True)
    return session


def test_local_traffic_per_day_overall_and_for_a_member(traffic: Session) -> None:
    days = report.daily(traffic, PERIOD, ERROR)
    assert [(d.day, d.local.bytes, d.local.samples, d.ipv6_bytes) for d in days] == [
        (DAY0, 5_100_000_000, 5050, 0),
        (DAY0 + dt.timedelta(days=1), 2 * 10**9, 2000, 2 * 10**9),
    ]
    low, high = sampling.interval(5_100_000_000, 5050)
    assert (days[0].local.low, days[0].local.high) == (round(low), round(high))
    (first, second) = report.daily(traffic, PERIOD, ERROR, asn=A)
    assert first.sent is not None and first.received is not None
    assert (first.sent.bytes, first.received.bytes, first.local.bytes) == (
        4 * 10**9, 11 * 10**8, 51 * 10**8,
    )  # fmt: skip
    assert second.sent is not None and second.sent.bytes == 2 * 10**9


def test_the_figures_are_the_same_before_and_after_the_rollup(traffic: Session) -> None:
    before = report.report(traffic, PERIOD, max_error=ERROR, tolerance=TOLERANCE)
    rollup.rollup(traffic, complete_until=START + 2 * 86400, now=START + 2 * 86400,
                  keep_5min_days=1, keep_hourly_days=1)  # fmt: skip
    assert report.spans(traffic, PERIOD.start, PERIOD.end) == [(86400, START, START + 2 * 86400)]
    assert report.report(traffic, PERIOD, max_error=ERROR, tolerance=TOLERANCE) == before


def test_top_members_and_pairs_largest_first_a_thin_one_marked(traffic: Session) -> None:
    ranked = report.members(traffic, PERIOD, ERROR)
    assert [(m.asn, m.total.bytes, m.peers) for m in ranked] == [
        (A, 71 * 10**8, 2), (B, 7 * 10**9, 1), (C, 10**8, 1),
    ]  # fmt: skip
    assert ranked[0].name == "Member 0"
    found = report.pairs(traffic, PERIOD, ERROR, top=2)
    assert [(p.src_asn, p.dst_asn, p.traffic.bytes, p.ipv6_bytes) for p in found] == [
        (A, B, 6 * 10**9, 2 * 10**9), (B, A, 10**9, 0),
    ]  # fmt: skip
    (thin,) = report.pairs(traffic, PERIOD, ERROR, asn=C)
    assert thin.traffic.thin and not found[0].traffic.thin


def test_a_member_that_left_keeps_its_traffic_under_its_asn(traffic: Session) -> None:
    remove_member(traffic, C, actor="test")
    (gone,) = report.members(traffic, PERIOD, ERROR, asn=C)
    assert (gone.name, gone.total.bytes) == (None, 10**8)


def test_the_matrix_of_the_largest_members_and_of_one_member(traffic: Session) -> None:
    grid = report.matrix(traffic, PERIOD, top=2)
    assert grid.asns == (A, B)
    assert grid.cells == ((0, 6 * 10**9), (10**9, 0))
    own = report.matrix(traffic, PERIOD, asn=C)
    assert own.asns == (C, A) and own.cells == ((0, 10**8), (0, 0))


def test_local_share_from_entered_figures_with_its_interval(traffic: Session) -> None:
    international.set_figure(traffic, A, "2023-11", 71 * 10**8 * 3, actor="noc")  # local 25%
    international.set_figure(traffic, B, "2023-11", 14 * 10**9, kind="total", actor="noc")
    international.set_figure(traffic, C, "2023-11", 10**6, kind="total", actor="noc")
    shares = {s.asn: s for s in report.local_shares(traffic, PERIOD, ERROR)}
    a = shares[A]
    assert (a.status, a.kind, a.share, a.days_measured) == ("measured", "international", 0.25, 2)
    assert a.low is not None and a.high is not None and a.low < 0.25 < a.high
    assert shares[B].share == 0.5 and shares[B].kind == "total"
    assert (shares[C].status, shares[C].share) == ("inconsistent", None)  # total below local
    overall = shares[None]
    assert (overall.members, overall.members_without) == (2, 0)
    # A: 7.1 GB local, 21.3 GB international; B: 7 GB local of 14 GB total.
    assert overall.share == pytest.approx(14.1 / (14.1 + 21.3 + 7))
    assert report.local_shares(traffic, PERIOD, ERROR, asn=D) == []


def test_members_without_a_figure_are_shown_as_such_never_guessed(traffic: Session) -> None:
    shares = report.local_shares(traffic, PERIOD, ERROR)
    assert {s.asn: (s.status, s.share) for s in shares} == {
        None: ("no-figure", None), A: ("no-figure", None), B: ("no-figure", None),
        C: ("no-figure", None),
    }  # fmt: skip
    assert shares[0].members_without == 3


def test_the_opportunity_is_the_largest_networks_that_do_not_reach_the_exchange(
    traffic: Session, tmp_path: Path
) -> None:
    delegated = tmp_path / "delegated.txt"
    delegated.write_text(
        "2|apnic|20231114|6|19830613|20231113|+1000\n"
        f"apnic|PK|asn|{A}|1|20150101|allocated|HOLDER-A\n"
        "apnic|PK|ipv4|45.64.0.0|65536|20150101|allocated|HOLDER-A\n"
        "apnic|PK|asn|9557|1|20150101|allocated|HOLDER-BIG\n"
        "apnic|PK|ipv4|39.32.0.0|262144|20150101|allocated|HOLDER-BIG\n"
        "apnic|PK|asn|17557|1|20150101|allocated|HOLDER-MID\n"
        "apnic|PK|ipv4|58.65.160.0|8192|20150101|allocated|HOLDER-MID\n"
        "apnic|PK|ipv6|2400:fc00::|32|20150101|allocated|HOLDER-MID\n"
        "apnic|PK|ipv4|103.1.0.0|1024|20150101|reserved|HOLDER-NONE\n"
    )
    reach.load_delegations(traffic, delegated, "PK")
    found = report.opportunity(traffic)
    assert [(n.holder, n.asns, n.ipv4_addresses) for n in found.networks] == [
        ("HOLDER-BIG", (9557,), 262144), ("HOLDER-MID", (17557,), 8192),
    ]  # fmt: skip
    assert found.networks[1].ipv6_48s == 65536
    assert (found.reached, found.total, found.basis) == (1, 3, "members' ASNs")
    seen = report.opportunity(traffic, origins={9557})
    assert [n.holder for n in seen.networks] == ["HOLDER-MID"]


def _port(session: Session, start: int, if_index: int, sampled: int, counted: int,
          foreign: int = 0) -> None:  # fmt: skip
    rows = store.BucketRows(start)
    port = rows.ports.setdefault(("192.0.2.1", if_index), store.PortRow(asn=A))
    port.counts.update(in_bytes=sampled, in_samples=1000, foreign_samples=foreign,
                       counter_ms=150_000, counter_in_octets=counted)  # fmt: skip
    rows.agents["192.0.2.1"] = {"datagrams": 90, "lost": 10, "flow_samples": 900,
                                "dropped_samples": 100, "not_ingress_samples": 45}  # fmt: skip
    store.write(session, rows)


def test_ports_whose_estimate_strays_from_their_counters_are_reported(session: Session) -> None:
    traffic_exchange(session, 1)
    _port(session, START, 7, 10**9, 5 * 10**8)  # 150 s of counters: the whole bucket's 10**9
    _port(session, START, 8, 10**9, 10**9, foreign=250)  # twice the sampled estimate
    (strays,) = report.counter_check(session, PERIOD, ERROR, TOLERANCE)
    assert (strays.if_index, strays.direction, strays.counted, strays.deviation) == (
        8, "in", 2 * 10**9, -0.5,
    )  # fmt: skip
    assert len(report.counter_check(session, PERIOD, ERROR, TOLERANCE, strays_only=False)) == 2
    double = report.double_counting(session, PERIOD)
    assert [(d.kind, d.if_index, d.samples, d.share) for d in double] == [
        ("not-ingress", None, 90, 0.05), ("seen-at-two-agents", 8, 250, 0.25),
    ]  # fmt: skip
    (agent,) = report.agents(session, PERIOD)
    assert (agent.datagrams, agent.lost, agent.lost_share, agent.dropped_share) == (
        180, 20, 0.1, 0.1,
    )  # fmt: skip


def test_a_period_must_run_forwards() -> None:
    with pytest.raises(ValidationError, match="is not before until"):
        report.Period.of(DAY0, DAY0, DAY0)
    default = report.Period.of(None, None, DAY0)
    assert (default.since, default.until) == (DAY0 - dt.timedelta(days=29), DAY0 + dt.timedelta(1))
    for since, until in ((dt.date(1, 1, 1), None), (None, dt.date(1, 1, 2)), (None, dt.date.max)):
        with pytest.raises(ValidationError, match="is outside 1970-01-01 to "):
            report.Period.of(since, until, DAY0)


def test_a_period_from_long_ago_costs_only_the_months_with_data(traffic: Session) -> None:
    """A period from 1954 (the API's fuzzer asked for one) used to run a round of queries
    for every month since, and timed out; it answers what the period with data does."""
    from_1954 = report.Period(dt.date(1954, 1, 1), PERIOD.until)
    queries: list[str] = []
    event.listen(traffic.get_bind(), "before_cursor_execute", lambda *a: queries.append(a[2]))
    assert report.local_shares(traffic, from_1954, ERROR) == report.local_shares(
        traffic, PERIOD, ERROR
    )
    assert len(queries) < 100, len(queries)
