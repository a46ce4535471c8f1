"""The route-server policy, proven with real BGP sessions on a generated config.

The configuration is built from a test exchange in the database (``ixp rs
build``'s own code path, with IRR data from an RPSL dump and ROAs from an
rpki-client export) and run in BIRD inside a network namespace; four ExaBGP
members announce every test route at once, and every member records what it
receives. The lab comes up once for the module; each test then reads like the
operator's expectation: "this prefix from Alpha reaches Bravo and Charlie with
this path and these communities, and never reaches Charlie", or "this route is
filtered, tagged with reason N". Every rule has a positive and a negative case,
in IPv4 and IPv6.

Members (see ``tests/lab/exchange.py``): Alpha AS38001 (customer AS38011,
blackholing allowed), Bravo AS38002, Charlie AS38003, Delta AS38004 (max-prefix
2 / 1, action disable). The route server is AS59900.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ixp import db
from ixp.bird import BirdRoute, ProtocolStatus
from ixp.lab import netns
from ixp.lab.exabgp import ReceivedRoute, Route
from ixp.lab.lab import Lab
from ixp.rs.codes import REJECT_NAMESPACE, RPKI_NAMESPACE, RejectCode, RpkiTag
from tests.lab.exchange import (
    ALPHA,
    ALPHA_CUSTOMER,
    BLACKHOLE4,
    BLACKHOLE6,
    BRAVO,
    CHARLIE,
    DELTA,
    RS4,
    RS6,
    RS_ASN,
    RS_NAME,
    address,
    build_exchange,
    exchange_settings,
)
from tests.lab.harness import require_lab
from tests.rs.cases import Case, pair

pytestmark = [pytest.mark.netns, pytest.mark.slow]

FAMILIES = pytest.mark.parametrize("family", [4, 6])
PEERS = (BRAVO, CHARLIE)  # the members that receive Alpha's routes (Delta is shut down)
TRANSIT_FREE = 3356
OUTSIDER = 38999  # in no AS-SET
BLACKHOLE, NO_EXPORT, GRACEFUL_SHUTDOWN = "65535:666", "65535:65281", "65535:0"
NO_ADVERTISE = "65535:65282"


def alpha_path(*behind: int) -> tuple[int, ...]:
    return (ALPHA, *behind)


# Alpha's announcements. Registered: 45.64.0.0/20 and 2a0b:4000::/32 (ROA for AS38001),
# 45.65.0.0/22 and 2a0b:4001::/32 (ROA for AS38777: RPKI invalid), 45.66.0.0/20 and
# 2a0b:4002::/32 (customer AS38011, no ROA), 103.100.0.0/22 and 2a0c:1000::/32 (shared with Bravo).
BASE = pair("45.64.0.0/20", "2a0b:4000::/32", med=50)
LENGTH_OK = pair("45.64.1.0/24", "2a0b:4000:1::/48")
LENGTH_TOO_LONG = pair("45.64.2.0/25", "2a0b:4000:2::/49")
BOGON_PREFIX = pair("192.168.0.0/16", "2001:db8::/32")
CUSTOMER = pair("45.66.0.0/20", "2a0b:4002::/32", as_path=alpha_path(ALPHA_CUSTOMER))
BOGON_ASN = Case(
    Route("45.66.1.0/24", as_path=alpha_path(64512, ALPHA_CUSTOMER)),
    Route("2a0b:4002:1::/48", as_path=alpha_path(4_200_000_001, ALPHA_CUSTOMER)),
)
FIRST_AS_WRONG = pair("45.66.2.0/24", "2a0b:4002:2::/48", as_path=(ALPHA_CUSTOMER,))
PATH_32 = pair("45.64.3.0/24", "2a0b:4000:3::/48", as_path=(ALPHA,) * 32)
PATH_33 = pair("45.64.4.0/24", "2a0b:4000:4::/48", as_path=(ALPHA,) * 33)
TRANSIT_OK = pair("45.66.3.0/24", "2a0b:4002:3::/48", as_path=alpha_path(38100, ALPHA_CUSTOMER))
TRANSIT_FREE_BEHIND = pair(
    "45.66.4.0/24", "2a0b:4002:4::/48", as_path=alpha_path(TRANSIT_FREE, ALPHA_CUSTOMER)
)
THIRD_PARTY_NEXT_HOP = Case(
    Route("45.64.5.0/24", next_hop=address(BRAVO, 4)),
    Route("2a0b:4000:5::/48", next_hop=address(BRAVO, 6)),
)
NOT_REGISTERED = pair("45.67.0.0/22", "2a0b:4900::/32")
ORIGIN_OUTSIDE = pair("45.66.5.0/24", "2a0b:4002:5::/48", as_path=alpha_path(OUTSIDER))
RPKI_INVALID = pair("45.65.0.0/22", "2a0b:4001::/32")
NOT_TO_CHARLIE = pair("45.64.7.0/24", "2a0b:4000:7::/48", communities=(f"0:{CHARLIE}",))
TO_NO_ONE = pair("45.64.8.0/24", "2a0b:4000:8::/48", communities=(f"0:{RS_ASN}",))
ONLY_TO_BRAVO = pair(
    "45.64.9.0/24", "2a0b:4000:9::/48", communities=(f"0:{RS_ASN}", f"{RS_ASN}:{BRAVO}")
)
LISTED_WITHOUT_BLOCK = pair(
    "45.64.10.0/24", "2a0b:4000:a::/48", communities=(f"{RS_ASN}:{CHARLIE}",)
)
LARGE_NOT_TO_CHARLIE = pair(
    "45.64.11.0/24", "2a0b:4000:b::/48", large_communities=(f"{RS_ASN}:0:{CHARLIE}",)
)
LARGE_TO_NO_ONE = pair("45.64.12.0/24", "2a0b:4000:c::/48", large_communities=(f"{RS_ASN}:0:0",))
LARGE_ONLY_TO_BRAVO = pair(
    "45.64.13.0/24",
    "2a0b:4000:d::/48",
    large_communities=(f"{RS_ASN}:0:0", f"{RS_ASN}:1:{BRAVO}"),
)
# Once to every peer (large, peer 0); twice to Charlie (standard, that peer's wins).
PREPENDED = pair(
    "45.64.6.0/24",
    "2a0b:4000:6::/48",
    communities=(f"65502:{CHARLIE}",),
    large_communities=(f"{RS_ASN}:101:0",),
)
NO_ADVERTISE_SET = pair("45.64.14.0/24", "2a0b:4000:e::/48", communities=(NO_ADVERTISE,))
NO_EXPORT_SET = pair("45.64.15.0/24", "2a0b:4000:f::/48", communities=(NO_EXPORT,))
BLACKHOLE_ALLOWED = pair("45.64.0.1/32", "2a0b:4000::1/128", communities=(BLACKHOLE,))
# Prefixes both Alpha (path length 1) and Bravo (path length 2) announce.
SHARED = pair("103.100.0.0/24", "2a0c:1000::/48")
SHARED_DRAINING = pair("103.100.1.0/24", "2a0c:1000:1::/48", communities=(GRACEFUL_SHUTDOWN,))
SHARED_NOT_TO_CHARLIE = pair("103.100.2.0/24", "2a0c:1000:2::/48", communities=(f"0:{CHARLIE}",))
SHARED_CASES = (SHARED, SHARED_DRAINING, SHARED_NOT_TO_CHARLIE)

ALPHA_CASES = (
    BASE, LENGTH_OK, LENGTH_TOO_LONG, BOGON_PREFIX, CUSTOMER, BOGON_ASN, FIRST_AS_WRONG,
    PATH_32, PATH_33, TRANSIT_OK, TRANSIT_FREE_BEHIND, THIRD_PARTY_NEXT_HOP, NOT_REGISTERED,
    ORIGIN_OUTSIDE, RPKI_INVALID, NOT_TO_CHARLIE, TO_NO_ONE, ONLY_TO_BRAVO, LISTED_WITHOUT_BLOCK,
    LARGE_NOT_TO_CHARLIE, LARGE_TO_NO_ONE, LARGE_ONLY_TO_BRAVO, PREPENDED, NO_ADVERTISE_SET,
    NO_EXPORT_SET, BLACKHOLE_ALLOWED, *SHARED_CASES,
)  # fmt: skip

BRAVO_BASE = pair("37.60.0.0/22", "2a0b:4100::/32")
BLACKHOLE_NOT_ALLOWED = pair("37.60.0.1/32", "2a0b:4100::1/128", communities=(BLACKHOLE,))
BRAVO_SHARED = tuple(
    Case(Route(c.v4.prefix, as_path=(BRAVO, BRAVO)), Route(c.v6.prefix, as_path=(BRAVO, BRAVO)))
    for c in SHARED_CASES
)
CHARLIE_BASE = pair("103.20.0.0/22", "2a0b:4200::/32")
# Delta is allowed 2 IPv4 and 1 IPv6 prefix and announces one more of each.
DELTA_OVER_LIMIT = {
    4: [Route("103.21.0.0/24"), Route("103.21.1.0/24"), Route("103.21.2.0/24")],
    6: [Route("2a0b:4300:1::/48"), Route("2a0b:4300:2::/48")],
}


def routes(*cases: Case) -> list[Route]:
    """Both families of ``cases``, each prefix once."""
    unique = {r.prefix: r for case in cases for r in (case.v4, case.v6)}
    return list(unique.values())


ANNOUNCEMENTS = {
    ALPHA: routes(*ALPHA_CASES),
    BRAVO: routes(BRAVO_BASE, BLACKHOLE_NOT_ALLOWED, *BRAVO_SHARED),
    CHARLIE: routes(CHARLIE_BASE),
    DELTA: [*DELTA_OVER_LIMIT[4], *DELTA_OVER_LIMIT[6]],
}


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """The test exchange live: one BIRD with the generated config, four ExaBGP members."""
    require_lab()
    settings = exchange_settings(tmp_path_factory.mktemp("live-policy"))
    engine = db.engine_from_settings(settings)
    with db.session_factory(engine)() as session:
        build_exchange(session, settings)
        built = Lab.from_database(session, settings, routes=ANNOUNCEMENTS)
    engine.dispose()
    try:
        built.up()
        netns.wait_until(
            lambda: not any(p.established for p in delta_sessions(built)),
            timeout=30,
            what="Delta's sessions to be shut down by its max-prefix limit",
        )
        built.wait_converged(timeout=60, skip=[DELTA])
        yield built
    finally:
        built.down()


@pytest.fixture(scope="module")
def rs_routes(lab: Lab) -> list[BirdRoute]:
    """Every route the route server accepted."""
    return lab.bird(RS_NAME).routes()


@pytest.fixture(scope="module")
def filtered(lab: Lab) -> list[BirdRoute]:
    """Every route the route server filtered (kept with its reasons)."""
    return lab.bird(RS_NAME).routes("filtered")


def delta_sessions(lab: Lab) -> list[ProtocolStatus]:
    sessions = lab.sessions(RS_NAME)
    return [sessions[address(DELTA, 4)], sessions[address(DELTA, 6)]]


def received(lab: Lab, asn: int, route: Route) -> list[ReceivedRoute]:
    """The copies of ``route``'s prefix member ``asn`` holds."""
    return [r for r in lab.member(asn).received().values() if r.prefix == route.prefix]


