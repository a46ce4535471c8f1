"""BIRD's replies the parser must read or refuse with one project error, never a crash.

``CONFED_ROUTES`` is BIRD 2.0.12's reply, as it came off the control socket, to
``show route all filtered protocol AS65003_v4_1`` on a session with a
confederation member: BIRD writes the confederation segment in parentheses and
cuts a path longer than its 500-character buffer with ``...``.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ixp.bird import (
    ReplyLine,
    UnreadableOutput,
    parse_as_path,
    parse_protocols,
    parse_reply,
    parse_routes,
)
from ixp.errors import SourceUnavailable
from ixp.rs.codes import RPKI_ATTRIBUTE, RpkiTag

LONG_PATH = "64504 64503 64502 64501 64500 " * 16 + "64504 64503 64502..."
CONFED_ROUTES = f"""\
1007-Table master4:
 45.64.0.0/22         unreachable [AS65003_v4_1 21:04:45.634 from 127.0.0.2] * (100) [AS64500i]
1008-\tType: BGP univ
1012-\tBGP.origin: IGP
 \tBGP.as_path: (65002) 64500
 \tBGP.next_hop: 127.0.0.2
 \tBGP.local_pref: 100
 \tBGP.community: (1,2)
1007-45.65.0.0/22         unreachable [AS65003_v4_1 21:04:45.634 from 127.0.0.2] * (100) [AS64500i]
1008-\tType: BGP univ
1012-\tBGP.origin: IGP
 \tBGP.as_path: (65002) {LONG_PATH}
 \tBGP.next_hop: 127.0.0.2
 \tBGP.local_pref: 100
0000 
"""  # noqa: W291 -- BIRD ends a reply with "0000 "

PROTOCOL = """\
2002-Name       Proto      Table      State  Since         Info
1002-AS65003_v4_1 BGP        ---        up     21:04:44.812  Established
1006-  BGP state:          Established
     Neighbor address: 127.0.0.2
     Neighbor AS:      {neighbor_as}
     Local AS:         65003
   Channel ipv4
     State:          UP
     Import limit:   {limit}
     Routes:         0 imported, 2 filtered, 0 exported, 0 preferred
0000 
"""  # noqa: W291


def lines(raw: str) -> list[ReplyLine]:
    return [line for line, _ in parse_reply(raw.splitlines())]


def route(attribute: str) -> list[ReplyLine]:
    """A one-route reply whose only attribute line is ``attribute``."""
    return lines(
        "1007-45.64.0.0/22   unicast [AS38001_v4_1 18:31:49.412] * (100) [AS38001i]\n"
        f"1012-\t{attribute}\n0000 \n"
    )


def test_confederation_segments_are_left_out_and_a_cut_path_is_marked() -> None:
    short, long = parse_routes(lines(CONFED_ROUTES))
    assert (short.prefix, short.as_path, short.as_path_truncated) == (
        "45.64.0.0/22",
        (64500,),
        False,
    )
    assert short.communities == ("1:2",)
    assert long.as_path_truncated
    assert long.as_path == (64504, 64503, 64502, 64501, 64500) * 16 + (64504, 64503)
    assert long.local_pref == 100


@pytest.mark.parametrize(
    ("text", "path", "cut"),
    [
        ("38001 38002", (38001, 38002), False),
        ("(65000 65001) 65002", (65002,), False),
        ("65002 ({65000 65001})", (65002,), False),
        ("38001 {64500 64501}", (38001, 64500, 64501), False),
        ("(65000) 38001 (65001) 38002", (38001, 38002), False),
        ("", (), False),
        ("38001 3800...", (38001,), True),
        ("38001 ...", (38001,), True),
        ("38001 {64500 645...", (38001, 64500), True),
        ("(65000 650...", (), True),
    ],
)
def test_as_paths_in_birds_notation(text: str, path: tuple[int, ...], cut: bool) -> None:
    assert parse_as_path(text) == (path, cut)


@pytest.mark.parametrize(
    "text",
    ["38001 abc", "(65000 (65001)) 1", "{1 2", "1 }", "(1 2", "4294967296", "1 -2", "١٢"],
)
def test_as_paths_bird_cannot_have_written_are_refused(text: str) -> None:
    with pytest.raises(UnreadableOutput, match=r"BGP\.as_path"):
        parse_as_path(text)


@pytest.mark.parametrize(
    "attribute",
    [
        "BGP.as_path: (65000 65001 65002",
        "BGP.local_pref: high",
        "BGP.med: -1",
        "BGP.next_hop:",
        "BGP.community: (1,x)",
        "BGP.large_community: (1, 2, 3, 4)",
        "BGP.community: (65536,1,)",
        "rs_rpki: 3",
        "rs_rpki: valid",
    ],
)
def test_attribute_values_bird_cannot_have_written_are_one_project_error(attribute: str) -> None:
    key = attribute.partition(":")[0]
    with pytest.raises(UnreadableOutput, match=key.replace(".", r"\.")) as caught:
        parse_routes(route(attribute))
    assert isinstance(caught.value, SourceUnavailable)


@pytest.mark.parametrize("tag", list(RpkiTag))
def test_the_route_servers_rpki_state_is_read_from_its_attribute(tag: RpkiTag) -> None:
    (read,) = parse_routes(route(f"{RPKI_ATTRIBUTE}: {tag.value}"))
    assert read.rpki is tag
    (plain,) = parse_routes(route("BGP.origin: IGP"))
    assert plain.rpki is None


@pytest.mark.parametrize(
    ("neighbor_as", "limit", "field"),
    [
        ("AS65002", "100", "Neighbor AS"),
        ("65002", "", "Import limit"),
        ("65002", "lots", "Import limit"),
    ],
)
def test_protocol_values_bird_cannot_have_written_are_one_project_error(
    neighbor_as: str, limit: str, field: str
) -> None:
    reply = lines(PROTOCOL.format(neighbor_as=neighbor_as, limit=limit))
    with pytest.raises(UnreadableOutput, match=field):
        parse_protocols(reply)


def test_a_well_formed_protocol_still_reads() -> None:
    (protocol,) = parse_protocols(lines(PROTOCOL.format(neighbor_as="65002", limit="100")))
    assert (protocol.neighbor_as, protocol.local_as) == (65002, 65003)
    assert (protocol.channels["ipv4"].import_limit, protocol.filtered) == (100, 2)


@pytest.mark.parametrize(
    ("raw", "parse"),
    [
        ("1007-45.64.0.0/22   unicast [AS38001_v4_1 18:31", parse_routes),  # cut off mid-row
        ("1002-AS65003_v4_1", parse_protocols),  # a protocol row cut after its name
        ("garbage without a code", parse_routes),
    ],
)
def test_truncated_or_garbled_replies_are_unreadable_output(
    raw: str, parse: Callable[[list[ReplyLine]], object]
) -> None:
    with pytest.raises(UnreadableOutput):
        parse(lines(raw))
