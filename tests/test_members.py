"""Onboarding as an operator does it: good input is stored, bad input changes nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from ixp import audit, exchange, members
from ixp.errors import Conflict, InvalidInput, IxpError, NotFound, ValidationError
from ixp.models import AuditEntry, Member, MemberStatus
from tests.dbsnapshot import snapshot
from tests.factories import pkix_test_exchange


@pytest.fixture
def ix(session: Session) -> Session:
    """An exchange with two route servers, as the CLI would set it up."""
    pkix_test_exchange(session)
    return session


def member_input(**overrides: Any) -> members.MemberInput:
    values: dict[str, Any] = {
        "asn": 38193,
        "name": "Nayatel",
        "as_set": "AS-NAYATEL",
        "max_prefix_v4": 100,
        "max_prefix_v6": 20,
        "auto_ip": True,
        "macs": ["00:11:22:33:44:55"],
    }
    values.update(overrides)
    return members.MemberInput(**values)


def test_a_new_member_gets_addresses_sessions_and_an_audit_entry(ix: Session) -> None:
    member = members.add_member(ix, member_input(), actor="test")
    assert member == members.show_member(ix, 38193)
    assert member.ipv4 == ("185.1.10.3",)
    assert member.ipv6 == ("2001:7f8:1::9531:1",)
    assert member.as_set_v4 == member.as_set_v6 == "AS-NAYATEL"
    assert [s.name for s in member.route_servers] == ["rs1-isb", "rs2-khi"]
    entry = ix.scalars(select(AuditEntry).where(AuditEntry.entity == "member")).one()
    assert (entry.action, entry.entity_key, entry.before) == ("create", "AS38193", None)
    assert entry.after == audit.member_snapshot(members.get_member(ix, 38193))


def test_free_text_names_are_stored_exactly_as_given(ix: Session) -> None:
    name = 'ناياٹیل "Nayatel" & Sons {rs}; */ drop'
    members.add_member(ix, member_input(name=name), actor="test")
    ix.expire_all()
    assert members.get_member(ix, 38193).display_name == name


def test_auto_ip_skips_addresses_already_taken(ix: Session) -> None:
    members.add_member(
        ix, member_input(asn=9541, auto_ip=False, ipv4="185.1.10.3", macs=[]), actor="test"
    )
    second = members.add_member(ix, member_input(), actor="test")
    assert second.ipv4 == ("185.1.10.4",)


def test_route_servers_added_later_get_sessions_with_existing_members(ix: Session) -> None:
    members.add_member(ix, member_input(), actor="test")
    exchange.add_route_server(
        ix,
        name="rs3-lhe",
        asn=38195,
        router_id="185.1.10.5",
        ipv4="185.1.10.5",
        ipv6=None,
        actor="test",
    )
    names = [s.name for s in members.show_member(ix, 38193).route_servers]
    assert names == ["rs1-isb", "rs2-khi", "rs3-lhe"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"asn": 64500}, "asn: 64500 is a documentation ASN (RFC 5398); allowed only for lab use"),
        ({"asn": 23456}, "asn: 23456 is AS_TRANS (RFC 6793)"),
        (
            {"ipv4": "185.1.11.7", "auto_ip": False},
            "ipv4: '185.1.11.7' is outside the peering LAN 185.1.10.0/24",
        ),
        ({"ipv4": "185.1.10.0"}, "ipv4: '185.1.10.0' is the network address of 185.1.10.0/24"),
        (
            {"ipv4": "185.1.10.255"},
            "ipv4: '185.1.10.255' is the broadcast address of 185.1.10.0/24",
        ),
        ({"ipv4": "185.1.10.1"}, "ipv4: '185.1.10.1' is already used by route server rs1-isb"),
        ({"ipv4": "185.1.10.66"}, "ipv4: '185.1.10.66' is already used by the blackhole next hop"),
        (
            {"ipv6": "2001:7f8:2::5"},
            "ipv6: '2001:7f8:2::5' is outside the peering LAN 2001:7f8:1::/64",
        ),
        ({"ipv6": "185.1.10.9"}, "ipv6: '185.1.10.9' is not an IPv6 address"),
        ({"as_set": "AS-FOO BAR"}, "as_set: 'AS-FOO BAR' is not a valid AS-SET name"),
        ({"as_set": "AS-FOO;"}, "as_set: 'AS-FOO;' is not a valid AS-SET name"),
        ({"macs": ["00:11:22:33:44"]}, "macs: '00:11:22:33:44' is not a MAC address"),
        ({"max_prefix_v4": 0}, "max_prefix_v4: 0 must be a whole number from 1 to 10000000"),
        (
            {"status": "gone"},
            "status: 'gone' must be one of onboarding, active, suspended, departed",
        ),
        ({"noc_email": "noc at x"}, "noc_email: 'noc at x' is not an e-mail address"),
        ({"name": "  "}, "name: '  ' must not be empty"),
        (
            {"ipv4": None, "ipv6": None, "auto_ip": False},
            "ipv4: None or ipv6 must be given (or use auto_ip)",
        ),
    ],
)
def test_bad_input_is_refused_with_field_and_value_and_changes_nothing(
    ix: Session, engine: Engine, overrides: dict[str, Any], message: str
) -> None:
    before = snapshot(engine)
    with pytest.raises((ValidationError, Conflict)) as caught:
        members.add_member(ix, member_input(**overrides), actor="test")
    assert str(caught.value) == message
    assert snapshot(engine) == before


def test_duplicates_are_conflicts_and_change_nothing(ix: Session, engine: Engine) -> None:
    members.add_member(ix, member_input(), actor="test")
    before = snapshot(engine)
    cases = [
        (member_input(), "asn: AS38193 is already a member of PKIX Test"),
        (
            member_input(asn=9541, ipv4="185.1.10.3", macs=[]),
            "ipv4: '185.1.10.3' is already used by AS38193",
        ),
        (member_input(asn=9541), "macs: '00:11:22:33:44:55' is already used by AS38193"),
    ]
    for data, message in cases:
        with pytest.raises(Conflict) as caught:
            members.add_member(ix, data, actor="test")
        assert str(caught.value) == message
        assert snapshot(engine) == before


def test_update_changes_only_the_given_fields_and_audits_before_and_after(ix: Session) -> None:
    members.add_member(ix, member_input(), actor="test")
    changed = members.update_member(
        ix, 38193, {"max_prefix_v4": 250, "ipv4": "185.1.10.40", "macs": []}, actor="test"
    )
    assert changed == members.show_member(ix, 38193)
    assert (changed.max_prefix_v4, changed.ipv4, changed.macs) == (250, ("185.1.10.40",), ())
    assert changed.max_prefix_v6 == 20
    entry = ix.scalars(select(AuditEntry).where(AuditEntry.action == "update")).one()
    assert entry.before is not None and entry.before["max_prefix4"] == 100
    assert entry.after == audit.member_snapshot(members.get_member(ix, 38193))


def test_failed_update_changes_nothing(ix: Session, engine: Engine) -> None:
    members.add_member(ix, member_input(), actor="test")
    members.add_member(ix, member_input(asn=9541, macs=[]), actor="test")
    before = snapshot(engine)
    bad = [
        {"max_prefix_v4": 50, "ipv4": "185.1.10.3"},
        {"max_prefix_v4": 50, "ipv4": "", "ipv6": ""},
        {"max_prefix_v4": 50, "macs": ["00:11:22:33:44:55"]},
        {"max_prefix_v4": 50, "colour": "red"},
    ]
    for changes in bad:
        with pytest.raises(IxpError):
            members.update_member(ix, 9541, changes, actor="test")
        ix.expire_all()
        assert snapshot(engine) == before


def test_suspend_and_remove(ix: Session) -> None:
    members.add_member(ix, member_input(), actor="test")
    assert members.suspend_member(ix, "AS38193", actor="test").status is MemberStatus.suspended
    assert members.list_members(ix, status="active") == []
    removed = members.remove_member(ix, 38193, actor="test")
    assert (removed.asn, removed.status, removed.ipv4) == (
        38193,
        MemberStatus.suspended,
        ("185.1.10.3",),
    )
    assert ix.scalars(select(Member)).all() == []
    with pytest.raises(NotFound, match="member: AS38193 is not a member of PKIX Test"):
        members.get_member(ix, 38193)
    # The freed address can be given to the next member.
    assert members.add_member(ix, member_input(asn=9541), actor="test").ipv4 == ("185.1.10.3",)


def test_every_bad_field_is_reported_at_once_and_nothing_is_written(
    ix: Session, engine: Engine
) -> None:
    before = snapshot(engine)
    bad = member_input(
        asn="AS-NOPE",
        name="",
        as_set="AS FOO",
        max_prefix_v4=0,
        status="gone",
        ipv4="185.1.11.7",
        macs=["nope", "00:11:22:33:44:55", "ff:ff:ff:ff:ff:ff"],
        speed_mbps=-1,
        joined="yesterday",
    )
    with pytest.raises(InvalidInput) as caught:
        members.add_member(ix, bad, actor="test")
    assert [str(e) for e in caught.value.errors] == [
        "asn: 'AS-NOPE' is not an AS number",
        "as_set: 'AS FOO' is not a valid AS-SET name",
        "name: '' must not be empty",
        "max_prefix_v4: 0 must be a whole number from 1 to 10000000",
        "status: 'gone' must be one of onboarding, active, suspended, departed",
        "joined: 'yesterday' is not a date (YYYY-MM-DD)",
        "ipv4: '185.1.11.7' is outside the peering LAN 185.1.10.0/24",
        "macs: 'nope' is not a MAC address",
        "macs: 'ff:ff:ff:ff:ff:ff' is not a unicast MAC address",
        "speed_mbps: -1 must be a whole number from 1 to 10000000",
    ]
    assert snapshot(engine) == before


def test_every_bad_change_is_reported_at_once_and_nothing_is_written(
    ix: Session, engine: Engine
) -> None:
    members.add_member(ix, member_input(), actor="test")
    before = snapshot(engine)
    changes = {
        "ipv4": "10.0.0.1",
        "macs": ["nope"],
        "max_prefix_v6": "many",
        "colour": "red",
        "rs_ipv6": "yes",
        "as_set": "AS FOO",
    }
    with pytest.raises(InvalidInput) as caught:
        members.update_member(ix, 38193, changes, actor="test")
    assert sorted(e.field or "" for e in caught.value.errors) == [
        "as_set",
        "colour",
        "ipv4",
        "macs",
        "max_prefix_v6",
        "rs_ipv6",
    ]
    assert snapshot(engine) == before


def test_the_date_of_joining_is_a_date_or_its_iso_text(ix: Session) -> None:
    added = members.add_member(ix, member_input(joined="2021-03-04"), actor="test")
    assert added.joined == dt.date(2021, 3, 4)
    changed = members.update_member(ix, 38193, {"joined": dt.date(2022, 1, 2)}, actor="test")
    assert changed.joined == dt.date(2022, 1, 2)
    with pytest.raises(ValidationError, match=r"^joined: '2021-13-01' is not a date"):
        members.update_member(ix, 38193, {"joined": "2021-13-01"}, actor="test")


def test_a_page_of_the_listing_shows_each_member_exactly_as_show_member_does(
    ix: Session,
) -> None:
    """The listing reads columns by position in a few queries; one member at a time reads
    ORM objects. Both must give the same view, field for field."""
    for n, asn in enumerate((38193, 45595, 23674, 9541, 17557)):
        members.add_member(
            ix,
            member_input(
                asn=asn, name=f"Net {n}", as_set=f"AS-NET{n}", macs=[f"00:11:22:33:44:{n:02x}"],
                noc_email=f"noc@as{asn}.example.net" if n % 2 else None,
            ),
            actor="test",
        )  # fmt: skip
    members.update_member(ix, 9541, {"url": "https://as9541.example.net"}, actor="test")
    members.suspend_member(ix, 17557, actor="test")
    page, total = members.member_page(ix, members.MemberFilter(), limit=3, offset=1)
    assert total == 5 and [view.asn for view in page] == [17557, 23674, 38193]
    assert page == [members.show_member(ix, view.asn) for view in page]
    everyone, _ = members.member_page(ix, members.MemberFilter(), limit=10, offset=0)
    assert everyone == members.show_members(ix)
    # Through the pages' cache (the portal's member pages), the same view, suspended
    # members included, and the same refusal for a network that is not a member.
    cache = members.MemberPages()
    assert [members.show_member(ix, view.asn, cache=cache) for view in everyone] == everyone
    with pytest.raises(NotFound) as direct:
        members.show_member(ix, 64999)
    with pytest.raises(NotFound) as cached:
        members.show_member(ix, 64999, cache=cache)
    assert str(cached.value) == str(direct.value)
    members.update_member(ix, 9541, {"url": "https://peering.as9541.example.net"}, actor="test")
    assert members.show_member(ix, 9541, cache=cache) == members.show_member(ix, 9541)
