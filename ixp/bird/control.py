"""A client for BIRD 2's control socket, speaking its line protocol directly.

Talking to the socket instead of running ``birdc`` gives BIRD's reply codes
instead of screen text, and needs no ``ip netns exec`` for a BIRD in a
namespace: the socket is a file on the host's filesystem. The greeting on
connect is ``0001 BIRD <version> ready.``; see :mod:`ixp.bird.parse` for the
reply format.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterable, Iterator
from types import TracebackType

from ixp.bird.parse import (
    BirdRoute,
    BirdStatus,
    ProtocolStatus,
    ReplyLine,
    parse_protocols,
    parse_reply,
    parse_routes,
    parse_status,
)
from ixp.errors import IxpError, SourceUnavailable

# Bytes asked of the socket at a time (a 40,000-route answer is about 10 MB).
_CHUNK = 262144


class BirdCommandError(IxpError):
    """BIRD refused a command (reply code 8xxx or 9xxx)."""

    def __init__(self, command: str, code: int, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(f"bird command {command!r} failed: {code} {message}")


class BirdTimeout(SourceUnavailable):
    """BIRD sent nothing for the client's whole timeout.

    BIRD is then still working on the command (walking a large table for a
    sparse ``show route protocol``), so sending it again would only start a
    second walk beside the first: a timeout is never retried.
    """


def split_lines(chunks: Iterable[bytes]) -> Iterator[str]:
    """The lines of a byte stream received in arbitrary chunks, decoded as UTF-8.

    Every byte is copied a fixed number of times however the stream is cut: a
    line spread over many chunks is kept as a list of pieces and joined once
    (appending each piece to one buffer would copy it again per chunk, which is
    quadratic in the line's length), and each chunk is decoded in one call up
    to its last newline. A newline never occurs inside a UTF-8 sequence, so
    decoding many lines at once replaces invalid bytes exactly as line by line would.
    """
    pieces: list[bytes] = []
    for chunk in chunks:
        end = chunk.rfind(b"\n")
        if end < 0:
            pieces.append(chunk)
            continue
        pieces.append(chunk[:end])
        text = b"".join(pieces).decode("utf-8", "replace")
        pieces = [chunk[end + 1 :]]
        yield from text.split("\n")


class BirdClient:
    """One connection to a BIRD control socket; reconnects once if the socket was reset.

    Use as a context manager or call ``close``. Every failure to reach BIRD is
    a ``SourceUnavailable`` naming the socket, so callers can retry with backoff.
    """

    def __init__(self, path: str, timeout: float = 10.0) -> None:
        self.path = path
        self.timeout = timeout
        self.version: str | None = None
        self._sock: socket.socket | None = None
        self._reader: Iterator[str] | None = None

    def __enter__(self) -> BirdClient:
        self.connect()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def connect(self) -> None:
        """Open the socket and read BIRD's greeting."""
        self.close()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.path)
        except OSError as exc:
            sock.close()
            raise SourceUnavailable(f"bird socket {self.path}: {exc.strerror or exc}") from None
        self._sock = sock
        self._reader = split_lines(self._chunks(sock))
        try:
            greeting = self._read_reply("<connect>")
        except BaseException:
            # ``with`` never reaches __exit__ when __enter__ fails: close here.
            self.close()
            raise
        self.version = greeting[0].text.removesuffix(" ready.").removeprefix("BIRD ")

    def close(self) -> None:
        """Close the socket if open."""
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.close()
        self._sock = None
        self._reader = None

    def _chunks(self, sock: socket.socket) -> Iterator[bytes]:
        while True:
            try:
                chunk = sock.recv(_CHUNK)
            except TimeoutError:
                raise BirdTimeout(
                    f"bird socket {self.path}: no answer for {self.timeout:g} s"
                ) from None
            except OSError as exc:
                raise SourceUnavailable(f"bird socket {self.path}: {exc}") from None
            if not chunk:
                raise SourceUnavailable(f"bird socket {self.path}: closed by BIRD")
            yield chunk

    def _read_reply(self, command: str) -> list[ReplyLine]:
        assert self._reader is not None
        lines: list[ReplyLine] = []
        for line, last in parse_reply(self._reader):
            lines.append(line)
            if last:
                if line.code >= 8000:
                    raise BirdCommandError(command, line.code, line.text)
                return lines
        raise SourceUnavailable(f"bird socket {self.path}: reply ended early")

    def command(self, command: str) -> list[ReplyLine]:
        """Send one command and return its reply lines (the final status line included).

        A connection that broke since the last command (BIRD restarted) is
        reopened once; a second failure is raised as ``SourceUnavailable``. A
        ``BirdTimeout`` is raised at once (see there why it is not retried).
        """
        if "\n" in command:
            raise ValueError("a BIRD command is one line")
        try:
            return self._send(command)
        except BirdTimeout:
            raise
        except SourceUnavailable:
            return self._send(command)

    def _send(self, command: str) -> list[ReplyLine]:
        if self._sock is None:
            self.connect()
        assert self._sock is not None
        try:
            self._sock.sendall(command.encode() + b"\n")
            return self._read_reply(command)
        except OSError as exc:
            self.close()
            raise SourceUnavailable(f"bird socket {self.path}: {exc}") from None
        except SourceUnavailable:
            self.close()
            raise

    def status(self) -> BirdStatus:
        """``show status``, parsed."""
        return parse_status(self.command("show status"))

    def protocols(self) -> list[ProtocolStatus]:
        """``show protocols all``, parsed."""
        return parse_protocols(self.command("show protocols all"))

    def protocol_rows(self) -> list[ProtocolStatus]:
        """``show protocols``: one row per protocol, without the details (cheaper on big
        route servers; neighbor fields and route counts stay empty)."""
        return parse_protocols(self.command("show protocols"))

    def routes(self, args: str = "") -> list[BirdRoute]:
        """``show route <args> all``, parsed (``args`` e.g. ``"filtered protocol m64500"``)."""
        return parse_routes(self.command(" ".join(f"show route {args} all".split())))
