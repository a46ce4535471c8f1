"""The lab's readers and writers without daemons: BIRD's replies, ExaBGP's JSON and config."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ixp.bird import ReplyLine, parse_protocols, parse_reply, parse_routes
from ixp.errors import ValidationError
from ixp.lab.exabgp import Peer, Route, Speaker, replay
from ixp.lab.layout import LabLayout, MemberNode, RouteServerNode, rejected_examples
from ixp.lab.netns import LabError

# BIRD's control-socket replies as they arrive: a reply code per line, ``-`` while more follows.
PROTOCOLS = """\
2002-Name       Proto      Table      State  Since         Info
1002-device1    Device     ---        up     18:23:19.613
1006-
1002-AS38001_v4_1 BGP      ---        up     18:30:55.418  Established
1006-  Description:    AS38001 Alpha Net
 BGP state:          Established
   Neighbor address: 185.1.50.11
   Neighbor AS:      38001
 Channel ipv4
   Import limit:   100
   Routes:         16 imported, 10 filtered, 5 exported, 3 preferred
 Channel ipv6
   Routes:         1 imported, 0 exported, 1 preferred
1006-
1002-AS38004_v6_1 BGP      ---        down   18:31:49.040  Automatic shutdown: Route limit exceeded
1006-  BGP state:          Down
   Neighbor address: 2001:7f8:a0::14
   Neighbor AS:      38004
   Last error:       Automatic shutdown: Route limit exceeded
1006-
"""

ROUTES = """\
1007-Table master4:
1007-103.100.1.0/24       unicast [AS38002_v4_1 18:31:49.412] * (100) [AS38002i]
 \tvia 185.1.50.12 on lan0
1008-\tType: BGP univ
1012-\tBGP.as_path: 38002 38002
 \tBGP.next_hop: 185.1.50.12
 \tBGP.local_pref: 100
 \tBGP.large_community: (59900, 1000, 2)
1007-                     unicast [AS38001_v4_1 18:31:49.400] (100) [AS38001i]
 \tvia 185.1.50.11 on lan0
1012-\tBGP.as_path: 38001
 \tBGP.next_hop: 185.1.50.11
 \tBGP.local_pref: 0
 \tBGP.community: (65535,0)
1007-
1007-Table master6:
1007-2a0b:4000::/32       unicast [AS38001_v6_1 18:31:49.401] * (100) [AS38001i]
1012-\tBGP.as_path: 38001
 \tBGP.next_hop: 2001:7f8:a0::11 fe80::1
