"""AS-SET expansion survives loops, missing sets, depth bombs and huge sets."""

from __future__ import annotations

import pytest

from ixp.irr.expand import ExpansionTooLarge, expand_as_set


class Sets(dict[str, list[str]]):
    def as_set(self, name: str) -> list[str] | None:
        return self.get(name)


def test_loops_end_and_every_asn_is_found() -> None:
    sets = Sets({"AS-A": ["AS1", "AS-B"], "AS-B": ["AS2", "AS-A", "AS-C"], "AS-C": ["AS-A", "AS3"]})
    result = expand_as_set("as-a", sets, max_depth=20, max_asns=100)
    assert result.asns == {1, 2, 3}
    assert result.found and not result.missing and not result.too_deep


def test_missing_sets_are_noted_and_the_rest_kept() -> None:
    sets = Sets({"AS-A": ["AS1", "AS-GONE", "AS-B"], "AS-B": ["AS2", "AS-ALSO-GONE"]})
    result = expand_as_set("AS-A", sets, max_depth=20, max_asns=100)
    assert result.asns == {1, 2}
    assert result.missing == ("AS-ALSO-GONE", "AS-GONE")
    assert "missing sets AS-ALSO-GONE, AS-GONE" in result.notes()[0]


def test_missing_top_level_set_is_not_found() -> None:
    result = expand_as_set("AS-NOWHERE", Sets(), max_depth=20, max_asns=100)
    assert not result.found and result.asns == frozenset()


def test_depth_bomb_stops_at_max_depth() -> None:
    sets = Sets({f"AS-D{i}": [f"AS{i + 1}", f"AS-D{i + 1}"] for i in range(10_000)})
    result = expand_as_set("AS-D0", sets, max_depth=5, max_asns=100_000)
    assert result.asns == {1, 2, 3, 4, 5}
    assert result.too_deep == ("AS-D5",)
    assert "beyond max depth" in result.notes()[0]


def test_huge_set_is_refused_not_truncated() -> None:
    sets = Sets({"AS-BIG": [f"AS{n}" for n in range(1, 2_000)]})
    with pytest.raises(ExpansionTooLarge, match="more than 1000 ASNs"):
        expand_as_set("AS-BIG", sets, max_depth=5, max_asns=1_000)


def test_plain_asn_expands_to_itself() -> None:
    result = expand_as_set("as38193", Sets(), max_depth=5, max_asns=10)
    assert result.asns == {38193} and result.found
