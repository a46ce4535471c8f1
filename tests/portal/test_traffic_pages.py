"""The traffic pages in-process, on both databases: the exchange's page for operators (days,
local shares, top members and pairs, the heat map, the measurement's health, the
opportunity) and a member's own page, with the figures the report gives.

Two days of November 2023, written by the storage's own service as the collector
writes its buckets: on the first A sent B 4 GB and B sent A 1 GB over IPv4, Charlie
sent A 100 MB from 50 samples (too few to read); on the second A sent B 2 GB over
IPv6 and B sent Charlie 3 GB. An agent lost datagrams, a port strays from its
counters, a router nobody registered sent frames (its alert is open), and A entered
its international traffic for the month.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from api.pages.render import CSRF_FIELD
from api.pages.traffic import HEAT_LEVELS, TOP
from ixp.models import MacRole
from ixp.monitor import reach
from ixp.settings import Settings
from ixp.traffic import alerts, international, report, store
from tests.api.conftest import MEMBER_A, MEMBER_B, World, add_test_member
from tests.portal.test_operator_pages import field_error
from tests.portal.test_pages import counted, csrf_of, sign_in

A, B, C = MEMBER_A, MEMBER_B, 38193
DAY0 = dt.date(2023, 11, 14)
START = 1_699_920_000  # DAY0 at midnight, UTC
PERIOD = report.Period(DAY0, DAY0 + dt.timedelta(days=2))
ASKED = {"since": "2023-11-14", "until": "2023-11-15"}
AGENT = "192.0.2.1"
STRANGER = "02:00:c0:ff:ee:01"


def _bucket(session: Session, start: int, pairs: dict[tuple[int, int, int], int]) -> None:
    """A bucket with ``(src, dst, ip version) -> GB``, 1,000 samples per GB."""
    rows = store.BucketRows(start)
    for (src, dst, version), size in pairs.items():
        rows.add_pair(src, dst, version, 1000 * size, 4096 * size, size * 10**9)
    store.write(session, rows)


@pytest.fixture
def traffic(session: Session, world: World, api_settings: Settings, tmp_path: Path) -> World:
    add_test_member(session, C, "Charlie", 23)
    _bucket(session, START + 600, {(A, B, 4): 4, (B, A, 4): 1})
    thin = store.BucketRows(START + 3600)
    thin.add_pair(C, A, 4, 50, 200, 10**8)
    thin.agents[AGENT] = {"datagrams": 95, "lost": 5, "flow_samples": 900}
    port = thin.ports.setdefault((AGENT, 7), store.PortRow(asn=A))
    port.counts.update(in_bytes=10**9, in_samples=1000, counter_ms=300_000,
                       counter_in_octets=2 * 10**9)  # fmt: skip
    thin.unknown[(STRANGER, MacRole.src, AGENT, 9)] = [40, 160, 60_000]
    store.write(session, thin)
    _bucket(session, START + 86400 + 300, {(A, B, 6): 2, (B, C, 4): 3})
    seen = dt.datetime.fromtimestamp(START + 3700, dt.UTC)
    directory = store.mac_directory(session)
    alerts.sync_unknown_macs(
        session, directory, seen, api_settings.traffic_unknown_mac_clear_minutes
    )
    international.set_figure(session, A, "2023-11", 21 * 10**9, actor="op")
    delegated = tmp_path / "delegated.txt"
    delegated.write_text(
        "2|apnic|20231114|3|19830613|20231113|+1000\n"
        f"apnic|PK|asn|{A}|1|20150101|allocated|HOLDER-A\n"
        "apnic|PK|asn|9557|1|20150101|allocated|HOLDER-BIG\n"
        "apnic|PK|ipv4|39.32.0.0|262144|20150101|allocated|HOLDER-BIG\n"
    )
    reach.load_delegations(session, delegated, "PK")
    session.commit()
    return world


def row(page: str, element_id: str) -> str:
    """The table row (or cell) with ``element_id``."""
    found = re.search(rf'<(tr|td|p)[^>]* id="{element_id}"[^>]*>.*?</\1>', page, re.S)
    assert found, f"no {element_id}"
    return found.group(0)


def sizes(html: str) -> list[int]:
    """The bytes of every size in ``html``, in order."""
    return [int(value) for value in re.findall(r'<data value="(\d+)">', html)]


def test_the_operator_page_shows_the_reports_figures(
    client: TestClient, session: Session, api_settings: Settings, traffic: World
) -> None:
    sign_in(client, "op")
    answer = client.get("/traffic", params=ASKED)
    assert answer.status_code == 200
    page = answer.text
    assert '<a href="/traffic" aria-current="page">Traffic</a>' in page
    error = api_settings.traffic_max_error
    days = report.daily(session, PERIOD, error)
    assert len(days) == 2
    for day in days:
        assert sizes(row(page, f"day-{day.day}"))[:1] == [day.local.bytes]
        assert sizes(row(page, f"day-{day.day}"))[-1] == day.ipv6_bytes
    chart = re.search(r'<script type="application/json" id="traffic-days">(.*?)</script>', page)
    assert chart and [p["local"] for p in json.loads(chart.group(1))["points"]] == [
        d.local.bytes for d in days
    ]
    ranked = report.members(session, PERIOD, error, top=TOP)
    assert re.findall(r'<tr id="member-(\d+)">', page) == [str(m.asn) for m in ranked]
    for m in ranked:
        figures = [m.sent.bytes, m.received.bytes, m.total.bytes]
        assert sizes(row(page, f"member-{m.asn}")) == figures
    pairs = report.pairs(session, PERIOD, error, top=TOP)
    assert re.findall(r'<tr id="pair-(\d+-\d+)">', page) == [
        f"{p.src_asn}-{p.dst_asn}" for p in pairs
    ]
    assert "few samples" in row(page, f"pair-{C}-{A}")
    shares = report.local_shares(session, PERIOD, error)
    own = next(s for s in shares if s.asn == A)
    assert own.share is not None and f"{own.share * 100:.1f}%" in row(page, f"share-2023-11-{A}")
    assert "no figure entered" in row(page, f"share-2023-11-{B}")
    overall = next(s for s in shares if s.asn is None)
    assert overall.share is not None
    assert f"{overall.share * 100:.1f}%" in row(page, "local-share")


def test_local_shares_have_a_column_per_month(
    client: TestClient, session: Session, traffic: World
) -> None:
    _bucket(session, START + 17 * 86400 + 300, {(A, B, 4): 1})  # 1 December
    session.commit()
    sign_in(client, "op")
    page = client.get("/traffic", params={"since": "2023-11-14", "until": "2023-12-01"}).text
    heads = re.search(r'<table class="shares">.*?</thead>', page, re.S)
    assert heads and "2023-11 (2 days measured)" in heads.group(0)
    assert "2023-12 (1 day measured)" in heads.group(0)
    assert re.findall(r'<tr id="shares-(\w+)">', page) == ["exchange", *map(str, sorted((A, B, C)))]
    assert "%" in row(page, f"share-2023-11-{A}")  # its figure is for November only
    assert "no figure entered" in row(page, f"share-2023-12-{A}")
    charlie = row(page, f"shares-{C}")  # nothing in December: no share, no figure
    assert "no figure entered" in row(page, f"share-2023-11-{C}") and "<td>—</td>" in charlie


def test_the_heat_map_holds_the_matrix_of_the_largest_members(
    client: TestClient, session: Session, api_settings: Settings, traffic: World
) -> None:
    sign_in(client, "op")
    page = client.get("/traffic", params=ASKED).text
    grid = report.matrix(session, PERIOD, top=TOP)
    assert re.findall(r'<tr id="matrix-(\d+)">', page) == [str(asn) for asn in grid.asns]
    for i, src in enumerate(grid.asns):
        for j, dst in enumerate(grid.asns):
            cell = row(page, f"cell-{src}-{dst}")
            size = grid.cells[i][j]
            if size == 0:
                assert "heat-0" in cell and "nothing" in cell
                continue
            assert sizes(cell) == [size]
            thin = report.Estimate.of(size, grid.samples[i][j], api_settings.traffic_max_error)
            assert ("too few samples" in cell) == thin.thin
    assert max(size for line in grid.cells for size in line) == 6 * 10**9  # A to B
    assert f'class="heat heat-{HEAT_LEVELS}"' in row(page, f"cell-{A}-{B}")  # the largest
    assert f'class="heat heat-{HEAT_LEVELS}"' in row(page, f"cell-{B}-{C}")  # half as much
    assert f'class="heat heat-{HEAT_LEVELS - 1}"' in row(page, f"cell-{B}-{A}")  # a sixth
    # 60 times less: three half decades below the largest, and too few samples to read
    assert 'class="heat heat-2"' in row(page, f"cell-{C}-{A}")
    assert "too few samples" in row(page, f"cell-{C}-{A}")


def test_the_operator_sees_the_measurements_health_and_whom_to_recruit(
    client: TestClient, traffic: World
) -> None:
    sign_in(client, "op")
    page = client.get("/traffic", params=ASKED).text
    agent = row(page, f"agent-{AGENT}")
    assert ">95<" in agent and "5 (5.0%)" in agent
    strays = re.search(r'<table class="compact strays">.*?</table>', page, re.S)
    assert strays and f"AS{A}" in strays.group(0) and "-50.0%" in strays.group(0)
    macs = re.search(r'<table class="compact unknown-macs">.*?</table>', page, re.S)
    assert macs and STRANGER in macs.group(0) and "not acknowledged" in macs.group(0)
    assert re.search(r'href="/alerts#alert-\d+"', macs.group(0))
    assert "1 of the 2 networks of PK reach the exchange" in page
    assert "HOLDER-BIG" in page and "262,144" in page and "HOLDER-A<" not in page


def test_a_member_sees_its_own_traffic_and_never_anothers(
    client: TestClient, session: Session, api_settings: Settings, traffic: World
) -> None:
    sign_in(client)
    answer = client.get(f"/members/{A}/traffic", params=ASKED)
    assert answer.status_code == 200
    page = answer.text
    assert f'<a href="/members/{A}/traffic" aria-current="page">Traffic</a>' in page
    error = api_settings.traffic_max_error
    for day in report.daily(session, PERIOD, error, A):
        assert day.sent is not None and day.received is not None
        assert sizes(row(page, f"day-{day.day}"))[:3] == [
            day.sent.bytes, day.received.bytes, day.local.bytes,
        ]  # fmt: skip
    own_pairs = report.pairs(session, PERIOD, error, asn=A, top=TOP)
    assert re.findall(r'<tr id="pair-(\d+-\d+)">', page) == [
        f"{p.src_asn}-{p.dst_asn}" for p in own_pairs
    ]
    (share,) = report.local_shares(session, PERIOD, error, asn=A)
    assert share.share is not None
    assert f"{share.share * 100:.1f}%" in row(page, f"share-2023-11-{A}")
    # Bravo's traffic with Charlie, its own totals and the exchange's are not A's to see.
    assert f"pair-{B}-{C}" not in page and "3000000000" not in page
    assert "share-2023-11-exchange" not in page and f"share-2023-11-{B}" not in page
    assert "Bravo Wireless" in page  # A's peer, named as the API names it
    assert client.get(f"/members/{B}/traffic", params=ASKED).status_code == 404
    assert client.get("/traffic").status_code == 403


def test_a_member_without_a_figure_has_no_share_shown(client: TestClient, traffic: World) -> None:
    sign_in(client, "bravo")
    page = client.get(f"/members/{B}/traffic", params=ASKED).text
    assert "Not known: no international or total traffic figure" in page
    assert "no figure entered" in row(page, f"share-2023-11-{B}")


@pytest.mark.parametrize("path", ["/traffic", f"/members/{A}/traffic"])
def test_a_bad_period_is_named_at_its_fields(client: TestClient, traffic: World, path: str) -> None:
    sign_in(client, "op")
    bad = client.get(path, params={"since": "2023-13-01", "until": "1960-01-01"})
    assert bad.status_code == 422
    assert field_error(bad.text, "since") == "is not a date (YYYY-MM-DD)"
    assert field_error(bad.text, "until").startswith("is outside 1970-01-01 to ")
    assert "day-2023-11-14" not in bad.text
    backwards = client.get(path, params={"since": "2023-11-15", "until": "2023-11-14"})
    assert backwards.status_code == 422
    assert field_error(backwards.text, "since") == "is after until (2023-11-14)"
    default = client.get(path)
    assert default.status_code == 200 and "No traffic was measured in this period." in default.text


def test_the_exchange_page_runs_a_fixed_number_of_queries(
    client: TestClient, session: Session, traffic: World
) -> None:
    sign_in(client, "op")
    with counted(client) as few:
        assert client.get("/traffic", params=ASKED).status_code == 200
    for host in range(30, 45):
        add_test_member(session, 38100 + host, f"Member {host}", host)
        _bucket(session, START + 900, {(38100 + host, A, 4): 1, (B, 38100 + host, 6): 1})
    session.commit()
    with counted(client) as many:
        assert client.get("/traffic", params=ASKED).status_code == 200
    assert len(few) == len(many), many


def _enter(client: TestClient, asn: int, **form: str) -> Any:
    page = client.get(f"/members/{asn}/traffic").text
    return client.post(
        f"/members/{asn}/traffic/figure",
        data={CSRF_FIELD: csrf_of(page), **form},
        follow_redirects=False,
    )


def test_a_member_enters_its_international_traffic_and_sees_its_share(
    client: TestClient, traffic: World
) -> None:
    sign_in(client, "bravo")
    saved = _enter(client, B, month="2023-11", gigabytes="1,000.5", kind="international")
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"] == f"/members/{B}/traffic?saved=2023-11"
    (figure,) = client.get("/api/v1/traffic/international").json()
    assert (figure["asn"], figure["bytes"], figure["entered_by"]) == (B, 1_000_500_000_000, "bravo")
    page = client.get(saved.headers["location"] + "&since=2023-11-14&until=2023-11-15").text
    assert "Your figure for 2023-11 is saved." in page
    assert "Not known" not in page


def test_a_bad_figure_is_named_at_each_field_and_nothing_is_stored(
    client: TestClient, traffic: World
) -> None:
    sign_in(client, "bravo")
    refused = _enter(client, B, month="2999-01", gigabytes="lots", kind="domestic")
    assert refused.status_code == 422
    assert field_error(refused.text, "month") == "has not begun yet"
    assert field_error(refused.text, "gigabytes") == "is not a number of gigabytes"
    assert "international" in field_error(refused.text, "kind")
    assert 'value="lots"' in refused.text
    assert client.get("/api/v1/traffic/international").json() == []


def test_another_members_figure_form_is_no_member(client: TestClient, traffic: World) -> None:
    sign_in(client, "bravo")
    page = client.get(f"/members/{B}/traffic").text
    answer = client.post(
        f"/members/{A}/traffic/figure",
        data={CSRF_FIELD: csrf_of(page), "month": "2023-11", "gigabytes": "1"},
    )
    assert answer.status_code == 404
