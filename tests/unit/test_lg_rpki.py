"""The looking glass shows an accepted route's RPKI state as the large community Alice-LG
reads, whether the route server keeps it in ``rs_rpki`` only or also sends the community."""

from __future__ import annotations

import datetime as dt

import pytest

from ixp.bird import BirdRoute
from ixp.lg import shapes
from ixp.rs.codes import RPKI_NAMESPACE, RpkiTag, rpki_community

RS_ASN = 38195
NOW = dt.datetime(2026, 12, 2, tzinfo=dt.UTC)
OWN = ("64500:100:7",)


def shown(route: BirdRoute) -> list[list[int]]:
    large: list[list[int]] = shapes.route(route, NOW, RS_ASN)["bgp"]["large_communities"]
    return large


def accepted(rpki: RpkiTag | None, large_communities: tuple[str, ...] = OWN) -> BirdRoute:
    return BirdRoute(
        "master4", "45.64.0.0/20", "AS64500_v4_1", True,
        large_communities=large_communities, rpki=rpki,
    )  # fmt: skip


@pytest.mark.parametrize("tag", list(RpkiTag))
def test_the_state_kept_in_the_attribute_is_shown_as_the_community(tag: RpkiTag) -> None:
    assert shown(accepted(tag)) == [[64500, 100, 7], [RS_ASN, RPKI_NAMESPACE, tag.value]]


@pytest.mark.parametrize("tag", list(RpkiTag))
def test_a_community_the_route_server_sent_as_well_is_shown_once(tag: RpkiTag) -> None:
    sent = (*OWN, rpki_community(RS_ASN, tag))
    assert shown(accepted(tag, sent)) == [[64500, 100, 7], [RS_ASN, RPKI_NAMESPACE, tag.value]]


def test_a_route_without_a_state_gets_no_rpki_community() -> None:
    assert shown(accepted(None)) == [[64500, 100, 7]]
