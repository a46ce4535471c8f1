"""Every reason the route servers can filter a route has a remedy a member can act on.

The codes are read from the BIRD templates themselves (``rs_reject(<code>)``), so a
reject added to the policy without a remedy fails here, as does a code in the table.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ixp.monitor.routes import REMEDIES, FilteredRouteRow, RouteFacts, advice, route_advice
from ixp.rs.codes import RejectCode
from ixp.rs.types import Limits

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "bird"
LIMITS = Limits(8, 24, 16, 48, 32, (174, 3356), 1)


def emitted_codes() -> set[RejectCode]:
    """The reject codes the BIRD templates tag filtered routes with."""
    call = re.compile(r"rs_reject\(\{\{\s*codes\.RejectCode\.(\w+)\.value")
    texts = [template.read_text() for template in TEMPLATES.glob("*.j2")]
    return {RejectCode[name] for text in texts for name in call.findall(text)}


def test_the_templates_emit_codes_and_every_one_has_a_remedy() -> None:
    emitted = emitted_codes()
    assert len(emitted) >= 10
    assert emitted <= set(REMEDIES)
    assert set(RejectCode) <= set(REMEDIES)


@pytest.mark.parametrize("code", list(RejectCode))
def test_every_remedy_names_the_route_and_says_what_to_do(code: RejectCode) -> None:
    facts = RouteFacts("103.151.10.0/24", 38193, "AS-EXAMPLE", 38193, "185.1.10.99", LIMITS)
    said = advice(code, facts)
    assert said.code == code and said.name
    assert "103.151.10.0/24" in said.problem
    assert said.remedy and said.remedy[0].islower()
    assert said.sentence == f"{said.problem}: {said.remedy}"


def test_a_prefix_outside_the_as_set_reads_as_the_member_would_act_on_it() -> None:
    facts = RouteFacts("103.151.10.0/24", 38193, "AS-EXAMPLE", 38193, None, LIMITS)
    said = advice(RejectCode.PREFIX_NOT_IN_AS_SET, facts).sentence
    assert said.startswith(
        "103.151.10.0/24 is not covered by a route object of AS-SET AS-EXAMPLE: "
        "register a route object with origin AS38193 in your registry"
    )


def test_a_too_long_prefix_names_the_lengths_accepted() -> None:
    facts = RouteFacts("45.64.1.0/25", 38001, None, 38001, None, LIMITS)
    said = advice(RejectCode.PREFIX_LENGTH, facts)
    assert "/25" in said.problem and "/8 to /24" in said.problem
    assert "/24" in said.remedy


def test_an_unknown_code_still_gets_advice() -> None:
    facts = RouteFacts("45.64.0.0/20", 38001, None, None, None, None)
    said = advice(250, facts)
    assert said.name == "code-250" and "NOC" in said.remedy


def row(as_path: str, codes: tuple[int, ...]) -> FilteredRouteRow:
    return FilteredRouteRow(
        route_server="rs1",
        prefix="99.99.0.0/16",
        protocol="AS38001_1",
        next_hop="185.1.50.11",
        as_path=as_path,
        communities="",
        large_communities="",
        rpki=None,
        reject_codes=codes,
        reasons="",
        reason_details=(),
    )


def test_route_advice_takes_the_origin_from_the_path_and_the_member_as_set() -> None:
    said = route_advice(row("38001 38011", (9, 10)), asn=38001, as_set="AS-ALPHA", limits=None)
    assert [a.code for a in said] == [9, 10]
    assert "origin AS38011" in said[0].remedy
    assert "AS38011" in said[1].problem and "AS-SET AS-ALPHA" in said[1].problem


def test_a_path_cut_short_does_not_name_a_wrong_origin() -> None:
    (said,) = route_advice(row("38001 38011 ...", (9,)), asn=38001, as_set=None, limits=None)
    assert "AS38011" not in said.remedy
    assert "route object of AS38001" in said.problem
