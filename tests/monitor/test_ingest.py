"""ExaBGP's JSON stream into the RIB, on lines captured from ExaBGP 5.0.15 peering with BIRD."""

from __future__ import annotations

import json
import logging

import pytest

from ixp.errors import IxpError
from ixp.exabgp.decode import (
    Attributes,
    Decoder,
    EndOfRib,
    MalformedMessage,
    RouteUpdate,
    StateChange,
)
from ixp.monitor.ingest import Ingest
from tests.monitor.conftest import DATA

SESSION = (DATA / "exabgp-5.0.15-session.jsonl").read_text().splitlines()
MALFORMED = (DATA / "exabgp-malformed.jsonl").read_text().splitlines()


def test_messages_are_typed() -> None:
    decoder = Decoder()
    messages = [decoder.decode(line) for line in SESSION]
    withdraw = messages[0]
    assert isinstance(withdraw, RouteUpdate)
    assert withdraw.attributes is None
    assert withdraw.withdrawn == [("192.0.2.0/24", 2), ("203.0.113.0/24", 2)]
    announce = messages[1]
    assert isinstance(announce, RouteUpdate)
    assert announce.announced == [(("203.0.113.0/24", 2), "198.51.100.1")]
    assert announce.attributes is not None
    assert announce.attributes.as_path == (64500, 64501)
    assert announce.attributes.communities == ((65000, 1),)
    assert announce.attributes.large_communities == ((65000, 1101, 9),)
    down = messages[3]
    assert isinstance(down, StateChange)
    assert (down.peer, down.peer_as, down.state) == ("198.51.100.1", 65000, "down")
    assert down.reason == "notification received (6,2)"
    assert any(isinstance(m, EndOfRib) and m.family == "ipv4 unicast" for m in messages)


def test_ipv6_with_link_local_next_hop_is_one_route_with_the_global_next_hop() -> None:
    message = Decoder().decode(SESSION[-1])
    assert isinstance(message, RouteUpdate)
    assert message.announced == [(("2001:db8:100::/48", 3), "2001:db8:1::1")]


def test_fast_path_agrees_with_full_parse() -> None:
    fast, full = Decoder(), Decoder()
    for line in SESSION:
        # Written again by json.dumps, the layout differs and the line takes the full parse.
        assert fast.decode(line) == full.decode(json.dumps(json.loads(line)))


def test_equal_attribute_sets_are_interned() -> None:
    decoder = Decoder()
    first, second = decoder.decode(SESSION[1]), decoder.decode(SESSION[11])
    assert isinstance(first, RouteUpdate) and isinstance(second, RouteUpdate)
    assert first.attributes is second.attributes


@pytest.mark.parametrize("line", MALFORMED, ids=[f"line{n + 1}" for n in range(len(MALFORMED))])
def test_malformed_lines_raise_with_the_line(line: str) -> None:
    with pytest.raises(MalformedMessage) as caught:
        Decoder().decode(line)
    assert isinstance(caught.value, IxpError)
    assert caught.value.line == line
    assert len(str(caught.value)) < 400  # the line is quoted, cut to its first 200 characters


def test_ingest_skips_and_logs_malformed_lines_and_keeps_going(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ingest = Ingest("rs1")
    lines = SESSION[:3] + MALFORMED + SESSION[3:]
    with caplog.at_level(logging.WARNING):
        for line in lines:
            ingest.feed(line)
    assert ingest.malformed == len(MALFORMED)
    assert ingest.lines == len(lines)
    assert ingest.apply_errors == 0
    assert "not json at all" in caplog.text
    assert len(caplog.records) == len(MALFORMED)
    assert max(len(record.getMessage()) for record in caplog.records) < 400
    assert {route.prefix for route in ingest.rib.routes()} == {
        "192.0.2.0/24",
        "203.0.113.0/24",
        "2001:db8:100::/48",
    }


def test_bytes_that_are_not_utf8_are_replaced_and_then_refused() -> None:
    good = SESSION[1].encode()
    assert Decoder().decode(good) == Decoder().decode(SESSION[1])
    broken = good.replace(b"203.0.113.0/24", b"203.0.113.0/2\xff")
    with pytest.raises(MalformedMessage, match="nlri") as caught:
        Decoder().decode(broken)
    assert "\ufffd" in caught.value.line


def test_a_message_the_rib_cannot_take_is_counted_and_the_rib_keeps_working(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ingest = Ingest("rs1")
    ingest.feed(SESSION[1])
    attributes = Attributes("igp", (64500,), (), (), None, None)
    unhashable = RouteUpdate(["198.51.100.1"], 1.0, attributes, [(("192.0.2.0/24", 0), "x")], [])  # type: ignore[arg-type]
    with caplog.at_level(logging.ERROR):
        assert ingest.apply(unhashable, "the line it came from") is False
    assert ingest.apply_errors == 1
    assert "the line it came from" in caplog.text
    ingest.feed(SESSION[2])
    assert {route.prefix for route in ingest.rib.routes()} == {"192.0.2.0/24", "203.0.113.0/24"}


def test_rib_follows_the_session() -> None:
    ingest = Ingest("rs1")
    for line in SESSION[:3]:
        ingest.feed(line)
    assert len(ingest.rib) == 2
    first_seen = {r.prefix: r.first_seen for r in ingest.rib.routes()}
    ingest.feed(SESSION[3])  # session down: BGP withdraws everything
    assert len(ingest.rib) == 0
    assert not ingest.rib.up
    for line in SESSION[4:]:
        ingest.feed(line)
    assert ingest.rib.up
    routes = {r.prefix: r for r in ingest.rib.routes()}
    assert set(routes) == {"192.0.2.0/24", "203.0.113.0/24", "2001:db8:100::/48"}
    assert routes["203.0.113.0/24"].first_seen > first_seen["203.0.113.0/24"]
    assert routes["203.0.113.0/24"].peer_asn == 64500
    assert routes["203.0.113.0/24"].origin_asn == 64501
    assert [r.prefix for r in ingest.rib.routes_of(64502)] == ["192.0.2.0/24"]
    assert ingest.rib.count_by_member() == {64500: 1, 64502: 1}


def test_changed_attributes_update_last_change_only() -> None:
    ingest = Ingest("rs1")
    ingest.feed(SESSION[2])
    changed = (
        SESSION[2]
        .replace('"value": [64502]', '"value": [64502, 64510]')
        .replace('"time": 1795458216.6624792', '"time": 1795458300.0')
    )
    ingest.feed(changed)
    ingest.feed(changed)  # the same again changes nothing
    route = next(ingest.rib.routes())
    assert route.attributes.as_path == (64502, 64510)
    assert route.last_change == 1795458300.0
    assert route.first_seen == 1795458216.6624792
