"""The control-socket client against a real BIRD: protocols, routes, errors, a vanishing socket."""

from __future__ import annotations

import datetime as dt

import pytest

from ixp.bird import (
    BirdClient,
    BirdCommandError,
    BirdRoute,
    ReplyLine,
    parse_bird_time,
    parse_reply,
)
from ixp.errors import SourceUnavailable
from ixp.monitor.routes import reason_text, reject_codes
from ixp.rs.codes import RpkiTag
from tests.monitor.conftest import RS_ASN, Bird


def test_protocols_show_state_error_counts_and_limit(bird: Bird) -> None:
    with BirdClient(str(bird.socket)) as client:
        assert client.version == "2.0.12"
        protocols = {p.name: p for p in client.protocols()}
    static = protocols["members4"]
    assert (static.proto, static.state, static.is_up) == ("Static", "up", True)
    assert static.channels["ipv4"].imported == 2
    member = protocols["AS38003_v4_1"]
    assert member.proto == "BGP"
    assert member.description == "Charlie"
    assert member.neighbor_address == "127.0.0.9"
    assert member.neighbor_as == 38003
    assert member.local_as == RS_ASN
    assert member.is_up is False
    assert member.bgp_state != "Established"
    assert member.last_error  # BIRD says why it is not up
    channel = member.channels["ipv4"]
    assert (channel.import_limit, channel.limit_action, channel.imported) == (100, "restart", 0)
    since = member.since_at()
    assert since is not None and abs(since - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=5)


def test_routes_carry_paths_and_communities(bird: Bird) -> None:
    with BirdClient(str(bird.socket)) as client:
        routes = {r.prefix: r for r in client.routes()}
        only6 = client.routes("table master6")
    assert set(routes) == {"45.64.0.0/22", "37.60.0.0/22", "2a0b:4000::/32"}
    first = routes["45.64.0.0/22"]
    assert first.table == "master4"
    assert first.protocol == "members4"
    assert first.primary
    assert first.as_path == (38001, 38100)
    assert first.communities == ("38001:100",)
    assert first.large_communities == ("38001:100:7",)
    assert first.rpki is RpkiTag.VALID
    assert routes["37.60.0.0/22"].rpki is None
    assert routes["37.60.0.0/22"].as_path == (38002,)
    assert [r.prefix for r in only6] == ["2a0b:4000::/32"]


def test_bad_command_is_a_command_error_and_the_connection_stays_usable(bird: Bird) -> None:
    with BirdClient(str(bird.socket)) as client:
        with pytest.raises(BirdCommandError) as caught:
            client.command("show nonsense")
        assert caught.value.code == 9001
        assert client.routes("table master6")


def test_vanishing_socket_is_reported_and_the_client_recovers(bird: Bird) -> None:
    client = BirdClient(str(bird.socket), timeout=5)
    client.connect()
    assert client.protocols()
    bird.stop()
    with pytest.raises(SourceUnavailable, match="bird socket"):
        client.protocols()
    bird.start()
    assert {p.name for p in client.protocols()} >= {"members4", "AS38003_v4_1"}
    client.close()


def test_missing_socket_names_the_path(tmp_path: object) -> None:
    with pytest.raises(SourceUnavailable, match=r"nowhere\.ctl"):
        BirdClient("/nonexistent/nowhere.ctl").connect()


def test_reply_parsing_continuations_and_terminators() -> None:
    raw = ["1002-a", " continued", "1006-", "0000 "]
    lines = list(parse_reply(raw))
    assert lines[1] == (ReplyLine(1002, "continued"), False)
    assert lines[-1] == (ReplyLine(0, ""), True)


def test_bird_time_formats() -> None:
    today = dt.date(2026, 11, 23)
    assert parse_bird_time("18:22:10.975", today) == dt.datetime(
        2026, 11, 23, 18, 22, 10, 975000, tzinfo=dt.UTC
    )
    assert parse_bird_time("2026-11-20", today) == dt.datetime(2026, 11, 20, tzinfo=dt.UTC)
    assert parse_bird_time("2026-11-20 01:02:03", today) == dt.datetime(
        2026, 11, 20, 1, 2, 3, tzinfo=dt.UTC
    )
    assert parse_bird_time("garbage", today) is None


def test_reject_codes_decode_with_the_route_server_code_table() -> None:
    route = BirdRoute(
        "master4",
        "45.64.0.0/22",
        "AS38001_v4_1",
        False,
        large_communities=(f"{RS_ASN}:1101:13", f"{RS_ASN}:1101:3", f"{RS_ASN}:1000:2", "1:1101:9"),
    )
    assert reject_codes(route, RS_ASN) == [3, 13]
    assert reason_text(13) == ("rpki-invalid", "RPKI route-origin validation: invalid")
    assert reason_text(250)[0] == "code-250"
