"""Copy every UDP datagram received on one port to several others (on 127.0.0.1).

The live sFlow test runs it next to the collectors so that ixp's collector and
sfacctd read the very same datagrams from the one agent: ``python udp_tee.py LISTEN
DEST [DEST ...]``; it runs until SIGTERM and counts what it copied on stdout.
"""

from __future__ import annotations

import signal
import socket
import sys


def main(listen: int, destinations: list[int]) -> None:
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
    receiver.bind(("127.0.0.1", listen))
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    copied = 0

    def stop(*_: object) -> None:
        print(f"copied {copied} datagrams", flush=True)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    print(f"listening on {listen}", flush=True)
    while True:
        data = receiver.recv(65535)
        for port in destinations:
            sender.sendto(data, ("127.0.0.1", port))
        copied += 1


if __name__ == "__main__":
    main(int(sys.argv[1]), [int(port) for port in sys.argv[2:]])
