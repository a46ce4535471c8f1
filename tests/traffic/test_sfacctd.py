"""The built-in decoder against a real ``sfacctd`` (pmacct) reading the same datagrams.

``sfacctd`` runs with the shipped configuration (``ixp/data/pmacct/sfacctd.conf``:
MAC pair, VLAN and ethertype, renormalized, JSON lines from the print plugin) and
gets a generated stream over UDP on loopback: several agents, IPv4 and IPv6 agent
addresses, compact and expanded samples, untagged and 802.1Q frames. Both must find
the same member pairs, and the same bytes for each pair within its sampling error
(they read the same samples, so in practice they agree to the byte).

sfacctd 1.7.7 does not count Q-in-Q (802.1ad) frames or frames that carry neither
IPv4 nor IPv6; the built-in decoder does. The second test pins that difference.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ixp.traffic import buckets, pmacct, sflowgen

SFACCTD = shutil.which("sfacctd") or (
    "/usr/sbin/sfacctd" if os.access("/usr/sbin/sfacctd", os.X_OK) else None
)
pytestmark = pytest.mark.skipif(SFACCTD is None, reason="sfacctd (Debian package pmacct) missing")


@dataclass(frozen=True)
class Sfacctd:
    port: int
    output: Path
    log: Path


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def sfacctd(tmp_path: Path) -> Iterator[Sfacctd]:
    """sfacctd with the shipped configuration on a loopback port, stopped (with its plugin
    process) afterwards even when the test fails."""
    assert SFACCTD is not None
    running = Sfacctd(_free_udp_port(), tmp_path / "matrix.json", tmp_path / "sfacctd.log")
    config = tmp_path / "sfacctd.conf"
    config.write_text(
        pmacct.sfacctd_config(
            running.output, listen="127.0.0.1", port=running.port, refresh_seconds=1
        )
    )
    with running.log.open("wb") as log:
        process = subprocess.Popen(
            [SFACCTD, "-f", str(config)], stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 15
        # Ready once the print plugin has run its first purge (the core listens earlier).
        while b"Purging cache - END" not in running.log.read_bytes():
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"sfacctd did not start: {running.log.read_text()[-2000:]}")
            time.sleep(0.05)
        yield running
    finally:
        os.killpg(process.pid, signal.SIGINT)  # sfacctd ignores SIGTERM for a while
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _send(packets: list[sflowgen.Packet], port: int) -> None:
    """Over loopback, paced so that sfacctd's socket buffer never overflows."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        for number, packet in enumerate(packets):
            sender.sendto(packet.payload, ("127.0.0.1", port))
            if number % 20 == 19:
                time.sleep(0.002)


def _their_pairs(output: Path) -> dict[tuple[str, str], int]:
    pairs: dict[tuple[str, str], int] = {}
    if output.exists():
        for cell in pmacct.read_print_json(output.read_text().splitlines()):
            pair = (cell.src_mac, cell.dst_mac)
            pairs[pair] = pairs.get(pair, 0) + cell.bytes
    return pairs


def _wait_for(output: Path, total: int, seconds: float) -> dict[tuple[str, str], int]:
    """sfacctd's pairs once their bytes reach ``total`` (or ``seconds`` have passed)."""
    deadline = time.monotonic() + seconds
    theirs = _their_pairs(output)
    while sum(theirs.values()) < total and time.monotonic() < deadline:
        time.sleep(0.5)
        theirs = _their_pairs(output)
    return theirs


def test_sfacctd_and_the_built_in_decoder_agree_on_the_same_datagrams(sfacctd: Sfacctd) -> None:
    stream = sflowgen.Stream(sflowgen.Spec(seed=11, samples_per_second=2000, qinq_share=0.0))
    packets = list(stream.packets(5000))
    aggregator = buckets.Aggregator()
    for packet in packets:
        aggregator.add(packet.payload, packet.source, packet.time)
    ours: dict[tuple[str, str], list[int]] = {}
    for bucket in aggregator.close():
        for pair, totals in buckets.pair_totals(bucket.flows).items():
            merged = ours.setdefault(pair, [0, 0])
            merged[0] += totals.samples
            merged[1] += totals.bytes
    our_total = sum(b for _, b in ours.values())

    _send(packets, sfacctd.port)
    theirs = _wait_for(sfacctd.output, our_total, 30)

    assert set(theirs) == set(ours)
    for pair, (samples, size) in ours.items():
        low, high = buckets.Totals(samples, 0, size).bytes_interval()
        assert low <= theirs[pair] <= high, (pair, samples, size, theirs[pair])
    assert abs(sum(theirs.values()) - our_total) <= our_total * 0.001


def test_frames_sfacctd_skips_are_counted_here(sfacctd: Sfacctd) -> None:
    """Q-in-Q and ARP frames: sfacctd 1.7.7 drops them, the built-in decoder keeps them."""
    pairs = {
        "ipv4": (bytes.fromhex("021a000000a1"), (100,), 4),
        "q-in-q": (bytes.fromhex("021a000000a2"), (100, 2000), 4),
        "arp": (bytes.fromhex("021a000000a3"), (), 0),
    }
    dst = bytes.fromhex("021a000000ff")
    samples = [
        sflowgen.flow_sample(n, 7, 100, 100 * n, 0, 7, 9, [sflowgen.raw_packet_header(
            1000, sflowgen.ethernet_header(dst, src, vlans=vlans, ip_version=version,
                                           frame_length=1000))])
        for n, (src, vlans, version) in enumerate(pairs.values(), 1)
    ]  # fmt: skip
    packet = sflowgen.Packet(
        time.time(), "127.0.0.1", sflowgen.datagram("192.0.2.1", 0, 1, 1, samples)
    )
    aggregator = buckets.Aggregator()
    aggregator.add(packet.payload, packet.source, packet.time)
    (bucket,) = aggregator.close()
    ours = {src: t.bytes for (src, _), t in buckets.pair_totals(bucket.flows).items()}
    assert ours == {src.hex(":"): 100_000 for src, _, _ in pairs.values()}

    _send([packet], sfacctd.port)
    _wait_for(sfacctd.output, 100_000, 15)
    time.sleep(2.5)  # two more refreshes: nothing else arrives
    theirs = {src: size for (src, _), size in _their_pairs(sfacctd.output).items()}
    assert theirs == {pairs["ipv4"][0].hex(":"): 100_000}
