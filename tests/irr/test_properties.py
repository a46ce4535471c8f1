"""Property-based tests of the registry parsers: random, truncated and hostile input.

Whatever a registry dump or bgpq4 hands over, the only things that may come
out are data or the project's own errors; and whatever the line ends and read
boundaries, a dump of well-formed objects reads back exactly.
"""

from __future__ import annotations

import gzip
import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from ixp.errors import IxpError
from ixp.irr import bgpq4, rpsl
from ixp.irr.expand import expand_as_set
from ixp.irr.index import load_index
from ixp.irr.prefixes import aggregate, format_prefix, parse_prefix, split_too_short
from ixp.irr.rpsl import attributes, read_dump

ASNS = st.integers(min_value=0, max_value=2**32 - 1)
RPSL_TEXT = st.text(
    alphabet=st.sampled_from(list("route6:origin AS-SETmembers0123456789./:,#%+ \t\r\n\x00é²٣")),
    max_size=400,
)


@st.composite
def prefixes(draw: st.DrawFn, family: int | None = None) -> str:
    """A valid prefix in canonical form."""
    family = family or draw(st.sampled_from([4, 6]))
    bits = 32 if family == 4 else 128
    length = draw(st.integers(min_value=0, max_value=bits))
    value = draw(st.integers(min_value=0, max_value=2**bits - 1))
    value &= ~((1 << (bits - length)) - 1) & (2**bits - 1)
    return format_prefix(family, value, length)


def read_bytes(data: bytes, suffix: str = ".db") -> rpsl.DumpContents:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / f"dump{suffix}"
        path.write_bytes(data)
        return read_dump(path)


def check_contents(contents: rpsl.DumpContents) -> None:
    for family, table in ((4, contents.routes4), (6, contents.routes6)):
        for origin, listed in table.items():
            assert 0 <= origin < 2**32
            for prefix in listed:
                parsed = parse_prefix(prefix)
                assert parsed is not None and parsed[0] == family
                assert format_prefix(*parsed) == prefix
    assert all(0 <= asn < 2**32 for asn in contents.aut_nums)


@given(st.binary(max_size=2000))
def test_any_bytes_read_as_a_dump_give_only_valid_data(data: bytes) -> None:
    assume(not data.startswith(b"\x1f\x8b"))  # a gzip stream: see the test below
    check_contents(read_bytes(data))


@given(RPSL_TEXT)
def test_rpsl_like_text_gives_only_valid_data(text: str) -> None:
    check_contents(read_bytes(text.encode("utf-8")))
    assert isinstance(attributes(text), list)


@given(st.binary(max_size=600), st.integers(min_value=0, max_value=700), st.booleans())
def test_broken_gzip_is_one_source_error(data: bytes, cut: int, flip: bool) -> None:
    packed = bytearray(gzip.compress(data))
    if flip and len(packed) > 12:
        packed[len(packed) // 2] ^= 0xFF
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "dump.gz"
        path.write_bytes(bytes(packed[: max(cut, 2)]))
        try:
            index = load_index(path, Path(directory) / "index")
        except IxpError:
            return
        index.close()


ROUTE = st.tuples(st.sampled_from(["route", "ROUTE", "route6"]), ASNS)


@given(
    st.lists(st.tuples(prefixes(), ASNS), max_size=25),
    st.sampled_from(["\n", "\r\n"]),
    st.integers(min_value=1, max_value=64),
    st.sampled_from(["", "\n", "\n\n", "% comment\n\n", " \n\n"]),
    st.booleans(),
)
def test_wellformed_dump_reads_back_whatever_the_line_ends_and_chunks(
    routes: list[tuple[str, int]], newline: str, chunk: int, head: str, comments: bool
) -> None:
    objects = []
    for prefix, origin in routes:
        kind = "route6" if ":" in prefix else "route"
        comment = "  # remark" if comments else ""
        objects.append(f"{kind}: {prefix}{comment}\norigin: AS{origin}\nsource: TEST")
    text = head + "\n\n".join(objects) + "\n"
    original, rpsl.CHUNK_BYTES = rpsl.CHUNK_BYTES, chunk
    try:
        contents = read_bytes(text.replace("\n", newline).encode())
    finally:
        rpsl.CHUNK_BYTES = original
    expected: dict[int, dict[int, list[str]]] = {4: {}, 6: {}}
    for prefix, origin in routes:
        expected[6 if ":" in prefix else 4].setdefault(origin, []).append(prefix)
    assert (contents.routes4, contents.routes6) == (expected[4], expected[6])
    assert not contents.truncated and contents.skipped == 0


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=20,
)
PREFIX_ITEMS = st.fixed_dictionaries(
    {"prefix": st.one_of(prefixes(), st.text(max_size=20))},
    optional={
        "exact": JSON,
        "less-equal": st.integers(min_value=-5, max_value=140) | JSON,
        "greater-equal": st.integers(min_value=-5, max_value=140) | JSON,
    },
)


