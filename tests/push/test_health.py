"""The health check after a swap, and BIRD's reply codes as ``birdc -v`` prints them."""

from __future__ import annotations

from pathlib import Path

import pydantic
import pytest

from ixp.bird import ChannelStatus, ProtocolStatus
from ixp.push.health import SECOND_READING, birdc_lines, check, check_birdc, final_reply
from ixp.settings import Settings

DATA = Path(__file__).resolve().parents[1] / "data" / "push"
BEFORE = (DATA / "protocols-before.txt").read_text(encoding="utf-8")
AFTER_BAD_ASN = (DATA / "protocols-after-bad-asn.txt").read_text(encoding="utf-8")
ROLE_DEFAULTS = Path(__file__).resolve().parents[2] / "ansible/roles/bird_push/defaults/main.yml"


def readings(first: str, second: str) -> str:
    """Two readings as the role prints them, the marker line between."""
    return f"{first}{SECOND_READING}\n{second}"


def session(
    name: str, address: str, asn: int, *, up: bool = True, imported: int = 0
) -> ProtocolStatus:
    protocol = ProtocolStatus(
        name=name,
        proto="BGP",
        table="---",
        state="up" if up else "start",
        since="",
        info="Established" if up else "Active",
        bgp_state="Established" if up else "Active",
        neighbor_address=address,
        neighbor_as=asn,
    )
    protocol.channels["ipv4"] = ChannelStatus("ipv4", imported=imported)
    return protocol


def test_birdc_output_is_read_as_the_socket_sends_it() -> None:
    lines = list(birdc_lines(BEFORE))
    assert lines[0].code == 1 and lines[1].code == 2002
    # Continuation lines keep the code of the line they continue.
    described = [line for line in lines if line.text.strip().startswith("Neighbor AS:")]
    assert [line.code for line in described] == [1006, 1006]


@pytest.mark.parametrize(
    ("output", "code"),
    [
        ("0001 BIRD 2.0.12 ready.\n0002-Reading configuration from /x\n"
         "0020 Configuration OK\n", 20),
        ("0001 BIRD 2.0.12 ready.\n0002-Reading configuration from /x\n"
         "0022-Undo scheduled in 30 s\n0003 Reconfigured\n", 3),
        ("0001 BIRD 2.0.12 ready.\n0021-Undo requested\n0019 Nothing to do\n", 19),
        ("0001 BIRD 2.0.12 ready.\n0002-Reading configuration from /x\n"
         "8002 /x:3:1 syntax error, unexpected GARBAGE\n", 8002),
        ("0001 BIRD 2.0.12 ready.\n9001 syntax error, unexpected TEXT, expecting END\n", 9001),
    ],
)  # fmt: skip
def test_the_last_reply_code_is_birds_answer(output: str, code: int) -> None:
    reply = final_reply(output)
    assert reply is not None and reply.code == code


def test_no_answer_but_the_greeting_is_none() -> None:
    assert final_reply("0001 BIRD 2.0.12 ready.\n") is None
    assert (
        final_reply("Unable to connect to server control socket (/x.ctl): No such file\n") is None
    )


def test_unchanged_route_server_is_healthy() -> None:
    report = check_birdc(BEFORE, readings(BEFORE, BEFORE), delta=None, tolerance_percent=5)
    assert report.healthy and report.problems == ()
    assert (report.established_before, report.accepted_before) == (1, 2)


def test_a_session_that_does_not_come_back_is_a_problem() -> None:
    report = check_birdc(
        BEFORE, readings(AFTER_BAD_ASN, AFTER_BAD_ASN), delta=None, tolerance_percent=5
    )
    assert not report.healthy
    assert report.problems == (
        "AS65001: session AS65001_v4_1 with 10.9.0.2 is Active (Received: Bad peer AS), "
        "was established",
        "AS65001: 0 accepted routes, expected 2 (at least 2 with 5% tolerance)",
    )


