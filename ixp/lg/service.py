"""The looking glass: birdwatcher's API for each route server, answered from BIRD's socket.

Every answer comes from one BIRD command over the route server's control
socket (:class:`~ixp.bird.BirdClient`, never ``birdc``), kept in a
:class:`~ixp.lg.cache.TtlCache` so each query reaches BIRD at most once per
time-to-live however many people look. ``/protocols`` and ``/protocols/bgp``
share one ``show protocols all``.

The queries and the BIRD commands behind them (names are checked to be BIRD
symbols before they reach BIRD, prefixes to be prefixes or addresses):

=====================================  ==========================================
``/status``                            ``show status``
``/protocols``, ``/protocols/bgp``     ``show protocols all``
``/protocols/short``                   ``show protocols``
``/routes/protocol/{id}``              ``show route protocol {id} all``
``/routes/filtered/{id}``              ``show route filtered protocol {id} all``
``/routes/noexport/{id}``              ``show route noexport {id} all``
``/routes/table/{table}``              ``show route table {table} all``
``/routes/table/{table}/filtered``     ``show route table {table} filtered all``
``/routes/prefix?prefix=``             ``show route for {prefix} all``
=====================================  ==========================================

``/routes/prefix`` answers with the routes of the most specific network
covering the prefix or address (birdwatcher asks for the exact network only;
the two agree whenever that network is in the table).
"""

from __future__ import annotations

import enum
import functools
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from ixp import __version__, exchange, validate
from ixp.bird import BirdClient, BirdCommandError, BirdRoute
from ixp.errors import NotFound, SourceUnavailable, ValidationError
from ixp.lg import shapes
from ixp.lg.cache import Cached, TtlCache, utc_now

VERSION = f"ixp-{__version__}"
"""``api.Version`` of every answer (birdwatcher puts its own version there)."""

# A BIRD symbol as ixp names protocols and tables; anything else never reaches BIRD.
_SYMBOL = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}", re.ASCII)
# BIRD's "Network not found" (``show route for`` with no covering route).
_NOTHING_FOUND = 8001
# BIRD's answer to ``show route noexport`` on a session whose channels are down.
_NO_TABLES = "No valid tables"


@dataclass(frozen=True)
class Target:
    """A route server as the looking glass reaches it: its name, BIRD's control socket and
    its ASN (the first field of the communities it tags routes with)."""

    name: str
    socket: str
    asn: int


def target(session: Session, name: str, sockets: Mapping[str, str]) -> Target:
    """The route server ``name`` of the exchange (``NotFound`` if there is none), reached
    through ``sockets[name]`` when given there (``settings.bird_sockets``)."""
    rs = exchange.get_route_server(session, name)
    return Target(rs.name, sockets.get(rs.name, rs.control_socket), rs.asn)


def route_servers(session: Session) -> list[dict[str, Any]]:
    """The route servers a looking glass can show, with the path of each one's API.

    The control socket stays out: it is a path on the route server's host.
    """
    return [
        {
            "id": rs.name,
            "name": rs.name,
            "asn": rs.asn,
            "router_id": rs.router_id,
            "ipv4": rs.ipv4,
            "ipv6": rs.ipv6,
            "api": f"/lg/{rs.name}/",
        }
        for rs in exchange.list_route_servers(session)
    ]


class RouteQuery(enum.Enum):
    """Which routes: the BIRD arguments (``{}`` is the name) and the name's field."""

    PROTOCOL = ("protocol {}", "protocol")
    FILTERED = ("filtered protocol {}", "protocol")
    NOEXPORT = ("noexport {}", "protocol")
    TABLE = ("table {}", "table")
    TABLE_FILTERED = ("table {} filtered", "table")
    PREFIX = ("for {}", "prefix")

    def __init__(self, arguments: str, field: str) -> None:
        self.arguments = arguments
        self.field = field


def symbol(value: str, field: str) -> str:
    """A protocol or table name as BIRD writes symbols; anything else is a ``ValidationError``."""
    if not _SYMBOL.fullmatch(value):
        raise ValidationError(field, validate.shown(value), "is not a BIRD protocol or table name")
    return value


def lookup_prefix(value: str) -> str:
    """A prefix (``192.0.2.0/24``) or address (``2001:db8::1``) to look up, normalised."""
    family = 6 if ":" in value else 4
    if "/" in value:
        return str(validate.network(value, "prefix", family))
    return str(validate.address(value, "prefix", family))


@dataclass(frozen=True)
class Page:
    """A slice of a route list: birdwatcher has no paging, so it is only there when asked for."""

    offset: int = 0
    limit: int | None = None


def body(answer: Cached[dict[str, Any]], page: Page | None = None) -> bytes:
    """The whole response as JSON: birdwatcher's ``api`` envelope, the answer, ``ttl``,
    ``cached_at``.

    With ``page``, ``routes`` holds that slice and ``pagination`` says where it lies
    (``offset``, ``limit``, ``total``).
    """
    cached_at = shapes.cache_time(answer.cached_at)
    fields: dict[str, Any] = {
        "api": {
            "Version": VERSION,
            "result_from_cache": answer.from_cache,
            "cache_status": {
                "cached_at": {"date": cached_at, "timezone_type": "UTC", "timezone": "UTC"}
            },
        },
        **answer.value,
        "ttl": shapes.cache_time(answer.expires_at),
        "cached_at": cached_at,
    }
    if page is not None:
        routes: EncodedList = answer.value["routes"]
        end = None if page.limit is None else page.offset + page.limit
        fields["routes"] = EncodedList(routes.items[page.offset : end])
        fields["pagination"] = {"offset": page.offset, "limit": page.limit, "total": len(routes)}
    members = (_dumps(key) + b":" + _encoded(value) for key, value in fields.items())
    return b"{" + b",".join(members) + b"}"


