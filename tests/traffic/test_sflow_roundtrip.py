"""Every sample and record kind through the encoder and both readers of the decoder.

``decode`` must return exactly what was encoded (the strategies build the expected
objects from their inputs), and ``tally``, the collector's fast reader, must count
exactly what ``decode`` reads, whichever of its paths a sample takes.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import given

from ixp.traffic import sflow, sflowgen
from tests.traffic.strategies import Built, datagrams, reference_tally


@given(datagrams())
def test_every_kind_decodes_to_what_was_encoded(built: Built) -> None:
    assert sflow.decode(built.data) == built.expected


@given(datagrams())
def test_the_fast_reader_counts_what_decode_reads(built: Built) -> None:
    agent, _, _, _, count, offset = sflow.read_header(built.data)
    cells: sflow.Cells = {}
    marks: sflow.Marks = {}
    others: list[sflow.Sample] = []
    flows = sflow.tally(built.data, offset, count, cells, marks, others)
    expected_cells, expected_marks, expected_others = reference_tally(built.expected)
    assert (cells, marks, others) == (expected_cells, expected_marks, expected_others)
    assert flows == sum(isinstance(s, sflow.FlowSample) for s in built.expected.samples)
    assert sflow.agent_text(agent) == built.expected.agent


def test_the_same_seed_writes_the_same_bytes() -> None:
    def payloads(seed: int) -> list[bytes]:
        return [p.payload for p in sflowgen.Stream(sflowgen.Spec(seed=seed)).packets(500)]

    assert payloads(3) == payloads(3)
    assert payloads(3) != payloads(4)


def test_a_stream_survives_a_savefile(tmp_path: Path) -> None:
    packets = list(sflowgen.Stream().packets(300))
    path = tmp_path / "stream.pcap"
    assert sflowgen.write_pcap(packets, path) == len(packets)
    again = list(sflowgen.read_pcap(path))
    assert [(p.source, p.payload) for p in again] == [(p.source, p.payload) for p in packets]
    assert all(abs(a.time - b.time) < 1e-5 for a, b in zip(again, packets, strict=True))


def test_a_stream_follows_the_time_of_day_and_takes_given_macs() -> None:
    """The demo's load: peak at 15:00 UTC, trough at 03:00; its members' own MACs."""
    day = 1_700_006_400  # a midnight, UTC
    macs = [bytes.fromhex("2cc81bfac0ef")]
    spec = sflowgen.Spec(seed=4, members=3, samples_per_second=1.0, start=day, diurnal=0.6)
    stream = sflowgen.Stream(spec, macs)
    assert stream.macs[0] == macs[0] and stream.macs[1] == bytes.fromhex("021a00000001")
    hours = [0] * 24
    for packet in stream.packets(86_400):
        if packet.time < day + 86_400:
            decoded = sflow.decode(packet.payload)
            hours[int(packet.time - day) // 3600] += sum(
                isinstance(s, sflow.FlowSample) for s in decoded.samples
            )
    assert hours[15] > 3 * hours[3] > 0