@given(st.one_of(JSON, st.fixed_dictionaries({"NN": st.lists(PREFIX_ITEMS | JSON, max_size=8)})))
@pytest.mark.parametrize("family", [4, 6])
def test_bgpq4_prefix_output_gives_entries_or_a_source_error(family: int, document: object) -> None:
    try:
        pairs = bgpq4.parse_prefix_list(json.dumps(document), family)
    except IxpError:
        return
    for prefix, max_length in pairs:
        parsed = parse_prefix(prefix)
        assert parsed is not None and parsed[0] == family
        assert parsed[2] <= max_length <= (32 if family == 4 else 128)


@given(st.one_of(JSON, st.text(max_size=200), st.fixed_dictionaries({"NN": st.lists(JSON)})))
def test_bgpq4_asn_output_gives_asns_or_a_source_error(document: object) -> None:
    text = document if isinstance(document, str) else json.dumps(document)
    try:
        asns = bgpq4.parse_asn_list(text)
    except IxpError:
        return
    assert all(isinstance(a, int) and 0 <= a < 2**32 for a in asns)


class Graph(dict[str, list[str]]):
    """AS-SET definitions as a lookup (what the dump index offers)."""

    def as_set(self, name: str) -> list[str] | None:
        return self.get(name)


SET_NAMES = st.sampled_from([f"AS-S{i}" for i in range(8)])


@given(
    st.dictionaries(SET_NAMES, st.lists(SET_NAMES | ASNS.map(lambda a: f"AS{a}"), max_size=6)),
    SET_NAMES,
    st.integers(min_value=1, max_value=6),
    st.integers(min_value=1, max_value=10),
)
def test_expansion_of_any_set_graph_ends(
    graph: dict[str, list[str]], top: str, depth: int, limit: int
) -> None:
    try:
        expansion = expand_as_set(top, Graph(graph), max_depth=depth, max_asns=limit)
    except IxpError:
        return
    assert expansion.found == (top in graph)
    assert len(expansion.asns) <= limit


@given(st.lists(st.tuples(prefixes(4), st.integers(min_value=0, max_value=32)), max_size=30))
def test_aggregation_keeps_every_route_accepted_and_accepts_nothing_new(
    entries: list[tuple[str, int]],
) -> None:
    entries = [(p, max(m, int(p.rpartition("/")[2]))) for p, m in entries]
    assume(entries)
    kept = aggregate(4, entries)
    assert {(e.prefix, e.max_length) for e in kept} <= set(entries)

    def allowed(prefix: str, max_length: int, by: list[tuple[str, int]]) -> bool:
        _, value, length = parse_prefix(prefix) or (4, 0, 0)
        for outer, outer_max in by:
            _, outer_value, outer_length = parse_prefix(outer) or (4, 0, 0)
            inside = outer_length <= length and value >> (32 - outer_length) == (
                outer_value >> (32 - outer_length)
            )
            if inside and max_length <= outer_max:
                return True
        return False

    as_pairs = [(e.prefix, e.max_length) for e in kept]
    assert all(allowed(p, m, as_pairs) for p, m in entries)


@given(st.lists(st.tuples(prefixes(), st.integers(min_value=0, max_value=128))), st.integers(0, 32))
def test_nothing_shorter_than_the_minimum_is_kept(
    entries: list[tuple[str, int]], minimum: int
) -> None:
    kept, dropped = split_too_short(entries, minimum)
    assert all(int(p.rpartition("/")[2]) >= minimum for p, _ in kept)
    assert len(kept) + sum(1 for p, _ in entries if p in dropped) == len(entries)


@given(st.text(max_size=60) | st.from_regex(r"[0-9a-f.:]{0,40}/[0-9]{0,6}", fullmatch=True))
def test_prefix_parser_takes_any_text(text: str) -> None:
    parsed = parse_prefix(text)
    if parsed is not None:
        assert parse_prefix(format_prefix(*parsed)) == parsed
