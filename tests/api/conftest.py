"""The API under test: the real app over the test's database (SQLite and PostgreSQL),
an exchange with two members, and a caller of each role.

``callers`` holds the request headers of each role: ``anonymous`` (none),
``member_a`` and ``member_b`` (API tokens of two members' users) and
``operator``. Handlers run exactly as under ``ixp serve``; only the transport is
in-process.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from api.app import create_app
from ixp import accounts, members
from ixp.models import User
from ixp.settings import Settings
from tests.factories import pkix_test_exchange

PASSWORD = "correct horse battery"
MEMBER_A = 58421
MEMBER_B = 55714


@dataclass(frozen=True)
class World:
    """The exchange's two members and the bearer headers of each role."""

    member_a: int
    member_b: int
    callers: dict[str, dict[str, str]]


@pytest.fixture
def api_settings(settings: Settings) -> Settings:
    """The test's settings in development mode (no secret key needed, cookies over http)."""
    return settings.model_copy(update={"web_environment": "development"})


def add_test_member(session: Session, asn: int, name: str, host: int) -> None:
    """A dual-stack member with a session on both route servers."""
    members.add_member(
        session,
        members.MemberInput(
            asn=asn,
            name=name,
            as_set=f"AS{asn}",
            max_prefix_v4=100,
            max_prefix_v6=50,
            ipv4=f"185.1.10.{host}",
            ipv6=f"2001:7f8:1::{host:x}",
            macs=[f"02:00:00:00:00:{host:02x}"],
            noc_email=f"noc@as{asn}.example.net",
        ),
        actor="test",
    )


def _token(session: Session, username: str) -> dict[str, str]:
    user = accounts.get_user(session, username)
    made = accounts.create_token(session, user, "tests", actor="test")
    return {"Authorization": f"Bearer {made.secret}"}


@pytest.fixture
def world(session: Session) -> World:
    """The PKIX Test exchange, members A and B, their users and an operator."""
    pkix_test_exchange(session)
    add_test_member(session, MEMBER_A, "Alpha Net", 21)
    add_test_member(session, MEMBER_B, "Bravo Wireless", 22)
    accounts.add_user(session, username="op", password=PASSWORD, role="operator", actor="test")
    for name, asn in (("alpha", MEMBER_A), ("bravo", MEMBER_B)):
        accounts.add_user(
            session, username=name, password=PASSWORD, role="member", member_asn=asn, actor="test"
        )
    callers = {
        "anonymous": {},
        "member_a": _token(session, "alpha"),
        "member_b": _token(session, "bravo"),
        "operator": _token(session, "op"),
    }
    assert session.query(User).count() == 3
    return World(MEMBER_A, MEMBER_B, callers)


@pytest.fixture
def client(api_settings: Settings, world: World) -> Iterator[TestClient]:
    """A client of the app over the test's database (``world`` already in it)."""
    with TestClient(create_app(api_settings), raise_server_exceptions=False) as client:
        yield client