def only(lab: Lab, asn: int, route: Route) -> ReceivedRoute:
    """The single copy of ``route``'s prefix member ``asn`` holds (one route server)."""
    copies = received(lab, asn, route)
    assert len(copies) == 1, f"AS{asn} holds {len(copies)} copies of {route.prefix}"
    return copies[0]


def assert_reaches(lab: Lab, route: Route, *, sender: int, to: tuple[int, ...]) -> None:
    """``route`` from ``sender`` reaches exactly the members ``to`` (of Alpha/Bravo/Charlie)."""
    for asn in (ALPHA, BRAVO, CHARLIE):
        copies = [r for r in received(lab, asn, route) if r.as_path and r.as_path[0] == sender]
        if asn in to:
            assert copies, f"{route.prefix} from AS{sender} never reached AS{asn}"
        else:
            assert copies == [], f"{route.prefix} from AS{sender} reached AS{asn}"


def reasons(filtered: list[BirdRoute], route: Route, sender: int) -> set[int]:
    """The reject codes the route server tagged ``route`` from ``sender`` with."""
    tagged = [r for r in filtered if r.prefix == route.prefix and r.as_path[:1] == (sender,)]
    assert tagged, f"{route.prefix} from AS{sender} is not among the filtered routes"
    (one,) = tagged
    prefix = f"{RS_ASN}:{REJECT_NAMESPACE}:"
    return {int(c.removeprefix(prefix)) for c in one.large_communities if c.startswith(prefix)}


