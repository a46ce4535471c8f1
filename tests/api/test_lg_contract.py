"""The looking glass answers in birdwatcher's shapes, field by field, from a real BIRD.

A BIRD 2 runs in a network namespace of its own on a small configuration: a
static protocol ``AS64500_v4`` standing in for a member session (one route
accepted with every BGP attribute set, one filtered with a reject community,
``import keep filtered on`` like the route servers), and a passive BGP
session ``AS64501_v4`` that never comes up. Route server ``rs1-isb`` of the
test exchange points at its control socket; ``rs2-khi`` keeps the default
socket, where no BIRD runs.

The expected shapes are birdwatcher's (its ``bird`` parser and ``endpoints``
envelope) and what Alice-LG's birdwatcher source reads: ``as_path`` as strings,
``local_pref`` and ``med`` as BIRD's text, communities as lists of numbers,
extended communities as lists of three strings, protocols as a map, route
counts as numbers, and the time formats of ``ixp/data/alice/alice.conf``.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from api.app import create_app
from ixp.bird import BirdClient, ReplyLine
from ixp.exchange import get_route_server
from ixp.lab.bird import bird_in_namespace
from ixp.lg import VERSION, LookingGlass
from ixp.settings import Settings
from tests.api.conftest import World
from tests.lab.harness import skip_reason

pytestmark = pytest.mark.netns

RS = "rs1-isb"
SILENT_RS = "rs2-khi"
MEMBER = "AS64500_v4"
PEER = "AS64501_v4"
CONFIG = """\
router id 192.0.2.1;
ipv4 table master4 sorted;
ipv6 table master6 sorted;
protocol device {}
attribute int rs_rpki;
filter member_in {
  if net = 45.64.16.0/20 then { bgp_large_community.add((38195, 1101, 9)); reject; }
  rs_rpki = 1;
  accept;
}
protocol static AS64500_v4 {
  ipv4 { table master4; import keep filtered on; import filter member_in; };
  route 45.64.0.0/20 blackhole {
    bgp_origin = ORIGIN_IGP; bgp_path.prepend(64501); bgp_path.prepend(64500);
    bgp_next_hop = 185.1.50.11; bgp_local_pref = 100; bgp_med = 5;
    bgp_community.add((64500, 1)); bgp_ext_community.add((rt, 64500, 7));
    bgp_large_community.add((64500, 100, 7));
  };
  route 45.64.16.0/20 blackhole { bgp_path.prepend(64500); };
}
protocol bgp AS64501_v4 {
  description "AS64501 Example";
  local as 59900; neighbor 192.0.2.2 as 64501; passive on;
  ipv4 { table master4; import all; export none; };
}
"""
# Alice-LG's time layouts (Go) as strptime formats: servertime, and servertime_short/_ext.
CACHE_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"
SERVER_TIME = "%Y-%m-%d %H:%M:%S"


@pytest.fixture(scope="module")
def bird_socket(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The control socket of a BIRD running ``CONFIG`` in a namespace of its own."""
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    directory = tmp_path_factory.mktemp("lg-bird")
    with bird_in_namespace(CONFIG, directory, f"ixp-lg-{os.getpid()}") as daemon:
        yield str(daemon.socket)


class CountingClient(BirdClient):
    """A real control-socket client that writes down every command it sends BIRD."""

    sent: list[str]

    def command(self, command: str) -> list[ReplyLine]:
        self.sent.append(command)
        return super().command(command)


MakeClient = Callable[..., TestClient]


