"""`ixp rs explain`: each policy rule, accepted and rejected, with every reason reported."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import pytest

from ixp.errors import NotFound, ValidationError
from ixp.rs.codes import RejectCode
from ixp.rs.explain import explain_route, parse_community
from ixp.rs.types import Excluded
from tests.rs import samples

ALPHA = samples.ALPHA.asn
BRAVO = samples.BRAVO.asn
TIER1 = samples.TIER1.asn
BLACKHOLE = (65535, 666)


def codes(
    asn: int,
    prefix: str,
    path: Sequence[int] | None = None,
    next_hop: str | None = None,
    communities: Sequence[tuple[int, ...]] = (),
) -> set[int]:
    result = explain_route(
        samples.context(), asn, prefix, path=path, next_hop=next_hop, communities=communities
    )
    assert result.accepted == (not result.reasons)
    return {r.code for r in result.reasons}


@pytest.mark.parametrize(
    ("asn", "prefix", "path"),
    [
        (ALPHA, "31.10.0.0/16", None),
        (ALPHA, "31.10.5.0/24", None),
        (ALPHA, "2a0a:1000:5::/48", None),
        (BRAVO, "62.40.0.0/18", [BRAVO, BRAVO, BRAVO]),
        (TIER1, "4.0.0.0/9", None),
    ],
)
def test_well_behaved_routes_are_accepted(asn: int, prefix: str, path: list[int] | None) -> None:
    assert codes(asn, prefix, path) == set()


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("31.10.5.128/25", {RejectCode.PREFIX_LENGTH, RejectCode.PREFIX_NOT_IN_AS_SET, 13}),
        ("2a0a:1000:5:1::/64", {RejectCode.PREFIX_LENGTH, RejectCode.PREFIX_NOT_IN_AS_SET, 13}),
        ("10.0.0.0/8", {RejectCode.BOGON_PREFIX, RejectCode.PREFIX_NOT_IN_AS_SET}),
        ("2001:db8::/32", {RejectCode.BOGON_PREFIX, RejectCode.PREFIX_NOT_IN_AS_SET}),
        ("0.0.0.0/0", {RejectCode.PREFIX_LENGTH, RejectCode.BOGON_PREFIX, 9}),
        ("99.0.0.0/16", {RejectCode.PREFIX_NOT_IN_AS_SET}),
        ("31.0.0.0/8", {RejectCode.PREFIX_NOT_IN_AS_SET}),
    ],
)
def test_prefix_rules(prefix: str, expected: set[int]) -> None:
    assert codes(ALPHA, prefix) == expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ([ALPHA, 64512], {RejectCode.BOGON_ASN, RejectCode.ORIGIN_NOT_IN_AS_SET, 13}),
        ([ALPHA, 23456, ALPHA], {RejectCode.BOGON_ASN}),
        ([20202, ALPHA], {RejectCode.FIRST_AS}),
        ([], {RejectCode.FIRST_AS, RejectCode.ORIGIN_NOT_IN_AS_SET, RejectCode.RPKI_INVALID}),
        ([ALPHA] * 33, {RejectCode.AS_PATH_LENGTH}),
        ([ALPHA] * 32, set()),
        ([ALPHA, 1299, ALPHA], {RejectCode.TRANSIT_FREE_ASN}),
        ([ALPHA, 10103], {RejectCode.RPKI_INVALID}),
        ([ALPHA, 777], {RejectCode.ORIGIN_NOT_IN_AS_SET, RejectCode.RPKI_INVALID}),
    ],
)
def test_path_rules(path: list[int], expected: set[int]) -> None:
    assert codes(ALPHA, "31.10.0.0/16", path) == expected


def test_a_transit_free_member_may_be_first_in_its_own_paths() -> None:
    assert codes(TIER1, "4.0.0.0/9", [TIER1, TIER1]) == set()
    assert codes(TIER1, "4.0.0.0/9", [TIER1, 174, TIER1]) == {RejectCode.TRANSIT_FREE_ASN}


def test_next_hop_must_be_the_members_own_address_unless_allowed() -> None:
    assert codes(ALPHA, "31.10.0.0/16", next_hop="185.1.0.12") == {RejectCode.NEXT_HOP}
    assert codes(BRAVO, "62.40.0.0/18", next_hop="185.1.0.99") == set()
    assert codes(BRAVO, "62.40.0.0/18", next_hop="192.0.2.1") == {RejectCode.NEXT_HOP}
    assert codes(ALPHA, "2a0a:1000::/32", next_hop="2001:7f8:ff::12") == {RejectCode.NEXT_HOP}


def test_rpki_states() -> None:
    ctx = samples.context()
    assert explain_route(ctx, ALPHA, "31.10.0.0/16").rpki == "valid"
    assert explain_route(ctx, BRAVO, "62.40.0.0/18").rpki == "unknown"
    invalid = explain_route(ctx, ALPHA, "45.21.0.0/24", path=[ALPHA, 10103])
    assert invalid.rpki == "invalid" and [r.code for r in invalid.reasons] == [13]
    rtr = samples.context(rpki=samples.RpkiSource(samples.ROAS, "rtr.example.net", 3323))
    assert explain_route(rtr, ALPHA, "45.21.0.0/24").rpki.startswith("not evaluated")


def test_a_roa_for_another_origin_makes_the_route_invalid() -> None:
    ctx = samples.context(
        rpki=samples.RpkiSource((samples.RoaEntry("31.10.0.0/16", 16, 50505),), None, 3323)
    )
    result = explain_route(ctx, ALPHA, "31.10.0.0/16")
    assert result.rpki == "invalid"
    assert [r.code for r in result.reasons] == [RejectCode.RPKI_INVALID]


def test_blackholing() -> None:
    accepted = explain_route(samples.context(), ALPHA, "31.10.7.7/32", communities=[BLACKHOLE])
    assert accepted.accepted
    assert any("185.1.0.66" in note and "NO_EXPORT" in note for note in accepted.notes)
    assert codes(ALPHA, "2a0a:1000::1/128", communities=[BLACKHOLE]) == set()
    assert codes(ALPHA, "99.0.0.1/32", communities=[BLACKHOLE]) == {9}
    assert codes(BRAVO, "62.40.0.1/32", communities=[BLACKHOLE]) == {
        RejectCode.BLACKHOLE_NOT_ALLOWED,
        RejectCode.PREFIX_LENGTH,
        RejectCode.PREFIX_NOT_IN_AS_SET,
    }
    assert codes(ALPHA, "31.10.7.7/32") == {
        RejectCode.PREFIX_LENGTH,
        RejectCode.PREFIX_NOT_IN_AS_SET,
        RejectCode.RPKI_INVALID,
    }


def test_blackholing_needs_an_exchange_blackhole_address() -> None:
    ctx = samples.context(blackhole_v4=None)
    result = explain_route(ctx, ALPHA, "31.10.7.7/32", communities=[BLACKHOLE])
    assert RejectCode.BLACKHOLE_NOT_ALLOWED in {r.code for r in result.reasons}


def test_every_reason_is_reported_at_once() -> None:
    result = explain_route(
        samples.context(), ALPHA, "192.168.1.0/25", path=[BRAVO, 64512, 1299], next_hop="185.1.0.9"
    )
    assert [r.code for r in result.reasons] == [1, 3, 4, 7, 14, 8, 9, 10]
    assert all(r.detail for r in result.reasons)


def test_graceful_shutdown_is_noted() -> None:
    result = explain_route(samples.context(), ALPHA, "31.10.0.0/16", communities=[(65535, 0)])
    assert result.accepted and "graceful shutdown: local preference 0" in result.notes


def test_unknown_and_excluded_members_and_bad_input() -> None:
    ctx = samples.context(excluded=(Excluded(40404, "Delta", "status is suspended"),))
    with pytest.raises(NotFound, match="status is suspended"):
        explain_route(ctx, 40404, "31.10.0.0/16")
    with pytest.raises(NotFound, match="not a member"):
        explain_route(ctx, 1, "31.10.0.0/16")
    with pytest.raises(ValidationError, match="prefix"):
        explain_route(ctx, ALPHA, "31.10.0.1/16")
    with pytest.raises(ValidationError, match="no IPv6 session"):
        explain_route(ctx, TIER1, "2a0a:1000::/32")
    with pytest.raises(ValidationError, match="community"):
        parse_community("65535:66666")
    assert parse_community("59900:0:10101") == (59900, 0, 10101)


@pytest.mark.parametrize("text", ["65535:²", "\u0661:\u0662", "65535:66\u0666", "+1:2", " 1 :2"])
def test_communities_take_ascii_digits_only(text: str) -> None:
    with pytest.raises(ValidationError, match="community"):
        parse_community(text)


def test_members_without_announcement_control_keep_the_policy() -> None:
    quiet = replace(samples.ALPHA, announcement_control=False)
    ctx = samples.context(members=(quiet,))
    result = explain_route(ctx, ALPHA, "31.10.7.7/32", communities=[BLACKHOLE, (0, BRAVO)])
    assert result.accepted
