"""The lab harness on a small hand-written route-server config: sessions, routes, life cycle.

The config is deliberately tiny (one import filter rejecting bogons with a
reason community, and ``0:<peer>`` honoured on export) so these tests check the
harness itself: that BGP really flows through BIRD between ExaBGP members in
namespaces, that what a member receives is recorded faithfully, and that the
lab comes down without leftovers, also after a failed start or a crash.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from ixp.errors import Conflict
from ixp.lab import lab as lab_module
from ixp.lab import netns
from ixp.lab.exabgp import Route
from ixp.lab.lab import Lab, lab_home
from ixp.lab.layout import LabLayout, MemberNode, RouteServerNode
from ixp.settings import Settings
from tests.lab.harness import require_lab, routes_of, running_lab

pytestmark = [pytest.mark.netns, pytest.mark.slow]

RS_ASN = 59900
A, B, C = 38001, 38002, 38003

RS = RouteServerNode("rs1", RS_ASN, "203.0.113.1", "203.0.113.1", "2001:7f8:ff::1")


def member(asn: int, host: int, routes: tuple[Route, ...] = ()) -> MemberNode:
    return MemberNode(asn, f"AS{asn}", f"203.0.113.{host}", f"2001:7f8:ff::{host}", routes)


LATE = 38005

LAYOUT = LabLayout(
    lan4="203.0.113.0/24",
    lan6="2001:7f8:ff::/64",
    route_servers=(RS,),
    members=(
        member(
            A,
            11,
            (
                Route("45.64.0.0/22"),
                Route("45.64.4.0/22", communities=(f"0:{C}",)),
                Route("192.168.0.0/16"),
                Route("2a0b:4000::/32", communities=("38001:100",)),
                Route("2001:db8::/32"),
            ),
        ),
        member(B, 12, (Route("37.60.0.0/22", as_path=(B, 38100)),)),
        member(C, 13),
    ),
)


def handwritten_config(layout: LabLayout) -> str:
    """A minimal transparent route-server config: bogons filtered with a reason, 0:peer honoured."""
    rs = layout.route_servers[0]
    lines = [
        f"router id {rs.router_id};",
        "protocol device {}",
        f"define RS_ASN = {rs.asn};",
        "filter member_in {",
        "  if (net.type = NET_IP4 && net ~ [ 192.168.0.0/16+, 10.0.0.0/8+ ])",
        "     || (net.type = NET_IP6 && net ~ [ 2001:db8::/32+ ]) then {",
        "    bgp_large_community.add((RS_ASN, 1101, 3));",
        "    reject;",
        "  }",
        "  accept;",
        "}",
        "function announce_to(int peer_as) {",
        "  return !((0, peer_as) ~ bgp_community);",
        "}",
    ]
    for node in layout.members:
        for family, address in ((4, node.ipv4), (6, node.ipv6)):
            if address is None:
                continue
            lines += [
                f"protocol bgp as{node.asn}_v{family} {{",
                f"  local as {rs.asn};",
                f"  neighbor {address} as {node.asn};",
                "  rs client;",
                f"  ipv{family} {{",
                "    import keep filtered on;",
                "    import filter member_in;",
                f"    export where announce_to({node.asn});",
                "  };",
                "}",
            ]
    return "\n".join(lines) + "\n"


def lab_settings(directory: Path) -> Settings:
    return Settings(home=directory / "home", database_url=f"sqlite:///{directory / 'db.sqlite3'}")


def with_late_joiner(layout: LabLayout) -> LabLayout:
    """The layout plus a member the config knows but the lab starts without."""
    return LabLayout(
        layout.lan4, layout.lan6, layout.route_servers, (*layout.members, member(LATE, 15))
    )


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    settings = lab_settings(tmp_path_factory.mktemp("harness"))
    config = handwritten_config(with_late_joiner(LAYOUT))
    with running_lab(LAYOUT, settings, {"rs1": config}) as running:
        yield running


def test_route_reaches_other_members_with_path_and_next_hop_untouched(lab: Lab) -> None:
    for receiver in (B, C):
        (route,) = routes_of(lab, receiver, "45.64.0.0/22")
        assert route.peer == "203.0.113.1"
        assert route.as_path == (A,)
        assert route.next_hop == "203.0.113.11"
    (route6,) = routes_of(lab, B, "2a0b:4000::/32")
    assert route6.peer == "2001:7f8:ff::1"
    assert route6.as_path == (A,)
    assert route6.next_hop == "2001:7f8:ff::11"
    assert route6.communities == {"38001:100"}
    (longer,) = routes_of(lab, A, "37.60.0.0/22")
    assert longer.as_path == (B, 38100)


def test_member_never_gets_its_own_routes_back(lab: Lab) -> None:
    assert routes_of(lab, A, "45.64.0.0/22") == []
    assert routes_of(lab, B, "37.60.0.0/22") == []


def test_do_not_announce_community_keeps_route_from_that_peer_only(lab: Lab) -> None:
    assert routes_of(lab, C, "45.64.4.0/22") == []
    (route,) = routes_of(lab, B, "45.64.4.0/22")
    assert route.communities == {f"0:{C}"}


def test_filtered_route_is_kept_with_reason_and_reaches_no_one(lab: Lab) -> None:
    filtered = lab.birdc("rs1", "show route filtered all")
    assert "192.168.0.0/16" in filtered
    assert "2001:db8::/32" in filtered
    assert f"({RS_ASN}, 1101, 3)" in filtered
    for receiver in (B, C):
        assert routes_of(lab, receiver, "192.168.0.0/16") == []
        assert routes_of(lab, receiver, "2001:db8::/32") == []


def test_bird_sessions_are_parsed_per_neighbor(lab: Lab) -> None:
    sessions = lab.sessions("rs1")
    assert {sessions[f"203.0.113.{h}"].neighbor_as for h in (11, 12, 13)} == {A, B, C}
    a4 = sessions["203.0.113.11"]
    assert a4.established
    assert (a4.imported, a4.filtered) == (2, 1)
    assert sessions["203.0.113.13"].exported == 2  # B's route and A's /22 without 0:C
    assert "Daemon is up and running" in lab.birdc("rs1", "show status")


def test_announce_changes_what_peers_receive_without_a_reset(lab: Lab) -> None:
    speaker = lab.member(B)
    original = list(speaker.routes)
    speaker.announce([*original, Route("37.60.8.0/22", med=50)])
    lab.wait_converged(timeout=20)
    (route,) = routes_of(lab, C, "37.60.8.0/22")
    assert route.med == 50
    speaker.announce(original)
    lab.wait_converged(timeout=20)
    assert routes_of(lab, C, "37.60.8.0/22") == []
    assert len(routes_of(lab, C, "37.60.0.0/22")) == 1


def test_stopped_member_loses_sessions_and_peers_lose_its_routes(lab: Lab) -> None:
    speaker = lab.member(A)
    speaker.stop()
    netns.wait_until(
        lambda: not lab.sessions("rs1")["203.0.113.11"].established,
        timeout=20,
        what="AS38001's session to go down",
    )
    lab.wait_converged(timeout=20)
    assert routes_of(lab, B, "45.64.0.0/22") == []
    speaker.start()
    lab.save()
    lab.wait_converged(timeout=30)
    assert len(routes_of(lab, B, "45.64.0.0/22")) == 1


def test_reconfigure_tries_a_policy_change_live(lab: Lab) -> None:
    original = lab.rs_configs["rs1"]
    stricter = original.replace("10.0.0.0/8+ ]", "10.0.0.0/8+, 45.64.0.0/22 ]")
    assert stricter != original
    lab.reconfigure("rs1", stricter)
    try:
        netns.wait_until(
            lambda: (
                routes_of(lab, B, "45.64.0.0/22") == []
                and "45.64.0.0/22" in lab.birdc("rs1", "show route filtered")
            ),
            timeout=10,
            what="the route to be filtered and withdrawn",
        )
    finally:
        lab.reconfigure("rs1", original)
    netns.wait_until(
        lambda: len(routes_of(lab, B, "45.64.0.0/22")) == 1, timeout=10, what="the route's return"
    )
    lab.wait_converged(timeout=20)


def test_a_member_can_join_the_running_lab(lab: Lab) -> None:
    late = lab.add_member(member(LATE, 15, (Route("103.20.0.0/22"),)))
    assert late.running()
    assert lab.node(f"as{LATE}").ipv4 == "203.0.113.15"
    lab.wait_converged(timeout=20)
    assert len(routes_of(lab, LATE, "45.64.0.0/22")) == 1
    assert routes_of(lab, B, "103.20.0.0/22")[0].as_path == (LATE,)
    with pytest.raises(Conflict):
        lab.add_member(member(LATE, 16))


def small_layout() -> LabLayout:
    return LabLayout(
        lan4=LAYOUT.lan4,
        lan6=LAYOUT.lan6,
        route_servers=(RS,),
        members=(member(A, 11, (Route("45.64.0.0/22"),)),),
    )


def our_namespaces(prefix: str) -> list[str]:
    return [name for name in netns.list_namespaces() if name.startswith(f"{prefix}-")]


def assert_gone(settings: Settings, prefix: str, pids: list[int]) -> None:
    assert our_namespaces(prefix) == []
    assert not (lab_home(settings) / "state.json").exists()
    assert not (lab_home(settings) / prefix).exists()
    assert [pid for pid in pids if netns.alive(pid)] == []


def test_down_removes_namespaces_processes_and_files(tmp_path: Path) -> None:
    require_lab()
    settings = lab_settings(tmp_path)
    layout = small_layout()
    lab = Lab(layout, settings, {"rs1": handwritten_config(layout)})
    try:
        lab.up()
        prefix = lab.prefix
        assert len(our_namespaces(prefix)) == 3  # the LAN, the route server, the member
        pids = netns.namespace_pids(*our_namespaces(prefix))
        assert len(pids) >= 2  # BIRD and ExaBGP (and soon its agent)
        with pytest.raises(Conflict):
            Lab(layout, settings, {"rs1": handwritten_config(layout)}).up()
    finally:
        lab.down()
    assert_gone(settings, prefix, pids)


def test_down_from_state_file_after_a_crash(tmp_path: Path) -> None:
    require_lab()
    settings = lab_settings(tmp_path)
    layout = small_layout()
    crashed = Lab(layout, settings, {"rs1": handwritten_config(layout)})
    try:
        crashed.up()
        prefix = crashed.prefix
        pids = netns.namespace_pids(*our_namespaces(prefix))
        recovered = Lab.load(settings)
        assert recovered is not None
        assert recovered.prefix == prefix
        assert recovered.member(A).running()
        recovered.down()
        assert_gone(settings, prefix, pids)
    finally:
        crashed.down()


def test_failed_start_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_lab()
    suffix = secrets.token_hex(3)
    monkeypatch.setattr(lab_module.secrets, "token_hex", lambda _: suffix)
    settings = lab_settings(tmp_path)
    lab = Lab(small_layout(), settings, {"rs1": "protocol bgp broken {"})
    with pytest.raises(netns.LabError, match="syntax error"):
        lab.up()
    assert our_namespaces(f"ixp{suffix}") == []
    assert list(lab_home(settings).iterdir()) == []
