"""Pointing the monitor at a running lab (``ixp monitor run --lab``, ``ixp routes --lab``).

Lab-only glue, kept in the lab so the monitor's production code never depends
on the lab: the monitor takes settings and control-socket paths, and this
module says what they are for the lab another process started with ``ixp lab up``.
"""

from __future__ import annotations

from ixp.errors import NotFound, Remedy, ValidationError
from ixp.lab.lab import Lab
from ixp.settings import Settings


def running_lab(settings: Settings) -> Lab:
    """The lab ``ixp lab up`` started for ``settings``; NotFound when none is up."""
    lab = Lab.load(settings)
    if lab is None:
        raise NotFound("not up", field="lab", hint=Remedy.LAB_UP)
    return lab


def lab_sockets(settings: Settings) -> dict[str, str]:
    """The control sockets of the lab's route servers, by route-server name."""
    lab = running_lab(settings)
    return {rs.name: str(lab.bird(rs.name).socket) for rs in lab.layout.route_servers}


def lab_overrides(settings: Settings) -> tuple[Settings, dict[str, str]]:
    """Settings and control sockets to monitor the lab of ``settings``.

    The collector gets its own node on the lab's peering LAN (created once, and
    removed by ``ixp lab down`` like every other node), at the collector
    addresses the route-server configs were built with.
    """
    if not (settings.collector_ipv4 or settings.collector_ipv6):
        raise ValidationError("collector_ipv4", None, "must be set to monitor the lab")
    lab = running_lab(settings)
    try:
        node = lab.node("collector")
    except NotFound:
        node = lab.add_node("collector", settings.collector_ipv4, settings.collector_ipv6)
    update = {"monitor_collector_namespace": node.namespace}
    return settings.model_copy(update=update), lab_sockets(settings)
