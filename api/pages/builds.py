"""Route-server builds in the browser: the history, one build's per-member summary, what the
next build would change, and a button that builds now.

Operators only. "Build now" is ``POST /api/v1/builds``'s ``run_build`` into the
same directory (``<home>/rs``), one build at a time: another build running there
is a 409 page naming who started it. A build BIRD refused is recorded and shown
with its error, like any other.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import Db, Operator, Settings
from api.pages.render import Look, page
from api.threads import waiting_on_bird
from ixp.exchange import get_exchange
from ixp.rs import history, preview

router = APIRouter(prefix="/builds", include_in_schema=False)

BUILDS_PER_PAGE = 50

BuildId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("", response_class=HTMLResponse)
def builds(
    request: Request,
    operator: Operator,
    viewer: Look,
    db: Db,
    number: Annotated[int, Query(alias="page", ge=1, le=2**20)] = 1,
) -> HTMLResponse:
    """Recorded builds, newest first, and the button to build now."""
    listed, total = history.list_builds(
        db, limit=BUILDS_PER_PAGE, offset=(number - 1) * BUILDS_PER_PAGE
    )
    return page(
        request,
        "builds/list.html",
        viewer=viewer,
        exchange=get_exchange(db).name,
        builds=listed,
        total=total,
        page_number=number,
        pages=max(1, -(-total // BUILDS_PER_PAGE)),
        section="builds",
    )


@router.post("")
async def build_now(request: Request, operator: Operator, db: Db, settings: Settings) -> Response:
    """Build, check and publish every route server's configuration, then show the build
    (failed or not). BIRD's parse check runs on the threads kept for waits (``api.threads``)."""
    outcome = await waiting_on_bird(
        request,
        lambda: history.run_build(
            db, settings, history.default_out_dir(settings), actor=operator.username
        ),
    )
    return RedirectResponse(f"/builds/{outcome.record.id}", status_code=303)


@router.get("/preview", response_class=HTMLResponse)
async def next_build(
    request: Request, operator: Operator, viewer: Look, db: Db, settings: Settings
) -> HTMLResponse:
    """What the next build would change per member, against the last published files."""
    coming = await waiting_on_bird(request, preview.preview, db, settings)
    return page(
        request,
        "builds/preview.html",
        viewer=viewer,
        exchange=get_exchange(db).name,
        preview=coming,
        section="builds",
    )


@router.get("/{build_id}", response_class=HTMLResponse)
def build(
    request: Request, build_id: BuildId, operator: Operator, viewer: Look, db: Db
) -> HTMLResponse:
    """One build: who ran it, whether it was published, and each route server's members."""
    return page(
        request,
        "builds/show.html",
        viewer=viewer,
        exchange=get_exchange(db).name,
        build=history.show_build(db, build_id),
        section="builds",
    )
