"""The looking glass: birdwatcher's API for each route server under ``/lg/{rs}/``.

An unmodified Alice-LG reads it as a ``birdwatcher`` source of type
``single_table`` (see ``ixp/data/alice/alice.conf``). Successful answers are
birdwatcher's JSON, errors problem+json: an unknown route server, protocol or
table 404, a bad prefix or name 422, a BIRD that cannot be reached 503.

Who may look: anyone when ``web_lg_public`` is set, otherwise signed-in users.
Route lists take optional ``offset`` and ``limit`` (birdwatcher has no paging,
and Alice-LG never sends them, so it gets whole lists); a paged answer says
where it lies in ``pagination``. ``uncached=true``, which Alice-LG sends with
``/protocols/short``, is ignored: answers always come through the cache.
"""

import threading
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.deps import Caller, Db, Settings
from api.schemas.problem import errors
from api.threads import waiting_on_bird
from ixp import lg
from ixp.errors import AccessDenied
from ixp.lg import LookingGlass, Page, RouteQuery, Target


async def _may_look(caller: Caller, settings: Settings) -> None:
    if caller is None and not settings.web_lg_public:
        raise AccessDenied("the looking glass is for signed-in users: sign in or send an API token")


router = APIRouter(prefix="/lg", tags=["looking glass"], dependencies=[Depends(_may_look)])

_CREATING = threading.Lock()


async def _glass(request: Request, settings: Settings) -> LookingGlass:
    """The application's one looking glass (and so one cache), made on first use.

    A test may put its own on ``app.state.looking_glass`` before the first request.
    """
    state = request.app.state
    with _CREATING:
        glass: LookingGlass | None = getattr(state, "looking_glass", None)
        if glass is None:
            glass = state.looking_glass = LookingGlass(
                settings.web_lg_cache_seconds, timeout=settings.bird_timeout_seconds
            )
    return glass


def _target(rs: str, db: Db, settings: Settings) -> Target:
    return lg.target(db, rs, settings.bird_sockets)


Glass = Annotated[LookingGlass, Depends(_glass)]
RouteServer = Annotated[Target, Depends(_target)]
Offset = Annotated[int | None, Query(ge=0, description="First route of the page (0 first).")]
Limit = Annotated[
    int | None, Query(ge=1, le=100_000, description="Routes per page; none: every route.")
]

_BIRD = errors(401, 404, 503)
_ROUTES = errors(401, 404, 422, 503)


async def _answer(
    request: Request,
    ask: Callable[..., lg.Cached[dict[str, Any]]],
    *args: Any,
    page: Page | None = None,
) -> Response:
    """The kept answer, read on the event loop; the first time, BIRD's, waited for on the
    threads kept for BIRD (``api.threads``): a dump that takes BIRD seconds must not hold
    the worker's handler thread."""
    try:
        answer = ask(*args, block=False)
    except lg.NotKept:
        answer = await waiting_on_bird(request, ask, *args)
    return await run_in_threadpool(_response, answer, page)


def _response(answer: lg.Cached[dict[str, Any]], page: Page | None) -> Response:
    """The answer as JSON: on the handler thread, as a whole table may take a second."""
    return Response(lg.body(answer, page), media_type="application/json")


async def _routes(
    request: Request,
    glass: LookingGlass,
    rs: Target,
    query: RouteQuery,
    name: str,
    offset: int | None,
    limit: int | None,
) -> Response:
    paged = offset is not None or limit is not None
    page = Page(offset or 0, limit) if paged else None
    return await _answer(request, glass.routes, rs, query, name, page=page)


@router.get("/", summary="Route servers of the looking glass", responses=errors(401))
def route_servers(db: Db) -> dict[str, Any]:
    """Each route server with the path of its birdwatcher API."""
    return {"route_servers": lg.route_servers(db)}


@router.get("/{rs}/status", summary="BIRD status", responses=_BIRD)
async def status(request: Request, rs: RouteServer, glass: Glass) -> Response:
    """birdwatcher ``/status``."""
    return await _answer(request, glass.status, rs)


@router.get("/{rs}/protocols", summary="Every protocol", responses=_BIRD)
async def protocols(request: Request, rs: RouteServer, glass: Glass) -> Response:
    """birdwatcher ``/protocols``: a map keyed by protocol name."""
    return await _answer(request, glass.protocols, rs)


@router.get("/{rs}/protocols/bgp", summary="BGP sessions", responses=_BIRD)
async def protocols_bgp(request: Request, rs: RouteServer, glass: Glass) -> Response:
    """birdwatcher ``/protocols/bgp``: the BGP protocols, keyed by name."""
    return await _answer(request, glass.protocols, rs, True)


@router.get("/{rs}/protocols/short", summary="Protocol rows", responses=_BIRD)
async def protocols_short(request: Request, rs: RouteServer, glass: Glass) -> Response:
    """birdwatcher ``/protocols/short``: each protocol's row of ``show protocols``."""
    return await _answer(request, glass.protocols_short, rs)


def _listing(path: str, query: RouteQuery, summary: str, doc: str) -> None:
    """Add the route list at ``/{rs}/routes/{path}``; its one path parameter is the name
    the query takes (a protocol or a table). The module evaluates annotations when it
    runs (no ``from __future__ import annotations``) so that this one can name it."""

    async def listing(
        request: Request,
        rs: RouteServer,
        glass: Glass,
        name: Annotated[str, Path(alias=query.field)],
        offset: Offset = None,
        limit: Limit = None,
    ) -> Response:
        return await _routes(request, glass, rs, query, name, offset, limit)

    listing.__doc__ = doc
    router.add_api_route(
        f"/{{rs}}/routes/{path}",
        listing,
        methods=["GET"],
        name=f"routes_{query.name.lower()}",
        summary=summary,
        responses=_ROUTES,
    )


_listing(
    "protocol/{protocol}",
    RouteQuery.PROTOCOL,
    "Accepted routes",
    "birdwatcher ``/routes/protocol/{id}``: the routes a session's import filter accepted.",
)
_listing(
    "filtered/{protocol}",
    RouteQuery.FILTERED,
    "Filtered routes",
    "birdwatcher ``/routes/filtered/{id}``: the routes a session's import filter rejected, "
    "each with its reject reasons as ``(rs_asn, 1101, code)`` large communities.",
)
_listing(
    "noexport/{protocol}",
    RouteQuery.NOEXPORT,
    "Routes not exported",
    "birdwatcher ``/routes/noexport/{id}``: routes the export filter kept from a session.",
)
_listing(
    "table/{table}",
    RouteQuery.TABLE,
    "Routes of a table",
    "birdwatcher ``/routes/table/{table}``: every accepted route of a table.",
)
_listing(
    "table/{table}/filtered",
    RouteQuery.TABLE_FILTERED,
    "Filtered routes of a table",
    "birdwatcher ``/routes/table/{table}/filtered``: every filtered route of a table.",
)


@router.get("/{rs}/routes/prefix", summary="Routes for a prefix", responses=_ROUTES)
async def routes_prefix(
    request: Request,
    rs: RouteServer,
    glass: Glass,
    prefix: Annotated[str, Query(description="A prefix or address, e.g. 192.0.2.0/24.")],
    offset: Offset = None,
    limit: Limit = None,
) -> Response:
    """birdwatcher ``/routes/prefix?prefix=``: the routes of the most specific network
    covering the prefix or address."""
    return await _routes(request, glass, rs, RouteQuery.PREFIX, prefix, offset, limit)
