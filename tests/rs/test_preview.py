"""The next-build preview: what ``ixp rs build`` would change per member, read from the
configuration last published and the one a build would write now.

Each test changes the demo exchange the way an operator would (through the
service functions) after a real build, and expects exactly that change, in the
words of the configuration: filter prefixes added, sessions added or removed,
lines of a session changed. Nothing else may show up.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from ixp import members
from ixp.irr.service import sync
from ixp.members import MemberInput
from ixp.rs import history
from ixp.rs.context import build_context
from ixp.rs.preview import BuildPreview, Change, MemberChange, configured_members, preview
from ixp.rs.render import render
from ixp.settings import Settings
from tests.rs.birdtools import needs_bird
from tests.rs.exchange import DATA, RS_ASN, build_exchange
from tests.rs.test_build import HOSTILE

pytestmark = needs_bird

CONFIGURED = {10101, 20202, 30303, 50505}  # 40404 is suspended


def built(session: Session, settings: Settings) -> int:
    """A successful build into the default place, as the portal's button runs it."""
    outcome = history.run_build(session, settings, history.default_out_dir(settings), actor="test")
    assert outcome.failure is None
    return outcome.record.id


def changed(result: BuildPreview, rs: str = "rs1") -> dict[int, MemberChange]:
    server = next(s for s in result.servers if s.rs_name == rs)
    return {m.asn: m for m in server.members}


def test_before_any_build_every_configured_member_is_added_in_full(
    demo: Session, demo_settings: Settings
) -> None:
    result = preview(demo, demo_settings)
    assert result.compared_with is None
    added = changed(result)
    assert set(added) == CONFIGURED
    alpha = added[10101]
    assert alpha.change is Change.added and alpha.name == "Alpha Networks"
    assert [s.name for s in alpha.sessions] == ["AS10101_v4_1", "AS10101_v6_1"]
    prefixes = next(s for s in alpha.sets if s.name == "PREFIXES_V4")
    assert prefixes.label == "IPv4 prefixes in its filter"
    assert "31.10.0.0/16{16,24}" in prefixes.added and prefixes.removed == ()


def test_right_after_a_build_nothing_changes(demo: Session, demo_settings: Settings) -> None:
    build = built(demo, demo_settings)
    result = preview(demo, demo_settings)
    assert result.compared_with == build and result.changes == 0
    assert all(s.unchanged == len(CONFIGURED) for s in result.servers)
    assert all(s.published and s.published.endswith(f"{s.rs_name}.conf") for s in result.servers)


def test_operator_changes_show_as_exactly_those_changes(
    demo: Session, demo_settings: Settings, tmp_path: Path
) -> None:
    built(demo, demo_settings)
    members.update_member(demo, 10101, {"max_prefix_v4": 200}, actor="test")
    members.suspend_member(demo, 20202, actor="test")
    members.add_member(
        demo,
        MemberInput(asn=60606, name="Foxtrot", ipv4="185.1.0.16", max_prefix_v4=5, max_prefix_v6=5),
        actor="test",
    )
    grown = tmp_path / "registry.rpsl"
    extra = "\nroute:          45.22.0.0/24\norigin:         AS10101\nsource:         TEST\n"
    grown.write_text((DATA / "registry.rpsl").read_text(encoding="utf-8") + extra)
    sync(demo, demo_settings, members=[members.get_member(demo, 10101)], rpsl_files=[grown])

    result = changed(preview(demo, demo_settings))
    assert set(result) == {10101, 20202, 60606}
    alpha = result[10101]
    assert alpha.change is Change.changed and alpha.prefixes_added == 1
    assert [(s.name, s.added, s.removed) for s in alpha.sets] == [
        ("PREFIXES_V4", ("45.22.0.0/24{24,24}",), ()),
        ("BLACKHOLE_V4", ("45.22.0.0/24{24,32}",), ()),
    ]
    (session_v4,) = alpha.sessions
    assert session_v4.name == "AS10101_v4_1" and session_v4.change is Change.changed
    assert session_v4.before == (
        "import limit 100 action restart;",
        "receive limit 1000 action block;",
    )
    assert session_v4.after == (
        "import limit 200 action restart;",
        "receive limit 2000 action block;",
    )
    bravo = result[20202]
    assert bravo.change is Change.removed and bravo.note == "status is suspended"
    assert {s.change for s in bravo.sessions} == {Change.removed}
    foxtrot = result[60606]
    assert foxtrot.change is Change.added and foxtrot.name == "Foxtrot"
    assert [s.name for s in foxtrot.sessions] == ["AS60606_v4_1"]


def test_one_member_alone(demo: Session, demo_settings: Settings) -> None:
    built(demo, demo_settings)
    members.update_member(demo, 30303, {"max_prefix_v4": 20}, actor="test")
    members.update_member(demo, 10101, {"max_prefix_v4": 20}, actor="test")
    result = preview(demo, demo_settings, only_asn=30303)
    assert {asn for s in result.servers for asn in changed(result, s.rs_name)} == {30303}
    assert all(s.unchanged == 0 for s in result.servers)


def test_hostile_names_do_not_confuse_the_reader(session: Session, demo_settings: Settings) -> None:
    build_exchange(session, demo_settings, names={10101: HOSTILE, 30303: "a { b } c # d"})
    rs = members.get_member(session, 10101).exchange.route_servers[0]
    context = build_context(session, rs, demo_settings).context
    read = configured_members(render(context).text)
    assert set(read) == {m.asn for m in context.members}
    for policy in context.members:
        sessions = read[policy.asn].sessions
        assert sorted(sessions) == sorted(s.name for s in policy.sessions)
        for configured in policy.sessions:
            assert sessions[configured.name].neighbor == configured.neighbor
        assert len(read[policy.asn].sets["PREFIXES_V4"]) == len(policy.prefixes_v4)
    assert RS_ASN not in read  # the collector's sessions are no member's
