"""The public home page, and signing in and out in the browser.

Signing in goes through the API's own sign-in (``api.routers.auth.login``): the
same password check, rate limit and session cookie. The page adds what a person
needs: the error next to the form, the wait after too many attempts, and a way
back to the page that asked for a sign-in.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import Caller, Db, SessionSigner, Settings
from api.pages.render import Look, Viewer, page
from api.routers import auth
from ixp import accounts, overview
from ixp.errors import AccessDenied, RateLimited
from ixp.monitor.reach import ReachReport

router = APIRouter(include_in_schema=False)

_NEXT_MAX_LENGTH = 2000
# Where an operator lands after signing in (a member's user: its own network).
OPERATOR_HOME = "/operator"


def reach_chart(report: ReachReport) -> list[dict[str, float]]:
    """A reach history as the chart script reads it (``#reach-history``), oldest first."""
    return [
        {
            "t": p.at.timestamp(),
            "ipv4": p.ipv4_percent,
            "asn": p.asn_percent,
            "ipv6": p.ipv6_48_percent,
        }
        for p in reversed(report.history)
    ]


def local_target(target: str | None) -> str | None:
    """``target`` if it is a path on this site (never another host: no open redirect)."""
    if not target or len(target) > _NEXT_MAX_LENGTH or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@router.get("/", response_class=HTMLResponse)
def home(request: Request, viewer: Look, db: Db, settings: Settings) -> HTMLResponse:
    """The exchange, its route servers and LAN, its members, how to join, and how much of
    the country it reaches."""
    public = overview.public_overview(
        db, ixf_id=settings.ixf_id, max_error=settings.traffic_max_error
    )
    return page(
        request,
        "home.html",
        viewer=viewer,
        exchange=public.name,
        ix=public,
        chart=reach_chart(public.reach),
        section="home",
    )


def _sign_in_form(
    request: Request,
    viewer: Viewer,
    *,
    next_page: str | None,
    username: str = "",
    error: str | None = None,
    status: int = 200,
    retry_after: int | None = None,
) -> HTMLResponse:
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return page(
        request,
        "signin.html",
        viewer=viewer,
        exchange=None,
        status=status,
        headers=headers,
        next_page=next_page,
        username=username,
        error=error,
        retry_minutes=-(-retry_after // 60) if retry_after is not None else None,
    )


@router.get("/signin", response_class=HTMLResponse)
def sign_in_page(
    request: Request,
    viewer: Look,
    next_page: Annotated[str | None, Query(alias="next", max_length=_NEXT_MAX_LENGTH)] = None,
) -> HTMLResponse:
    """The sign-in form."""
    return _sign_in_form(request, viewer, next_page=local_target(next_page))


def _same_origin(request: Request) -> bool:
    """A sign-in form posted from this site (there is no session, so no CSRF token yet: a
    browser's ``Origin`` header tells another site's form apart)."""
    origin = request.headers.get("origin")
    return origin is None or urlsplit(origin).netloc == request.url.netloc


@router.post("/signin", response_class=HTMLResponse)
def sign_in(
    request: Request,
    db: Db,
    settings: Settings,
    signer: SessionSigner,
    username: Annotated[str, Form(max_length=accounts.USERNAME_MAX_LENGTH)] = "",
    password: Annotated[str, Form(max_length=accounts.PASSWORD_MAX_LENGTH)] = "",
    next_page: Annotated[str | None, Form(alias="next", max_length=_NEXT_MAX_LENGTH)] = None,
) -> Response:
    """Check the name and password as the API does; on success, set the session cookie and
    go on to the page asked for (or the user's own network). Whoever was signed in on this
    browser before is not asked for (no CSRF token is needed to sign in again)."""
    viewer = Viewer()
    target = local_target(next_page)
    if not _same_origin(request):
        return _sign_in_form(
            request,
            viewer,
            next_page=target,
            error="Sign in from this site's own page.",
            status=403,
        )
    redirect = RedirectResponse("/", status_code=303)
    try:
        me = auth.login(
            auth.Credentials(username=username, password=password),
            request,
            redirect,
            db,
            settings,
            signer,
        )
    except AccessDenied as exc:
        return _sign_in_form(
            request, viewer, next_page=target, username=username, error=exc.reason, status=422
        )
    except RateLimited as exc:
        return _sign_in_form(
            request,
            viewer,
            next_page=target,
            username=username,
            error=exc.reason,
            status=429,
            retry_after=exc.retry_after,
        )
    landing = f"/members/{me.member_asn}" if me.member_asn is not None else OPERATOR_HOME
    redirect.headers["location"] = target or landing
    return redirect


@router.post("/signout")
def sign_out(caller: Caller, signer: SessionSigner) -> Response:
    """End the browser session, as the API's sign-out does, and go to the home page."""
    ended = auth.logout(caller, signer)
    redirect = RedirectResponse("/", status_code=303)
    for cookie in ended.headers.getlist("set-cookie"):
        redirect.headers.append("set-cookie", cookie)
    return redirect
