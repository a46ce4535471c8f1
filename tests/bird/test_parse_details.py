"""What the looking glass needs from BIRD beyond the monitor: ``show status`` and every
detail of a route row (when, from where, over which interface, its type and raw attributes).

``STATUS`` is BIRD 2.0.12's reply to ``show status``; the routes are the lab's
captured reply (``tests.lab.test_parsing.ROUTES``) and the confederation one.
"""

from __future__ import annotations

import datetime as dt

from ixp.bird import parse_protocols, parse_reply, parse_routes, parse_status
from tests.bird.test_parse import CONFED_ROUTES, lines
from tests.bird.test_parse_properties import PROTOCOL_DETAIL
from tests.lab.test_parsing import ROUTES, reply

STATUS = """\
1000-BIRD 2.0.12
1011-Router ID is 192.0.2.1
 Hostname is vm
 Current server time is 2026-11-30 23:49:20.013
 Last reboot on 2026-11-30 23:49:18.767
 Last reconfiguration on 2026-11-30 23:49:18.767
0013 Daemon is up and running
"""


def test_status_reads_version_router_id_times_and_the_closing_message() -> None:
    status = parse_status(lines(STATUS))
    assert (status.version, status.router_id) == ("2.0.12", "192.0.2.1")
    assert status.server_time == "2026-11-30 23:49:20.013"
    assert status.last_reboot == status.last_reconfig == "2026-11-30 23:49:18.767"
    assert status.message == "Daemon is up and running"
    assert status.last_reboot_at() == dt.datetime(2026, 11, 30, 23, 49, 18, 767000, tzinfo=dt.UTC)


def test_a_status_without_details_leaves_them_empty() -> None:
    status = parse_status([line for line, _ in parse_reply(["0013 Daemon is up and running"])])
    assert (status.version, status.router_id, status.server_time) == ("", "", "")
    assert status.message == "Daemon is up and running"


def test_route_rows_keep_time_source_preference_gateway_and_type() -> None:
    best, other, v6 = parse_routes(reply(ROUTES))
    assert (best.since, best.kind, best.preference) == ("18:31:49.412", "unicast", 100)
    assert (best.gateway, best.interface) == ("185.1.50.12", "lan0")
    assert best.route_type == ("BGP", "univ")
    assert (other.prefix, other.primary, other.gateway) == ("103.100.1.0/24", False, "185.1.50.11")
    assert other.route_type == ()
    assert (v6.gateway, v6.interface, v6.source) == (None, None, None)


def test_raw_attributes_keep_birds_text() -> None:
    best, _, v6 = parse_routes(reply(ROUTES))
    assert best.attributes == {
        "as_path": "38002 38002",
        "next_hop": "185.1.50.12",
        "local_pref": "100",
        "large_community": "(59900, 1000, 2)",
    }
    assert v6.attributes["next_hop"] == "2001:7f8:a0::11 fe80::1"
    confed, _ = parse_routes(lines(CONFED_ROUTES))
    assert (confed.source, confed.attributes["origin"]) == ("127.0.0.2", "IGP")


def test_extended_communities_are_kept_as_birds_three_parts() -> None:
    (route,) = parse_routes(
        lines(
            "1007-45.64.0.0/22   unicast [AS38001_v4_1 18:31:49.412] * (100) [AS38001i]\n"
            "1012-\tBGP.ext_community: (rt, 38001, 100) (ro, 192.0.2.1, 7) (generic, 0x1)\n"
            "0000 \n"
        )
    )
    assert route.ext_communities == (("rt", "38001", "100"), ("ro", "192.0.2.1", "7"))


def test_route_change_stats_are_read_per_channel_without_the_columns_bird_leaves_empty() -> None:
    (protocol,) = parse_protocols(lines(PROTOCOL_DETAIL))
    assert protocol.channels["ipv4"].route_changes == {
        "import_updates": {
            "received": 2,
            "rejected": 0,
            "filtered": 2,
            "ignored": 0,
            "accepted": 0,
        },
        "import_withdraws": {"received": 0, "rejected": 0, "ignored": 2, "accepted": 0},
    }