def assert_rejected(
    lab: Lab, filtered: list[BirdRoute], route: Route, code: RejectCode, sender: int = ALPHA
) -> None:
    """``route`` is filtered with reason ``code`` and reaches no member."""
    assert code in reasons(filtered, route, sender)
    assert_reaches(lab, route, sender=sender, to=())


def own_address(asn: int, route: Route) -> str:
    return address(asn, route.family)


# -- transparency --------------------------------------------------------------------------


@FAMILIES
def test_route_reaches_every_other_member_with_path_next_hop_and_med_untouched(
    lab: Lab, family: int
) -> None:
    route = BASE(family)
    for asn in PEERS:
        got = only(lab, asn, route)
        assert got.peer == (RS4 if family == 4 else RS6)
        assert got.as_path == (ALPHA,)  # no route-server ASN in the path
        assert got.next_hop == own_address(ALPHA, route)
        assert got.med == 50
    assert received(lab, ALPHA, route) == []  # never back to the sender


@FAMILIES
def test_member_routes_flow_in_every_direction(lab: Lab, family: int) -> None:
    assert only(lab, ALPHA, BRAVO_BASE(family)).as_path == (BRAVO,)
    assert only(lab, ALPHA, CHARLIE_BASE(family)).as_path == (CHARLIE,)
    assert only(lab, BRAVO, CHARLIE_BASE(family)).next_hop == own_address(
        CHARLIE, BRAVO_BASE(family)
    )


