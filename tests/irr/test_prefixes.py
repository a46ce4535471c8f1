"""Prefix lists: canonical text, bgpq4 -R max lengths and aggregation that never widens."""

from __future__ import annotations

from ixp.irr.prefixes import aggregate, canonical_prefix, max_length_for, parse_prefix
from ixp.irr.types import PrefixEntry


def test_parse_and_canonical_form() -> None:
    assert parse_prefix("193.0.0.0/21") == (4, (193 << 24), 21)
    assert canonical_prefix("2001:0DB8:0000::/32") == (6, "2001:db8::/32")
    for bad in ("193.0.0.1/21", "193.0.0.0", "193.0.0.0/33", "300.0.0.0/8", "x/8", "::/129"):
        assert parse_prefix(bad) is None, bad


def test_max_length_is_the_limit_or_the_registered_length() -> None:
    assert max_length_for(19, 24) == 24
    assert max_length_for(25, 24) == 25


def test_covered_entries_are_dropped_and_the_rest_sorted() -> None:
    entries = [
        ("203.99.176.0/20", 24),  # inside the /19, same max: covered
        ("203.99.160.0/19", 24),
        ("39.32.0.0/11", 24),
        ("203.99.160.0/19", 24),  # duplicate
        ("203.99.180.0/24", 24),  # covered
    ]
    assert aggregate(4, entries) == (
        PrefixEntry("39.32.0.0/11", 24),
        PrefixEntry("203.99.160.0/19", 24),
    )


def test_entry_allowing_longer_than_its_parent_is_kept() -> None:
    entries = [("193.0.0.0/21", 22), ("193.0.4.0/23", 24), ("193.0.0.0/21", 21)]
    assert aggregate(4, entries) == (
        PrefixEntry("193.0.0.0/21", 22),
        PrefixEntry("193.0.4.0/23", 24),
    )


def test_siblings_are_not_merged_into_their_parent() -> None:
    entries = [("193.0.0.0/24", 24), ("193.0.1.0/24", 24)]
    assert [e.prefix for e in aggregate(4, entries)] == ["193.0.0.0/24", "193.0.1.0/24"]


def test_other_family_and_garbage_are_dropped() -> None:
    entries = [("2400:fc00::/32", 48), ("2400:fc00:8000::/33", 48), ("10.0.0.0/8", 24), ("x", 1)]
    assert aggregate(6, entries) == (PrefixEntry("2400:fc00::/32", 48),)