def test_sessions_down_before_or_gone_after_are_not_required() -> None:
    before = [session("a", "10.0.0.1", 1, imported=3), session("b", "10.0.0.2", 2, up=False)]
    after = [session("b", "10.0.0.2", 2, up=False)]  # "a" removed by the new configuration
    assert check(before, after, tolerance_percent=0).healthy


def test_fewer_routes_than_expected_beyond_the_tolerance_fail() -> None:
    before = [session("a", "10.0.0.1", 1, imported=100), session("b", "10.0.0.2", 2, imported=4)]
    after = [session("a", "10.0.0.1", 1, imported=95), session("b", "10.0.0.2", 2, imported=3)]
    report = check(before, after, tolerance_percent=5)
    # 5% of 100 routes may go; 5% of 4 routes is less than one route.
    assert report.problems == ("AS2: 3 accepted routes, expected 4 (at least 4 with 5% tolerance)",)


def test_the_previews_expected_change_is_not_a_problem() -> None:
    before = [session("b", "10.0.0.2", 2, imported=4)]
    after = [session("b", "10.0.0.2", 2, imported=3)]
    assert check(before, after, delta={2: -1}, tolerance_percent=0).healthy
    assert not check(before, after, delta={2: +1}, tolerance_percent=0).healthy


def test_more_routes_are_fine() -> None:
    before = [session("b", "10.0.0.2", 2, imported=4)]
    after = [session("b", "10.0.0.2", 2, imported=9)]
    assert check(before, after, tolerance_percent=0).healthy


def test_routes_still_arriving_between_the_two_readings_are_not_healthy_yet() -> None:
    before = [session("a", "10.0.0.1", 1, imported=100)]
    # Right after configure: the counts are those of before, and the member is still
    # sending its routes again through the new filters (route refresh).
    first = [session("a", "10.0.0.1", 1, imported=100)]
    first[0].channels["ipv4"].route_changes["import_updates"] = {"received": 140}
    second = [session("a", "10.0.0.1", 1, imported=100)]
    second[0].channels["ipv4"].route_changes["import_updates"] = {"received": 180}
    report = check(before, second, tolerance_percent=0, settling=first)
    assert report.problems == ("AS1: session a with 10.0.0.1 has not settled yet",)
    assert check(before, second, tolerance_percent=0, settling=second).healthy


def test_a_session_that_flapped_between_the_readings_has_not_settled() -> None:
    before = [session("a", "10.0.0.1", 1, imported=3)]
    first = [session("a", "10.0.0.1", 1, up=False)]
    second = [session("a", "10.0.0.1", 1, imported=3)]
    assert not check(before, second, tolerance_percent=0, settling=first).healthy


def test_sessions_down_in_both_readings_do_not_hold_the_settling() -> None:
    # A member whose router is off: BIRD's retries turn its state between Connect and
    # Active; hundreds of them at a large exchange must not keep a push from settling.
    before = [session("a", "10.0.0.1", 1, imported=3), session("b", "10.0.0.2", 2, up=False)]
    first = [session("a", "10.0.0.1", 1, imported=3), session("b", "10.0.0.2", 2, up=False)]
    second = [session("a", "10.0.0.1", 1, imported=3), session("b", "10.0.0.2", 2, up=False)]
    second[1].bgp_state = "Connect"
    assert check(before, second, tolerance_percent=0, settling=first).healthy
    # One that comes up between the readings is still arriving.
    up = [session("a", "10.0.0.1", 1, imported=3), session("b", "10.0.0.2", 2, imported=1)]
    report = check(before, up, tolerance_percent=0, settling=first)
    assert report.problems == ("AS2: session b with 10.0.0.2 has not settled yet",)


def test_one_reading_alone_is_never_healthy() -> None:
    report = check_birdc(BEFORE, BEFORE, delta=None, tolerance_percent=5)
    assert not report.healthy
    assert report.problems == ("one reading after the change, not two an interval apart",)


def test_the_role_prints_the_line_the_check_splits_on() -> None:
    defaults = ROLE_DEFAULTS.read_text(encoding="utf-8")
    assert f'bird_push_second_reading: "{SECOND_READING}"' in defaults