# -- 1. prefix length ------------------------------------------------------------------------


@FAMILIES
def test_prefix_length_up_to_the_limit_passes_longer_is_filtered(
    lab: Lab, filtered: list[BirdRoute], family: int
) -> None:
    assert_reaches(lab, LENGTH_OK(family), sender=ALPHA, to=PEERS)
    assert_rejected(lab, filtered, LENGTH_TOO_LONG(family), RejectCode.PREFIX_LENGTH)


# -- 2. bogons -------------------------------------------------------------------------------


@FAMILIES
def test_bogon_prefix_is_filtered(lab: Lab, filtered: list[BirdRoute], family: int) -> None:
    assert_reaches(lab, BASE(family), sender=ALPHA, to=PEERS)
    assert_rejected(lab, filtered, BOGON_PREFIX(family), RejectCode.BOGON_PREFIX)


@FAMILIES
def test_bogon_asn_anywhere_in_the_path_is_filtered(
    lab: Lab, filtered: list[BirdRoute], family: int
) -> None:
    assert only(lab, CHARLIE, CUSTOMER(family)).as_path == (ALPHA, ALPHA_CUSTOMER)
    assert_rejected(lab, filtered, BOGON_ASN(family), RejectCode.BOGON_ASN)


# -- 3. first AS, path length, transit-free networks ----------------------------------------


@FAMILIES
def test_first_as_must_be_the_member(lab: Lab, filtered: list[BirdRoute], family: int) -> None:
    assert_reaches(lab, CUSTOMER(family), sender=ALPHA, to=PEERS)
    route = FIRST_AS_WRONG(family)
    assert RejectCode.FIRST_AS in reasons(filtered, route, ALPHA_CUSTOMER)
    for asn in PEERS:
        assert received(lab, asn, route) == []


@FAMILIES
def test_as_path_of_32_passes_33_is_filtered(
    lab: Lab, filtered: list[BirdRoute], family: int
) -> None:
    assert len(only(lab, BRAVO, PATH_32(family)).as_path) == 32
    assert_rejected(lab, filtered, PATH_33(family), RejectCode.AS_PATH_LENGTH)


@FAMILIES
def test_transit_free_network_behind_the_member_is_filtered(
    lab: Lab, filtered: list[BirdRoute], family: int
) -> None:
    assert only(lab, CHARLIE, TRANSIT_OK(family)).as_path == (ALPHA, 38100, ALPHA_CUSTOMER)
    assert_rejected(lab, filtered, TRANSIT_FREE_BEHIND(family), RejectCode.TRANSIT_FREE_ASN)


# -- 4. next hop -----------------------------------------------------------------------------


@FAMILIES
def test_next_hop_must_be_the_members_own_address(
    lab: Lab, filtered: list[BirdRoute], family: int
) -> None:
    assert only(lab, BRAVO, BASE(family)).next_hop == own_address(ALPHA, BASE(family))
    assert_rejected(lab, filtered, THIRD_PARTY_NEXT_HOP(family), RejectCode.NEXT_HOP)


