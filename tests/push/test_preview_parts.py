"""The impact preview's parts that need no namespace: speakers, the export rewrite, the verdicts."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from ixp.bird import ProtocolStatus
from ixp.errors import SourceUnavailable
from ixp.push.impact import Thresholds, compare
from ixp.push.scratch import ScratchResult, Verdict, without_exports
from ixp.push.speakers import (
    OfferedRoute,
    OfferedSession,
    plan,
    speaker_config,
    why_not_replayed,
)
from ixp.rs.build import build
from ixp.settings import Settings
from tests.rs.birdtools import needs_bird, parses

RS_ASN = 59900
RS = {4: "185.1.50.1", 6: "2001:7f8:a0::1"}


def route(
    prefix: str,
    path: tuple[int, ...] = (38001,),
    *,
    accepted: bool = True,
    codes: tuple[int, ...] = (),
    next_hop: str | None = "185.1.50.11",
    communities: tuple[str, ...] = (),
    large: tuple[str, ...] = (),
) -> OfferedRoute:
    return OfferedRoute(prefix, path, False, next_hop, communities, large, accepted, codes)


def offered(neighbor: str, *routes: OfferedRoute, asn: int = 38001) -> OfferedSession:
    family = 6 if ":" in neighbor else 4
    return OfferedSession(asn, f"AS{asn}_v{family}_1", neighbor, family, True, routes)


def test_routes_a_speaker_cannot_send_as_they_came_are_named() -> None:
    assert why_not_replayed(route("45.64.0.0/20"), 38001) is None
    assert "does not start with AS38001" in str(
        why_not_replayed(route("45.64.0.0/20", (9,)), 38001)
    )
    assert "does not start" in str(why_not_replayed(route("45.64.0.0/20", ()), 38001))
    cut = OfferedRoute("45.64.0.0/20", (38001,), True, None, (), (), True, ())
    assert "too long" in str(why_not_replayed(cut, 38001))
    odd = route("45.64.0.0/20", next_hop="not-an-address")
    assert "cannot read" in str(why_not_replayed(odd, 38001))


def test_a_member_gets_one_speaker_per_session_to_the_same_address() -> None:
    sessions = [
        offered("185.1.50.11", route("45.64.0.0/20"), route("45.65.0.0/22", (9,))),
        offered("2001:7f8:a0::11", route("2a0b:4000::/32")),
        offered("185.1.50.21", route("45.66.0.0/20")),  # a second port of the same member
        offered("185.1.50.12", route("37.60.0.0/22", (38002,)), asn=38002),
    ]
    speakers, skipped = plan(sessions, RS)
    assert [(s.name, s.addresses) for s in speakers] == [
        ("m38001", ("185.1.50.11", "2001:7f8:a0::11")),
        ("m38001n1", ("185.1.50.21",)),
        ("m38002", ("185.1.50.12",)),
    ]
    assert list(skipped) == [("185.1.50.11", "45.65.0.0/22")]


@needs_bird
def test_speaker_configuration_sends_each_route_as_it_came(tmp_path: Path) -> None:
    session = offered(
        "185.1.50.11",
        route("45.64.0.0/20"),
        route(
            "45.66.0.0/20",
            (38001, 38011, 38012),
            communities=("65000:1",),
            large=("38001:100:1", f"{RS_ASN}:1101:9", f"{RS_ASN}:1000:1", f"{RS_ASN}:0:38002"),
        ),
        route("45.67.0.0/20", next_hop="185.1.50.99"),
        route("45.68.0.0/24", next_hop="185.1.50.66", communities=("65535:666",)),
    )
    [speaker], _ = plan([session], RS)
    text = speaker_config(speaker, RS_ASN)
    assert "\troute 45.64.0.0/20 blackhole;" in text
    assert (
        "\troute 45.66.0.0/20 blackhole { bgp_path.prepend(38012); bgp_path.prepend(38011); "
        "bgp_community.add((65000,1)); bgp_large_community.add((38001,100,1)); "
        f"bgp_large_community.add(({RS_ASN},0,38002)); }};"
    ) in text
    assert "\troute 45.67.0.0/20 blackhole { bgp_next_hop = 185.1.50.99; };" in text
    # The route server set the blackhole next hop itself: the member sent its own.
    assert "\troute 45.68.0.0/24 blackhole { bgp_community.add((65535,666)); };" in text
    assert f"local 185.1.50.11 as 38001;\n\tneighbor 185.1.50.1 as {RS_ASN};" in text
    parses(text, tmp_path)


def test_every_export_becomes_export_none() -> None:
    config = (
        '# export all; in a comment stays\nprotocol bgp a {\n\tdescription "export all;";\n'
        "\tipv4 {\n\t\timport where rs_import(1);\n\t\texport where !defined(x) ||\n"
        "\t\t\trs_export(1);\n\t};\n}\nprotocol bgp b { ipv4 { export all; }; }\n"
        "protocol bgp c { ipv6 { export filter f; }; }\n"
    )
    assert without_exports(config) == (
        '# export all; in a comment stays\nprotocol bgp a {\n\tdescription "export all;";\n'
        "\tipv4 {\n\t\timport where rs_import(1);\n\t\texport none;\n\t};\n}\n"
        "protocol bgp b { ipv4 { export none; }; }\n"
        "protocol bgp c { ipv6 { export none; }; }\n"
    )
    with pytest.raises(SourceUnavailable, match="inline export filter"):
        without_exports("protocol bgp a { ipv4 { export filter { accept; }; }; }")


@needs_bird
def test_a_built_configuration_without_exports_still_parses(
    demo: Session, demo_settings: Settings, tmp_path: Path
) -> None:
    report = build(demo, demo_settings, tmp_path / "out")
    text = Path(report.route_servers[0].path).read_text(encoding="utf-8")
    rewritten = without_exports(text)
    assert "export where" not in rewritten and "\texport all;" not in rewritten
    assert rewritten.count("export none;") == text.count("\texport ")
    parses(rewritten, tmp_path)


def scratch_protocol(neighbor: str, asn: int, *, up: bool = True) -> ProtocolStatus:
    return ProtocolStatus(
        name=f"AS{asn}_v4_1",
        proto="BGP",
        table="---",
        state="up" if up else "start",
        since="",
        info="",
        bgp_state="Established" if up else "Active",
        neighbor_address=neighbor,
        neighbor_as=asn,
        last_error=None if up else "Received: Bad peer AS",
    )


def test_verdicts_are_compared_route_by_route() -> None:
    live = [
        offered(
            "185.1.50.11",
            route("45.64.0.0/20"),
            route("45.65.0.0/22"),
            route("45.66.0.0/20", accepted=False, codes=(9,)),
            route("45.67.0.0/20", (7,)),
        ),
        offered("185.1.50.12", route("37.60.0.0/22", (38002,)), asn=38002),
        offered("185.1.50.13", route("103.20.0.0/22", (38003,)), asn=38003),
    ]
    _speakers, skipped = plan(live, RS)
    result = ScratchResult(
        sessions={
            "185.1.50.11": scratch_protocol("185.1.50.11", 38001),
            "185.1.50.12": scratch_protocol("185.1.50.12", 38099, up=False),
        },
        verdicts={
            ("185.1.50.11", "45.64.0.0/20"): Verdict(True, ()),
            ("185.1.50.11", "45.65.0.0/22"): Verdict(False, (13,)),
            ("185.1.50.11", "45.66.0.0/20"): Verdict(True, ()),
        },
        seconds={"total": 1.0},
    )
    preview = compare("rs1", live, skipped, result, {38001: "Alpha"}, Thresholds(10, 2))
    assert (preview.accepted_before, preview.newly_filtered, preview.not_taken) == (4, 1, 1)
    assert (preview.newly_accepted, preview.routes_not_replayed) == (1, 1)
    alpha, bravo = preview.members
    assert (alpha.name, alpha.lost_percent, alpha.over_threshold) == ("Alpha", 33.33, True)
    assert [(r.prefix, r.change, r.reasons) for r in alpha.routes] == [
        (
            "45.65.0.0/22",
            "newly filtered",
            ("rpki-invalid: RPKI route-origin validation: invalid",),
        ),
        (
            "45.66.0.0/20",
            "newly accepted",
            (
                "was filtered for prefix-not-in-as-set: prefix not covered by route objects "
                "of the member's AS-SET",
            ),
        ),
    ]
    assert bravo.session_problems == (
        "185.1.50.12: session AS38099_v4_1 would not come up: Active (Received: Bad peer AS)",
    )
    assert preview.removed_sessions == (
        "AS38003 185.1.50.13 (AS38003_v4_1): 1 routes, no session in the new configuration",
    )
    assert preview.stop_reasons == (
        "2 of 4 accepted routes would be lost (50%, more than 2%)",
        "AS38001 (Alpha) would lose 1 of its 3 accepted routes (33.33%, more than 10%)",
        "AS38002 (AS38002) would lose 1 of its 1 accepted routes (100%, more than 10%)",
    )


def test_nothing_lost_stops_nothing() -> None:
    live = [offered("185.1.50.11", route("45.64.0.0/20"))]
    result = ScratchResult(
        {"185.1.50.11": scratch_protocol("185.1.50.11", 38001)},
        {("185.1.50.11", "45.64.0.0/20"): Verdict(True, ())},
        {},
    )
    preview = compare("rs1", live, {}, result, {}, Thresholds(0, 0))
    assert preview.members == () and not preview.stops
