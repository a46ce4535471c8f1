"""The members' data version: raised by every change a member's view shows, so a cached page
of the listing is never served after the data under it changed."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from ixp import accounts, db, exchange, macreview, members, versions
from ixp.models import Member
from tests.factories import pkix_test_exchange

ALL = members.MemberFilter()


@pytest.fixture
def ix(session: Session) -> Session:
    pkix_test_exchange(session)
    for n, asn in enumerate((38193, 45595, 23674)):
        members.add_member(
            session,
            members.MemberInput(
                asn=asn, name=f"Net {n}", as_set=f"AS{asn}", max_prefix_v4=100,
                max_prefix_v6=20, auto_ip=True, macs=[f"00:11:22:33:44:{n:02x}"],
            ),
            actor="test",
        )  # fmt: skip
    return session


def _orm_update(session: Session) -> None:
    with db.transaction(session):
        session.execute(update(Member).where(Member.asn == 45595).values(url="https://x.example"))


CHANGES: dict[str, Callable[[Session], object]] = {
    "member added": lambda s: members.add_member(
        s,
        members.MemberInput(
            asn=9541, name="New", as_set="AS9541", max_prefix_v4=10, max_prefix_v6=5, auto_ip=True
        ),
        actor="test",
    ),
    "contact changed": lambda s: members.update_member(
        s, 38193, {"noc_email": "noc@new.example.net"}, actor="test"
    ),
    "suspended": lambda s: members.suspend_member(s, 23674, actor="test"),
    "removed": lambda s: members.remove_member(s, 45595, actor="test"),
    "MACs approved": lambda s: (
        macreview.propose(s, 38193, ["00:11:22:33:55:66"], actor="test"),
        macreview.approve(s, 38193, actor="test"),
    ),
    "route server added": lambda s: exchange.add_route_server(
        s,
        name="rs3-lhe",
        asn=38195,
        router_id="185.1.10.250",
        ipv4="185.1.10.250",
        ipv6=None,
        actor="test",
    ),
    "ORM update statement": _orm_update,
}


@pytest.mark.parametrize("change", CHANGES)
def test_every_change_a_view_shows_raises_the_version_and_refreshes_the_cached_page(
    ix: Session, engine: Engine, change: str
) -> None:
    cache: members.MemberPages = versions.VersionedCache()
    before = versions.current(ix, versions.MEMBERS)
    cached, _ = members.member_page(ix, ALL, limit=10, offset=0, cache=cache)
    CHANGES[change](ix)
    # Another process's session (the web worker) sees the change by the version alone.
    with db.session_factory(engine)() as other:
        assert versions.current(other, versions.MEMBERS) > before
        fresh, total = members.member_page(other, ALL, limit=10, offset=0, cache=cache)
        assert (fresh, total) == members.member_page(other, ALL, limit=10, offset=0)
    assert fresh != cached


def test_a_change_elsewhere_keeps_the_version_and_the_cached_page(ix: Session) -> None:
    cache: members.MemberPages = versions.VersionedCache()
    before = versions.current(ix, versions.MEMBERS)
    first, _ = members.member_page(ix, ALL, limit=2, offset=1, cache=cache)
    accounts.add_user(ix, username="noc-op", password="a long password", role="operator", actor="t")
    assert versions.current(ix, versions.MEMBERS) == before
    again, _ = members.member_page(ix, ALL, limit=2, offset=1, cache=cache)
    assert all(a is b for a, b in zip(again, first, strict=True)), "not rebuilt"


def test_the_cache_keeps_at_most_its_size_and_drops_the_oldest() -> None:
    cache: versions.VersionedCache[int] = versions.VersionedCache(max_entries=2)
    built: list[str] = []

    def build(key: str) -> Callable[[], int]:
        return lambda: built.append(key) or len(built)

    for key in ("a", "b", "a", "c", "b"):
        cache.get(key, 1, build(key))
    assert built == ["a", "b", "c", "b"]  # a reused; c pushed b out; b built again
    assert cache.get("a", 2, build("a")) == 5  # a newer version is built afresh
