"""Shared pieces of the live tests: why they would skip, and a lab that always comes down.

Test modules build a :class:`~ixp.lab.lab.Lab` in a module-scoped fixture with
:func:`running_lab`; its ``finally`` removes every namespace even when the
fixture or a test fails, so concurrent runs on the same machine never see
leftovers.
"""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import pytest

from ixp.lab import netns
from ixp.lab.exabgp import ReceivedRoute
from ixp.lab.lab import Lab
from ixp.lab.layout import LabLayout
from ixp.settings import Settings


def skip_reason() -> str | None:
    """Why live lab tests cannot run here, or None if they can."""
    reason = netns.available()
    if reason:
        return reason
    if shutil.which("bird") is None:
        return "bird (BIRD 2) is not installed"
    if importlib.util.find_spec("exabgp") is None:
        return "ExaBGP is not installed"
    return None


def require_lab() -> None:
    """Skip the calling test or fixture when the lab cannot run here."""
    reason = skip_reason()
    if reason:
        pytest.skip(reason)


@contextmanager
def running_lab(
    layout: LabLayout, settings: Settings, rs_configs: Mapping[str, str], *, converge: bool = True
) -> Iterator[Lab]:
    """A lab that is up (and converged, unless told not to wait) and always torn down after."""
    require_lab()
    lab = Lab(layout, settings, rs_configs)
    try:
        lab.up()
        if converge:
            lab.wait_converged(timeout=60)
        yield lab
    finally:
        lab.down()


def routes_of(lab: Lab, asn: int, prefix: str) -> list[ReceivedRoute]:
    """Every copy of ``prefix`` member ``asn`` holds (one per route-server session)."""
    return [route for route in lab.member(asn).received().values() if route.prefix == prefix]
