"""The looking-glass page: a prefix or address looked up on every route server, for people.

``/looking-glass`` beside the machine looking glass under ``/lg/`` (birdwatcher's
JSON for Alice-LG): the same rule on who may look (anyone when ``web_lg_public``
is set, otherwise signed-in users, who are sent to sign in) and the same BIRD
sockets. BIRD is read through the app's cached reader (``api.deps.Routes``: each
answer kept for ``web_lg_cache_seconds``) and waited for on the threads kept for
that (``api.threads``).
Why a route server cannot be reached is for operators; others read that it cannot.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from api.deps import Caller, Db, Routes, Settings
from api.pages.render import Look, page
from api.threads import waiting_on_bird
from ixp.errors import AccessDenied, ValidationError
from ixp.exchange import get_exchange
from ixp.lg import lookup
from ixp.rs.context import limits_from

router = APIRouter(include_in_schema=False)


@router.get("/looking-glass", response_class=HTMLResponse)
async def looking_glass(
    request: Request,
    caller: Caller,
    viewer: Look,
    db: Db,
    settings: Settings,
    reader: Routes,
    prefix: Annotated[str, Query(max_length=100)] = "",
) -> HTMLResponse:
    """The lookup form and, for a prefix or address, each route server's routes: accepted
    ones with path and communities, filtered ones with the reasons and what to do."""
    if caller is None and not settings.web_lg_public:
        raise AccessDenied("the looking glass is for signed-in users")
    exchange = get_exchange(db)
    found = None
    error = None
    if prefix.strip():
        known = lookup.directory(db)
        try:
            found = await waiting_on_bird(
                request,
                lambda: lookup.lookup(
                    exchange.route_servers,
                    prefix,
                    known=known,
                    limits=limits_from(settings),
                    sockets=settings.bird_sockets,
                    timeout=settings.bird_timeout_seconds,
                    reader=reader,
                ),
            )
        except ValidationError as exc:
            error = exc.reason
    return page(
        request,
        "looking_glass.html",
        viewer=viewer,
        exchange=exchange.name,
        status=422 if error else 200,
        prefix=prefix,
        error=error,
        found=found,
        section="looking-glass",
    )