# -- 5. IRR ----------------------------------------------------------------------------------


@FAMILIES
def test_prefix_must_be_registered_for_the_as_set(
    lab: Lab, filtered: list[BirdRoute], family: int
) -> None:
    assert_reaches(lab, LENGTH_OK(family), sender=ALPHA, to=PEERS)  # a more-specific up to /24, /48
    assert_rejected(lab, filtered, NOT_REGISTERED(family), RejectCode.PREFIX_NOT_IN_AS_SET)


@FAMILIES
def test_origin_must_be_in_the_as_set(lab: Lab, filtered: list[BirdRoute], family: int) -> None:
    assert only(lab, BRAVO, CUSTOMER(family)).as_path[-1] == ALPHA_CUSTOMER
    route = ORIGIN_OUTSIDE(family)
    assert reasons(filtered, route, ALPHA) == {RejectCode.ORIGIN_NOT_IN_AS_SET}
    assert_reaches(lab, route, sender=ALPHA, to=())


# -- 6. RPKI ---------------------------------------------------------------------------------


def rpki_state(rs_routes: list[BirdRoute], route: Route) -> RpkiTag | None:
    """The route server's RPKI state of its single copy of ``route``'s prefix."""
    (state,) = {r.rpki for r in rs_routes if r.prefix == route.prefix}
    return state


@FAMILIES
def test_rpki_invalid_is_filtered_valid_and_unknown_are_recorded_not_sent(
    lab: Lab, rs_routes: list[BirdRoute], filtered: list[BirdRoute], family: int
) -> None:
    assert rpki_state(rs_routes, BASE(family)) is RpkiTag.VALID
    assert rpki_state(rs_routes, CUSTOMER(family)) is RpkiTag.UNKNOWN
    for case in (BASE, CUSTOMER):
        got = only(lab, CHARLIE, case(family)).large_communities
        assert not any(c.startswith(f"{RS_ASN}:{RPKI_NAMESPACE}:") for c in got)
    assert reasons(filtered, RPKI_INVALID(family), ALPHA) == {RejectCode.RPKI_INVALID}
    assert_reaches(lab, RPKI_INVALID(family), sender=ALPHA, to=())


# -- 7. max-prefix ---------------------------------------------------------------------------


@FAMILIES
def test_member_over_its_max_prefix_limit_is_shut_down(lab: Lab, family: int) -> None:
    sessions = lab.sessions(RS_NAME)
    delta = sessions[address(DELTA, family)]
    assert not delta.established
    assert "Route limit exceeded" in delta.info
    assert "[HIT]" in lab.birdc(RS_NAME, f"show protocols all {delta.name}")
    for route in DELTA_OVER_LIMIT[family]:
        assert_reaches(lab, route, sender=DELTA, to=())
    alpha = sessions[address(ALPHA, family)]
    assert alpha.established
    assert alpha.imported + alpha.filtered == sum(
        1 for r in ANNOUNCEMENTS[ALPHA] if r.family == family
    )


# -- 8. announcement control -----------------------------------------------------------------


@FAMILIES
def test_standard_control_communities(lab: Lab, rs_routes: list[BirdRoute], family: int) -> None:
    assert_reaches(lab, NOT_TO_CHARLIE(family), sender=ALPHA, to=(BRAVO,))
    assert_reaches(lab, TO_NO_ONE(family), sender=ALPHA, to=())
    assert any(r.prefix == TO_NO_ONE(family).prefix for r in rs_routes)  # accepted, not sent
    assert_reaches(lab, ONLY_TO_BRAVO(family), sender=ALPHA, to=(BRAVO,))
    assert_reaches(lab, LISTED_WITHOUT_BLOCK(family), sender=ALPHA, to=PEERS)


@FAMILIES
def test_large_control_communities(lab: Lab, family: int) -> None:
    assert_reaches(lab, LARGE_NOT_TO_CHARLIE(family), sender=ALPHA, to=(BRAVO,))
    assert_reaches(lab, LARGE_TO_NO_ONE(family), sender=ALPHA, to=())
    assert_reaches(lab, LARGE_ONLY_TO_BRAVO(family), sender=ALPHA, to=(BRAVO,))


