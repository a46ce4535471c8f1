"""BIRD's parsed answers in the shapes birdwatcher serves, so Alice-LG reads them unchanged.

The field names, types and nesting follow birdwatcher's parser (its ``bird``
package) and what Alice-LG's birdwatcher source reads:

* protocols are a map keyed by protocol name; each has ``routes`` (counts as
  JSON numbers, summed over the channels), ``channels``, ``route_changes``,
  ``state``, ``state_changed`` and, for BGP, ``neighbor_address``,
  ``neighbor_as`` (a number), ``description`` and ``last_error``;
* a route has ``network``, ``gateway``, ``interface``, ``from_protocol``,
  ``age``, ``learnt_from``, ``primary``, ``metric`` (BIRD's preference),
  ``type`` and ``bgp``; in ``bgp``, ``as_path`` is a list of ASNs *as strings*,
  ``communities`` and ``large_communities`` lists of number lists,
  ``ext_communities`` lists of three strings, and every other ``BGP.*``
  attribute (``origin``, ``next_hop``, ``local_pref``, ``med`` ...) the text
  BIRD printed, left out when BIRD printed none. A route's RPKI state is
  among its ``large_communities`` as ``[rs_asn, 1000, n]`` even when the route
  server keeps it in a BIRD attribute only (``codes.RPKI_ATTRIBUTE``).

Times differ on purpose: birdwatcher passes BIRD's own text on, whose format
depends on BIRD's ``timeformat`` and on the age of the entry (``12:00:00.123``
today, ``2024-01-01`` before); here every time is one format in UTC,
:data:`SERVER_TIME` (Go layout ``2006-01-02 15:04:05``), and the cache times
are RFC 3339 (:data:`CACHE_TIME`, Go layout ``2006-01-02T15:04:05Z07:00``), so a
single Alice-LG configuration reads them all.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from typing import Any

from ixp.bird import BirdRoute, BirdStatus, ProtocolStatus, parse_bird_time
from ixp.rs.codes import rpki_community

SERVER_TIME = "%Y-%m-%d %H:%M:%S"
"""Protocol, route and status times (Alice-LG ``servertime_short`` and ``servertime_ext``)."""

CACHE_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"
"""``ttl`` and the cache times (Alice-LG ``servertime``)."""

_COUNTS = ("imported", "filtered", "exported", "preferred")
# BGP attributes with a shape of their own; any other is passed on as BIRD's text.
_SHAPED = {"as_path", "community", "large_community", "ext_community"}


@functools.lru_cache(maxsize=4096)
def server_time(text: str, now: dt.datetime) -> str:
    """A time as BIRD printed it, in :data:`SERVER_TIME`; text that is no time stays as it is.

    BIRD prints only the time of day for the last 20 hours; a time of day later
    than ``now`` is therefore yesterday's. The last few thousand readings are
    kept: the routes of one answer share ``now`` and, routes of a session
    arriving together, mostly a few hundred distinct times.
    """
    parsed = parse_bird_time(text, now.date())
    if parsed is None:
        return text
    if parsed > now:
        parsed -= dt.timedelta(days=1)
    return parsed.strftime(SERVER_TIME)


def cache_time(moment: dt.datetime) -> str:
    """A cache time in :data:`CACHE_TIME` (UTC)."""
    return moment.astimezone(dt.UTC).strftime(CACHE_TIME)


def status(bird: BirdStatus, now: dt.datetime) -> dict[str, Any]:
    """``/status``: BIRD's version, router id, times and its state line."""
    return {
        "current_server": server_time(bird.server_time, now),
        "last_reboot": server_time(bird.last_reboot, now),
        "last_reconfig": server_time(bird.last_reconfig, now),
        "version": bird.version,
        "message": bird.message,
        "router_id": bird.router_id,
    }


def _counts(values: Iterable[dict[str, int]]) -> dict[str, int]:
    total = dict.fromkeys(_COUNTS, 0)
    for value in values:
        for key in _COUNTS:
            total[key] += value[key]
    return total


def protocol(p: ProtocolStatus, now: dt.datetime) -> dict[str, Any]:
    """One entry of ``/protocols``: the row, its BGP details, route counts and channels.

    Each channel carries its counts as ``routes`` (birdwatcher's name) and again
    as ``routes_count`` (the name Alice-LG reads for per-channel counts).
    """
    channels: dict[str, Any] = {}
    changes: dict[str, dict[str, int]] = {}
    for name, channel in p.channels.items():
        counts = {key: getattr(channel, key) for key in _COUNTS}
        channels[name] = {"state": channel.state, "routes": counts, "routes_count": counts}
        for row, columns in channel.route_changes.items():
            summed = changes.setdefault(row, {})
            for column, number in columns.items():
                summed[column] = summed.get(column, 0) + number
    entry: dict[str, Any] = {
        "protocol": p.name,
        "bird_protocol": p.proto,
        "table": p.table,
        "state": p.state,
        "state_changed": server_time(p.since, now),
        "connection": p.info,
        "channels": channels,
        "route_changes": changes,
        "routes": _counts(c["routes"] for c in channels.values()),
    }
    details = {
        "description": p.description,
        "bgp_state": p.bgp_state,
        "neighbor_address": p.neighbor_address,
        "neighbor_as": p.neighbor_as,
        "local_as": p.local_as,
        "last_error": p.last_error,
    }
    entry.update((key, value) for key, value in details.items() if value is not None)
    return entry


def protocol_row(p: ProtocolStatus, now: dt.datetime) -> dict[str, Any]:
    """One entry of ``/protocols/short``: the row of ``show protocols``."""
    return {
        "proto": p.proto,
        "table": p.table,
        "state": p.state,
        "since": server_time(p.since, now),
        "info": p.info,
    }


def _numbers(communities: Iterable[str]) -> list[list[int]]:
    return [[int(part) for part in community.split(":")] for community in communities]


def _large_communities(r: BirdRoute, rs_asn: int) -> tuple[str, ...]:
    """The route's large communities with its RPKI state as ``rs_asn:1000:n`` among them.

    The route server keeps the state in a BIRD attribute (``codes.RPKI_ATTRIBUTE``)
    unless the exchange sends it to members; Alice-LG reads RPKI states only from
    large communities, so the looking glass shows it as one either way.
    """
    if r.rpki is None:
        return r.large_communities
    tag = rpki_community(rs_asn, r.rpki)
    return r.large_communities if tag in r.large_communities else (*r.large_communities, tag)


def route(r: BirdRoute, now: dt.datetime, rs_asn: int) -> dict[str, Any]:
    """One entry of ``routes`` from route server ``rs_asn``.

    ``gateway`` is the address of BIRD's ``via`` line, or the BGP next hop when
    BIRD showed none (an unresolved next hop); ``learnt_from`` is the ``from``
    address BIRD shows when the route came from another address than its gateway.
    """
    bgp: dict[str, Any] = {key: value for key, value in r.attributes.items() if key not in _SHAPED}
    bgp["as_path"] = [str(asn) for asn in r.as_path]
    bgp["communities"] = _numbers(r.communities)
    bgp["large_communities"] = _numbers(_large_communities(r, rs_asn))
    bgp["ext_communities"] = [list(community) for community in r.ext_communities]
    return {
        "network": r.prefix,
        "gateway": r.gateway or r.next_hop,
        "interface": r.interface,
        "from_protocol": r.protocol,
        "age": server_time(r.since, now),
        "learnt_from": r.source,
        "primary": r.primary,
        "metric": r.preference,
        "type": list(r.route_type),
        "bgp": bgp,
    }
