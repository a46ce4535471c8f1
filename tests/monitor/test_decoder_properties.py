"""Property tests of the ExaBGP decoder: hostile lines are refused, valid ones read exactly.

Whatever a line holds, ``decode`` returns a message or raises ``MalformedMessage``
and nothing else; a message it returns is well-typed all the way down and the
RIB takes it. Lines are random JSON, random bytes, captured messages with one
part anywhere replaced or left out, captured lines with one value replaced in
place (keeping ExaBGP's layout, so the fast path is exercised), cut short, or
glued to the next line; valid updates are generated and must decode
to exactly what was generated, on the fast path and on the full parse alike.
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from ixp.exabgp.decode import (
    Attributes,
    Decoder,
    EndOfRib,
    MalformedMessage,
    Message,
    RouteUpdate,
    StateChange,
)
from ixp.monitor.rib import RouteServerRib
from tests.monitor.conftest import DATA

SESSION = (DATA / "exabgp-5.0.15-session.jsonl").read_text().splitlines()
U32 = 2**32 - 1
# JSON strings, numbers and literals: the values (and keys) a mutation replaces.
SCALAR = re.compile(r'"(?:[^"\\]|\\.)*"|-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?|true|false|null')
# An UPDATE as ExaBGP 5.0.15 lays it out (the captured session's header).
UPDATE = (
    '{{ "exabgp": "5.0.0", "time": {time}, "host" : "vm", "pid" : 5997, "ppid" : 1, '
    '"counter": 9, "type": "update", "neighbor": {{ "address": {{ "local": "198.51.100.2", '
    '"peer": "{peer}" }}, "asn": {{ "local": 65010, "peer": 65000 }}, '
    '"router-id": "198.51.100.2" , "direction": "receive", "message": {{ "update": {{ '
    '"attribute": {attribute}, "announce": {{ "ipv4 unicast": {{ "{hop}": {nlris} }} }} }} }} }} }}'
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=25,
)


def outcome(line: str | bytes) -> Message | str | None:
    """The message, or the word "malformed"; any other exception fails the test."""
    try:
        message = Decoder().decode(line)
    except MalformedMessage:
        return "malformed"
    assert_well_typed(message)
    return message


def assert_well_typed(message: Message | None) -> None:
    """What the RIB and everything after it rely on; then the RIB must take the message."""
    if message is None:
        return
    ipaddress.ip_address(message.peer)
    assert type(message.time) is float and math.isfinite(message.time)
    if isinstance(message, StateChange):
        assert type(message.peer_as) is int and 0 <= message.peer_as <= U32
        assert type(message.state) is str
        assert message.reason is None or type(message.reason) is str
    elif isinstance(message, EndOfRib):
        assert type(message.family) is str
    else:
        for (prefix, path_id), next_hop in message.announced:
            ipaddress.ip_network(prefix, strict=False)
            ipaddress.ip_address(next_hop)
            assert type(path_id) is int and 0 <= path_id <= U32
        for prefix, path_id in message.withdrawn:
            ipaddress.ip_network(prefix, strict=False)
            assert type(path_id) is int and 0 <= path_id <= U32
        if message.attributes is not None:
            assert_attributes(message.attributes)
    RouteServerRib("rs1").apply(message)


def assert_attributes(attributes: Attributes) -> None:
    assert attributes.origin in ("igp", "egp", "incomplete")
    assert all(type(asn) is int and 0 <= asn <= U32 for asn in attributes.as_path)
    for community in attributes.communities:
        assert len(community) == 2 and all(0 <= part <= 0xFFFF for part in community)
    for community in attributes.large_communities:
        assert len(community) == 3 and all(0 <= part <= U32 for part in community)
    for value in (attributes.med, attributes.local_pref):
        assert value is None or (type(value) is int and 0 <= value <= U32)


@given(json_values)
def test_any_json_value_is_a_message_or_refused(value: Any) -> None:
    outcome(json.dumps(value))


@given(st.binary(max_size=300) | st.text(max_size=300))
def test_random_bytes_and_text_are_a_message_or_refused(line: bytes | str) -> None:
    outcome(line)


@given(st.data())
def test_a_captured_line_with_one_value_replaced_reads_the_same_on_both_paths(
    data: st.DataObject,
) -> None:
    line = data.draw(st.sampled_from(SESSION))
    tokens = list(SCALAR.finditer(line))
    token = data.draw(st.sampled_from(tokens))
    replacement = json.dumps(data.draw(json_values))
    mutated = line[: token.start()] + replacement + line[token.end() :]
    result = outcome(mutated)
    try:
        parsed = json.loads(mutated)
    except (ValueError, RecursionError):
        assert result == "malformed"  # the fast path never accepts what is not JSON
        return
    # Written again by json.dumps, the layout differs and only the full parse can read it.
    assert outcome(json.dumps(parsed)) == result


def replace_somewhere(value: Any, data: st.DataObject) -> Any:
    """``value`` with one node, anywhere in the tree, replaced by random JSON or left out."""
    if not isinstance(value, dict | list) or not value or data.draw(st.booleans()):
        return data.draw(json_values)
    copy = value.copy()
    key = data.draw(st.sampled_from(list(copy) if isinstance(copy, dict) else range(len(copy))))
    if isinstance(copy, dict) and data.draw(st.booleans()):
        del copy[key]
    else:
        copy[key] = replace_somewhere(copy[key], data)
    return copy


@given(st.sampled_from(SESSION), st.data())
def test_a_captured_message_with_one_part_replaced_or_left_out_is_a_message_or_refused(
    line: str, data: st.DataObject
) -> None:
    outcome(json.dumps(replace_somewhere(json.loads(line), data)))


@given(st.sampled_from(SESSION), st.data())
def test_a_line_cut_short_is_refused(line: str, data: st.DataObject) -> None:
    cut = data.draw(st.integers(min_value=0, max_value=len(line) - 1))
    assert outcome(line[:cut]) == "malformed"


@given(st.sampled_from(SESSION), st.sampled_from(SESSION), st.data())
def test_a_line_cut_short_and_glued_to_the_next_is_refused(
    first: str, second: str, data: st.DataObject
) -> None:
    cut = data.draw(st.integers(min_value=1, max_value=len(first) - 1))
    assert outcome(first[:cut] + second) == "malformed"


ipv4_prefixes = st.builds(
    lambda address, length: str(ipaddress.IPv4Network((address, length), strict=False)),
    st.integers(min_value=0, max_value=U32),
    st.integers(min_value=0, max_value=32),
)
asns = st.integers(min_value=0, max_value=U32)
attribute_sets = st.builds(
    Attributes,
    origin=st.sampled_from(["igp", "egp", "incomplete"]),
    as_path=st.lists(asns, max_size=6).map(tuple),
    communities=st.lists(st.tuples(*[st.integers(0, 0xFFFF)] * 2), max_size=3).map(tuple),
    large_communities=st.lists(st.tuples(asns, asns, asns), max_size=3).map(tuple),
    med=st.none() | asns,
    local_pref=st.none() | asns,
)


def attribute_json(attributes: Attributes) -> str:
    """The attribute object as ExaBGP writes it (only the attributes that are present)."""
    raw: dict[str, object] = {"origin": attributes.origin}
    if attributes.as_path:
        raw["as-path"] = {"0": {"element": "as-sequence", "value": list(attributes.as_path)}}
    if attributes.communities:
        raw["community"] = [list(c) for c in attributes.communities]
    if attributes.large_communities:
        raw["large-community"] = [list(c) for c in attributes.large_communities]
    if attributes.med is not None:
        raw["med"] = attributes.med
    if attributes.local_pref is not None:
        raw["local-preference"] = attributes.local_pref
    return json.dumps(raw)


@given(
    time=st.floats(allow_nan=False, allow_infinity=False),
    peer=st.ip_addresses().map(str),
    hop=st.ip_addresses(v=4).map(str),
    attributes=attribute_sets,
    routes=st.lists(st.tuples(ipv4_prefixes, st.integers(0, U32)), min_size=1, max_size=5),
)
def test_a_valid_update_decodes_to_exactly_what_it_says_on_both_paths(
    time: float, peer: str, hop: str, attributes: Attributes, routes: list[tuple[str, int]]
) -> None:
    nlris = [
        {"nlri": prefix, "path-information": str(ipaddress.IPv4Address(path_id))}
        for prefix, path_id in routes
    ]
    line = UPDATE.format(
        time=json.dumps(time),
        peer=peer,
        hop=hop,
        attribute=attribute_json(attributes),
        nlris=json.dumps(nlris),
    )
    expected = RouteUpdate(peer, time, attributes, [(route, hop) for route in routes], [])
    assert outcome(line) == expected
    assert outcome(json.dumps(json.loads(line))) == expected
