"""Test announcements in both address families, shared by the live route-server tests.

Every policy rule is proven in IPv4 and IPv6, so a test route is a pair: the
test is parametrised by family and picks its variant with ``case(family)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ixp.lab.exabgp import Route


@dataclass(frozen=True)
class Case:
    """One announcement per family: the IPv4 and the IPv6 variant of a test route."""

    v4: Route
    v6: Route

    def __call__(self, family: int) -> Route:
        return self.v4 if family == 4 else self.v6


def pair(prefix4: str, prefix6: str, **attributes: Any) -> Case:
    """The same announcement for an IPv4 and an IPv6 prefix."""
    return Case(Route(prefix4, **attributes), Route(prefix6, **attributes))
