"""Reading a route answer is linear in its size: counted in calls, not timed.

A looking glass reads answers of 40,000 routes and more, so a step that looks
at earlier routes again, or re-joins what it already has, turns seconds into
minutes. Timing that in a test is noisy; counting is not. The tracer counts
every Python bytecode instruction executed and every call of a C function or
method while N, 2N and 4N generated routes are read from bytes to
``BirdRoute``: with work ``a + b·N`` the difference from 2N to 4N is exactly
twice the one from N to 2N, and any term growing faster than N breaks that
equality. It cannot see the cost inside one C call (a copy, a regular
expression), which ``bench/bird_read.py`` measures on a real BIRD.

Every route has values of its own (run after run), so the parsers' kept
readings never turn a miss of one run into a hit of the next.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable, Iterator
from types import FrameType

from hypothesis import given
from hypothesis import strategies as st

from ixp.bird import BirdRoute, parse_reply, parse_routes
from ixp.bird.control import split_lines

_FIRST_ASN = 4_200_000_000
_numbers = itertools.count()


def route_lines(index: int) -> bytes:
    """One route of ``show route protocol AS64500_v4_1 all`` as BIRD 2.0.12 sends it."""
    asn = _FIRST_ASN + index
    prefix = f"{11 + index // 65536}.{index // 256 % 256}.{index % 256}.0/24"
    return (
        f"1007-{prefix:<20} unicast [AS64500_v4_1 00:59:28.796] * (100) [AS{asn}i]\n"
        " \tvia 185.1.195.232 on lan0\n"
        "1008-\tType: BGP univ\n"
        "1012-\tBGP.origin: IGP\n"
        f" \tBGP.as_path: 64500 {asn}\n"
        " \tBGP.next_hop: 185.1.195.232\n"
        " \tBGP.local_pref: 100\n"
        f" \tBGP.community: (64500,{index % 65536}) (65000,{index // 65536})\n"
        f" \tBGP.large_community: ({asn}, 100, 4) (61000, 1000, {index})\n"
    ).encode()


def answer(routes: int) -> Iterator[bytes]:
    """A whole answer of ``routes`` new routes, one chunk per route as the socket may cut it."""
    yield b"1007-Table master4:\n"
    for _ in range(routes):
        yield route_lines(next(_numbers))
    yield b"0000 \n"


def read(chunks: Iterator[bytes]) -> list[BirdRoute]:
    """Bytes off the socket to routes: what ``BirdClient.routes`` does after receiving."""
    return parse_routes(line for line, _ in parse_reply(split_lines(chunks)))


def work_to_read(routes: int) -> tuple[int, list[BirdRoute]]:
    """Bytecode instructions and C calls reading an answer of ``routes`` routes takes, and
    the routes read."""
    chunks = list(answer(routes))
    count = 0

    def c_calls(_frame: FrameType, event: str, _arg: object) -> None:
        nonlocal count
        if event == "c_call":
            count += 1

    def instructions(frame: FrameType, event: str, _arg: object) -> Callable[..., object]:
        nonlocal count
        if event == "call":
            frame.f_trace_opcodes = True
        elif event == "opcode":
            count += 1
        return instructions

    sys.setprofile(c_calls)
    sys.settrace(instructions)
    try:
        read_routes = read(iter(chunks))
    finally:
        sys.settrace(None)
        sys.setprofile(None)
    return count, read_routes


def test_reading_routes_takes_work_linear_in_their_number() -> None:
    n = 200
    counts = []
    for size in (n, 2 * n, 4 * n):
        count, routes = work_to_read(size)
        assert len(routes) == size
        assert routes[-1].communities and routes[-1].large_communities
        counts.append(count)
    small, double, quadruple = counts
    # Not exactly equal: the parser's per-text caches are process-wide, so what earlier
    # tests left in them shifts the counts by a few hundred of a million. Work that grows
    # faster than linearly is off by a factor, not by a fraction of a percent.
    growth, expected = quadruple - double, 2 * (double - small)
    assert abs(growth - expected) <= 0.01 * expected, counts


@given(st.binary(max_size=300), st.lists(st.integers(min_value=0, max_value=300)))
def test_lines_read_alike_however_the_stream_is_cut(data: bytes, cuts: list[int]) -> None:
    bounds = sorted({0, len(data), *(c for c in cuts if c <= len(data))})
    chunks = [data[start:end] for start, end in itertools.pairwise(bounds)]
    expected = [line.decode("utf-8", "replace") for line in data.split(b"\n")[:-1]]
    assert list(split_lines(chunks)) == expected
