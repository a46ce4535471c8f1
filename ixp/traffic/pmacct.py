"""pmacct's ``sfacctd`` in front of ixp: the shipped configuration and the lines it writes.

Large exchanges run ``sfacctd`` (Debian ``pmacct``) on collector hosts: it decodes
the sFlow, aggregates by source and destination MAC, VLAN and ethertype, scales by
the sampling rate (``sfacctd_renormalize``) and writes the cells out; ixp reads them
into the same matrix as its own collector. ``sfacctd_config`` renders the shipped
configuration (``ixp/data/pmacct/sfacctd.conf``: the print plugin writing JSON lines
per bucket); ``read_print_json`` reads what it writes.
"""

from __future__ import annotations

import importlib.resources
import json
import string
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ixp.errors import ValidationError

_TEMPLATE = ("data", "pmacct", "sfacctd.conf")


def sfacctd_config(
    output: Path,
    *,
    listen: str = "::",
    port: int = 6343,
    savefile: Path | None = None,
    refresh_seconds: int = 300,
    history: str = "5m",
) -> str:
    """The shipped ``sfacctd`` configuration, writing JSON lines to ``output``.

    It listens on ``listen``:``port`` for sFlow, or replays the libpcap ``savefile``
    instead (then exits). ``history`` is the bucket length in pmacct's notation
    ("5m"); ``refresh_seconds`` how often the plugin appends what it has counted.
    """
    text = importlib.resources.files("ixp").joinpath(*_TEMPLATE).read_text(encoding="utf-8")
    if savefile is not None:
        source = f"pcap_savefile: {savefile}"
    else:
        source = f"sfacctd_ip: {listen}\nsfacctd_port: {port}"
    return string.Template(text).substitute(
        input=source, output=output, refresh=refresh_seconds, history=history
    )


@dataclass(frozen=True, slots=True)
class PmacctCell:
    """One line of the print plugin's JSON output: a cell, scaled by the sampling rate."""

    src_mac: str  # lower-case, colon-separated
    dst_mac: str
    vlan: int
    ethertype: int
    packets: int
    bytes: int
    bucket: str  # pmacct's stamp_inserted ("2024-05-01 10:05:00", local time), "" without history

    @property
    def ip_version(self) -> int:
        """4 or 6 for IPv4 or IPv6, 0 for other ethertypes (as ``sflow.Frame`` says it)."""
        return {0x0800: 4, 0x86DD: 6}.get(self.ethertype, 0)


def read_print_json(lines: Iterable[str]) -> Iterator[PmacctCell]:
    """The cells of the print plugin's JSON lines (purge markers and blank lines skipped).

    Raises ``ValidationError`` naming the line for one that is not such a cell: the
    file is ours to read whole or not at all.
    """
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if row.get("event_type") not in (None, "purge"):
                continue
            yield PmacctCell(
                src_mac=str(row["mac_src"]).lower(),
                dst_mac=str(row["mac_dst"]).lower(),
                vlan=int(row.get("vlan", 0)),
                ethertype=int(str(row.get("etype", "0")), 16),
                packets=int(row["packets"]),
                bytes=int(row["bytes"]),
                bucket=str(row.get("stamp_inserted", "")),
            )
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise ValidationError(
                f"line {number}", line[:200], f"is not a pmacct print cell ({exc})"
            ) from None
