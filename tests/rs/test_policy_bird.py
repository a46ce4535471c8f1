"""The generated policy on the real BIRD agrees with `ixp rs explain`, rule by rule.

Each case is fed into BIRD by a static protocol whose import filter is the
member session's own `import where rs_import(...)` taken from the rendered
config, so BIRD runs exactly the shared policy functions with that member's
data. BIRD keeps rejected routes (`import keep filtered on`) with their
reject tags; the test reads the tags over the control socket (``ixp.bird``) and compares them
with the codes `explain_route` gives. No namespaces or BGP sessions are needed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from ixp.bird import BirdClient, BirdRoute
from ixp.monitor.routes import reject_codes
from ixp.rs.codes import RPKI_NAMESPACE, RpkiTag
from ixp.rs.explain import explain_route
from ixp.rs.render import render_config
from tests.rs import samples
from tests.rs.birdtools import needs_bird, running_bird

ALPHA, BRAVO, TIER1 = samples.ALPHA, samples.BRAVO, samples.TIER1
BLACKHOLE, NO_EXPORT, GSHUT = (65535, 666), (65535, 65281), (65535, 0)


@dataclass(frozen=True)
class Case:
    asn: int
    prefix: str
    path: tuple[int, ...] | None = None
    next_hop: str | None = None
    communities: tuple[tuple[int, ...], ...] = ()


CASES = (
    Case(ALPHA.asn, "31.10.0.0/16"),
    Case(ALPHA.asn, "31.10.5.0/24"),
    Case(ALPHA.asn, "31.10.5.128/25"),
    Case(ALPHA.asn, "10.0.0.0/8"),
    Case(ALPHA.asn, "0.0.0.0/0"),
    Case(ALPHA.asn, "99.0.0.0/16"),
    Case(ALPHA.asn, "31.10.0.0/16", (ALPHA.asn, 64512)),
    Case(ALPHA.asn, "31.10.0.0/16", (BRAVO.asn, ALPHA.asn)),
    Case(ALPHA.asn, "31.10.0.0/16", (ALPHA.asn,) * 33),
    Case(ALPHA.asn, "31.10.0.0/16", (ALPHA.asn, 1299, ALPHA.asn)),
    Case(ALPHA.asn, "31.10.0.0/16", (ALPHA.asn, 777)),
    Case(ALPHA.asn, "31.10.0.0/16", next_hop="185.1.0.12"),
    Case(ALPHA.asn, "45.21.0.0/24", (ALPHA.asn, 10103)),
    Case(ALPHA.asn, "31.10.7.7/32", communities=(BLACKHOLE,)),
    Case(ALPHA.asn, "99.0.0.1/32", communities=(BLACKHOLE,)),
    Case(ALPHA.asn, "31.10.7.7/32"),
    Case(ALPHA.asn, "31.10.8.0/24", communities=(GSHUT,)),
    Case(ALPHA.asn, "31.10.0.0/16", communities=((samples.RS_ASN, 1101, 9),)),
    Case(ALPHA.asn, "192.168.1.0/25", (BRAVO.asn, 64512, 1299), "185.1.0.9"),
    Case(ALPHA.asn, "2a0a:1000:5::/48"),
    Case(ALPHA.asn, "2a0a:1000:5:1::/64"),
    Case(ALPHA.asn, "2001:db8::/32"),
    Case(ALPHA.asn, "2a0a:1000::1/128", communities=(BLACKHOLE,)),
    Case(ALPHA.asn, "2a0a:1000::/32", next_hop="2001:7f8:ff::12"),
    Case(BRAVO.asn, "62.40.0.0/18", next_hop="185.1.0.99"),
    Case(BRAVO.asn, "62.40.0.0/18", next_hop="192.0.2.1"),
    Case(BRAVO.asn, "62.40.0.1/32", communities=(BLACKHOLE,)),
    Case(BRAVO.asn, "2a0b:2000::/32", (BRAVO.asn, BRAVO.asn)),
    Case(TIER1.asn, "4.0.0.0/9", (TIER1.asn, TIER1.asn)),
    Case(TIER1.asn, "4.0.0.0/9", (TIER1.asn, 174, TIER1.asn)),
)


def _import_call(config: str, session_name: str) -> str:
    block = config[config.index(f"protocol bgp {session_name} ") :]
    match = re.search(r"import where (rs_import\(.*?\));", block, re.DOTALL)
    assert match is not None
    return match.group(1)


def _community(values: tuple[int, ...]) -> str:
    attribute = "bgp_community" if len(values) == 2 else "bgp_large_community"
    return f"{attribute}.add(({', '.join(map(str, values))}));"


def _injector(index: int, case: Case, config: str) -> str:
    """A static protocol that feeds one route through the member's import filter."""
    member = samples.context().member(case.asn)
    assert member is not None
    family = 6 if ":" in case.prefix else 4
    session = next(s for s in member.sessions if s.family == family)
    path = case.path if case.path is not None else (case.asn,)
    statements = [f"bgp_path.prepend({asn});" for asn in reversed(path)]
    statements.append(f"bgp_next_hop = {case.next_hop or session.neighbor};")
    statements.extend(_community(c) for c in case.communities)
    return (
        f"protocol static case_{index} {{\n"
        f"\tipv{family} {{ table master{family}; import keep filtered on;\n"
        f"\t\timport where {_import_call(config, session.name)}; }};\n"
        f"\troute {case.prefix} unreachable {{ {' '.join(statements)} }};\n}}\n"
    )


