"""The collector: one supervised ExaBGP child per route server, feeding that route server's RIB.

ExaBGP hands its JSON stream to an API process it starts itself (its stdout
would be read back as commands), so the API process is ``ixp.exabgp.relay``
copying the stream into a FIFO in the collector's run directory, which a
reader thread here turns into RIB updates. When ExaBGP exits the FIFO reaches end of file;
the supervisor clears the RIB (a fresh session resends the whole table) and
restarts ExaBGP after an exponential backoff that resets once a session has
stayed up. Malformed lines are logged and skipped by ``Ingest``. A reader that
fails anyway (a bug, a FIFO replaced under it) is logged and counted, and takes
its ExaBGP child down with it: the supervisor then starts both afresh, so a
child never runs on without anyone reading it and the RIB never silently stops
changing.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from ixp.exabgp import config, process
from ixp.exabgp.config import Neighbor
from ixp.monitor.ingest import Ingest

log = logging.getLogger(__name__)

# A session that stayed up this long resets the restart backoff.
_STABLE_SECONDS = 60.0


@dataclass(frozen=True)
class CollectorPeer:
    """One BGP session of the collector with a route server address."""

    rs_address: str
    local_address: str
    family: int


@dataclass(frozen=True)
class CollectorSpec:
    """What one collector connects to; ``namespace`` runs ExaBGP via ``ip netns exec`` (lab)."""

    route_server: str
    rs_asn: int
    collector_asn: int
    router_id: str
    peers: tuple[CollectorPeer, ...]
    namespace: str | None = None


def render_config(spec: CollectorSpec, fifo: Path) -> str:
    """The ExaBGP config of a collector: receive-only sessions, ADD-PATH, JSON to the FIFO."""
    neighbors = [
        Neighbor(
            peer_address=peer.rs_address,
            local_address=peer.local_address,
            router_id=spec.router_id,
            local_as=spec.collector_asn,
            peer_as=spec.rs_asn,
            family=peer.family,
            add_path=True,
        )
        for peer in spec.peers
    ]
    return config.render("monitor", [sys.executable, "-m", "ixp.exabgp.relay", fifo], neighbors)


class Collector:
    """Supervises the ExaBGP child of one route server; ``ingest`` holds its RIB."""

    def __init__(
        self,
        spec: CollectorSpec,
        directory: Path,
        *,
        exabgp_path: str | None = None,
        backoff_max: float = 60.0,
    ) -> None:
        self.spec = spec
        self.directory = directory
        self.exabgp_path = exabgp_path
        self.backoff_max = backoff_max
        self.ingest = Ingest(spec.route_server)
        self.restarts = 0
        self.reader_failures = 0
        self.process: subprocess.Popen[bytes] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def fifo(self) -> Path:
        """Where ExaBGP's API process writes the JSON stream."""
        return self.directory / "stream.fifo"

    @property
    def log_path(self) -> Path:
        """ExaBGP's own log."""
        return self.directory / "exabgp.log"

    @property
    def config_path(self) -> Path:
        """ExaBGP's config."""
        return self.directory / "exabgp.conf"

    def start(self) -> None:
        """Start supervising in a background thread."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(render_config(self.spec, self.fifo))
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._supervise, name=f"collector-{self.spec.route_server}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop ExaBGP and the supervisor thread."""
        self._stop.set()
        self._terminate()
        self._unblock_reader()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def kill_child(self) -> None:
        """Kill the ExaBGP child as a crash would (forces a restart and a RIB rebuild)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()

    def _terminate(self) -> None:
        if self.process is not None:
            process.stop(self.process)

    def _unblock_reader(self) -> None:
        """Open the FIFO for writing once so a reader blocked in open() wakes up."""
        with contextlib.suppress(OSError):
            fd = os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK)
            os.close(fd)

    def _supervise(self) -> None:
        backoff = 1.0
        while not self._stop.is_set():
            started = time.monotonic()
            self._run_child()
            self.ingest.reset()
            if self._stop.is_set():
                break
            self.restarts += 1
            if time.monotonic() - started > _STABLE_SECONDS:
                backoff = 1.0
            log.warning(
                "%s: ExaBGP exited (%s); restarting in %.0f s; last log: %s",
                self.spec.route_server,
                self.process.returncode if self.process else "not started",
                backoff,
                process.tail(self.log_path, lines=3),
            )
            self._stop.wait(backoff)
            backoff = min(backoff * 2, self.backoff_max)

    def _run_child(self) -> None:
        """One life of ExaBGP and its reader; the child never outlives the reader."""
        try:
            if not self.fifo.is_fifo():
                os.mkfifo(self.fifo, 0o600)
            self.process = process.start(
                self.config_path,
                log=self.log_path,
                exabgp_path=self.exabgp_path,
                namespace=self.spec.namespace,
            )
        except OSError as exc:
            log.error("%s: cannot start ExaBGP: %s", self.spec.route_server, exc)
            return
        log.info("%s: ExaBGP started (pid %d)", self.spec.route_server, self.process.pid)
        try:
            self._read_until_exit(self.process)
        except Exception:
            self.reader_failures += 1
            log.exception(
                "%s: the reader of ExaBGP's stream failed; restarting ExaBGP with it",
                self.spec.route_server,
            )
        finally:
            self._terminate()

    def _read_until_exit(self, child: subprocess.Popen[bytes]) -> None:
        """Read the FIFO while ExaBGP lives; its API process may be restarted in between."""

        def wake_reader_on_exit() -> None:
            child.wait()
            self._unblock_reader()

        threading.Thread(target=wake_reader_on_exit, daemon=True).start()
        while child.poll() is None and not self._stop.is_set():
            # open() blocks until the relay opens the FIFO for writing
            with open(self.fifo, encoding="utf-8", errors="replace", newline="\n") as stream:
                for line in stream:
                    self.ingest.feed(line)
            self._stop.wait(0.05)
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(5)
