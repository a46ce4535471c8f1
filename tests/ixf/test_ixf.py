"""IX-F import and export through the service layer: what an operator moving an exchange expects."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from ixp import ixf
from ixp.errors import IxpError
from ixp.exchange import get_exchange
from ixp.members import RouteServerSessions, list_members, show_member
from ixp.models import Member, RouteServer
from tests.dbsnapshot import snapshot
from tests.ixf import samples


def export(session: Session) -> str:
    return ixf.export_json(session, get_exchange(session))


def test_import_into_empty_database_creates_exchange_route_servers_and_members(
    session: Session,
) -> None:
    result = ixf.import_document(session, samples.document(), samples.OPTIONS)

    assert result.exchange_created
    assert result.route_servers_added == ("rs1-isb",)
    assert sorted(result.created) == [58421, 134733, 139871]
    exchange = get_exchange(session)
    assert (exchange.name, exchange.country, exchange.asn) == (
        "Lahore Test IX (fictional)",
        "PK",
        137409,
    )
    lan = exchange.lans[0]
    assert (lan.vlan_id, lan.ipv4_prefix, lan.ipv6_prefix) == (
        200,
        "103.151.232.0/24",
        "2001:de8:4e::/64",
    )
    rs = exchange.route_servers[0]
    assert (rs.name, rs.asn, rs.router_id, rs.ipv4, rs.ipv6) == (
        "rs1-isb",
        137409,
        "103.151.232.1",
        "103.151.232.1",
        "2001:de8:4e::1",
    )
    indus = show_member(session, 58421)
    assert indus.name == 'Indus Fibre & "Data" Networks'
    assert (indus.as_set_v4, indus.as_set_v6) == ("AS-INDUSFIBRE", "AS58421:AS-CUSTOMERS")
    assert (indus.ipv4, indus.ipv6) == (("103.151.232.10",), ("2001:de8:4e::e435:1",))
    assert (indus.max_prefix_v4, indus.max_prefix_v6) == (500, 100)
    assert indus.macs == ("4c:5e:0c:12:34:56",)
    assert indus.speed_mbps == 20000
    assert (indus.noc_email, indus.peering_email) == (
        "noc@indus.example",
        "peering@indus.example",
    )
    assert (indus.noc_phone, indus.joined, indus.url) == (
        "+92 42 0000001",
        dt.date(2021, 3, 4),
        "https://indus.example/",
    )
    assert indus.route_servers == (RouteServerSessions("rs1-isb", True, True),)
    roshni = show_member(session, 134733)
    assert roshni.name == "روشنی براڈبینڈ"
    assert (roshni.status, roshni.ipv6) == ("suspended", ())
    assert roshni.route_servers == (RouteServerSessions("rs1-isb", False, True),)


def test_export_validates_against_the_published_schema(session: Session) -> None:
    ixf.import_document(session, samples.document(), samples.OPTIONS)

    text = export(session)

    assert samples.schema_errors(text) == []
    document = json.loads(text)
    assert document["version"] == "1.0"
    assert document["timestamp"] == "2026-10-01T12:00:00Z"
    assert [m["asnum"] for m in document["member_list"]] == [137409, 58421, 134733, 139871]


def test_round_trip_export_import_export_is_identical(session: Session, tmp_path: Path) -> None:
    ixf.import_document(session, samples.document(), samples.OPTIONS)
    first = export(session)

    with samples.empty_database(tmp_path / "second") as second:
        ixf.import_document(second, json.loads(first), samples.OPTIONS)
        again = export(second)

    assert again == first


def test_export_timestamp_is_the_last_change(session: Session) -> None:
    ixf.import_document(session, samples.document(), samples.OPTIONS)
    doc = samples.document()
    samples.vlan_entry(doc, 139871)["ipv4"]["max_prefix"] = 11
    ixf.import_document(session, doc | {"timestamp": "2026-10-02T08:30:00+05:00"}, samples.OPTIONS)

    assert json.loads(export(session))["timestamp"] == "2026-10-02T03:30:00Z"
    assert export(session) == export(session)


def test_reimport_of_the_same_file_changes_nothing(session: Session, engine: Engine) -> None:
    ixf.import_document(session, samples.document(), samples.OPTIONS)
    before = snapshot(engine)

    result = ixf.import_document(session, samples.document(), samples.OPTIONS)

    assert not result.changed
    assert sorted(result.unchanged) == [58421, 134733, 139871]
    assert snapshot(engine) == before


def test_reimport_updates_members_by_asn_without_duplicates(session: Session) -> None:
    ixf.import_document(session, samples.document(), samples.OPTIONS)
    doc = samples.document()
    entry = samples.vlan_entry(doc, 58421)
    entry["ipv4"].update(
        address="103.151.232.20",
        max_prefix=600,
        as_macro="as-indus-new",
        mac_addresses=["4C-5E-0C-65-43-21"],
    )
    del entry["ipv6"]
    samples.member(doc, 58421)["name"] = "Indus Fibre"
    samples.member(doc, 139871)["connection_list"][0]["vlan_list"][0]["ipv4"]["routeserver"] = False

    result = ixf.import_document(session, doc, samples.OPTIONS)

    assert sorted(result.updated) == [58421, 139871]
    assert result.unchanged == (134733,)
    assert session.scalar(select(func.count()).select_from(Member)) == 3
    assert session.scalar(select(func.count()).select_from(RouteServer)) == 1
    indus = show_member(session, 58421)
    assert (indus.name, indus.ipv4, indus.ipv6) == ("Indus Fibre", ("103.151.232.20",), ())
    assert (indus.max_prefix_v4, indus.as_set_v4, indus.macs) == (
        600,
        "AS-INDUS-NEW",
        ("4c:5e:0c:65:43:21",),
    )
    jugnu = show_member(session, 139871)
    assert jugnu.route_servers == (RouteServerSessions("rs1-isb", False, True),)


def _set(doc: dict[str, Any], asn: int, family: str, key: str, value: Any) -> None:
    samples.vlan_entry(doc, asn)[family][key] = value


def _bad_documents() -> list[Any]:
    """(id, change to the sample, exact error); each also renames the first member, to
    prove that the members before the bad one are rolled back too."""
    return [
        pytest.param(
            lambda d: d.pop("member_list"),
            "member_list: required key is missing",
            id="no-member_list",
        ),
        pytest.param(
            lambda d: d.update(version="0.7"),
            "version: '0.7' is not supported (only IX-F schema 1.0)",
            id="wrong-version",
        ),
        pytest.param(
            lambda d: d["member_list"][3].pop("asnum"),
            "member_list[3].asnum: required key is missing",
            id="no-asnum",
        ),
        pytest.param(
            lambda d: d["member_list"][3].update(asnum="139871"),
            "member_list[3].asnum: '139871' is not an integer",
            id="asnum-not-integer",
        ),
        pytest.param(
            lambda d: d["member_list"][3].update(asnum=64512),
            "member_list[3] (AS64512): asn: 64512 is a private ASN (RFC 6996); "
            "allowed only for lab use",
            id="private-asn",
        ),
        pytest.param(
            lambda d: d["member_list"][3].update(asnum=23456),
            "member_list[3] (AS23456): asn: 23456 is AS_TRANS (RFC 6793)",
            id="as-trans",
        ),
        pytest.param(
            lambda d: _set(d, 139871, "ipv4", "address", "185.1.2.3"),
            "member_list[3] (AS139871): ipv4: '185.1.2.3' is outside the peering LAN "
            "103.151.232.0/24",
            id="address-outside-lan",
        ),
        pytest.param(
            lambda d: _set(d, 139871, "ipv6", "address", "2001:de8:4e::1"),
            "member_list[3] (AS139871): ipv6: '2001:de8:4e::1' is already used by "
            "route server rs1-isb",
            id="address-of-route-server",
        ),
        pytest.param(
            lambda d: _set(d, 139871, "ipv4", "as_macro", "AS-FOO BAR"),
            "member_list[3] (AS139871): as_set_v4: 'AS-FOO BAR' is not a valid AS-SET name",
            id="malformed-as-set",
        ),
        pytest.param(
            lambda d: _set(d, 139871, "ipv4", "mac_addresses", ["00:11:22:33:44"]),
            "member_list[3] (AS139871): macs: '00:11:22:33:44' is not a MAC address",
            id="malformed-mac",
        ),
        pytest.param(
            lambda d: _set(d, 139871, "ipv4", "max_prefix", 0),
            "member_list[3] (AS139871): max_prefix_v4: 0 must be a whole number from 1 to 10000000",
            id="zero-max-prefix",
        ),
        pytest.param(
            lambda d: d["ixp_list"][0]["vlan"][0]["ipv4"].pop("mask_length"),
            "ixp_list[0].vlan[0].ipv4.mask_length: required key is missing",
            id="no-mask-length",
        ),
    ]


def _rename_first_member(doc: dict[str, Any]) -> None:
    samples.member(doc, 58421)["name"] = "renamed before the bad member"


@pytest.mark.parametrize(("change", "message"), _bad_documents())
def test_bad_file_is_rejected_whole_with_one_line_naming_member_and_field(
    session: Session, engine: Engine, change: Any, message: str
) -> None:
    ixf.import_document(session, samples.document(), samples.OPTIONS)
    before = snapshot(engine)
    doc = samples.document()
    _rename_first_member(doc)
    change(doc)

    with pytest.raises(IxpError) as caught:
        ixf.import_document(session, doc, samples.OPTIONS)

    assert str(caught.value) == message
    assert "\n" not in str(caught.value)
    assert snapshot(engine) == before


def test_duplicate_address_between_two_members_names_the_second(
    session: Session, engine: Engine
) -> None:
    ixf.import_document(session, samples.document(), samples.OPTIONS)
    before = snapshot(engine)
    doc = samples.document()
    _rename_first_member(doc)
    _set(doc, 139871, "ipv4", "address", "103.151.232.10")

    with pytest.raises(IxpError) as caught:
        ixf.import_document(session, doc, samples.OPTIONS)

    assert str(caught.value) == (
        "member_list[3] (AS139871): ipv4: '103.151.232.10' is already used by AS58421"
    )
    assert snapshot(engine) == before


def test_bad_member_in_a_new_exchange_leaves_the_database_empty(
    session: Session, engine: Engine
) -> None:
    before = snapshot(engine)
    doc = samples.document()
    _set(doc, 139871, "ipv4", "mac_addresses", ["ff:ff:ff:ff:ff:ff"])

    with pytest.raises(IxpError) as caught:
        ixf.import_document(session, doc, samples.OPTIONS)

    assert str(caught.value) == (
        "member_list[3] (AS139871): macs: 'ff:ff:ff:ff:ff:ff' is not a unicast MAC address"
    )

    assert snapshot(engine) == before
    assert list(session.scalars(select(Member))) == []


def test_invalid_json_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "members.json"
    path.write_text('{"version": "1.0",\n "member_list": [}\n', encoding="utf-8")

    with pytest.raises(IxpError) as caught:
        ixf.read_file(path)

    assert str(caught.value) == (
        f"file: {str(path)!r} is not JSON (Expecting value at line 2 column 18)"
    )


def test_lab_asns_are_accepted_only_when_the_exchange_allows_them(session: Session) -> None:
    doc = samples.document()
    samples.member(doc, 139871)["asnum"] = 64512

    with pytest.raises(IxpError, match="private ASN"):
        ixf.import_document(session, doc, samples.OPTIONS)
    result = ixf.import_document(session, doc, ixf.ImportOptions(allow_lab=True, actor="test"))

    assert 64512 in result.created


def test_file_without_route_servers_needs_the_exchange_asn(session: Session) -> None:
    doc = samples.document()
    del doc["member_list"][0]

    with pytest.raises(IxpError) as caught:
        ixf.import_document(session, doc, samples.OPTIONS)
    assert str(caught.value) == (
        "ixp_list[0]: the exchange's ASN is unknown: the file lists no route server; "
        "give it explicitly"
    )
    ixf.import_document(session, doc, ixf.ImportOptions(exchange_asn="AS137409", actor="test"))

    assert get_exchange(session).asn == 137409
    assert len(list_members(session)) == 3


def test_file_for_another_lan_is_refused(session: Session, engine: Engine) -> None:
    ixf.import_document(session, samples.document(), samples.OPTIONS)
    before = snapshot(engine)
    doc = samples.document()
    doc["ixp_list"][0]["vlan"][0]["ipv4"]["prefix"] = "103.151.233.0"

    with pytest.raises(IxpError) as caught:
        ixf.import_document(session, doc, samples.OPTIONS)

    assert str(caught.value) == (
        "ixp_list[0].vlan[0].ipv4: '103.151.233.0/24' is not the peering LAN of exchange "
        "'Lahore Test IX (fictional)' (103.151.232.0/24)"
    )
    assert snapshot(engine) == before


def test_departed_members_are_not_exported(session: Session) -> None:
    ixf.import_document(session, samples.document(), samples.OPTIONS)
    doc = samples.document()
    samples.member(doc, 139871)["connection_list"][0]["state"] = "departed"
    ixf.import_document(session, doc, samples.OPTIONS)

    exported = json.loads(export(session))

    assert 139871 not in [m["asnum"] for m in exported["member_list"]]


def _ixp_manager_style() -> dict[str, Any]:
    """Two infrastructures; the exchange's own entry holds both route servers and a collector."""
    doc = samples.document()
    other = {
        "ixp_id": 9,
        "ixf_id": 0,
        "shortname": "Other LAN",
        "country": "PK",
        "vlan": [{"id": 5, "ipv4": {"prefix": "103.151.233.0", "mask_length": 24}}],
    }
    doc["ixp_list"].append(other)

    def service_vlan(kind: str, host: int) -> dict[str, Any]:
        service = [{"type": kind}]
        return {
            "vlan_id": 200,
            "ipv4": {"address": f"103.151.232.{host}", "services": service},
            "ipv6": {"address": f"2001:de8:4e::{host}", "services": service},
        }

    doc["member_list"][0] = {
        "asnum": 137409,
        "member_type": "ixp",
        "name": "LHR-IX Route Servers",
        "connection_list": [
            {"ixp_id": 7, "vlan_list": [service_vlan("ixrouteserver", 1)]},
            {"ixp_id": 7, "vlan_list": [service_vlan("ixrouteserver", 2)]},
            {"ixp_id": 7, "vlan_list": [service_vlan("ixroutecollector", 3)]},
        ],
    }
    jugnu = samples.member(doc, 139871)
    second = json.loads(json.dumps(jugnu["connection_list"][0]))  # a second port, same addresses
    second["if_list"] = [{"if_speed": 1000}]
    jugnu["connection_list"][0]["if_list"] = [{"if_speed": 1000}]
    jugnu["connection_list"].append(second)
    jugnu["connection_list"].append({"ixp_id": 9, "vlan_list": []})
    return doc


def test_ixp_manager_style_file_with_several_infrastructures(session: Session) -> None:
    doc = _ixp_manager_style()

    with pytest.raises(IxpError) as caught:
        ixf.import_document(session, doc, samples.OPTIONS)
    assert str(caught.value) == "ixp_list: has 2 entries; choose one by its ixp_id"
    result = ixf.import_document(session, doc, ixf.ImportOptions(ixp_id=7, actor="test"))

    assert result.route_servers_added == ("lhr-ix-route-servers-1", "lhr-ix-route-servers-2")
    assert sorted(result.created) == [58421, 134733, 139871]
    jugnu = show_member(session, 139871)
    assert (jugnu.ipv4, jugnu.speed_mbps) == (("103.151.232.12",), 2000)
    assert 137409 not in [m.asn for m in list_members(session)]
