"""pmacct at larger exchanges: sfacctd's pgsql plugin writes the matrix into ixp's PostgreSQL,
and ``import_pmacct`` moves each finished bucket into the traffic tables.

``sfacctd_pgsql_config`` renders the shipped configuration
(``ixp/data/pmacct/sfacctd-pgsql.conf``) with the database of ixp's own settings;
``ensure_table`` creates the table it writes (``matrix-table.pgsql``). The import
takes the rows of buckets that ended at least two refreshes ago out of that table
with one ``DELETE ... RETURNING`` and writes them through ``ixp.traffic.store`` in the
same transaction: a row is read and removed at once, so none is counted twice or
lost, however the import and sfacctd interleave; a row sfacctd adds later for an
imported bucket is imported (and added) the next time.
"""

from __future__ import annotations

import datetime as dt
import importlib.resources
import logging
import string
import threading
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Text, cast, column, delete, table, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.sql import TableClause

from ixp.db import transaction
from ixp.errors import IxpError, ValidationError
from ixp.models.base import utcnow
from ixp.settings import Settings
from ixp.traffic import alerts, rollup, store
from ixp.traffic.buckets import BUCKET_SECONDS
from ixp.traffic.pmacct import PmacctCell

log = logging.getLogger(__name__)

_DATA = ("data", "pmacct")
_DAY = 86400


def _template(name: str) -> string.Template:
    return string.Template(importlib.resources.files("ixp").joinpath(*_DATA, name).read_text())


def _postgresql(settings: Settings) -> None:
    url = make_url(settings.effective_database_url)
    if url.get_backend_name() != "postgresql":
        raise ValidationError(
            "settings: database_url",
            url.render_as_string(hide_password=True),
            "is not PostgreSQL: sfacctd's pgsql plugin writes into PostgreSQL",
        )


def sfacctd_pgsql_config(
    settings: Settings,
    *,
    listen: str = "::",
    port: int = 6343,
    savefile: Path | None = None,
    refresh_seconds: int = 60,
) -> str:
    """The shipped sfacctd configuration writing into the database of ``settings``.

    It listens on ``listen``:``port`` for sFlow, or replays the libpcap ``savefile``.
    The database password, if the URL has one, is written into the text: keep the file
    readable by sfacctd's user only.
    """
    _postgresql(settings)
    url = make_url(settings.effective_database_url)
    connection = [
        f"sql_host[matrix]: {url.host or 'localhost'}",
        f"sql_port[matrix]: {url.port or 5432}",
        f"sql_db[matrix]: {url.database}",
        f"sql_user[matrix]: {url.username or 'postgres'}",
    ]
    if url.password:
        connection.append(f"sql_passwd[matrix]: {url.password}")
    source = (
        f"pcap_savefile: {savefile}"
        if savefile is not None
        else f"sfacctd_ip: {listen}\nsfacctd_port: {port}"
    )
    return _template("sfacctd-pgsql.conf").substitute(
        input=source,
        connection="\n".join(connection),
        table=settings.traffic_pmacct_table,
        refresh=refresh_seconds,
    )


def ensure_table(session: Session, settings: Settings) -> None:
    """Create the table sfacctd writes, if it is not there yet (its own transaction)."""
    _postgresql(settings)
    statement = _template("matrix-table.pgsql").substitute(table=settings.traffic_pmacct_table)
    with transaction(session):
        session.execute(text(statement))


def _matrix(name: str) -> TableClause:
    return table(
        name,
        *(column(c) for c in ("mac_src", "mac_dst", "vlan", "etype", "packets", "bytes")),
        column("stamp_inserted"),
    )


@dataclass(frozen=True)
class Imported:
    """What one import did."""

    rows: int
    buckets: tuple[dt.datetime, ...]
    pairs: int
    too_old: int  # rows of buckets older than the kept 5-minute rows: taken and dropped


def import_pmacct(
    session: Session, settings: Settings, *, now: float | None = None, margin: float = 120.0
) -> Imported:
    """Move the rows of every bucket that ended more than ``margin`` seconds ago (two of
    sfacctd's refreshes) from sfacctd's table into the traffic tables, in one transaction;
    then roll up and keep the unknown-MAC alerts in step."""
    _postgresql(settings)
    moment = now if now is not None else utcnow().timestamp()
    ended = int(moment - margin)
    cutoff = ended - ended % BUCKET_SECONDS  # buckets starting before it ended by ``ended``
    oldest = int(moment) - settings.traffic_keep_5min_days * _DAY
    matrix = _matrix(settings.traffic_pmacct_table)
    columns = matrix.c
    with transaction(session):
        taken = session.execute(
            delete(matrix)
            .where(columns.stamp_inserted < cutoff)
            .returning(
                cast(columns.mac_src, Text), cast(columns.mac_dst, Text), columns.vlan,
                columns.etype, columns.packets, columns.bytes, columns.stamp_inserted,
            )
        ).all()  # fmt: skip
        cells = []
        too_old = 0
        for src, dst, vlan, etype, packets, size, stamp in taken:
            start = int(stamp) - int(stamp) % BUCKET_SECONDS
            if start < oldest:
                too_old += 1
                continue
            ethertype = int(str(etype).strip() or "0", 16)
            cell = PmacctCell(src.lower(), dst.lower(), int(vlan), ethertype, int(packets),
                              int(size), "")  # fmt: skip
            cells.append((start, cell))
        directory = store.mac_directory(session, settings.traffic_exchange_macs)
        written = store.rows_of_pmacct(cells, directory, settings.traffic_pmacct_sampling_rate)
        for rows in written:
            store.write(session, rows, not_before=oldest)
    if too_old:
        log.warning("%d pmacct rows older than the kept 5-minute rows were dropped", too_old)
    if written:
        rollup.rollup(
            session,
            complete_until=written[-1].start + BUCKET_SECONDS,
            now=int(moment),
            keep_5min_days=settings.traffic_keep_5min_days,
            keep_hourly_days=settings.traffic_keep_hourly_days,
        )
        at = dt.datetime.fromtimestamp(moment, dt.UTC)
        alerts.sync_unknown_macs(session, directory, at, settings.traffic_unknown_mac_clear_minutes)
        session.commit()
    return Imported(
        len(taken),
        tuple(rows.start_time for rows in written),
        sum(len(rows.pairs) for rows in written),
        too_old,
    )


def follow(session: Session, settings: Settings, stop: threading.Event) -> None:
    """Import every ``traffic_pmacct_interval_seconds`` until ``stop`` is set; a failed
    round is logged and tried again at the next."""
    ensure_table(session, settings)
    margin = 2 * settings.traffic_pmacct_interval_seconds
    while True:
        try:
            done = import_pmacct(session, settings, margin=margin)
            if done.rows:
                log.info(
                    "imported %d pmacct rows: %d buckets, %d member pairs",
                    done.rows, len(done.buckets), done.pairs,
                )  # fmt: skip
        except (IxpError, SQLAlchemyError) as exc:  # a database briefly away must not end it
            session.rollback()
            log.error("pmacct import failed (will retry): %s", exc)
        if stop.wait(settings.traffic_pmacct_interval_seconds):
            return