1007-
1007-Table rs_roa4:
1007-45.64.0.0/20-24 AS38001  [rs_roa4_static 18:30:55.418] * (200)
1008-\tType: static univ
"""


def reply(raw: str) -> list[ReplyLine]:
    """The lines of ``raw`` with the empty final ``0000`` line BIRD ends a table with."""
    return [line for line, _ in parse_reply([*raw.splitlines(), "0000 "])]


def test_protocols_are_read_per_bgp_session() -> None:
    device, alpha, delta = parse_protocols(reply(PROTOCOLS))
    assert (device.proto, device.is_up, device.established) == ("Device", True, False)
    assert (alpha.name, alpha.neighbor_address, alpha.neighbor_as) == (
        "AS38001_v4_1",
        "185.1.50.11",
        38001,
    )
    assert alpha.established
    assert (alpha.imported, alpha.filtered, alpha.exported) == (17, 10, 5)  # both channels
    assert alpha.channels["ipv4"].import_limit == 100
    assert not delta.established
    assert delta.info == "Automatic shutdown: Route limit exceeded"
    assert delta.neighbor_address == "2001:7f8:a0::14"


def test_routes_keep_every_path_of_a_prefix_with_attributes() -> None:
    best, draining, v6 = parse_routes(reply(ROUTES))  # the ROA table's row is no route
    assert (best.prefix, best.protocol, best.primary) == ("103.100.1.0/24", "AS38002_v4_1", True)
    assert best.as_path == (38002, 38002)
    assert best.large_communities == ("59900:1000:2",)
    assert (draining.prefix, draining.primary, draining.local_pref) == ("103.100.1.0/24", False, 0)
    assert draining.communities == ("65535:0",)
    assert (v6.table, v6.next_hop) == ("master6", "2001:7f8:a0::11")  # global, not link-local


def message(kind: str, peer: str, body: dict[str, object]) -> str:
    """A message laid out as ExaBGP 5 writes it (the decoder needs its time and ASNs)."""
    neighbor = {
        "address": {"local": "185.1.50.13", "peer": peer},
        "asn": {"local": 38003, "peer": 59900},
        **body,
    }
    return json.dumps({"exabgp": "5.0.0", "time": 1.5e9, "type": kind, "neighbor": neighbor})


def update(peer: str, update_body: dict[str, object]) -> str:
    return message("update", peer, {"message": {"update": update_body}})


def test_replay_applies_announcements_withdrawals_and_session_loss() -> None:
    announce = update(
        "185.1.50.1",
        {
            "attribute": {
                "as-path": {"0": {"element": "as-sequence", "value": [38001, 38011]}},
                "community": [[65535, 666]],
                "large-community": [[59900, 1000, 1]],
                "med": 50,
            },
            "announce": {
                "ipv4 unicast": {
                    "185.1.50.11": [{"nlri": "45.64.0.0/20"}, {"nlri": "45.66.0.0/20"}]
                }
            },
        },
    )
    withdraw = update("185.1.50.1", {"withdraw": {"ipv4 unicast": [{"nlri": "45.66.0.0/20"}]}})
    other = update(
        "2001:7f8:a0::1",
        {
            "attribute": {"origin": "igp"},
            "announce": {"ipv6 unicast": {"2001:7f8:a0::11": [{"nlri": "2a0b:4000::/32"}]}},
        },
    )
    rib = replay([announce, withdraw, other, "not json", ""])
    route = rib[("185.1.50.1", "45.64.0.0/20")]
    assert route.as_path == (38001, 38011)
    assert route.next_hop == "185.1.50.11"
    assert route.communities == {"65535:666"}
    assert route.large_communities == {"59900:1000:1"}
    assert route.med == 50
    assert set(rib) == {("185.1.50.1", "45.64.0.0/20"), ("2001:7f8:a0::1", "2a0b:4000::/32")}
    down = message("state", "185.1.50.1", {"state": "down"})
    assert set(replay([announce, other, down])) == {("2001:7f8:a0::1", "2a0b:4000::/32")}


def speaker(tmp_path: Path, routes: list[Route], ipv6: str | None = "2001:7f8:a0::11") -> Speaker:
    return Speaker(
        name="Alpha Net",
        asn=38001,
        namespace="unused",
        directory=tmp_path,
        peers=[Peer("185.1.50.1", 59900), Peer("2001:7f8:a0::1", 59900)],
        ipv4="185.1.50.11",
        ipv6=ipv6,
        routes=routes,
    )


def test_speaker_config_has_one_neighbor_per_family_and_routes_as_given(tmp_path: Path) -> None:
    config = speaker(
        tmp_path,
        [
            Route("45.64.0.0/20", med=50),
            Route("45.64.5.0/24", as_path=(38011,), next_hop="185.1.50.12",
                  communities=("0:38003",), large_communities=("59900:0:0",)),
            Route("2a0b:4000::/32"),
        ],
    ).render()  # fmt: skip
    assert config.count("neighbor ") == 2
    assert "route 45.64.0.0/20 next-hop 185.1.50.11 as-path [ 38001 ] med 50;" in config
    assert (
        "route 45.64.5.0/24 next-hop 185.1.50.12 as-path [ 38011 ] community [ 0:38003 ] "
        "large-community [ 59900:0:0 ];"
    ) in config
    assert "route 2a0b:4000::/32 next-hop 2001:7f8:a0::11 as-path [ 38001 ];" in config
    assert "receive { parsed; update; }" in config
    v4_only = speaker(tmp_path, [Route("45.64.0.0/20")], ipv6=None).render()
    assert v4_only.count("neighbor ") == 1


def test_speaker_refuses_what_cannot_be_written_into_exabgp_syntax(tmp_path: Path) -> None:
    with pytest.raises(LabError, match="community"):
        Route("45.64.0.0/20", communities=("0:1; }",))
    with pytest.raises(ValidationError, match="next hop"):
        speaker(tmp_path, [Route("45.64.0.0/20", next_hop="185.1.50.12; }")]).render()


def test_layout_survives_the_state_file_round_trip() -> None:
    layout = LabLayout(
        lan4="185.1.50.0/24",
        lan6="2001:7f8:a0::/64",
        route_servers=(RouteServerNode("rs1", 59900, "185.1.50.1", "185.1.50.1", None),),
        members=(
            MemberNode(
                38001,
                "Alpha",
                "185.1.50.11",
                None,
                (Route("45.64.0.0/20", as_path=(38001, 38011), communities=("0:38003",)),),
                peers=("185.1.50.1",),
            ),
        ),
    )
    assert LabLayout.from_dict(json.loads(json.dumps(layout.to_dict()))) == layout


def test_rejected_examples_stay_inside_the_registered_space() -> None:
    examples = rejected_examples(38001, {4: ["45.64.0.0/22"], 6: ["2a0b:4000::/32"]}, {4, 6})
    assert [(r.prefix, r.as_path) for r in examples] == [
        ("192.168.0.0/16", ()),
        ("45.64.0.0/25", ()),
        ("45.64.3.0/24", (38001, 64512)),
        ("2001:db8::/32", ()),
        ("2a0b:4000::/49", ()),
        ("2a0b:4000:ffff::/48", (38001, 64512)),
    ]
    only_a_24 = rejected_examples(38001, {4: ["45.64.0.0/24"]}, {4})
    assert only_a_24 == [Route("192.168.0.0/16"), Route("45.64.0.0/25")]