@pytest.fixture
def make_client(
    api_settings: Settings, world: World, session: Session, bird_socket: str
) -> Iterator[MakeClient]:
    """Clients of the app with ``rs1-isb`` on the test BIRD; ``public`` sets web_lg_public,
    ``sent`` (a list) collects the commands that reach BIRD."""
    get_route_server(session, RS).control_socket = bird_socket
    session.commit()
    clients: list[TestClient] = []

    def make(*, public: bool = True, sent: list[str] | None = None) -> TestClient:
        app = create_app(api_settings.model_copy(update={"web_lg_public": public}))
        if sent is not None:
            counting = type("Counting", (CountingClient,), {"sent": sent})
            app.state.looking_glass = LookingGlass(30.0, timeout=10.0, client=counting)
        client = TestClient(app, raise_server_exceptions=False)
        clients.append(client.__enter__())
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def lg(make_client: MakeClient) -> TestClient:
    """A client of the public looking glass."""
    return make_client()


def get(client: TestClient, path: str, **params: Any) -> dict[str, Any]:
    response = client.get(f"/lg/{RS}/{path}", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    return body


def parsed(value: str, layout: str) -> dt.datetime:
    return dt.datetime.strptime(value, layout)


def check_envelope(body: dict[str, Any]) -> None:
    """birdwatcher's ``api`` envelope, ``ttl`` and ``cached_at``, as Alice-LG parses them."""
    api = body["api"]
    assert set(api) == {"Version", "result_from_cache", "cache_status"}
    assert api["Version"] == VERSION
    assert isinstance(api["result_from_cache"], bool)
    cached_at = api["cache_status"]["cached_at"]
    assert set(cached_at) == {"date", "timezone_type", "timezone"}
    assert (cached_at["timezone_type"], cached_at["timezone"]) == ("UTC", "UTC")
    assert cached_at["date"] == body["cached_at"]
    assert parsed(body["ttl"], CACHE_TIME) - parsed(body["cached_at"], CACHE_TIME) == (
        dt.timedelta(seconds=30)
    )


def test_status(lg: TestClient) -> None:
    body = get(lg, "status")
    check_envelope(body)
    status = body["status"]
    assert set(status) == {
        "current_server", "last_reboot", "last_reconfig", "version", "message", "router_id",
    }  # fmt: skip
    for key in ("current_server", "last_reboot", "last_reconfig"):
        parsed(status[key], SERVER_TIME)
    assert status["version"].startswith("2.")
    assert (status["router_id"], status["message"]) == ("192.0.2.1", "Daemon is up and running")


def test_bgp_protocols_are_a_map_keyed_by_name(lg: TestClient) -> None:
    body = get(lg, "protocols/bgp")
    check_envelope(body)
    assert list(body["protocols"]) == [PEER]
    peer = body["protocols"][PEER]
    assert peer["protocol"] == PEER
    assert (peer["bird_protocol"], peer["table"], peer["state"]) == ("BGP", "---", "start")
    assert (peer["neighbor_address"], peer["neighbor_as"], peer["local_as"]) == (
        "192.0.2.2",
        64501,
        59900,
    )
    assert (peer["description"], peer["bgp_state"]) == ("AS64501 Example", peer["connection"])
    parsed(peer["state_changed"], SERVER_TIME)
    counts = {"imported": 0, "filtered": 0, "exported": 0, "preferred": 0}
    assert peer["routes"] == counts
    assert peer["channels"] == {"ipv4": {"state": "DOWN", "routes": counts, "routes_count": counts}}
    assert peer["route_changes"] == {}


def test_every_protocol_with_counts_as_numbers(lg: TestClient) -> None:
    protocols = get(lg, "protocols")["protocols"]
    assert {name: p["bird_protocol"] for name, p in protocols.items()} == {
        "device1": "Device",
        MEMBER: "Static",
        PEER: "BGP",
    }
    member = protocols[MEMBER]
    assert member["routes"] == {"imported": 1, "filtered": 1, "exported": 0, "preferred": 1}
    assert "neighbor_as" not in member
    changes = member["route_changes"]["import_updates"]
    assert all(isinstance(number, int) for number in changes.values())


def test_short_protocols_are_the_rows_of_show_protocols(lg: TestClient) -> None:
    protocols = get(lg, "protocols/short")["protocols"]
    assert set(protocols) == {"device1", MEMBER, PEER}
    for row in protocols.values():
        assert set(row) == {"proto", "table", "state", "since", "info"}
        parsed(row["since"], SERVER_TIME)
    assert (protocols[PEER]["proto"], protocols[PEER]["state"]) == ("BGP", "start")


def test_an_accepted_route_field_by_field(lg: TestClient) -> None:
    body = get(lg, f"routes/protocol/{MEMBER}")
    check_envelope(body)
    assert set(body) == {"api", "routes", "ttl", "cached_at"}
    (route,) = body["routes"]
    assert set(route) == {
        "network", "gateway", "interface", "from_protocol", "age", "learnt_from", "primary",
        "metric", "type", "bgp",
    }  # fmt: skip
    assert route["network"] == "45.64.0.0/20"
    assert (route["gateway"], route["interface"], route["learnt_from"]) == (
        "185.1.50.11",
        None,
        None,
    )
    assert (route["from_protocol"], route["primary"], route["metric"]) == (MEMBER, True, 200)
    assert route["type"] == ["static", "univ"]
    parsed(route["age"], SERVER_TIME)
    assert route["bgp"] == {
        "origin": "IGP",
        "as_path": ["64500", "64501"],
        "next_hop": "185.1.50.11",
        "local_pref": "100",
        "med": "5",
        "communities": [[64500, 1]],
        # BIRD's own, then the RPKI state of rs_rpki as rs1-isb's (AS38195) community.
        "large_communities": [[64500, 100, 7], [38195, 1000, 1]],
        "ext_communities": [["rt", "64500", "7"]],
    }


def test_a_filtered_route_carries_its_reject_reason(lg: TestClient) -> None:
    (route,) = get(lg, f"routes/filtered/{MEMBER}")["routes"]
    assert route["network"] == "45.64.16.0/20"
    assert route["bgp"]["large_communities"] == [[38195, 1101, 9]]
    assert route["bgp"]["as_path"] == ["64500"]
    assert (route["bgp"]["communities"], route["bgp"]["ext_communities"]) == ([], [])
    assert "local_pref" not in route["bgp"]


def test_tables_accepted_and_filtered(lg: TestClient) -> None:
    assert [r["network"] for r in get(lg, "routes/table/master4")["routes"]] == ["45.64.0.0/20"]
    filtered = get(lg, "routes/table/master4/filtered")["routes"]
    assert [r["network"] for r in filtered] == ["45.64.16.0/20"]
    assert get(lg, "routes/table/master6")["routes"] == []


def test_noexport_of_a_session_that_is_down_is_empty(lg: TestClient) -> None:
    assert get(lg, f"routes/noexport/{PEER}")["routes"] == []


@pytest.mark.parametrize("prefix", ["45.64.1.0/24", "45.64.0.0/20", "45.64.3.3"])
def test_a_prefix_lookup_finds_the_covering_route(lg: TestClient, prefix: str) -> None:
    assert [r["network"] for r in get(lg, "routes/prefix", prefix=prefix)["routes"]] == [
        "45.64.0.0/20"
    ]


def test_a_prefix_nothing_covers_has_no_routes(lg: TestClient) -> None:
    assert get(lg, "routes/prefix", prefix="2001:db8::/32")["routes"] == []
    assert get(lg, "routes/prefix", prefix="10.0.0.0/8")["routes"] == []


@pytest.mark.parametrize("prefix", ["45.64.1.1/20", "not a prefix", "300.1.1.0/24", ""])
def test_a_bad_prefix_is_a_problem_naming_prefix(lg: TestClient, prefix: str) -> None:
    response = lg.get(f"/lg/{RS}/routes/prefix", params={"prefix": prefix})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == ["prefix"]


@pytest.mark.parametrize(
    ("path", "status", "field"),
    [
        ("routes/protocol/nosuch", 404, "protocol"),
        ("routes/filtered/nosuch", 404, "protocol"),
        ("routes/table/nosuch", 404, "table"),
        ("routes/protocol/m1%20all", 422, "protocol"),
        ("routes/table/master4%3Bconfigure", 422, "table"),
    ],
)
def test_unknown_or_malformed_names_are_problems(
    lg: TestClient, path: str, status: int, field: str
) -> None:
    response = lg.get(f"/lg/{RS}/{path}")
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    if status == 422:
        assert [e["field"] for e in response.json()["errors"]] == [field]
    else:
        assert field in response.json()["detail"]


def test_an_unknown_route_server_is_404_and_an_unreachable_bird_503(lg: TestClient) -> None:
    missing = lg.get("/lg/nosuch/status")
    assert (missing.status_code, missing.headers["content-type"]) == (
        404,
        "application/problem+json",
    )
    silent = lg.get(f"/lg/{SILENT_RS}/protocols/bgp")
    assert (silent.status_code, silent.headers["content-type"]) == (
        503,
        "application/problem+json",
    )


def test_the_listing_names_each_route_server_and_its_api_but_not_its_socket(
    lg: TestClient,
) -> None:
    response = lg.get("/lg/")
    assert response.status_code == 200
    servers = response.json()["route_servers"]
    assert [(s["id"], s["api"]) for s in servers] == [
        (RS, f"/lg/{RS}/"),
        (SILENT_RS, f"/lg/{SILENT_RS}/"),
    ]
    assert "socket" not in response.text and "ctl" not in response.text


@pytest.mark.parametrize("path", ["", f"{RS}/status", f"{RS}/routes/protocol/{MEMBER}"])
def test_a_private_looking_glass_is_for_signed_in_users(
    make_client: MakeClient, world: World, path: str
) -> None:
    private = make_client(public=False)
    assert private.get(f"/lg/{path}").status_code == 401
    for role in ("member_a", "operator"):
        assert private.get(f"/lg/{path}", headers=world.callers[role]).status_code == 200
    assert make_client(public=True).get(f"/lg/{path}").status_code == 200


def test_routes_come_whole_unless_a_page_is_asked_for(lg: TestClient) -> None:
    whole = get(lg, "routes/table/master4")
    assert "pagination" not in whole
    first = get(lg, "routes/table/master4", limit=1)
    assert first["routes"] == whole["routes"]
    assert first["pagination"] == {"offset": 0, "limit": 1, "total": 1}
    beyond = get(lg, "routes/table/master4", offset=1, limit=10)
    assert (beyond["routes"], beyond["pagination"]["total"]) == ([], 1)
    assert lg.get(f"/lg/{RS}/routes/table/master4", params={"limit": 0}).status_code == 422


def test_bird_is_asked_once_per_query_within_the_ttl(make_client: MakeClient) -> None:
    sent: list[str] = []
    client = make_client(sent=sent)
    first = get(client, f"routes/protocol/{MEMBER}")
    second = get(client, f"routes/protocol/{MEMBER}")
    assert sent == [f"show route protocol {MEMBER} all"]
    assert (first["api"]["result_from_cache"], second["api"]["result_from_cache"]) == (False, True)
    assert first["cached_at"] == second["cached_at"] and first["routes"] == second["routes"]
    get(client, "protocols")
    get(client, "protocols/bgp")
    get(client, f"routes/protocol/{MEMBER}")
    assert sent == [f"show route protocol {MEMBER} all", "show protocols all"]
    for _ in range(2):
        assert client.get(f"/lg/{RS}/routes/protocol/nosuch").status_code == 404
    assert sent[2:] == ["show route protocol nosuch all"]


def test_every_time_is_utc_in_the_configured_formats(lg: TestClient) -> None:
    body = get(lg, f"routes/protocol/{MEMBER}")
    age = parsed(body["routes"][0]["age"], SERVER_TIME).replace(tzinfo=dt.UTC)
    cached_at = parsed(body["cached_at"], CACHE_TIME).replace(tzinfo=dt.UTC)
    assert dt.timedelta(0) <= cached_at - age < dt.timedelta(minutes=10)
