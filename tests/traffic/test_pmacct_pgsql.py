"""pmacct at larger exchanges: a real sfacctd writes the matrix into the real PostgreSQL the
tests start, and ``import_pmacct`` moves it into the same tables as the built-in collector.

sfacctd gets the shipped pgsql configuration (``ixp/data/pmacct/sfacctd-pgsql.conf``)
rendered from ixp's own settings, and a generated stream over UDP on loopback; the
built-in aggregator reads the same datagrams. The matrix imported from sfacctd must
attribute the same bytes to the same member pairs, within each pair's sampling error
(they read the same samples, so in practice to the byte).
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from ixp import db
from ixp.models import TrafficPair, TrafficUnknownMac
from ixp.monitor import alerts
from ixp.settings import Settings
from ixp.traffic import buckets, pmacct_sql, sflowgen
from tests import pg
from tests.traffic.exchange import asn_of, generated_mac, traffic_exchange
from tests.traffic.test_sfacctd import SFACCTD, _free_udp_port, _send
from tests.traffic.test_store import UNKNOWN, sample

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(SFACCTD is None, reason="sfacctd (Debian package pmacct) missing"),
]
RATE = 4096  # the generator's sampling rate
_names = itertools.count()


@pytest.fixture
def pg_settings(pg_server: pg.PgServer, tmp_path: Path) -> Iterator[Settings]:
    """Settings on a fresh, migrated PostgreSQL database (pmacct writes only PostgreSQL)."""
    name = f"ixp_pmacct_{os.getpid()}_{next(_names)}"
    admin = create_engine(pg_server.url("postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name} TEMPLATE ixp_template"))
    yield Settings(
        home=tmp_path / "home",
        database_url=pg_server.url(name),
        traffic_pmacct_sampling_rate=RATE,
    )
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture
def pg_session(pg_settings: Settings) -> Iterator[Session]:
    engine = db.make_engine(pg_settings.effective_database_url)
    with db.session_factory(engine)() as session:
        yield session
    engine.dispose()


@pytest.fixture
def sfacctd_pgsql(pg_settings: Settings, pg_session: Session, tmp_path: Path) -> Iterator[int]:
    """sfacctd with the shipped pgsql configuration on a loopback port (its UDP port),
    stopped with its plugin afterwards even when the test fails."""
    assert SFACCTD is not None
    pmacct_sql.ensure_table(pg_session, pg_settings)
    port = _free_udp_port()
    config = tmp_path / "sfacctd.conf"
    config.write_text(
        pmacct_sql.sfacctd_pgsql_config(
            pg_settings, listen="127.0.0.1", port=port, refresh_seconds=1
        )
    )
    log = tmp_path / "sfacctd.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [SFACCTD, "-f", str(config)], stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 15
        while b"Purging cache - END" not in log.read_bytes():
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"sfacctd did not start: {log.read_text()[-2000:]}")
            time.sleep(0.05)
        yield port
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _their_bytes(session: Session, settings: Settings) -> int:
    table = settings.traffic_pmacct_table
    return int(session.scalar(text(f"SELECT coalesce(sum(bytes), 0) FROM {table}")) or 0)


def _wait_for_rows(session: Session, settings: Settings, total: int) -> None:
    deadline = time.monotonic() + 30
    while _their_bytes(session, settings) < total and time.monotonic() < deadline:
        time.sleep(0.5)
        session.rollback()


def _imported(session: Session) -> dict[tuple[int, int], tuple[int, int]]:
    found: dict[tuple[int, int], list[int]] = {}
    for row in session.scalars(select(TrafficPair).where(TrafficPair.resolution == 300)):
        counts = found.setdefault((row.src_asn, row.dst_asn), [0, 0])
        counts[0] += row.samples4 + row.samples6
        counts[1] += row.bytes4 + row.bytes6
    return {pair: (samples, size) for pair, (samples, size) in found.items()}


def test_sfacctd_rows_in_postgresql_become_the_same_matrix_as_the_built_in_one(
    pg_settings: Settings, pg_session: Session, sfacctd_pgsql: int
) -> None:
    session, settings = pg_session, pg_settings
    traffic_exchange(session, 40)
    stream = sflowgen.Stream(sflowgen.Spec(seed=11, samples_per_second=2000, qinq_share=0.0))
    packets = list(stream.packets(5000))
    aggregator = buckets.Aggregator()
    for packet in packets:
        aggregator.add(packet.payload, packet.source, packet.time)
    ours: dict[tuple[int, int], buckets.Totals] = {}
    for bucket in aggregator.close():
        for (src, dst), totals in buckets.pair_totals(bucket.flows).items():
            ours[(asn_of(int(src[-2:], 16)), asn_of(int(dst[-2:], 16)))] = totals
    our_total = sum(t.bytes for t in ours.values())

    _send(packets, sfacctd_pgsql)
    _wait_for_rows(session, settings, our_total)
    done = pmacct_sql.import_pmacct(session, settings, now=time.time() + 900)
    assert done.rows > 0 and done.too_old == 0

    imported = _imported(session)
    assert set(imported) == set(ours)
    for pair, totals in ours.items():
        low, high = totals.bytes_interval()
        assert low <= imported[pair][1] <= high, (pair, totals, imported[pair])
        assert imported[pair][0] == totals.samples  # packets / rate, one rate everywhere
    assert sum(size for _, size in imported.values()) == our_total
    assert _their_bytes(session, settings) == 0  # taken out of sfacctd's table

    # Nothing is imported twice; what sfacctd adds later for the bucket is added.
    assert pmacct_sql.import_pmacct(session, settings, now=time.time() + 900).rows == 0
    a, b = generated_mac(0), generated_mac(1)
    samples = [sample(1, a, b, rate=RATE), sample(2, UNKNOWN, a, rate=RATE)]
    late = sflowgen.datagram("192.0.2.9", 0, 1, 1, samples)
    _send([sflowgen.Packet(time.time(), "127.0.0.1", late)], sfacctd_pgsql)
    _wait_for_rows(session, settings, 2 * 1000 * RATE)
    pmacct_sql.import_pmacct(session, settings, now=time.time() + 900)
    before = ours.get((asn_of(0), asn_of(1)), buckets.Totals(0, 0, 0))
    assert _imported(session)[(asn_of(0), asn_of(1))] == (
        before.samples + 1, before.bytes + 1000 * RATE,
    )  # fmt: skip
    sightings = session.scalar(select(func.count()).select_from(TrafficUnknownMac))
    assert sightings == 1
    (alert,) = alerts.alert_list(session)
    assert UNKNOWN in alert.message and "a pmacct collector (no port)" in alert.message


def test_the_configuration_uses_ixps_own_database_and_table(pg_settings: Settings) -> None:
    config = pmacct_sql.sfacctd_pgsql_config(pg_settings)
    assert "plugins: pgsql[matrix]\n" in config
    assert "aggregate[matrix]: src_mac, dst_mac, vlan, etype\n" in config
    assert "sfacctd_renormalize: true\n" in config
    assert "sql_table[matrix]: pmacct_matrix\n" in config
    assert "sql_user[matrix]: postgres\n" in config and "$" not in config
    port = make_url(pg_settings.effective_database_url).port
    assert f"sql_port[matrix]: {port}\n" in config
