"""Onboarding from the operator's form: the ASN and AS-SET are checked against the registry
the exchange's filters come from, and a member that cannot work is refused with the reason,
next to every other bad field, with nothing written.

The registry is an RPSL dump (as in the demo and the lab): the demo exchange of
``tests/rs/exchange.py`` synced from ``registry.rpsl`` plus a few objects made
for these cases.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from ixp import members
from ixp.errors import ValidationError
from ixp.irr import service as irr
from ixp.members import MemberInput
from ixp.onboarding import check_registry, onboard, proposed_addresses, registry_dumps
from ixp.settings import Settings
from tests.dbsnapshot import snapshot
from tests.rs.exchange import DATA, build_exchange

EXTRA = """
as-set:         AS-FOXTROT
members:        AS60606, AS60616
source:         TEST

route:          95.60.0.0/22
origin:         AS60606
source:         TEST

route6:         2a0d:6000::/32
origin:         AS60616
source:         TEST

as-set:         AS-NOROUTES
members:        AS60607
source:         TEST

as-set:         AS-NOTME
members:        AS60616
source:         TEST

as-set:         AS-WIDE
members:        AS60609
source:         TEST

route:          11.0.0.0/8
origin:         AS60609
source:         TEST
"""


def foxtrot(**changes: object) -> MemberInput:
    values: dict[str, object] = {
        "asn": 60606,
        "name": "Foxtrot Net",
        "as_set": "AS-FOXTROT",
        "max_prefix_v4": 50,
        "max_prefix_v6": 10,
        "auto_ip": True,
    }
    return MemberInput(**(values | changes))  # type: ignore[arg-type]


@pytest.fixture
def exchange(session: Session, settings: Settings, tmp_path: Path) -> Path:
    """The demo exchange, its registry data synced from a dump with the objects above."""
    build_exchange(session, settings)
    dump = tmp_path / "registry.rpsl"
    dump.write_text((DATA / "registry.rpsl").read_text(encoding="utf-8") + EXTRA)
    irr.sync(session, settings, rpsl_files=[dump])
    return dump


def refusals(error: pytest.ExceptionInfo[ValidationError]) -> dict[str, str]:
    return {e.field or "": e.reason for e in error.value.errors}


def test_the_registry_is_the_one_the_last_sync_read(session: Session, exchange: Path) -> None:
    assert registry_dumps(session) == [exchange]


def test_a_good_member_is_added_with_its_registry_data(
    session: Session, settings: Settings, exchange: Path
) -> None:
    done = onboard(session, settings, foxtrot(), actor="op")
    assert done.member.asn == 60606 and done.member.ipv4 and done.member.ipv6
    check = done.registry
    assert (check.as_set, check.asns, check.prefixes_v4, check.prefixes_v6) == (
        "AS-FOXTROT",
        2,
        1,
        1,
    )
    status = irr.irr_status(session, members.get_member(session, 60606))
    assert status.synced and (status.prefixes_v4, status.prefixes_v6) == (1, 1)


@pytest.mark.parametrize(
    ("given", "field", "reason"),
    [
        ({"as_set": "AS-NOPE"}, "as_set", "cannot be used: 'AS-NOPE' is not in rpsl"),
        ({"as_set": "AS-NOROUTES"}, "as_set", "has no route or route6 objects for any of its 1"),
        ({"as_set": "AS-NOTME"}, "asn", "is not in AS-NOTME: the route servers would filter"),
        ({"as_set": "AS-WIDE"}, "as_set", "covers 16,777,216 addresses, more than a /10"),
        ({"as_set": None, "asn": 60607}, "asn", "has no route or route6 objects"),
    ],
)
def test_a_member_that_cannot_work_is_refused_with_the_reason(
    session: Session,
    settings: Settings,
    exchange: Path,
    given: dict[str, object],
    field: str,
    reason: str,
) -> None:
    before = snapshot(session.get_bind())
    with pytest.raises(ValidationError) as refused:
        onboard(session, settings, foxtrot(**given), actor="op")
    assert reason in refusals(refused)[field]
    assert snapshot(session.get_bind()) == before


def test_an_exploding_as_set_is_refused(settings: Settings, exchange: Path) -> None:
    tight = settings.model_copy(update={"irr_max_asns": 1})
    with pytest.raises(ValidationError) as refused:
        check_registry(tight, 60606, "AS-FOXTROT", [exchange])
    assert "expands to more than 1 ASNs (irr_max_asns)" in refusals(refused)["as_set"]


def test_every_bad_field_is_named_at_once(
    session: Session, settings: Settings, exchange: Path
) -> None:
    before = snapshot(session.get_bind())
    bad = foxtrot(as_set="AS-NOPE", max_prefix_v4=0, noc_email="not an address", ipv4="10.0.0.1")
    with pytest.raises(ValidationError) as refused:
        onboard(session, settings, bad, actor="op")
    assert set(refusals(refused)) == {"as_set", "max_prefix_v4", "noc_email", "ipv4"}
    taken = foxtrot(ipv4="185.1.0.11")  # Alpha's address
    with pytest.raises(ValidationError) as refused:
        onboard(session, settings, taken, actor="op")
    assert refusals(refused) == {"ipv4": "is already used by AS10101"}
    assert snapshot(session.get_bind()) == before


def test_free_addresses_are_proposed(session: Session, exchange: Path) -> None:
    assert proposed_addresses(session, None)[4] == "185.1.0.3"
    assert proposed_addresses(session, 60606) == {4: "185.1.0.3", 6: "2001:7f8:ff::ecbe:1"}
