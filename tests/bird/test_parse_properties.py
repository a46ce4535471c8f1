"""Property tests of BIRD's reply parsers: only project errors escape, real replies read alike.

Inputs are random text, random coded lines, and real replies of BIRD 2.0.12
(captured off the control socket) with characters changed or cut off anywhere.
Invariants: a reply cut at a line boundary reads as the beginning of the whole
reply, and AS paths written as BIRD writes them read back to their ASNs
outside confederation segments, also when cut short with ``...``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable

from hypothesis import given
from hypothesis import strategies as st

from ixp.bird import (
    ReplyLine,
    parse_as_path,
    parse_bird_time,
    parse_protocols,
    parse_reply,
    parse_routes,
)
from ixp.errors import IxpError
from tests.bird.test_parse import CONFED_ROUTES
from tests.lab.test_parsing import PROTOCOLS, ROUTES

# BIRD 2.0.12's reply to ``show protocols all AS65003_v4_1`` on a confederation session.
PROTOCOL_DETAIL = """\
2002-Name       Proto      Table      State  Since         Info
1002-AS65003_v4_1 BGP        ---        up     21:04:44.812  Established   
1006-  Router ID:      192.0.2.3
   BGP state:          Established
     Neighbor address: 127.0.0.2
     Neighbor AS:      65002
     Local AS:         65003
     Neighbor ID:      192.0.2.2
     Local capabilities
       Multiprotocol
         AF announced: ipv4
       Route refresh
       4-octet AS numbers
     Session:          external multihop AS4
     Source address:   127.0.0.3
     Hold timer:       219.086/240
     Keepalive timer:  73.520/80
   Channel ipv4
     State:          UP
     Table:          master4
     Preference:     100
     Input filter:   (unnamed)
     Output filter:  REJECT
     Routes:         0 imported, 2 filtered, 0 exported, 0 preferred
     Route change stats:     received   rejected   filtered    ignored   accepted
       Import updates:              2          0          2          0          0
       Import withdraws:            0          0        ---          2          0
     BGP Next hop:   127.0.0.3
     IGP IPv4 table: master4
 
0000 
"""  # noqa: W291, W293 -- BIRD pads rows, sends " " lines and ends a reply with "0000 "
REAL_REPLIES = [PROTOCOLS + "0000 \n", ROUTES + "0000 \n", CONFED_ROUTES, PROTOCOL_DETAIL]
PARSERS: list[Callable[[list[ReplyLine]], list[object]]] = [parse_protocols, parse_routes]
CODES = [0, 1, 1002, 1006, 1007, 1008, 1012, 2002, 8001, 9001]


def parse_everything(raw: str) -> None:
    """Read ``raw`` as a reply with every parser; only project errors may leave."""
    with contextlib.suppress(IxpError):
        lines = [line for line, _ in parse_reply(raw.splitlines())]
        for parse in PARSERS:
            parse(lines)


@given(st.text(max_size=400))
def test_random_text_raises_nothing_but_project_errors(raw: str) -> None:
    parse_everything(raw)


@given(st.lists(st.builds(ReplyLine, st.sampled_from(CODES), st.text(max_size=120)), max_size=20))
def test_random_coded_lines_raise_nothing_but_project_errors(lines: list[ReplyLine]) -> None:
    for parse in PARSERS:
        with contextlib.suppress(IxpError):
            parse(lines)


@given(st.sampled_from(REAL_REPLIES), st.data())
def test_real_replies_with_characters_changed_raise_nothing_but_project_errors(
    raw: str, data: st.DataObject
) -> None:
    for _ in range(data.draw(st.integers(min_value=1, max_value=4))):
        start = data.draw(st.integers(min_value=0, max_value=len(raw)))
        end = data.draw(st.integers(min_value=start, max_value=min(len(raw), start + 8)))
        raw = raw[:start] + data.draw(st.text(max_size=8)) + raw[end:]
    parse_everything(raw)


@given(st.sampled_from(REAL_REPLIES), st.data())
def test_real_replies_cut_anywhere_raise_nothing_but_project_errors(
    raw: str, data: st.DataObject
) -> None:
    parse_everything(raw[: data.draw(st.integers(min_value=0, max_value=len(raw)))])


@given(st.sampled_from(REAL_REPLIES), st.data())
def test_a_reply_cut_at_a_line_boundary_reads_as_the_beginning_of_the_whole(
    raw: str, data: st.DataObject
) -> None:
    lines = [line for line, _ in parse_reply(raw.splitlines())]
    cut = data.draw(st.integers(min_value=0, max_value=len(lines)))
    for parse, key in ((parse_routes, "prefix"), (parse_protocols, "name")):
        whole = [getattr(item, key) for item in parse(lines)]
        beginning = [getattr(item, key) for item in parse(lines[:cut])]
        assert beginning == whole[: len(beginning)]


asns = st.integers(min_value=0, max_value=2**32 - 1)
# BIRD's four segment types, by how it brackets them.
segments = st.tuples(st.sampled_from(["", "{", "(", "({"]), st.lists(asns, min_size=1, max_size=5))
CLOSING = {"": "", "{": "}", "(": ")", "({": "})"}


def bird_text(path: list[tuple[str, list[int]]]) -> str:
    """An AS path as BIRD 2 prints it (nest/a-path.c, as_path_format)."""
    return " ".join(
        f"{opening}{' '.join(map(str, asns))}{CLOSING[opening]}" for opening, asns in path
    )


def regular(path: list[tuple[str, list[int]]]) -> tuple[int, ...]:
    return tuple(asn for opening, asns in path if opening in ("", "{") for asn in asns)


@given(st.lists(segments, max_size=6))
def test_as_paths_read_back_to_their_asns_outside_confederations(
    path: list[tuple[str, list[int]]],
) -> None:
    assert parse_as_path(bird_text(path)) == (regular(path), False)


@given(st.lists(segments, min_size=1, max_size=6), st.data())
def test_an_as_path_cut_short_reads_as_the_beginning_of_the_path(
    path: list[tuple[str, list[int]]], data: st.DataObject
) -> None:
    text = bird_text(path)
    cut = data.draw(st.integers(min_value=0, max_value=len(text)))
    shown, truncated = parse_as_path(text[:cut] + "...")
    assert truncated
    assert shown == regular(path)[: len(shown)]


@given(st.text(max_size=40))
def test_any_time_text_is_a_time_or_none(value: str) -> None:
    parsed = parse_bird_time(value, dt.date(2026, 11, 23))
    assert parsed is None or parsed.tzinfo is dt.UTC
