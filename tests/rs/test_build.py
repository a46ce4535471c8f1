"""`ixp rs build` on the demo exchange: golden configs, the report, atomic publishing.

Golden files live in ``tests/data/rs/<rs>.conf``. After an intended change to
the templates or the policy, regenerate them with::

    IXP_REGENERATE_GOLDEN=1 .venv/bin/pytest tests/rs/test_build.py -k golden

and review the diff like any other code change.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from ixp.cli.main import app
from ixp.errors import ValidationError
from ixp.members import get_member
from ixp.models.base import utcnow
from ixp.models.irr import IrrDataState, IrrPrefixData
from ixp.rs.build import build
from ixp.rs.check import ConfigRejected
from ixp.rs.types import RegistryState
from ixp.settings import Settings, get_settings
from tests.rs.birdtools import needs_bird
from tests.rs.exchange import DATA, add_rules, build_exchange

pytestmark = needs_bird

HOSTILE = 'Bad "name" }; protocol x {} */ #\nnext line پاکستان'


def test_configs_match_the_golden_files(
    demo: Session, demo_settings: Settings, tmp_path: Path
) -> None:
    add_rules(demo)  # the golden files show members with filtering rules and without
    build(demo, demo_settings, tmp_path)
    for name in ("rs1", "rs2"):
        produced = (tmp_path / f"{name}.conf").read_text(encoding="utf-8")
        golden = DATA / f"{name}.conf"
        if os.environ.get("IXP_REGENERATE_GOLDEN"):
            golden.write_text(produced, encoding="utf-8")
        assert produced == golden.read_text(encoding="utf-8"), f"{name}.conf differs from golden"


def test_report_lists_members_sessions_and_exclusions(
    demo: Session, demo_settings: Settings, tmp_path: Path
) -> None:
    report = build(demo, demo_settings, tmp_path, rs_name="rs1")
    (rs1,) = report.route_servers
    assert rs1.path == str(tmp_path / "rs1.conf") and not (tmp_path / "rs2.conf").exists()
    members = {m.asn: m for m in rs1.members}
    assert sorted(members) == [10101, 20202, 30303, 50505]
    assert members[10101].sessions == ("AS10101_v4_1", "AS10101_v6_1")
    assert members[30303].sessions == ("AS30303_v4_1",)
    assert (members[10101].prefixes_v4, members[10101].prefixes_v6) == (4, 1)
    # 5 ROAs are stored; the one for 88.50.0.0/21 overlaps no member prefix and is left out.
    assert rs1.sessions == 6 and rs1.roas == 4 and rs1.rpki_source == "static"
    reasons = {e.asn: e.reason for e in rs1.excluded}
    assert reasons[40404] == "status is suspended"
    assert 50505 not in reasons
    assert members[50505].registry is RegistryState.missing  # configured, everything filtered
    config = (tmp_path / "rs1.conf").read_text(encoding="utf-8")
    assert "neighbor 185.1.0.14 " not in config and "neighbor 185.1.0.15 " in config
    assert "protocol bgp rs_collector_v6 " in config
    assert "import limit 50 action block;" in config


def test_builds_are_byte_identical(demo: Session, demo_settings: Settings, tmp_path: Path) -> None:
    first = build(demo, demo_settings, tmp_path / "a")
    second = build(demo, demo_settings, tmp_path / "b")
    for name in ("rs1", "rs2"):
        assert (tmp_path / "a" / f"{name}.conf").read_bytes() == (
            tmp_path / "b" / f"{name}.conf"
        ).read_bytes()
    assert [r.build_id for r in first.route_servers] == [r.build_id for r in second.route_servers]


def test_hostile_names_still_parse(
    session: Session, demo_settings: Settings, tmp_path: Path
) -> None:
    build_exchange(session, demo_settings, names={10101: HOSTILE, 20202: HOSTILE})
    build(session, demo_settings, tmp_path)
    config = (tmp_path / "rs1.conf").read_text(encoding="utf-8")
    assert "protocol x" not in config.replace("# ", "").split("AS10101 Bad")[0]
    assert "پاکستان" in config


# Bidi marks, embeddings, overrides and isolates, zero-width space, BOM, soft hyphen.
INVISIBLE = (
    "\u200f\u200e\u061c\u200b\ufeff\u00ad"
    + "".join(map(chr, range(0x202A, 0x202F)))
    + "".join(map(chr, range(0x2066, 0x206A)))
)


def test_invisible_and_bidi_characters_never_reach_the_files(
    session: Session, demo_settings: Settings, tmp_path: Path
) -> None:
    urdu = "پاکستان"
    name = "".join(f"{char}Al" for char in INVISIBLE) + "\u2028\u202eNetworks\u202c\u2029" + urdu
    visible = "Al" * len(INVISIBLE) + " Networks " + urdu
    build_exchange(session, demo_settings, names={10101: name, 20202: name})
    build(session, demo_settings, tmp_path)
    for rs in ("rs1", "rs2"):
        config = (tmp_path / f"{rs}.conf").read_text(encoding="utf-8")
        assert f"# AS10101 {visible} (" in config
        assert f'description "AS20202 {visible}";' in config
        unseen = set(INVISIBLE + "\u2028\u2029")
        assert [hex(ord(char)) for char in unseen & set(config)] == []


def test_a_rejected_config_leaves_the_previous_files(
    demo: Session, demo_settings: Settings, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    build(demo, demo_settings, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    broken = demo_settings.model_copy(update={"rs_transit_free_asns": [2**33]})
    with pytest.raises(ConfigRejected, match="bird -p rejected"):
        build(demo, broken, out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_cli_build_explain_and_failure(
    demo_cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    result = demo_cli.invoke(app, ["rs", "build", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert [r["rs_name"] for r in report["route_servers"]] == ["rs1", "rs2"]

    result = demo_cli.invoke(app, ["rs", "build", "--out", str(tmp_path / "t"), "--rs", "rs2"])
    assert (
        result.exit_code == 0 and "rs2:" in result.stdout and "status is suspended" in result.stdout
    )
    # One line per route server and what needs a look; every member's line on request.
    assert "rs2: members" not in result.stdout and "--verbose" in result.stdout
    result = demo_cli.invoke(app, ["rs", "build", "--out", str(tmp_path / "t"), "-v"])
    assert result.exit_code == 0 and "rs1: members" in result.stdout and "10101" in result.stdout

    result = demo_cli.invoke(
        app, ["rs", "explain", "10101", "10.0.0.0/8", "--path", "10101 64512", "--json"]
    )
    assert result.exit_code == 0, result.stderr
    verdict = json.loads(result.stdout)
    assert not verdict["accepted"]
    assert [r["code"] for r in verdict["reasons"]] == [3, 4, 9, 10]

    result = demo_cli.invoke(
        app, ["rs", "explain", "10101", "31.10.7.7/32", "--community", "65535:666"]
    )
    assert result.exit_code == 0 and "accepted" in result.stdout and "185.1.0.66" in result.stdout

    result = demo_cli.invoke(app, ["rs", "explain", "40404", "77.30.0.0/20"])
    assert result.exit_code == 2 and "status is suspended" in result.stderr

    for path in ("10101 ²", "10101 \u0661\u0660"):  # a superscript, Arabic-Indic digits
        result = demo_cli.invoke(app, ["rs", "explain", "10101", "31.10.7.7/32", "--path", path])
        assert result.exit_code == 2 and result.stderr.startswith("error: path:")

    monkeypatch.setenv("IXP_RS_TRANSIT_FREE_ASNS", "[8589934592]")
    get_settings.cache_clear()
    result = demo_cli.invoke(app, ["rs", "build", "--out", str(out)])
    assert result.exit_code == 1 and "bird -p rejected" in result.stderr


def test_held_registry_data_and_disabled_families(
    demo: Session, demo_settings: Settings, tmp_path: Path
) -> None:
    bravo = get_member(demo, 20202)
    demo.add(
        IrrPrefixData(
            member=bravo,
            state=IrrDataState.pending,
            as_set="AS20202",
            asns=[20202],
            prefixes_v4=[],
            prefixes_v6=[],
            fetched_at=utcnow(),
            source="test",
            note="shrank from 1 to 0 prefixes",
        )
    )
    for link in bravo.rs_sessions:
        link.ipv6_enabled = link.route_server.name != "rs2"
    demo.commit()
    report = build(demo, demo_settings, tmp_path / "out")
    rs1, rs2 = report.route_servers
    assert next(m for m in rs1.members if m.asn == 20202).registry is RegistryState.held
    assert any(n.asn == 20202 and n.held and "shrank" in (n.note or "") for n in rs1.irr_notes)
    assert next(m for m in rs2.members if m.asn == 20202).sessions == ("AS20202_v4_1",)
    config = (tmp_path / "out" / "rs1.conf").read_text(encoding="utf-8")
    assert "registry update held for approval, last good data in use" in config
    assert "62.40.0.0/18{18,24}" in config


def test_registry_text_that_is_not_a_prefix_stops_the_build(
    demo: Session, demo_settings: Settings, tmp_path: Path
) -> None:
    charlie = get_member(demo, 30303)
    row = demo.scalars(select(IrrPrefixData).where(IrrPrefixData.member_id == charlie.id)).one()
    row.prefixes_v4 = {
        "prefix": ["77.30.0.0/20", "1.2.3.0/24]; function x"],
        "max_length": [24, 24],
    }
    demo.commit()
    with pytest.raises(ValidationError, match="irr prefix of AS30303"):
        build(demo, demo_settings, tmp_path / "out")
    assert not (tmp_path / "out" / "rs1.conf").exists()
