"""Errors as pages for people, problem+json for programs, from the same handlers.

``install`` wraps every exception handler of the app: the handler still decides
the status and the words (so a page and the API never disagree), and a request
that wants a page gets them as one. A page route always does; any other path
does when the browser asks for HTML, except the machine interfaces
(``/api/``, ``/lg/``, ``/ixf/``), which always answer problem+json.

A 401 becomes a redirect to the sign-in page that comes back to the page asked
for. A 404 says the same words whether the page does not exist or belongs to
another member, so the answer tells a member nothing about other members.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import WebSocketRequestValidationError
from fastapi.responses import RedirectResponse, Response

from api.pages.render import Viewer, page

MACHINE_PATHS = ("/api/", "/lg/", "/ixf/")
_SAFE = frozenset({"GET", "HEAD"})

# What a person reads for each status: a title, and the words when the handler's own
# are not for people (a 404 must not differ between "no such member" and "not yours").
_TITLES = {
    400: "Bad request",
    403: "Not allowed",
    404: "Not found",
    405: "Not here",
    409: "Conflict",
    422: "That address is not right",
    429: "Too many attempts",
    500: "Something went wrong",
    503: "Not available right now",
}
_FIXED_WORDS = {
    404: "There is no such page, or it is not yours to see.",
    405: "This address does not take that kind of request.",
    500: "The portal failed to answer this request; the error has been logged.",
}

Handler = Callable[[Request, Any], Response | Awaitable[Response]]


def is_page(request: Request) -> bool:
    """Whether the request is answered with pages (errors included)."""
    path = request.url.path
    if path.startswith(MACHINE_PATHS) or path == "/lg":
        return False
    endpoint = request.scope.get("endpoint")
    if getattr(endpoint, "__module__", "").startswith(__package__ or "api.pages"):
        return True
    return "text/html" in request.headers.get("accept", "")


def sign_in_url(request: Request) -> str:
    """The sign-in page, coming back to this page afterwards (only for a page one can GET)."""
    if request.method not in _SAFE:
        return "/signin"
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return f"/signin?next={quote(target, safe='')}"


def error_page(request: Request, problem: Response) -> Response:
    """The page for a problem+json answer: its status, title and words, as HTML."""
    status = problem.status_code
    if status == 401:
        return RedirectResponse(sign_in_url(request), status_code=303)
    try:
        body = json.loads(bytes(problem.body))
    except ValueError:
        body = {}
    words = _FIXED_WORDS.get(status) or str(body.get("detail") or "")
    kept = {k: v for k, v in problem.headers.items() if k.lower() == "retry-after"}
    return page(
        request,
        "error.html",
        viewer=Viewer(),
        exchange=None,
        status=status,
        headers=kept,
        title=_TITLES.get(status, body.get("title") or "Error"),
        words=words,
        errors=body.get("errors", []) if status != 404 else [],
        retry_after=kept.get("retry-after"),
    )


def _as_page(handler: Handler) -> Callable[[Request, Any], Awaitable[Response]]:
    async def page_or_problem(request: Request, exc: Any) -> Response:
        answer = handler(request, exc)
        response = await answer if inspect.isawaitable(answer) else answer
        return error_page(request, response) if is_page(request) else response

    return page_or_problem


def install(app: FastAPI) -> None:
    """Wrap each of ``app``'s exception handlers (install them first) to answer pages."""
    for kind, handler in list(app.exception_handlers.items()):
        if kind is not WebSocketRequestValidationError:
            app.exception_handlers[kind] = _as_page(handler)
