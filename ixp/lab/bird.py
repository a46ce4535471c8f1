"""A BIRD 2 daemon inside a lab namespace: start it on a config, wait for it, ask it things.

BIRD daemonizes after parsing its configuration, so a config error comes back
from :meth:`BirdDaemon.start` as a :class:`~ixp.lab.netns.LabError` with BIRD's
own message. Queries go over the control socket with :class:`ixp.bird.BirdClient`:
the socket is a file, reachable from the host namespace, so no query needs
``ip netns exec``. Parsed answers are :mod:`ixp.bird`'s dataclasses, the same
the monitor reads; the lab uses them to wait for sessions and for imports to
settle instead of sleeping.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ixp.bird import (
    BirdClient,
    BirdCommandError,
    BirdRoute,
    ProtocolStatus,
    reply_text,
)
from ixp.errors import SourceUnavailable
from ixp.lab.netns import LabError, create_namespace, delete_namespace, run, stop_pids, wait_until
from ixp.settings import Settings

# AF_UNIX paths are limited to 108 bytes including the terminating NUL.
MAX_SOCKET_PATH = 107


@dataclass
class BirdDaemon:
    """One BIRD process in ``namespace`` running ``config``, controlled through ``socket``."""

    namespace: str
    config: Path
    socket: Path
    pidfile: Path
    settings: Settings

    def __post_init__(self) -> None:
        if len(str(self.socket)) > MAX_SOCKET_PATH:
            raise LabError(
                f"control socket path {str(self.socket)!r} is longer than {MAX_SOCKET_PATH} "
                "bytes; use a shorter settings home"
            )

    def start(self, timeout: float = 10.0) -> None:
        """Start BIRD and wait until it answers on its control socket."""
        self.socket.parent.mkdir(parents=True, exist_ok=True)
        run(
            [
                self.settings.bird_path, "-c", str(self.config),
                "-s", str(self.socket), "-P", str(self.pidfile),
            ],
            namespace=self.namespace,
            timeout=self.settings.bird_timeout_seconds,
        )  # fmt: skip
        wait_until(self.ready, timeout=timeout, what=f"BIRD on {self.socket}")

    def ready(self) -> bool:
        """True if BIRD answers ``show status`` as up and running."""
        if not self.socket.exists():
            return False
        try:
            return "Daemon is up and running" in self.birdc("show status", timeout=5.0)
        except (SourceUnavailable, BirdCommandError):
            return False

    def pid(self) -> int | None:
        """BIRD's process id from its pid file, if it has one."""
        try:
            return int(self.pidfile.read_text().strip())
        except (OSError, ValueError):
            return None

    def stop(self) -> None:
        """Stop BIRD (if running) and remove its socket and pid file."""
        pid = self.pid()
        if pid is not None:
            stop_pids([pid])
        self.socket.unlink(missing_ok=True)
        self.pidfile.unlink(missing_ok=True)

    def client(self, timeout: float = 10.0) -> BirdClient:
        """A control-socket client for this BIRD (use it as a context manager)."""
        return BirdClient(str(self.socket), timeout=timeout)

    def birdc(self, command: str, timeout: float = 10.0) -> str:
        """BIRD's answer to one command as ``birdc`` prints it (without the greeting line)."""
        with self.client(timeout) as client:
            return reply_text(client.command(command))

    def configure(self) -> str:
        """Make BIRD re-read its config file (``configure``); return BIRD's answer."""
        try:
            answer = self.birdc("configure")
        except BirdCommandError as exc:
            raise LabError(f"BIRD on {self.socket} refused its new config: {exc.message}") from None
        if "Reconfigured" not in answer and "Reconfiguration in progress" not in answer:
            raise LabError(f"BIRD on {self.socket} refused its new config: {answer.strip()}")
        return answer

    def protocols(self) -> list[ProtocolStatus]:
        """Every protocol and its state (BGP sessions carry neighbor and route counts)."""
        with self.client() as client:
            return client.protocols()

    def routes(self, arguments: str = "") -> list[BirdRoute]:
        """``show route <arguments> all`` parsed, e.g. ``routes("filtered")``."""
        with self.client() as client:
            return client.routes(arguments)


@contextmanager
def bird_in_namespace(
    config: str, directory: Path, namespace: str, *, timeout: float = 10.0
) -> Iterator[BirdDaemon]:
    """A BIRD running ``config`` alone in a new ``namespace``, its files in ``directory``;
    stopped and the namespace deleted afterwards, whatever happened. For a BIRD that
    needs no lab around it: a looking glass or a parser to read from."""
    (directory / "bird.conf").write_text(config, encoding="utf-8")
    daemon = BirdDaemon(
        namespace=namespace,
        config=directory / "bird.conf",
        socket=directory / "bird.ctl",
        pidfile=directory / "bird.pid",
        settings=Settings(home=directory / "home"),
    )
    create_namespace(namespace)
    try:
        daemon.start(timeout=timeout)
        yield daemon
    finally:
        daemon.stop()
        delete_namespace(namespace)
