"""Pushes to two real BIRD route servers over real SSH: what reaches them, and what never does.

The tests run in order on one fleet (tests/push/fleet.py) and each leaves both
route servers running one confirmed configuration. The registry dump every push
syncs from is passed explicitly: from the second test on it registers Charlie's
103.22.0.0/22, so "no change" means the configuration of that test.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from ixp.errors import Conflict
from ixp.members import MemberInput, add_member, remove_member, update_member
from ixp.models import Alert
from ixp.monitor.alerts import Rule
from ixp.push import ansible, labssh, versions
from ixp.push.pipeline import PUSH_LOCK, push_dir
from ixp.push.records import list_pushes, show_push
from tests.lab.exchange import BRAVO, DELTA, RS_NAME, address
from tests.lab.harness import require_lab
from tests.push.fleet import (
    BRAVO_DROPPED,
    CHARLIE_NEW,
    RS2_NAME,
    Fleet,
    charlie_route_object,
    rpsl_with,
    running_fleet,
    wait_for,
)

pytestmark = [pytest.mark.netns, pytest.mark.slow]
BOTH = (RS_NAME, RS2_NAME)
TYPO_ASN = 38099  # Bravo's ASN mistyped by an operator


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    """Both route servers up with their sshd, the members settled on them."""
    require_lab()
    reason = labssh.available()
    if reason:
        pytest.skip(reason)
    with running_fleet(tmp_path_factory.mktemp("push")) as running:
        yield running


def dump(directory: Path, *, drop: tuple[str, ...] = ()) -> Path:
    """The registry as the tests after the good change have it (Charlie's object added)."""
    return rpsl_with(directory, add=charlie_route_object(), drop=drop)


def states(detail: object) -> list[tuple[str, str]]:
    return [(t.route_server, t.state) for t in detail.targets]  # type: ignore[attr-defined]


def leftovers(fleet: Fleet, rs: str) -> list[str]:
    """Files the role must never leave next to the live one after it finished."""
    path = fleet.config_path(rs)
    found = path.parent.glob(f"{path.name}.ixp-*")
    return [p.name for p in found if not p.name.endswith("previous")]


def delta_limit(fleet: Fleet, rs: str) -> int | None:
    """The import limit BIRD of ``rs`` applies to Delta's IPv4 session now."""
    return fleet.sessions(rs)[address(DELTA, 4)].channels["ipv4"].import_limit


def set_delta_limit(fleet: Fleet, limit: int) -> None:
    with fleet.session() as session:
        update_member(session, DELTA, {"max_prefix_v4": limit}, actor="test")


def open_alerts(fleet: Fleet, rule: Rule) -> list[str]:
    with fleet.session() as session:
        return [
            a.message
            for a in session.query(Alert).filter(Alert.rule == rule, Alert.closed_at.is_(None))
        ]


def test_first_push_keeps_what_runs_and_touches_nothing(fleet: Fleet) -> None:
    before = {rs: fleet.live(rs) for rs in BOTH}
    detail = fleet.push()
    assert detail.state == "succeeded", detail.reason
    assert states(detail) == [(RS_NAME, "unchanged"), (RS2_NAME, "unchanged")]
    # The baseline is what the route servers run, fetched over SSH before the first push.
    assert detail.report["diffs"][RS_NAME]["baseline"] == "found"
    for target in detail.targets:
        assert target.previous_sha256 == versions.sha256(before[target.route_server])
    assert {rs: fleet.live(rs) for rs in BOTH} == before


def test_good_change_reaches_both(fleet: Fleet, tmp_path: Path) -> None:
    assert CHARLIE_NEW in fleet.filtered(RS_NAME)
    detail = fleet.push(rpsl_files=(dump(tmp_path),))
    assert detail.state == "succeeded", detail.reason
    assert states(detail) == [(RS_NAME, "confirmed"), (RS2_NAME, "confirmed")]
    diff = detail.report["diffs"][RS_NAME]
    [charlie] = diff["members"]
    assert charlie["sets"][0]["added"] == ["103.22.0.0/22{22,24}"]
    preview = detail.report["preview"]
    assert (preview["newly_accepted"], preview["newly_filtered"], preview["not_taken"]) == (1, 0, 0)
    [member] = preview["members"]
    assert member["routes"][0]["prefix"] == CHARLIE_NEW
    assert "prefix-not-in-as-set" in member["routes"][0]["reasons"][0]
    for target in detail.targets:
        assert target.health["health"]["healthy"] is True
        assert versions.sha256(fleet.live(target.route_server)) == target.version_sha256
        assert leftovers(fleet, target.route_server) == []
    fleet.wait_settled()
    for rs in BOTH:
        assert CHARLIE_NEW in fleet.accepted(rs)


def test_wrong_asn_is_rolled_back_on_the_canary_and_never_reaches_the_other(
    fleet: Fleet, tmp_path: Path
) -> None:
    before = {rs: fleet.live(rs) for rs in BOTH}
    with fleet.session() as session:
        update_member(session, BRAVO, {"ipv4": ""}, actor="test")
        add_member(
            session,
            MemberInput(
                asn=TYPO_ASN,
                name="Bravo Telecom (typo)",
                as_set="AS-BRAVO",
                ipv4=address(BRAVO, 4),
                max_prefix_v4=100,
                max_prefix_v6=100,
            ),
            actor="test",
        )
    try:
        stopped = fleet.push(rpsl_files=(dump(tmp_path),))
        assert stopped.state == "stopped"
        assert f"AS{BRAVO}" in stopped.reason and "would lose" in stopped.reason
        [bravo] = [m for m in stopped.report["preview"]["members"] if m["asn"] == BRAVO]
        assert "Bad peer AS" in bravo["session_problems"][0]

        detail = fleet.push(rpsl_files=(dump(tmp_path),), approve=True)
        assert detail.state == "failed"
        assert states(detail) == [(RS_NAME, "rolled-back"), (RS2_NAME, "skipped")]
        canary = detail.targets[0]
        assert canary.reason.startswith("health: ")
        assert address(BRAVO, 4) in canary.reason and "was established" in canary.reason
        assert canary.health["replies"]["undo"][:4] in ("0003", "0004")
        assert {rs: fleet.live(rs) for rs in BOTH} == before
        assert leftovers(fleet, RS_NAME) == []
        fleet.wait_settled()
    finally:
        with fleet.session() as session:
            remove_member(session, TYPO_ASN, actor="test")
            update_member(session, BRAVO, {"ipv4": address(BRAVO, 4)}, actor="test")


def test_preview_stops_a_change_that_drops_a_members_routes(fleet: Fleet, tmp_path: Path) -> None:
    before = {rs: fleet.live(rs) for rs in BOTH}
    detail = fleet.push(rpsl_files=(dump(tmp_path, drop=(BRAVO_DROPPED,)),))
    assert detail.state == "stopped"
    assert detail.reason.startswith(f"impact preview of {RS_NAME}: ")
    assert f"AS{BRAVO} (Bravo Telecom) would lose 1 of its 4 accepted routes (25%" in detail.reason
    assert states(detail) == [(RS_NAME, "skipped"), (RS2_NAME, "skipped")]
    [bravo] = detail.report["preview"]["members"]
    assert bravo["over_threshold"] is True
    [route] = bravo["routes"]
    assert (route["prefix"], route["change"]) == (BRAVO_DROPPED, "newly filtered")
    assert route["reasons"] == [
        "prefix-not-in-as-set: prefix not covered by route objects of the member's AS-SET"
    ]
    assert {rs: fleet.live(rs) for rs in BOTH} == before


def test_failed_health_check_is_rolled_back_and_the_other_is_untouched(
    fleet: Fleet, tmp_path: Path
) -> None:
    before = {rs: fleet.live(rs) for rs in BOTH}
    # Without a preview, nothing tells the health check to expect Bravo's loss.
    settings = fleet.settings.model_copy(update={"push_preview": False})
    detail = fleet.push(settings, rpsl_files=(dump(tmp_path, drop=(BRAVO_DROPPED,)),))
    assert detail.state == "failed"
    assert states(detail) == [(RS_NAME, "rolled-back"), (RS2_NAME, "skipped")]
    assert detail.reason.startswith(f"{RS_NAME} rolled-back: health: AS{BRAVO}: 3 accepted")
    assert {rs: fleet.live(rs) for rs in BOTH} == before
    fleet.wait_settled()
    assert BRAVO_DROPPED in fleet.accepted(RS_NAME)


def test_unreachable_canary_is_skipped_alerted_and_the_other_untouched(fleet: Fleet) -> None:
    set_delta_limit(fleet, 3)
    fleet.sshd[RS_NAME].stop()
    try:
        detail = fleet.push(rpsl_files=(dump(fleet.directory),))
    finally:
        fleet.sshd[RS_NAME].restart()
    assert detail.state == "failed"
    assert states(detail) == [(RS_NAME, "unreachable"), (RS2_NAME, "skipped")]
    assert "ssh" in detail.targets[0].reason.lower()
    assert delta_limit(fleet, RS2_NAME) == 2
    [message] = open_alerts(fleet, Rule.push_unreachable)
    assert message.startswith(f"route server {RS_NAME} unreachable for pushes: ")


def test_target_check_failing_swaps_nothing(fleet: Fleet) -> None:
    before = {rs: fleet.live(rs) for rs in BOTH}
    settings = fleet.settings.model_copy(update={"push_remote_bird": "/nonexistent/bird"})
    detail = fleet.push(settings, rpsl_files=(dump(fleet.directory),))
    assert detail.state == "failed"
    assert states(detail) == [(RS_NAME, "failed"), (RS2_NAME, "skipped")]
    assert detail.targets[0].reason.startswith("bird -p: ")
    assert {rs: fleet.live(rs) for rs in BOTH} == before
    assert leftovers(fleet, RS_NAME) == []
    assert delta_limit(fleet, RS_NAME) == 2
    # The push never reached rs1's BIRD, but it did reach rs1: the alert is gone.
    assert open_alerts(fleet, Rule.push_unreachable) == []


def test_role_refuses_what_the_route_servers_bird_refuses(fleet: Fleet, tmp_path: Path) -> None:
    before = fleet.live(RS_NAME)
    broken = tmp_path / "broken.conf"
    broken.write_text(before.replace("router id", "router idd", 1), encoding="utf-8")
    target = ansible.Target(
        RS_NAME,
        fleet.sshd[RS_NAME].address,
        str(fleet.lab.bird(RS_NAME).socket),
        str(fleet.config_path(RS_NAME)),
    )
    outcome = ansible.run(
        target, fleet.settings, action="apply", variables={"bird_push_src": str(broken)}
    )
    assert (outcome.outcome, outcome.stage) == ("failed", "bird -p")
    assert "syntax error" in outcome.reason
    # A file bird -p accepts, but the running BIRD cannot be asked to check (wrong socket).
    good = tmp_path / "good.conf"
    good.write_text(before + "\n# another comment\n", encoding="utf-8")
    elsewhere = ansible.Target(target.name, target.host, "/nonexistent.ctl", target.config_path)
    outcome = ansible.run(
        elsewhere, fleet.settings, action="apply", variables={"bird_push_src": str(good)}
    )
    assert (outcome.outcome, outcome.stage) == ("failed", "configure check")
    assert fleet.live(RS_NAME) == before
    assert leftovers(fleet, RS_NAME) == []


def test_two_pushes_at_once(fleet: Fleet) -> None:
    first = fleet.spawn_push("--rpsl", str(dump(fleet.directory)))
    lock = push_dir(fleet.settings) / PUSH_LOCK
    try:
        wait_for(
            lambda: lock.exists() and f"pid {first.pid}" in lock.read_text(),
            timeout=60,
            what="the spawned push to take the lock",
        )
        with pytest.raises(Conflict) as refused:
            fleet.push(rpsl_files=(dump(fleet.directory),))
        assert str(refused.value).startswith(
            "a push to the route servers is already running (started by spawned, "
            f"pid {first.pid}, since "
        )
        waiting = fleet.settings.model_copy(update={"push_lock_wait_seconds": 300.0})
        second = fleet.push(waiting, rpsl_files=(dump(fleet.directory),))
        out, err = first.communicate(timeout=300)
    finally:
        if first.poll() is None:
            fleet.kill(first)
    assert first.returncode == 0, err
    assert "confirmed" in out
    assert states(second) == [(RS_NAME, "unchanged"), (RS2_NAME, "unchanged")]
    for rs in BOTH:
        assert delta_limit(fleet, rs) == 3


def test_killed_push_is_found_and_finished_by_the_next(fleet: Fleet) -> None:
    old = {rs: fleet.live(rs) for rs in BOTH}
    set_delta_limit(fleet, 4)
    rs1 = fleet.config_path(RS_NAME)
    # Killed while the new file is being staged beside the live one: the live file is
    # untouched (staging writes a temporary file and renames it; the swap is a rename).
    first = fleet.spawn_push("--rpsl", str(dump(fleet.directory)))
    try:
        wait_for(rs1.with_name(f"{rs1.name}.ixp-new").exists, timeout=120, what="staging on rs1")
    finally:
        fleet.kill(first)
    assert fleet.live(RS_NAME) == old[RS_NAME]
    # Killed after BIRD took the new file under its undo timer (16 s here, the least
    # the settings allow over the health wait), before the second health reading (5 s
    # later) and the confirmation.
    quick = fleet.settings.model_copy(
        update={
            "push_confirm_timeout_seconds": 16,
            "push_health_timeout_seconds": 5,
            "push_health_interval_seconds": 5.0,
        }
    )
    second = fleet.spawn_push("--rpsl", str(dump(fleet.directory)), settings=quick)
    try:
        wait_for(lambda: delta_limit(fleet, RS_NAME) == 4, timeout=120, what="rs1 reconfigured")
    finally:
        fleet.kill(second)
    assert fleet.live(RS_NAME) != old[RS_NAME]
    # Nobody confirms: BIRD's own timer goes back to the previous configuration.
    wait_for(lambda: delta_limit(fleet, RS_NAME) == 3, timeout=30, what="BIRD's undo timer")
    assert fleet.live(RS2_NAME) == old[RS2_NAME]

    detail = fleet.push(rpsl_files=(dump(fleet.directory),))
    assert detail.state == "succeeded", detail.reason
    assert states(detail) == [(RS_NAME, "confirmed"), (RS2_NAME, "confirmed")]
    with fleet.session() as session:
        pushes, _total = list_pushes(session, limit=3)
        killed = [show_push(session, push.id) for push in pushes[1:]]
    for push in killed:
        assert push.state == "interrupted"
        assert push.reason.startswith(f"killed at push: {RS_NAME} (pid ")
        assert states(push) == [(RS_NAME, "rolled-back"), (RS2_NAME, "skipped")]
    assert [push.targets[0].reason for push in killed] == [
        "interrupted; the previous configuration was put back",
        "interrupted; it still ran the previous configuration",
    ]
    for rs in BOTH:
        assert delta_limit(fleet, rs) == 4
        assert leftovers(fleet, rs) == []
    fleet.wait_settled()


def test_pushes_are_listed_and_shown(fleet: Fleet) -> None:
    listing = fleet.run_ixp("push", "list", "--json")
    assert listing.returncode == 0, listing.stderr
    pushes = json.loads(listing.stdout)
    assert [p["state"] for p in pushes[:2]] == ["succeeded", "interrupted"]
    assert pushes[0]["route_servers"] == f"{RS_NAME}: confirmed, {RS2_NAME}: confirmed"
    shown = fleet.run_ixp("push", "show", str(pushes[0]["id"]), "--diff", "--rs", RS_NAME)
    assert shown.returncode == 0, shown.stderr
    assert f"{RS_NAME}: confirmed (sessions " in shown.stdout
    assert f"+++ {RS_NAME}.conf (new)" in shown.stdout
    detail = json.loads(fleet.run_ixp("push", "show", str(pushes[0]["id"]), "--json").stdout)
    assert detail["targets"][0]["health"]["health"]["healthy"] is True
    assert "unified" not in detail["report"]["diffs"][RS_NAME]
