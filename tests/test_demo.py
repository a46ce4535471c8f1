"""The demo exchange: loads through the normal paths, twice without change, with data that
passes the bogon rules where it should and fails them where it is wrong on purpose."""

from __future__ import annotations

import json
from pathlib import Path

import netaddr
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from ixp import accounts, demo, ixf, validate
from ixp.cli.main import app
from ixp.exchange import get_exchange
from ixp.irr import service as irr_service
from ixp.members import list_members
from ixp.models import IrrPrefixData, RpkiRoa
from ixp.settings import Settings
from tests.dbsnapshot import snapshot
from tests.ixf import samples

# Documentation, private, shared, benchmarking and multicast space: never in demo data
# except in the objects that are wrong on purpose.
BOGONS = netaddr.IPSet(
    [
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.2.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/3",
        "2001:db8::/32",
        "fc00::/7",
        "fe80::/10",
        "::/8",
    ]
)


@pytest.fixture
def loaded(session: Session, settings: Settings) -> demo.DemoReport:
    return demo.load_demo(session, settings, actor="test")


def test_demo_is_a_fictional_exchange_in_pakistan(
    session: Session, loaded: demo.DemoReport
) -> None:
    exchange = get_exchange(session)
    members = list_members(session)

    assert "fictional" in exchange.name
    assert exchange.country == "PK"
    assert [rs.name for rs in exchange.route_servers] == ["rs1-isb", "rs2-khi"]
    assert (exchange.blackhole_ipv4, exchange.blackhole_ipv6) == (
        "103.151.232.66",
        "2001:de8:4e::666",
    )
    assert len(members) == 40
    assert len(loaded.imported.created) == 40
    assert all(m.legal_name.endswith("[fictional]") for m in members)
    assert any(not m.display_name.isascii() for m in members)
    assert any("&" in m.display_name for m in members)
    assert sum(m.max_prefix_v4 >= 500 for m in members) >= 5
    for member in members:
        assert validate.asn(member.asn) == member.asn
        assert len(member.rs_sessions) == 2


def test_demo_load_twice_changes_nothing(
    session: Session, settings: Settings, engine: Engine, loaded: demo.DemoReport
) -> None:
    before = snapshot(engine)

    again = demo.load_demo(session, settings, actor="test")

    assert snapshot(engine) == before
    assert not again.imported.changed
    assert again.members_with_extras_changed == ()
    assert (again.irr_synced, again.roas_loaded) == (0, None)


def test_demo_loads_registry_data_and_roas(session: Session, loaded: demo.DemoReport) -> None:
    members = list_members(session)
    stored = irr_service.irr_for_members(session, members)
    without = sorted(m.asn for m in members if stored.get(m.id) is None)

    # AS-MAKRAN is deliberately unregistered: that member has no registry data.
    assert without == [55903]
    assert loaded.irr_synced == 39
    assert session.scalar(select(func.count()).select_from(IrrPrefixData)) >= 39
    assert loaded.roas_loaded == session.scalar(select(func.count()).select_from(RpkiRoa))
    assert loaded.roas_loaded is not None and loaded.roas_loaded > 80
    indus = next(m for m in members if m.asn == 58421)
    indus_data = stored[indus.id]
    assert indus_data is not None
    assert {58421, 131845, 134120, 139007} <= set(indus_data.asns)


def test_demo_prefixes_are_public_except_the_deliberate_mistakes() -> None:
    text = demo.REGISTRY_FILE.read_text(encoding="utf-8")
    wrong, right = [], []
    for block in text.split("\n\n"):
        fields = dict(
            line.split(":", 1) for line in block.splitlines() if line and line[0] not in "%#"
        )
        prefix = (fields.get("route") or fields.get("route6") or "").strip()
        if prefix:
            target = wrong if "DELIBERATELY WRONG" in fields.get("remarks", "") else right
            target.append(netaddr.IPNetwork(prefix))
    roas = json.loads(demo.ROAS_FILE.read_text(encoding="utf-8"))["roas"]

    assert len(right) > 80
    assert not any(p in BOGONS for p in right)
    assert any(p in BOGONS for p in wrong)
    assert not any(netaddr.IPNetwork(r["prefix"]) in BOGONS for r in roas)
    for roa in roas:
        assert validate.asn(roa["asn"]) == roa["asn"]


def test_demo_export_validates_and_round_trips(
    session: Session, loaded: demo.DemoReport, tmp_path: Path
) -> None:
    first = ixf.export_json(session, get_exchange(session))

    with samples.empty_database(tmp_path / "second") as second:
        ixf.import_document(second, json.loads(first), samples.OPTIONS)
        again = ixf.export_json(second, get_exchange(second))

    assert samples.schema_errors(demo.EXCHANGE_FILE.read_text(encoding="utf-8")) == []
    assert samples.schema_errors(first) == []
    assert again == first


def test_ixp_demo_load_command_is_idempotent(cli: CliRunner, engine: Engine) -> None:
    first = cli.invoke(app, ["demo", "load", "--json"])
    before = snapshot(engine)
    second = cli.invoke(app, ["demo", "load", "--json"])

    assert first.exit_code == 0, first.stderr
    assert second.exit_code == 0, second.stderr
    assert len(json.loads(first.stdout)["imported"]["created"]) == 40
    assert len(json.loads(second.stdout)["imported"]["unchanged"]) == 40
    assert snapshot(engine) == before


def test_demo_logins_exist_in_development_mode_only(session: Session, settings: Settings) -> None:
    production = demo.load_demo(session, settings, actor="test")
    assert production.logins_created == ()
    assert accounts.list_users(session) == []

    development = settings.model_copy(update={"web_environment": "development"})
    created = demo.load_demo(session, development, actor="test")
    again = demo.load_demo(session, development, actor="test")

    assert created.logins_created == ("operator", "member") and again.logins_created == ()
    for login in demo.DEMO_LOGINS:
        user = accounts.authenticate(
            session, login.username, login.password, address="::1", settings=development
        )
        assert (user.member.asn if user.member else None) == login.member_asn
