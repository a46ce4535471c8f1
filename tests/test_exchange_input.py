"""Hostile names for the exchange and its route servers: refused in one line, nothing written.

Runs on SQLite and PostgreSQL: PostgreSQL refuses NUL and enforces column
lengths, SQLite stores both silently, so only validation makes them behave alike.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from ixp import exchange
from ixp.errors import InvalidInput, IxpError
from tests.dbsnapshot import snapshot
from tests.factories import pkix_test_exchange


def _init(session: Session, **overrides: Any) -> None:
    values: dict[str, Any] = {
        "name": "PKIX Test",
        "country": "PK",
        "asn": 38195,
        "lan_v4": "185.1.10.0/24",
        "lan_v6": "2001:7f8:1::/64",
        "actor": "test",
    }
    exchange.init_exchange(session, **(values | overrides))


def test_the_longest_name_whose_lan_name_fits_is_accepted(session: Session) -> None:
    name = "x" * exchange.NAME_MAX_LENGTH
    _init(session, name=name)
    session.expire_all()
    lan = exchange.peering_lan(exchange.get_exchange(session))
    assert lan.name == f"{name} peering LAN"
    assert len(lan.name) == 200


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        pytest.param(
            {"name": "I" * 190},
            "name: '" + "I" * 59 + "… is longer than 188 characters",
            id="name-too-long-for-its-lan-name",
        ),
        pytest.param(
            {"name": "PKIX\x00Test"},
            "name: 'PKIX\\x00Test' contains control character U+0000 at position 4",
            id="nul-in-name",
        ),
        pytest.param(
            {"name": "PKIX\ud800"},
            "name: 'PKIX\\ud800' contains lone surrogate U+D800 at position 4",
            id="surrogate-in-name",
        ),
        pytest.param(
            {"name": "PKIX\nTest"},
            "name: 'PKIX\\nTest' contains control character U+000A at position 4",
            id="newline-in-name",
        ),
        pytest.param(
            {"url": "https://pkix.example/\x00"},
            "url: 'https://pkix.example/\\x00' contains control character U+0000 at position 21",
            id="nul-in-url",
        ),
        pytest.param(
            {"url": "https://pkix.example/" + "a" * 500},
            "url: 'https://pkix.example/" + "a" * 38 + "… is longer than 500 characters",
            id="url-too-long",
        ),
    ],
)
def test_a_hostile_exchange_is_refused_and_nothing_is_written(
    session: Session, engine: Engine, overrides: dict[str, Any], message: str
) -> None:
    before = snapshot(engine)
    with pytest.raises(IxpError) as caught:
        _init(session, **overrides)
    assert str(caught.value) == message
    assert snapshot(engine) == before


@pytest.mark.parametrize("name", ["PKIX\x00Test", "PKIX\ud800Test"])
def test_looking_up_an_exchange_by_a_hostile_name_is_a_one_line_error(
    session: Session, name: str
) -> None:
    pkix_test_exchange(session)
    with pytest.raises(IxpError, match=r"^name: .* contains "):
        exchange.get_exchange(session, name)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        pytest.param(
            {"name": "rs3-lhr\n"},
            "name: 'rs3-lhr\\n' must be lower-case letters, digits and '-' (max 31)",
            id="trailing-newline-in-name",
        ),
        pytest.param(
            {"mgmt_host": "rs3.pkix.example\x00"},
            "mgmt_host: 'rs3.pkix.example\\x00' contains control character U+0000 at position 16",
            id="nul-in-mgmt-host",
        ),
        pytest.param(
            {"mgmt_host": "h" * 256},
            "mgmt_host: '" + "h" * 59 + "… is longer than 255 characters",
            id="mgmt-host-too-long",
        ),
        pytest.param(
            {"control_socket": "/run/bird/\udcff.ctl"},
            "control_socket: '/run/bird/\\udcff.ctl' contains lone surrogate U+DCFF at position 10",
            id="surrogate-in-control-socket",
        ),
    ],
)
def test_a_hostile_route_server_is_refused_and_nothing_is_written(
    session: Session, engine: Engine, overrides: dict[str, Any], message: str
) -> None:
    pkix_test_exchange(session)
    before = snapshot(engine)
    values: dict[str, Any] = {
        "name": "rs3-lhr",
        "asn": 38195,
        "router_id": "185.1.10.3",
        "ipv4": "185.1.10.3",
        "ipv6": None,
        "actor": "test",
    }
    with pytest.raises(IxpError) as caught:
        exchange.add_route_server(session, **(values | overrides))
    assert str(caught.value) == message
    assert snapshot(engine) == before


def test_an_unknown_route_server_of_a_huge_name_is_a_short_line(session: Session) -> None:
    pkix_test_exchange(session)
    with pytest.raises(IxpError) as caught:
        exchange.get_route_server(session, "rs\x00" + "x" * 5000)
    assert str(caught.value) == "route server: 'rs\\x00" + "x" * 53 + "… does not exist"


def test_every_bad_field_of_a_new_exchange_is_reported_at_once(
    session: Session, engine: Engine
) -> None:
    before = snapshot(engine)
    with pytest.raises(InvalidInput) as caught:
        _init(
            session,
            name="",
            country="PKX",
            lan_v4="185.1.10.0/31",
            lan_v6="2001:7f8:1::/64",
            vlan_id=5000,
            blackhole_ipv4="185.1.10.66",
            blackhole_ipv6="2001:7f8:2::66",
        )
    assert [str(e) for e in caught.value.errors] == [
        "name: '' must not be empty",
        "country: 'PKX' is not a two-letter country code",
        "lan_v4: '185.1.10.0/31' must be between /8 and /30",
        "vlan_id: 5000 must be from 1 to 4094",
        "blackhole_ipv6: '2001:7f8:2::66' is outside the peering LAN 2001:7f8:1::/64",
    ]
    assert snapshot(engine) == before


def test_every_bad_field_of_a_new_route_server_is_reported_at_once(
    session: Session, engine: Engine
) -> None:
    pkix_test_exchange(session)
    before = snapshot(engine)
    with pytest.raises(InvalidInput) as caught:
        exchange.add_route_server(
            session,
            name="RS 3",
            asn="AS0",
            router_id="rs3",
            ipv4="185.1.11.3",
            ipv6=None,
            actor="test",
        )
    assert [e.field for e in caught.value.errors] == ["name", "asn", "router_id", "ipv4"]
    assert snapshot(engine) == before