def _result(bird: BirdClient, index: int) -> tuple[bool, BirdRoute]:
    """Whether BIRD accepted case ``index``, and its route as BIRD holds it."""
    accepted = bird.routes(f"protocol case_{index}")
    if accepted:
        return True, accepted[0]
    (filtered,) = bird.routes(f"filtered protocol case_{index}")
    return False, filtered


@pytest.fixture(scope="module")
def bird_results(tmp_path_factory: pytest.TempPathFactory) -> dict[int, tuple[bool, BirdRoute]]:
    """Every case run through one BIRD instance."""
    config = render_config(samples.context())
    text = config + "\n".join(_injector(i, c, config) for i, c in enumerate(CASES))
    path = tmp_path_factory.mktemp("policy") / "rs.conf"
    path.write_text(text, encoding="utf-8")
    with running_bird(path) as socket, BirdClient(str(socket)) as bird:
        return {i: _result(bird, i) for i in range(len(CASES))}


@needs_bird
@pytest.mark.parametrize("index", range(len(CASES)), ids=lambda i: f"{CASES[i].prefix}-{i}")
def test_bird_and_explain_agree(
    bird_results: dict[int, tuple[bool, BirdRoute]], index: int
) -> None:
    case = CASES[index]
    expected = explain_route(
        samples.context(),
        case.asn,
        case.prefix,
        path=case.path,
        next_hop=case.next_hop,
        communities=case.communities,
    )
    accepted, route = bird_results[index]
    assert accepted == expected.accepted, route
    assert set(reject_codes(route, samples.RS_ASN)) == {r.code for r in expected.reasons}, route


@needs_bird
def test_accepted_routes_record_their_rpki_state_and_blackholes_are_rewritten(
    bird_results: dict[int, tuple[bool, BirdRoute]],
) -> None:
    valid = bird_results[CASES.index(Case(ALPHA.asn, "31.10.0.0/16"))][1]
    unknown = bird_results[CASES.index(Case(BRAVO.asn, "62.40.0.0/18", next_hop="185.1.0.99"))][1]
    assert (valid.rpki, unknown.rpki) == (RpkiTag.VALID, RpkiTag.UNKNOWN)
    for route in (valid, unknown):  # in rs_rpki only: no community unless rpki_tag_routes
        assert not any(
            c.startswith(f"{samples.RS_ASN}:{RPKI_NAMESPACE}:") for c in route.large_communities
        )
    blackhole = bird_results[CASES.index(Case(ALPHA.asn, "31.10.7.7/32", communities=(BLACKHOLE,)))]
    assert blackhole[0]
    assert blackhole[1].next_hop == "185.1.0.66" and "65535:65281" in blackhole[1].communities
    blackhole6 = bird_results[
        CASES.index(Case(ALPHA.asn, "2a0a:1000::1/128", communities=(BLACKHOLE,)))
    ]
    assert blackhole6[1].next_hop == "2001:7f8:ff::66"
    drained = bird_results[CASES.index(Case(ALPHA.asn, "31.10.8.0/24", communities=(GSHUT,)))][1]
    assert drained.local_pref == 0
    scrubbed = bird_results[
        CASES.index(Case(ALPHA.asn, "31.10.0.0/16", communities=((samples.RS_ASN, 1101, 9),)))
    ]
    assert scrubbed[0] and not any(":1101:" in c for c in scrubbed[1].large_communities)
