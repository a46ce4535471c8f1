"""The shipped sfacctd configuration and the JSON lines its print plugin writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from ixp.errors import ValidationError
from ixp.traffic import pmacct


def test_the_configuration_listens_or_replays_a_savefile() -> None:
    live = pmacct.sfacctd_config(Path("/var/lib/ixp/matrix.json"), listen="192.0.2.10", port=6343)
    assert "sfacctd_ip: 192.0.2.10\nsfacctd_port: 6343\n" in live
    assert "pcap_savefile" not in live
    assert "aggregate[matrix]: src_mac, dst_mac, vlan, etype\n" in live
    assert "sfacctd_renormalize: true\n" in live
    assert "print_output_file[matrix]: /var/lib/ixp/matrix.json\n" in live
    assert "print_history[matrix]: 5m\n" in live and "print_refresh_time[matrix]: 300\n" in live
    replay = pmacct.sfacctd_config(Path("out.json"), savefile=Path("/tmp/stream.pcap"))
    assert "pcap_savefile: /tmp/stream.pcap\n" in replay and "sfacctd_ip" not in replay
    assert "$" not in live + replay


def test_print_lines_become_cells() -> None:
    lines = [
        '{"event_type": "purge_init", "writer_id": "matrix/1"}',
        '{"event_type": "purge", "mac_src": "02:1A:00:00:00:01", "mac_dst": "02:1a:00:00:00:02",'
        ' "vlan": 100, "etype": "86dd", "stamp_inserted": "2024-05-01 10:05:00",'
        ' "packets": 4096, "bytes": 417792}',
        "",
        '{"mac_src": "02:1a:00:00:00:02", "mac_dst": "02:1a:00:00:00:01", "vlan": 0,'
        ' "etype": "800", "packets": 1, "bytes": 64}',
    ]
    first, second = pmacct.read_print_json(lines)
    assert first == pmacct.PmacctCell(
        "02:1a:00:00:00:01", "02:1a:00:00:00:02", 100, 0x86DD, 4096, 417792, "2024-05-01 10:05:00"
    )
    assert (first.ip_version, second.ip_version, second.bucket) == (6, 4, "")


@pytest.mark.parametrize(
    "line", ['{"mac_src": "x"}', "not json", '{"mac_src": "a", "mac_dst": "b", "etype": "zz",'
             ' "packets": 1, "bytes": 1}', "[1, 2]"],
)  # fmt: skip
def test_a_line_that_is_no_cell_is_refused_by_its_number(line: str) -> None:
    with pytest.raises(ValidationError, match="line 2"):
        list(pmacct.read_print_json(['{"event_type": "purge_close"}', line]))
