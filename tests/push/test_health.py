"""The health check after a swap, and BIRD's reply codes as ``birdc -v`` prints them."""

from __future__ import annotations

from pathlib import Path

import pytest

from ixp.bird import ChannelStatus, ProtocolStatus
from ixp.push.health import SECOND_READING, birdc_lines, check, check_birdc, final_reply

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


def test_one_reading_alone_is_never_healthy() -> None:
    report = check_birdc(BEFORE, BEFORE, delta=None, tolerance_percent=5)
    assert not report.healthy
    assert report.problems == ("one reading after the change, not two an interval apart",)


def test_the_role_prints_the_line_the_check_splits_on() -> None:
    defaults = ROLE_DEFAULTS.read_text(encoding="utf-8")
    assert f'bird_push_second_reading: "{SECOND_READING}"' in defaults
