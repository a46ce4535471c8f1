"""The public home page's traffic figures: what crossed the fabric in the last 30 days, its
mean rate and the latest measured local share, exchange-wide only."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from api.app import create_app
from ixp import overview
from ixp.settings import Settings
from ixp.traffic import international, sampling, store
from tests.traffic.exchange import asn_of, traffic_exchange

A, B, C = (asn_of(i) for i in range(3))
ERROR = 0.2
DAY0 = dt.date(2023, 11, 14)
START = 1_699_920_000  # DAY0 at midnight, UTC


def midnight(day: dt.date) -> int:
    return int(dt.datetime.combine(day, dt.time(), dt.UTC).timestamp())


def write(session: Session, start: int, traffic: dict[tuple[int, int], tuple[int, int]]) -> None:
    """A bucket with ``(src, dst) -> (samples, bytes)`` over IPv4."""
    rows = store.BucketRows(start)
    for (src, dst), (samples, size) in traffic.items():
        rows.add_pair(src, dst, 4, samples, samples * 100, size)
    store.write(session, rows)


def measure(session: Session, first: dt.date, second: dt.date) -> None:
    """On ``first`` A->B 4 GB and B->A 1 GB, on ``second`` C->A 2 GB; A reports 15 GB
    international for ``second``'s month, B and C nothing."""
    traffic_exchange(session, 3)
    write(session, midnight(first), {(A, B): (4000, 4 * 10**9), (B, A): (1000, 10**9)})
    write(session, midnight(second), {(C, A): (2000, 2 * 10**9)})
    international.set_figure(session, A, f"{second:%Y-%m}", 15 * 10**9, actor="noc")


def test_the_last_30_days_summed_with_their_interval_and_the_latest_share(
    session: Session,
) -> None:
    measure(session, DAY0, DAY0 + dt.timedelta(days=1))
    found = overview.local_traffic(session, DAY0 + dt.timedelta(days=5), ERROR)
    assert found is not None
    assert (found.days, found.local.bytes, found.local.samples) == (2, 7 * 10**9, 7000)
    low, high = sampling.interval(7 * 10**9, 7000)
    assert (found.local.low, found.local.high) == (round(low), round(high))
    assert found.average_bits_per_second == 7 * 10**9 * 8 / (2 * 86400)
    assert found.share is not None
    # A: 7 GB sent and received over the fabric, 15 GB abroad; B and C have no figure.
    assert (found.share.month, found.share.members, found.share.members_without) == (
        "2023-11", 1, 2,
    )  # fmt: skip
    assert found.share.share == pytest.approx(7 / 22)


def test_nothing_measured_is_none_not_zero(session: Session) -> None:
    measure(session, DAY0, DAY0)
    assert overview.local_traffic(session, DAY0 + dt.timedelta(days=31), ERROR) is None
    assert overview.local_traffic(session, DAY0 - dt.timedelta(days=1), ERROR) is None


def test_the_home_page_shows_the_figures_to_anyone(session: Session, settings: Settings) -> None:
    today = dt.datetime.now(dt.UTC).date()
    measure(session, today, today)  # one day, all in this month whatever the date
    app = create_app(settings.model_copy(update={"web_environment": "development"}))
    with TestClient(app) as client:
        text = client.get("/").text
    figures = re.search(r'<div class="figures" id="local-traffic">(.*?)</div>', text, re.S)
    assert figures is not None
    values = re.findall(r'<span class="value">(.*?)</span>', figures.group(1))
    assert values == ["7.00 GB", "648 kbit/s", "32%"]
    assert "of the 1 member that report" in figures.group(1)
    assert f"AS{B}" not in figures.group(1) and "Member 1" not in figures.group(1)


def test_without_traffic_the_home_page_says_so(session: Session, settings: Settings) -> None:
    traffic_exchange(session, 2)
    app = create_app(settings.model_copy(update={"web_environment": "development"}))
    with TestClient(app) as client:
        assert "Traffic over the exchange has not been measured yet." in client.get("/").text
