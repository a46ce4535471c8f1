"""``ixp traffic demo``: days of traffic for the demo exchange, from a generated sFlow stream.

The demo has no switches, so a ``sflowgen.Stream`` plays them: its members are the
demo's members (their registered router MACs), plus one router nobody registered,
with a load that follows the time of day. Every datagram goes through the same
aggregator and storage as the collector's, bucket by bucket, then the rollup runs
and the unknown-MAC alert is raised: the report, the API and the portal show the
graphs, the matrix and the shares of a working exchange. About half the members
get an international traffic figure for each month, so the local share has
members with a figure and members shown without one.

Nothing is written when the database holds traffic already (running ``make demo``
again changes nothing).
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ixp.db import transaction
from ixp.models import TrafficPair
from ixp.models.base import utcnow
from ixp.settings import Settings
from ixp.traffic import alerts, international, report, rollup, sflowgen, store
from ixp.traffic.buckets import BUCKET_SECONDS, Aggregator, Bucket

log = logging.getLogger(__name__)

# A router on the fabric that no member registered: the demo's unknown-MAC alert.
UNREGISTERED_MAC = bytes.fromhex("0200c0ffee01")
_DAY = 86400


@dataclass(frozen=True)
class DemoTraffic:
    """What ``load_demo_traffic`` wrote (``buckets`` 0: there was traffic already)."""

    buckets: int
    samples: int
    members: int
    figures: int  # international figures entered
    since: dt.datetime | None
    until: dt.datetime | None


def load_demo_traffic(
    session: Session,
    settings: Settings,
    *,
    days: int = 3,
    samples_per_second: float = 1.5,
    seed: int = 2026,
    actor: str,
) -> DemoTraffic:
    """Generate ``days`` days of sFlow up to the current bucket and store it as the
    collector would, with about ``samples_per_second`` samples a second on average."""
    if session.scalar(select(func.count()).select_from(TrafficPair)):
        return DemoTraffic(0, 0, 0, 0, None, None)
    directory = store.mac_directory(session, settings.traffic_exchange_macs)
    by_asn: dict[int, str] = {}
    for mac, asn in sorted(directory.members.items()):
        by_asn.setdefault(asn, mac)
    macs = [bytes.fromhex(mac.replace(":", "")) for _, mac in sorted(by_asn.items())]
    now = int(utcnow().timestamp())
    end = now - now % BUCKET_SECONDS
    start = end - days * _DAY
    spec = sflowgen.Spec(
        seed=seed,
        agents=2,
        ipv6_agents=0,
        expanded_agents=0,
        members=len(macs) + 1,
        sampling_rate=16384,
        samples_per_second=samples_per_second,
        start=float(start),
        diurnal=0.6,
        counter_interval=120.0,  # switches send every 20-30 s; the demo needs fewer
    )
    stream = sflowgen.Stream(spec, [*macs, UNREGISTERED_MAC])
    aggregator = Aggregator()
    homes: dict[str, store.Port] = {}
    written = samples = 0
    batch = max(1, int(samples_per_second * BUCKET_SECONDS))
    clock = float(start)

    def write(closed: list[Bucket]) -> None:
        nonlocal written, samples
        for bucket in closed:
            store.write(session, store.rows_of_bucket(bucket, directory, homes))
            written += 1
            samples += sum(agent.flow_samples for agent in bucket.agents)

    with transaction(session):  # one commit for days of buckets, not one each
        while clock < end:
            for packet in stream.packets(batch):
                clock = packet.time
                if clock >= end:
                    break
                aggregator.add(packet.payload, packet.source, clock)
            write(aggregator.close(before=clock))
        write(aggregator.close(before=end))
    rollup.rollup(
        session,
        complete_until=end,
        now=now,
        keep_5min_days=settings.traffic_keep_5min_days,
        keep_hourly_days=settings.traffic_keep_hourly_days,
    )
    alerts.sync_unknown_macs(
        session, directory, utcnow(), settings.traffic_unknown_mac_clear_minutes
    )
    session.commit()
    figures = _figures(session, settings, start, end, seed, actor)
    return DemoTraffic(
        written,
        samples,
        len(macs),
        figures,
        dt.datetime.fromtimestamp(start, dt.UTC),
        dt.datetime.fromtimestamp(end, dt.UTC),
    )


def _figures(session: Session, settings: Settings, start: int, end: int, seed: int,
             actor: str) -> int:  # fmt: skip
    """International figures for about half the members, per month of the demo: 1.5 to 5
    times their local traffic, so their shares lie between 17% and 40%."""
    rng = random.Random(seed)
    period = report.Period(
        dt.datetime.fromtimestamp(start, dt.UTC).date(),
        dt.datetime.fromtimestamp(end, dt.UTC).date() + dt.timedelta(days=1),
    )
    entered = 0
    for share in report.local_shares(session, period, settings.traffic_max_error):
        if share.asn is None or share.name is None or rng.random() < 0.5:
            continue
        factor = rng.uniform(1.5, 5.0)
        international.set_figure(
            session, share.asn, share.month, int(share.local.bytes * factor), actor=actor
        )
        entered += 1
    return entered
