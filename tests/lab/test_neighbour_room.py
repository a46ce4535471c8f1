"""The lab sizes the kernel's neighbour tables for the sessions its route servers try.

A route server configured for 1,000 members tries every member address; past
the kernel's hard limit (1,024 entries by default) live members' entries are
dropped too and BGP to them crawls (found by bench/push.py). The tables are one
per family for every namespace, so the lab raises the host's limits and never
lowers them.
"""

from __future__ import annotations

import subprocess

import pytest

from ixp.lab import netns
from ixp.lab.lab import Lab
from ixp.lab.layout import LabLayout, RouteServerNode
from ixp.settings import Settings
from tests.lab.harness import skip_reason

pytestmark = [pytest.mark.netns]

TABLES = ("net.ipv4.neigh.default", "net.ipv6.neigh.default")


def limits() -> dict[str, int]:
    return {
        f"{table}.{key}": int(
            subprocess.run(
                ["sysctl", "-n", f"{table}.{key}"], capture_output=True, text=True, check=True
            ).stdout
        )
        for table in TABLES
        for key in ("gc_thresh2", "gc_thresh3")
    }


@pytest.fixture(autouse=True)
def _lab_possible() -> None:
    reason = skip_reason()
    if reason:
        pytest.skip(reason)


def test_the_limits_are_raised_to_what_is_asked_and_never_lowered() -> None:
    before = limits()
    wanted = max(before.values()) + 1
    netns.ensure_neighbour_room(wanted)
    raised = limits()
    for table in TABLES:
        assert raised[f"{table}.gc_thresh2"] == wanted
        assert raised[f"{table}.gc_thresh3"] == max(2 * wanted, before[f"{table}.gc_thresh3"])
    netns.ensure_neighbour_room(1)
    assert limits() == raised


def test_the_lab_counts_every_configured_neighbour(settings: Settings) -> None:
    config = "".join(
        f"protocol bgp m{i} {{\n\tneighbor 185.1.0.{i} as 6451{i};\n}}\n" for i in range(7)
    )
    layout = LabLayout(
        lan4="185.1.0.0/24",
        lan6=None,
        route_servers=(RouteServerNode("rs1", 64500, "185.1.0.1", "185.1.0.1", None),),
        members=(),
    )
    lab = Lab(layout, settings, {"rs1": config})
    assert lab.neighbour_entries() == 7 + 1024
