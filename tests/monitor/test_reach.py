"""Domestic reachability on the fictional PK sample file, against numbers worked out by hand."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from ixp.errors import ValidationError
from ixp.exchange import get_exchange, init_exchange
from ixp.monitor import reach
from tests.monitor.conftest import DATA

SAMPLE = DATA / "delegated-pk-sample-extended.txt"

# PK in the sample (allocated/assigned only; "available"/"reserved" and IN lines do not count):
#   IPv4 39.32.0.0 +2,097,152, 110.36.0.0 +262,144, 103.11.0.0 +1,024  = 2,360,320 addresses
#   IPv6 2400:fc00::/32, 2407:aa80::/32                                  = 131,072 /48s
#   ASNs 17557, 38193, 45595, 9541, 59257-59260                          = 8
ROUTES = [
    # (prefix, origin, member)
    ("39.32.0.0/12", 17557, 38001),  # 1,048,576 inside 39.32.0.0/11
    ("39.40.0.0/13", 38193, 38002),  # inside the /12 above: no extra overall
    ("110.36.0.0/16", 45595, 38001),  # 65,536
    ("103.11.2.0/23", 59258, 38002),  # 512 (103.11.2.0-103.11.3.255 of the 1,024)
    ("103.11.4.0/24", 59258, 38002),  # just past the PK block: 0
    ("8.8.8.0/24", 15169, 38002),  # not domestic: 0, origin not domestic
    ("2400:fc00::/33", 17557, 38001),  # 32,768 /48s
    ("2400:fc00:8000::/48", 17557, 38002),  # 1 /48, outside the /33
    ("2407:aa80:1::/56", 45595, 38002),  # longer than /48: not counted
]


def test_sample_file_parses_and_skips_headers() -> None:
    parsed = reach.parse_delegated(SAMPLE.read_text().splitlines())
    assert len(parsed) == 16
    resources = reach.CountryResources.of("PK", parsed)
    assert reach.size(resources.ipv4) == 2_360_320
    assert reach.size(resources.ipv6) == 131_072
    assert len(resources.asns) == 8


def test_hand_computed_reach() -> None:
    resources = reach.CountryResources.of(
        "PK", reach.parse_delegated(SAMPLE.read_text().splitlines())
    )
    overall, first, second = reach.reach_by_member(resources, ROUTES)
    assert overall.asn is None
    assert overall.ipv4_reachable == 1_048_576 + 65_536 + 512
    assert overall.ipv6_48_reachable == 32_769
    assert overall.asns_reachable == 4  # 17557, 38193, 45595, 59258
    assert overall.figures().ipv4_percent == 47.22  # 1,114,624 / 2,360,320
    assert overall.figures().ipv6_48_percent == 25.0  # 32,769 / 131,072 = 25.0008
    assert overall.figures().asn_percent == 50.0
    assert first.asn == 38001
    assert first.ipv4_reachable == 1_048_576 + 65_536
    assert first.ipv6_48_reachable == 32_768
    assert first.asns_reachable == 2
    assert second.asn == 38002
    assert second.ipv4_reachable == 524_288 + 512
    assert second.ipv6_48_reachable == 1
    assert second.asns_reachable == 4  # 38193, 59258, 17557, 45595 (origin of the /56)


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ("apnic|PK|ipv4|39.32.0.0|abc|20110405|allocated|X", "line 1"),
        ("apnic|PK|ipv4|39.32.0.0", "line 1"),
        ("apnic|PK|ipx|39.32.0.0|1|20110405|allocated|X", "line 1 type"),
        ("apnic|PK|ipv4|300.1.0.0|256|20110405|allocated|X", "line 1"),
    ],
)
def test_bad_lines_name_the_line(line: str, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        reach.parse_delegated([line], source="x.txt")
    assert caught.value.field == f"x.txt {field}"


def test_load_store_and_report(session: Session, tmp_path: Path) -> None:
    init_exchange(
        session,
        name="PK IX",
        country="PK",
        asn=38195,
        lan_v4="185.1.10.0/24",
        lan_v6=None,
        actor="test",
    )
    exchange = get_exchange(session)
    counts = reach.load_delegations(session, SAMPLE, "PK")
    assert counts == {"ipv4": 5, "ipv6": 3, "asn": 5}
    resources = reach.country_resources(session, "PK")
    assert reach.size(resources.ipv4) == 2_360_320
    reaches = reach.reach_by_member(resources, ROUTES)
    earlier = dt.datetime(2026, 11, 23, 10, tzinfo=dt.UTC)
    reach.store_samples(session, exchange, reaches[:1], earlier)
    reach.store_samples(session, exchange, reaches, earlier + dt.timedelta(minutes=5))
    session.commit()
    report = reach.report(session, exchange)
    assert report.overall is not None and report.overall.ipv4_percent == 47.22
    assert [m.asn for m in report.members] == [38001, 38002]
    top = reach.report(session, exchange, top=1).members
    assert [m.asn for m in top] == [38001]  # the larger contribution (1,114,112 addresses)
    assert len(report.history) == 2
    empty = tmp_path / "other.txt"
    empty.write_text("apnic|IN|asn|9829|1|19990101|allocated|X\n")
    with pytest.raises(ValidationError, match="no delegations for country PK"):
        reach.load_delegations(session, empty, "PK")
    assert reach.size(reach.country_resources(session, "PK").ipv4) == 2_360_320