def refreshing(
    name: str,
    address: str,
    asn: int,
    *,
    imported: int,
    filtered: int = 0,
    received: int = 0,
    withdrawn: int = 0,
) -> ProtocolStatus:
    """A session with its routes and the updates and withdraws it has sent so far."""
    protocol = session(name, address, asn, imported=imported)
    channel = protocol.channels["ipv4"]
    channel.filtered = filtered
    channel.route_changes["import_updates"] = {"received": received}
    channel.route_changes["import_withdraws"] = {"received": withdrawn}
    return protocol


def test_a_refreshed_session_must_send_its_routes_again() -> None:
    before = [refreshing("a", "10.0.0.1", 1, imported=90, filtered=10, received=100)]
    # Nothing has arrived yet: two equal readings, the counts of before; not healthy.
    waiting = [refreshing("a", "10.0.0.1", 1, imported=90, filtered=10, received=100)]
    report = check(before, waiting, tolerance_percent=5, settling=waiting, refreshed={"a"})
    assert report.problems == (
        "AS1: session a with 10.0.0.1 has sent 0 of its 100 routes again since the change "
        "(route refresh not finished)",
    )
    # 95 updates and withdraws since: within 5% of the 100 it held.
    done = [refreshing("a", "10.0.0.1", 1, imported=88, filtered=10, received=193, withdrawn=2)]
    assert check(before, done, tolerance_percent=5, settling=done, refreshed={"a"}).healthy
    # The same counts judged without the refresh expectation were healthy at once.
    assert check(before, waiting, tolerance_percent=5, settling=waiting).healthy


def test_a_restarted_session_counts_everything_it_sent() -> None:
    # BIRD zeroes the counters of a session that restarts: what it sent since is all of it.
    before = [refreshing("a", "10.0.0.1", 1, imported=50, received=400)]
    restarted = [refreshing("a", "10.0.0.1", 1, imported=50, received=50)]
    assert check(before, restarted, tolerance_percent=0, refreshed={"a"}).healthy
    early = [refreshing("a", "10.0.0.1", 1, imported=20, received=20)]
    report = check(before, early, tolerance_percent=0, refreshed={"a"})
    assert report.problems == (
        "AS1: session a with 10.0.0.1 has sent 20 of its 50 routes again since the change "
        "(route refresh not finished)",
        "AS1: 20 accepted routes, expected 50 (at least 50 with 0% tolerance)",
    )


def test_sessions_not_refreshed_or_down_before_are_not_waited_for() -> None:
    before = [
        refreshing("a", "10.0.0.1", 1, imported=10, received=10),
        session("b", "10.0.0.2", 2, up=False),
    ]
    after = [
        refreshing("a", "10.0.0.1", 1, imported=10, received=10),
        session("b", "10.0.0.2", 2, up=False),
    ]
    assert check(before, after, tolerance_percent=0, refreshed={"b"}).healthy


def test_the_role_passes_the_refreshed_sessions_to_the_check() -> None:
    tasks = (ROLE_DEFAULTS.parents[1] / "tasks" / "apply.yml").read_text(encoding="utf-8")
    # Every judgement of the readings (the loop, the verdict, the rescue) waits for them.
    assert tasks.count("bird_push_health_refreshed") == tasks.count("| bird_push_health(") == 3
    assert "bird_push_health_refreshed: []" in ROLE_DEFAULTS.read_text(encoding="utf-8")


@pytest.mark.parametrize(("confirm", "accepted"), [(300, True), (247, True), (246, False)])
def test_the_undo_timer_must_outlast_the_health_wait(confirm: int, accepted: bool) -> None:
    values = {
        "push_health_timeout_seconds": 240,
        "push_health_interval_seconds": 3,
        "push_confirm_timeout_seconds": confirm,
    }
    if accepted:
        assert Settings(**values).push_confirm_timeout_seconds == confirm
        return
    with pytest.raises(pydantic.ValidationError, match="must exceed push_health_timeout_seconds"):
        Settings(**values)
