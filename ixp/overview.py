"""What the public sees of the exchange: the portal's home page, in one call.

Everything here comes from data already public: the exchange, its peering LAN,
route servers and members are read from the IX-F member export document (the
same one ``/ixf/member-export.json`` serves, so the two never disagree), and the
headline figures from the reachability samples (``ixp.monitor.reach``) and the
traffic measured over the fabric (``ixp.traffic.report``): exchange-wide sums only,
never one member's figures.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from ixp import ixf
from ixp.exchange import get_exchange
from ixp.monitor import reach
from ixp.monitor.reach import ReachReport
from ixp.traffic import report
from ixp.traffic.report import Estimate, Period, Share

# The months looked back over for the latest measured local share.
_SHARE_MONTHS = 3


@dataclass(frozen=True)
class PublicRouteServer:
    """A route server members peer with."""

    name: str
    asn: int
    ipv4: str | None
    ipv6: str | None


@dataclass(frozen=True)
class PublicMember:
    """A member as the public list shows it: who, since when, how connected."""

    asn: int
    name: str
    url: str | None
    state: str
    since: str | None
    speed_mbps: int | None
    ipv4: tuple[str, ...]
    ipv6: tuple[str, ...]
    route_server: bool


@dataclass(frozen=True)
class PublicOverview:
    """The exchange for the public: the LAN, route servers, members and reachability."""

    name: str
    country: str
    url: str | None
    vlan_id: int | None
    lan_v4: str | None
    lan_v6: str | None
    route_servers: tuple[PublicRouteServer, ...]
    members: tuple[PublicMember, ...]
    reach: ReachReport
    traffic: LocalTraffic | None


@dataclass(frozen=True)
class LocalTraffic:
    """Traffic the exchange kept in the country over ``period``: what crossed the fabric
    between members on the ``days`` it was measured, and the latest month's local share
    of the members with an international (or total) figure, if any."""

    period: Period
    days: int
    local: Estimate
    share: Share | None

    @property
    def average_bits_per_second(self) -> float:
        """The mean rate over the days measured (not over days without data)."""
        return self.local.bytes * 8 / (self.days * 86400)


def local_traffic(session: Session, today: dt.date, max_error: float) -> LocalTraffic | None:
    """The last 30 days' local traffic, or None when nothing was measured in them."""
    period = Period.of(None, None, today)
    days = report.daily(session, period, max_error)
    if not days:
        return None
    local = Estimate.of(
        sum(d.local.bytes for d in days), sum(d.local.samples for d in days), max_error
    )
    back = today.year * 12 + today.month - _SHARE_MONTHS  # months since year 0, 0-based
    recent = Period(dt.date(back // 12, back % 12 + 1, 1), period.until)
    shares = [
        s
        for s in report.local_shares(session, recent, max_error)
        if s.asn is None and s.status == "measured"
    ]
    return LocalTraffic(period, len(days), local, shares[-1] if shares else None)


def _subnet(vlan: Mapping[str, Any], family: str) -> str | None:
    entry = vlan.get(family)
    return f"{entry['prefix']}/{entry['mask_length']}" if entry else None


def _addresses(vlans: list[Mapping[str, Any]], family: str) -> tuple[str, ...]:
    return tuple(v[family]["address"] for v in vlans if family in v)


def _route_server(entry: Mapping[str, Any]) -> PublicRouteServer:
    vlans = entry["connection_list"][0]["vlan_list"]
    ipv4, ipv6 = _addresses(vlans, "ipv4"), _addresses(vlans, "ipv6")
    return PublicRouteServer(
        entry["name"], entry["asnum"], ipv4[0] if ipv4 else None, ipv6[0] if ipv6 else None
    )


def _member(entry: Mapping[str, Any]) -> PublicMember:
    connection = entry["connection_list"][0]
    vlans = connection.get("vlan_list", [])
    speeds = [i["if_speed"] for i in connection.get("if_list", []) if "if_speed" in i]
    return PublicMember(
        asn=entry["asnum"],
        name=entry["name"],
        url=entry.get("url"),
        state=connection["state"],
        since=entry.get("member_since", "")[:10] or None,
        speed_mbps=sum(speeds) or None,
        ipv4=_addresses(vlans, "ipv4"),
        ipv6=_addresses(vlans, "ipv6"),
        route_server=any(
            v[family].get("routeserver", False)
            for v in vlans
            for family in ("ipv4", "ipv6")
            if family in v
        ),
    )


def public_overview(
    session: Session,
    *,
    ixf_id: int = 0,
    history: int = 30,
    max_error: float,
    today: dt.date | None = None,
) -> PublicOverview:
    """The exchange as its home page shows it, with ``history`` reachability samples and
    the local traffic up to ``today`` (figures whose error passes ``max_error`` marked)."""
    exchange = get_exchange(session)
    document = ixf.export_document(session, exchange, ixf_id=ixf_id)
    (ixp,) = document["ixp_list"]
    vlan = ixp["vlan"][0]
    entries = document["member_list"]
    return PublicOverview(
        name=ixp["name"],
        country=ixp["country"],
        url=ixp.get("url"),
        vlan_id=vlan.get("id"),
        lan_v4=_subnet(vlan, "ipv4"),
        lan_v6=_subnet(vlan, "ipv6"),
        route_servers=tuple(_route_server(e) for e in entries if e["member_type"] == "ixp"),
        members=tuple(
            sorted(
                (_member(e) for e in entries if e["member_type"] != "ixp"),
                key=lambda m: m.asn,
            )
        ),
        reach=reach.report(session, exchange, history=history, top=0),
        traffic=local_traffic(session, today or dt.datetime.now(dt.UTC).date(), max_error),
    )
