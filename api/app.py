"""``create_app()``: the FastAPI application, as ``ixp serve`` runs it and the tests build it.

One app serves the REST API (``/api/v1``), the IX-F export, the looking glass
(``/lg/{rs}/``) and the portal. Every error leaves it as problem+json: domain
errors by category, malformed requests with each bad field, an unusable
database as 503; anything else is a bug, logged with its traceback and answered
with a bare 500 that shows nothing of it.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException

from api import pages, problems, threads
from api.deps import CsrfRefused, Forbidden
from api.headers import SecurityHeaders
from api.limits import ConcurrencyLimit
from api.pages import rules as rules_page
from api.pages import traffic as traffic_pages
from api.routers import auth, builds, exchange, ixf, lg, macs, members, monitor, registry, users
from api.routers import rules as member_rules
from api.routers import traffic as traffic_api
from api.security import Sessions
from ixp import db
from ixp.errors import IxpError, ValidationError
from ixp.lg import CachedReader
from ixp.members import MemberPages
from ixp.roster import Rosters
from ixp.settings import Settings, get_settings

log = logging.getLogger(__name__)

ROUTERS = (
    auth,
    users,
    exchange,
    members,
    macs,
    member_rules,
    registry,
    builds,
    monitor,
    traffic_api,
    ixf,
    lg,
    *pages.ROUTERS,
    rules_page,
    traffic_pages,
)


def _field(location: tuple[object, ...]) -> str:
    """``("body", "max_prefix_v4")`` -> ``max_prefix_v4``; where the field came from is
    said only for query and path parameters."""
    parts = [str(part) for part in location]
    if parts and parts[0] == "body":
        parts = parts[1:]
    return ".".join(parts) or "body"


def _install_error_handlers(app: FastAPI, settings: Settings) -> None:
    url = settings.effective_database_url

    @app.exception_handler(IxpError)
    async def domain_error(request: Request, exc: IxpError) -> JSONResponse:
        return problems.from_error(exc)

    @app.exception_handler(RequestValidationError)
    async def malformed(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            problems.field_error(_field(tuple(e["loc"])), e.get("input"), e["msg"])
            for e in exc.errors()
        ]
        detail = "; ".join(f"{e['field']}: {e['reason']}" for e in errors)
        return problems.problem(422, detail, kind="validation-error", errors=errors)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return problems.problem(exc.status_code, str(exc.detail), headers=exc.headers)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden) -> JSONResponse:
        return problems.problem(403, "only operators may do this")

    @app.exception_handler(CsrfRefused)
    async def csrf(request: Request, exc: CsrfRefused) -> JSONResponse:
        return problems.problem(
            403, "the CSRF token is missing or wrong; reload the page", kind="csrf"
        )

    @app.exception_handler(SQLAlchemyError)
    async def database(request: Request, exc: SQLAlchemyError) -> JSONResponse:
        try:
            with db.reported_errors(url):
                raise exc
        except IxpError as converted:
            return problems.from_error(converted)
        except SQLAlchemyError:
            log.exception("database error on %s %s", request.method, request.url.path)
            return problems.problem(500, "internal error")

    @app.exception_handler(Exception)
    async def bug(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problems.problem(500, "internal error")


async def _refuse_nul(request: Request) -> None:
    """A NUL in a path or query parameter is one 422 for every route: no database takes it
    (PostgreSQL refuses it even in a WHERE clause) and no name or filter contains one."""
    given = [*request.path_params.items(), *request.query_params.multi_items()]
    for name, value in given:
        if "\x00" in value:
            raise ValidationError(name, value, "contains a NUL character")


MEMBER_PAGES_KEPT = 4096


def served_app() -> FastAPI:
    """The application as ``ixp serve`` runs it in each worker process: its heap is set
    aside from Python's cycle collector once the app has started, and again after every
    full collection, so a full collection, which pauses a worker in the middle of
    requests, walks only what was made since the last one (``_freeze_after_full``)."""
    return create_app(freeze_start_up=True)


def _freeze_after_full(phase: str, info: dict[str, int]) -> None:
    """A ``gc.callbacks`` hook: what outlived a full collection is frozen with the start-up heap.

    Freezing the start-up heap alone cut the longest pause of a run at 200 requests/s
    from 240 ms to 150 ms; the rest was the workers' caches (member pages, kept routes)
    walked again by every full collection. What this gives up: a reference cycle among
    objects that were alive at a full collection and die later is never reclaimed (a
    request in flight at that moment, an entry a cache evicts later); objects without
    cycles are still freed when their last reference goes.
    """
    if phase == "stop" and info["generation"] == 2:
        gc.freeze()


def create_app(settings: Settings | None = None, *, freeze_start_up: bool = False) -> FastAPI:
    """The application for ``settings`` (the process settings when None).

    Refuses (``ValidationError`` of ``web_secret_key``) to build a production app
    whose session key is missing, short or the development default.
    """
    settings = settings or get_settings()
    sessions = Sessions(settings)
    engine = db.make_engine(settings.effective_database_url, connections=settings.web_max_requests)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        threads.use(settings)
        if freeze_start_up:
            gc.collect()
            gc.freeze()
            gc.callbacks.append(_freeze_after_full)
        try:
            yield
        finally:
            if _freeze_after_full in gc.callbacks:
                gc.callbacks.remove(_freeze_after_full)
            engine.dispose()

    app = FastAPI(
        title="ixp",
        summary="Route-server and peering manager for internet exchange points",
        version="1",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
        lifespan=lifespan,
        dependencies=[Depends(_refuse_nul)],
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = db.session_factory(engine)
    app.state.sessions = sessions
    # Each member's own pages read its one-member page: room for every member of the largest
    # exchanges (about a thousand networks) and the listings' pages, a few MB. With fewer
    # entries than members, NOCs taking turns would each evict another's page.
    app.state.member_pages = MemberPages(max_entries=MEMBER_PAGES_KEPT)
    app.state.rosters = Rosters()
    app.state.route_reader = CachedReader(
        settings.web_lg_cache_seconds, timeout=settings.bird_timeout_seconds
    )
    _install_error_handlers(app, settings)
    for module in ROUTERS:
        app.include_router(module.router)
    pages.install(app)
    limit, wait = settings.web_max_requests, settings.web_queue_seconds
    app.add_middleware(ConcurrencyLimit, limit=limit, wait_seconds=wait)
    app.add_middleware(SecurityHeaders)  # added last: outermost, on every answer
    return app
