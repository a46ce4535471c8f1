"""What the portal's traffic pages ask of the domain beyond the API's figures: the period as
typed into their form, and the open unknown-MAC alerts beside the sightings."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from ixp.errors import ValidationError
from ixp.models import MacRole
from ixp.traffic import alerts, report, store
from tests.traffic.exchange import traffic_exchange

TODAY = dt.date(2023, 11, 16)


def test_a_typed_period_includes_its_last_day() -> None:
    asked = report.Period.asked("2023-11-14", " 2023-11-15 ", TODAY)
    assert (asked.since, asked.until) == (dt.date(2023, 11, 14), dt.date(2023, 11, 16))
    one_day = report.Period.asked("2023-11-14", "2023-11-14", TODAY)
    assert one_day.until - one_day.since == dt.timedelta(days=1)
    assert report.Period.asked("", None, TODAY) == report.Period.of(None, None, TODAY)


def test_every_bad_day_of_a_typed_period_is_named() -> None:
    with pytest.raises(ValidationError) as caught:
        report.Period.asked("14/11/2023", "1969-12-31", TODAY)
    assert [(e.field, e.reason) for e in caught.value.errors] == [
        ("since", "is not a date (YYYY-MM-DD)"),
        ("until", "is outside 1970-01-01 to 2024-11-15"),
    ]
    with pytest.raises(ValidationError, match="is after until"):
        report.Period.asked("2023-11-15", "2023-11-14", TODAY)


def test_the_last_day_a_year_ahead_is_the_latest_a_typed_period_takes() -> None:
    """The day after it would be past the latest end ``Period.of`` takes; a far date must
    be refused, never overflow."""
    latest = report.Period.asked(None, "2024-11-15", TODAY)
    assert latest.until == dt.date(2024, 11, 16)
    for since, until in ((None, "2024-11-16"), (None, "9999-12-31"), ("9999-12-31", None)):
        with pytest.raises(ValidationError, match="is outside 1970-01-01 to "):
            report.Period.asked(since, until, TODAY)


def test_the_open_unknown_mac_alerts_by_mac(session: Session) -> None:
    traffic_exchange(session, 1)
    start = 1_700_000_100
    rows = store.BucketRows(start - start % 300)
    for mac in ("02:00:c0:ff:ee:01", "02:00:c0:ff:ee:02"):
        rows.unknown[(mac, MacRole.src, "192.0.2.1", 3)] = [10, 10, 15_000]
    store.write(session, rows)
    directory = store.mac_directory(session)
    now = dt.datetime.fromtimestamp(start, dt.UTC)
    opened = alerts.sync_unknown_macs(session, directory, now, 30)
    session.commit()
    found = alerts.open_alerts(session)
    assert sorted(found) == ["02:00:c0:ff:ee:01", "02:00:c0:ff:ee:02"]
    assert {row.id for row in found.values()} == {alert.id for alert in opened}
    later = now + dt.timedelta(hours=1)  # neither seen since: both close
    alerts.sync_unknown_macs(session, directory, later, 30)
    session.commit()
    assert alerts.open_alerts(session) == {}