@dataclass(frozen=True)
class EncodedList:
    """A JSON list kept as the encoded text of each item.

    A route list is kept this way because it lives as long as the cache keeps it and is
    read a page at a time: 40,000 routes as dicts and lists are 400,000 objects that
    Python's cycle collector walks on every full collection (0.1 s, the whole worker
    stopped), as byte strings they are nothing to it; and a page is joined, not encoded
    again for every request.
    """

    items: tuple[bytes, ...]

    @classmethod
    def of(cls, values: Iterable[Any]) -> EncodedList:
        """The list of ``values``, each encoded now."""
        return cls(tuple(_dumps(value) for value in values))

    def __len__(self) -> int:
        return len(self.items)


def _dumps(value: Any) -> bytes:
    """``value`` as compact UTF-8 JSON, as the web framework writes its JSON answers."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


def _encoded(value: Any) -> bytes:
    if isinstance(value, EncodedList):
        return b"[" + b",".join(value.items) + b"]"
    return _dumps(value)


class LookingGlass:
    """birdwatcher's queries on any route server, each answer kept for ``ttl`` seconds.

    ``client`` opens a control-socket client for a socket path (by default a
    ``BirdClient`` waiting up to ``timeout`` seconds, ``settings.bird_timeout_seconds``:
    for ``show route protocol X`` BIRD walks its whole table and says nothing until it
    meets X's routes, 6 to 15 s for a member with few routes on a route server of
    1,000,000; a test passes a subclass that counts what reaches BIRD). One instance
    serves a whole web application.
    """

    def __init__(
        self,
        ttl: float,
        *,
        timeout: float,
        client: Callable[[str], BirdClient] | None = None,
        max_entries: int = 256,
    ) -> None:
        self.cache: TtlCache[dict[str, Any]] = TtlCache(ttl, max_entries)
        self._client = client or functools.partial(BirdClient, timeout=timeout)

    def _ask(
        self,
        rs: Target,
        key: tuple[str, ...],
        fetch: Callable[[BirdClient], dict[str, Any]],
        block: bool,
    ) -> Cached[dict[str, Any]]:
        def load() -> dict[str, Any]:
            with self._client(rs.socket) as bird:
                return fetch(bird)

        return self.cache.get((rs.socket, *key), load, block=block)

    def status(self, rs: Target, *, block: bool = True) -> Cached[dict[str, Any]]:
        """``/status``. Every query takes ``block``: false, ``NotKept`` rather than a wait
        on BIRD (``TtlCache.get``)."""
        return self._ask(
            rs,
            ("status",),
            lambda bird: {"status": shapes.status(bird.status(), utc_now())},
            block,
        )

    def protocols(
        self, rs: Target, bgp_only: bool = False, *, block: bool = True
    ) -> Cached[dict[str, Any]]:
        """``/protocols`` (every protocol) or ``/protocols/bgp`` (BGP sessions only)."""

        def fetch(bird: BirdClient) -> dict[str, Any]:
            now = utc_now()
            return {"protocols": {p.name: shapes.protocol(p, now) for p in bird.protocols()}}

        answer = self._ask(rs, ("protocols",), fetch, block)
        if not bgp_only:
            return answer
        everything = answer.value["protocols"]
        bgp = {name: p for name, p in everything.items() if p["bird_protocol"] == "BGP"}
        return Cached({"protocols": bgp}, answer.cached_at, answer.expires_at, answer.from_cache)

    def protocols_short(self, rs: Target, *, block: bool = True) -> Cached[dict[str, Any]]:
        """``/protocols/short``."""

        def fetch(bird: BirdClient) -> dict[str, Any]:
            now = utc_now()
            rows = bird.protocol_rows()
            return {"protocols": {p.name: shapes.protocol_row(p, now) for p in rows}}

        return self._ask(rs, ("protocols_short",), fetch, block)

    def routes(
        self, rs: Target, query: RouteQuery, name: str, *, block: bool = True
    ) -> Cached[dict[str, Any]]:
        """The routes of one query (``name``: the protocol, table or prefix it is about).

        A name BIRD does not know is ``NotFound``; a lookup no route covers is no routes.
        """
        if query is RouteQuery.PREFIX:
            name = lookup_prefix(name)
        else:
            symbol(name, query.field)

        def fetch(bird: BirdClient) -> dict[str, Any]:
            found = _routes(bird, query.arguments.format(name), query.field, name)
            now = utc_now()
            return {"routes": EncodedList.of(shapes.route(r, now, rs.asn) for r in found)}

        return self._ask(rs, ("routes", query.name, name), fetch, block)


def _routes(bird: BirdClient, arguments: str, field: str, name: str) -> list[BirdRoute]:
    """``show route <arguments> all``, with BIRD's refusals turned into what they mean."""
    try:
        return bird.routes(arguments)
    except BirdCommandError as refused:
        if refused.code == _NOTHING_FOUND or refused.message == _NO_TABLES:
            return []
        if refused.message.startswith("syntax error"):
            # The name is a well-formed symbol, so BIRD did not know it.
            raise NotFound("does not exist", field=field, value=name) from None
        raise SourceUnavailable(f"bird on {bird.path}: {refused.message}") from None