@FAMILIES
def test_control_communities_are_removed_before_export(lab: Lab, family: int) -> None:
    for case in (NOT_TO_CHARLIE, ONLY_TO_BRAVO, LARGE_NOT_TO_CHARLIE, LARGE_ONLY_TO_BRAVO):
        got = only(lab, BRAVO, case(family))
        assert not any(c.startswith(("0:", f"{RS_ASN}:")) for c in got.communities)
        assert not any(
            c.startswith((f"{RS_ASN}:0:", f"{RS_ASN}:1:")) for c in got.large_communities
        )
    assert only(lab, CHARLIE, LISTED_WITHOUT_BLOCK(family)).communities == frozenset()


@FAMILIES
def test_prepend_communities_lengthen_the_path_towards_the_peers_named(
    lab: Lab, family: int
) -> None:
    to_bravo = only(lab, BRAVO, PREPENDED(family))
    to_charlie = only(lab, CHARLIE, PREPENDED(family))
    assert to_bravo.as_path == (ALPHA, ALPHA)
    assert to_charlie.as_path == (ALPHA, ALPHA, ALPHA)
    for got in (to_bravo, to_charlie):
        assert got.communities == frozenset() and got.large_communities == frozenset()
    assert only(lab, BRAVO, BASE(family)).as_path == (ALPHA,)


@FAMILIES
def test_no_advertise_is_honoured_and_no_export_passes_through(
    lab: Lab, rs_routes: list[BirdRoute], family: int
) -> None:
    assert_reaches(lab, NO_ADVERTISE_SET(family), sender=ALPHA, to=())
    assert any(r.prefix == NO_ADVERTISE_SET(family).prefix for r in rs_routes)  # accepted
    assert_reaches(lab, NO_EXPORT_SET(family), sender=ALPHA, to=PEERS)
    assert only(lab, BRAVO, NO_EXPORT_SET(family)).communities == frozenset({NO_EXPORT})


@FAMILIES
def test_one_members_control_choice_never_hides_another_members_path(lab: Lab, family: int) -> None:
    route = SHARED_NOT_TO_CHARLIE(family)
    assert only(lab, CHARLIE, route).as_path == (BRAVO, BRAVO)  # Alpha's best path withheld
    assert only(lab, BRAVO, route).as_path == (ALPHA,)
    assert only(lab, BRAVO, route).communities == frozenset()


# -- 9. blackholing --------------------------------------------------------------------------


@FAMILIES
def test_blackhole_from_an_allowed_member_goes_to_the_blackhole_address(
    lab: Lab, filtered: list[BirdRoute], family: int
) -> None:
    route = BLACKHOLE_ALLOWED(family)
    for asn in PEERS:
        got = only(lab, asn, route)
        assert got.next_hop == (BLACKHOLE4 if family == 4 else BLACKHOLE6)
        assert {BLACKHOLE, NO_EXPORT} <= got.communities
        assert got.as_path == (ALPHA,)
    rejected = BLACKHOLE_NOT_ALLOWED(family)
    assert RejectCode.BLACKHOLE_NOT_ALLOWED in reasons(filtered, rejected, BRAVO)
    assert_reaches(lab, rejected, sender=BRAVO, to=())


# -- 10. graceful shutdown -------------------------------------------------------------------


@FAMILIES
def test_graceful_shutdown_makes_the_draining_path_least_preferred(
    lab: Lab, rs_routes: list[BirdRoute], family: int
) -> None:
    assert only(lab, CHARLIE, SHARED(family)).as_path == (ALPHA,)  # shorter path wins normally
    draining = SHARED_DRAINING(family)
    assert only(lab, CHARLIE, draining).as_path == (BRAVO, BRAVO)
    alpha_copy = [r for r in rs_routes if r.prefix == draining.prefix and r.as_path == (ALPHA,)]
    assert [r.local_pref for r in alpha_copy] == [0]
    assert GRACEFUL_SHUTDOWN in only(lab, BRAVO, draining).communities


# -- looking glass ---------------------------------------------------------------------------


def test_every_filtered_route_carries_at_least_one_reason(filtered: list[BirdRoute]) -> None:
    assert len(filtered) >= 2 * 11
    for route in filtered:
        codes = {
            c for c in route.large_communities if c.startswith(f"{RS_ASN}:{REJECT_NAMESPACE}:")
        }
        assert codes, f"{route.prefix} from {route.protocol} is filtered without a reason"
