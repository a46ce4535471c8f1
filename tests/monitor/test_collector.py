"""The collector's reader and supervisor, fed by a real child process standing in for ExaBGP.

The stand-in writes a stream into the collector's FIFO as ExaBGP's API process
does and then stays up, so the FIFO, the reader, the ingest path and the
restarts run exactly as in production, without a BGP session.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ixp.monitor.collector import Collector, CollectorPeer, CollectorSpec
from ixp.monitor.metrics import MonitorMetrics
from tests.monitor.conftest import DATA, wait_for

SESSION = (DATA / "exabgp-5.0.15-session.jsonl").read_text().splitlines()
MALFORMED = (DATA / "exabgp-malformed.jsonl").read_text().splitlines()
SPEC = CollectorSpec(
    route_server="rs1",
    rs_asn=65000,
    collector_asn=65010,
    router_id="198.51.100.2",
    peers=(CollectorPeer("198.51.100.1", "198.51.100.2", 4),),
)
# The stand-in's cwd is the collector's directory, where the FIFO is.
STAND_IN = """\
#!{python}
import os
import time

with open("stream.fifo", "wb") as fifo:
    with open({stream!r}, "rb") as lines:
        fifo.write(lines.read())
    if {replace_fifo!r} and not os.path.exists("replaced"):
        open("replaced", "w").close()
        os.unlink("stream.fifo")
        os.mkdir("stream.fifo")
time.sleep(600)
"""


def stand_in(directory: Path, lines: list[str], *, replace_fifo: bool = False) -> Path:
    """An executable that writes ``lines`` to the FIFO, then idles like a running ExaBGP.

    ``replace_fifo``: the first run also puts a directory where the FIFO was, so
    the reader's next ``open`` fails the way no ExaBGP line can make it fail.
    """
    stream = directory / "stream.jsonl"
    stream.write_text("".join(f"{line}\n" for line in lines))
    script = directory / "exabgp"
    script.write_text(
        STAND_IN.format(python=sys.executable, stream=str(stream), replace_fifo=replace_fifo)
    )
    script.chmod(0o755)
    return script


@pytest.fixture
def start_collector(tmp_path: Path) -> Iterator[Callable[[Path], Collector]]:
    """Starts a collector on a given stand-in; every one is stopped at the end."""
    started: list[Collector] = []

    def start(exabgp: Path) -> Collector:
        collector = Collector(
            SPEC, tmp_path / "collector", exabgp_path=str(exabgp), backoff_max=0.2
        )
        collector.start()
        started.append(collector)
        return collector

    yield start
    for collector in started:
        collector.stop()


def test_malformed_lines_between_good_ones_are_skipped_and_the_later_lines_applied(
    tmp_path: Path, start_collector: Callable[[Path], Collector]
) -> None:
    # The whole session, every malformed line, then a withdrawal of two of the three routes.
    lines = [*SESSION, *MALFORMED, SESSION[0]]
    collector = start_collector(stand_in(tmp_path, lines))
    ingest = collector.ingest
    wait_for(lambda: ingest.lines == len(lines), "every line to be read", timeout=20)
    with ingest.lock:
        routes = {(route.prefix, route.path_id) for route in ingest.rib.routes()}
        up = ingest.rib.up
    assert routes == {("2001:db8:100::/48", 3)}
    assert up
    assert (ingest.malformed, ingest.apply_errors) == (len(MALFORMED), 0)
    assert (collector.restarts, collector.reader_failures) == (0, 0)
    metrics = MonitorMetrics()
    metrics.set_collector("rs1", collector)
    labels = {"route_server": "rs1"}
    assert metrics.registry.get_sample_value("ixp_collector_lines", labels) == len(lines)
    assert metrics.registry.get_sample_value("ixp_collector_malformed_lines", labels) == len(
        MALFORMED
    )
    assert metrics.registry.get_sample_value("ixp_collector_reader_failures", labels) == 0
    child = collector.process
    assert child is not None and child.poll() is None
    collector.stop()
    assert child.poll() is not None


def test_a_failed_reader_takes_its_child_down_and_the_collector_starts_afresh(
    tmp_path: Path,
    start_collector: Callable[[Path], Collector],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="ixp.monitor.collector")
    collector = start_collector(stand_in(tmp_path, SESSION, replace_fifo=True))
    first = wait_for(lambda: collector.process, "the first child")
    wait_for(lambda: first.poll() is not None, "the child to stop with its reader", timeout=15)
    assert collector.reader_failures == 1
    assert "IsADirectoryError" in caplog.text
    collector.fifo.rmdir()  # the operator clears the way; the collector makes its FIFO again

    def rebuilt() -> bool:
        with collector.ingest.lock:
            return collector.process is not first and len(collector.ingest.rib) == 3

    wait_for(rebuilt, "a new child and the RIB rebuilt from its stream", timeout=20)
    assert collector.restarts >= 1
    assert collector.reader_failures == 1
