"""Failed sign-ins are kept as long as they count against the limits, and no longer."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ixp import accounts
from ixp.errors import AccessDenied
from ixp.models import LoginFailure
from ixp.settings import Settings

T0 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


def _fail(session: Session, settings: Settings, address: str, at: dt.datetime) -> None:
    with pytest.raises(AccessDenied):
        accounts.authenticate(
            session, "noc-op", "not the password", address=address, settings=settings, now=at
        )


def _kept(session: Session) -> list[str]:
    return list(session.scalars(select(LoginFailure.address).order_by(LoginFailure.id)))


def test_failures_older_than_the_window_are_dropped_with_the_next_failure(
    session: Session, settings: Settings
) -> None:
    window = dt.timedelta(minutes=settings.web_login_window_minutes)
    for n in range(4):  # under the account's limit of 5: each one is checked and recorded
        _fail(session, settings, f"192.0.2.{n}", T0 + n * dt.timedelta(seconds=1))
    _fail(session, settings, "198.51.100.7", T0 + window - dt.timedelta(seconds=1))
    assert len(_kept(session)) == 5, "failures inside the window still count"
    _fail(session, settings, "203.0.113.9", T0 + window + dt.timedelta(seconds=2))
    assert _kept(session) == ["192.0.2.2", "192.0.2.3", "198.51.100.7", "203.0.113.9"]
    _fail(session, settings, "203.0.113.10", T0 + 3 * window)
    assert _kept(session) == ["203.0.113.10"]
    assert session.scalar(select(func.count()).select_from(LoginFailure)) == 1
