"""ExaBGP configuration text: the API process and one block per BGP session.

ExaBGP's configuration language has no quoting, so every value written into it
must be a plain token; :func:`token` refuses anything else instead of trying to
escape it (a next hop of ``1.2.3.4; }`` would otherwise add configuration).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ixp.errors import ValidationError

_PLAIN_TOKEN = re.compile(r"^[A-Za-z0-9_./:+@=,-]+$")


def token(value: object, field: str) -> str:
    """``value`` as text, if it can stand in an ExaBGP config as it is; else ValidationError."""
    text = str(value)
    if not _PLAIN_TOKEN.match(text):
        raise ValidationError(field, text, "cannot be written into an ExaBGP config")
    return text


@dataclass(frozen=True)
class Neighbor:
    """One BGP session of an ExaBGP process.

    ``receive`` hands session changes and parsed updates to the API process;
    ``add_path`` asks for every path of a prefix (the collector sees each
    member's route, not only the route server's best); ``routes`` are ``route
    ...`` statements announced from the start (already checked by the caller).
    """

    peer_address: str
    local_address: str
    router_id: str
    local_as: int
    peer_as: int
    family: int
    receive: bool = True
    add_path: bool = False
    routes: tuple[str, ...] = ()

    def lines(self, process: str) -> list[str]:
        """The ``neighbor`` block, talking to API process ``process``."""
        family = "ipv4" if self.family == 4 else "ipv6"
        lines = [
            f"neighbor {token(self.peer_address, 'peer address')} {{",
            f"    router-id {token(self.router_id, 'router id')};",
            f"    local-address {token(self.local_address, 'local address')};",
            f"    local-as {int(self.local_as)};",
            f"    peer-as {int(self.peer_as)};",
            f"    family {{ {family} unicast; }}",
        ]
        if self.add_path:
            lines.append("    capability { add-path receive; route-refresh; }")
        receive = " neighbor-changes; receive { parsed; update; }" if self.receive else ""
        lines.append(f"    api {{ processes [ {process} ];{receive} }}")
        if self.routes:
            lines += ["    static {", *(f"        {route};" for route in self.routes), "    }"]
        return [*lines, "}"]


def render(process: str, argv: Sequence[object], neighbors: Iterable[Neighbor]) -> str:
    """A whole config: API process ``process`` running ``argv`` (JSON), then the sessions."""
    run = " ".join(token(part, "API process argument") for part in argv)
    lines = [f"process {process} {{", f"    run {run};", "    encoder json;", "}"]
    for neighbor in neighbors:
        lines += ["", *neighbor.lines(process)]
    return "\n".join(lines) + "\n"
