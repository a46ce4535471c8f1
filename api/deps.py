"""What every handler may ask for: the settings, a database session, and who is calling.

Dependencies that do no I/O are ``async``: FastAPI runs every plain function on the
thread pool, a hop that costs more than such a function does.

``Caller`` is the signed-in user (by session cookie or API token) or None for
the public; ``User`` and ``Operator`` require more. A browser session must send
its CSRF token with every request that changes something; an API token needs
none (a cross-site page cannot make a browser send it).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from api.security import COOKIE, CSRF_FIELD, CSRF_HEADER, BrowserSession, Sessions
from ixp import accounts, validate
from ixp.errors import AccessDenied, NotFound
from ixp.lg import CachedReader
from ixp.members import MemberPages as MemberPagesCache
from ixp.models import Role
from ixp.roster import Rosters
from ixp.settings import Settings as SettingsModel

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


class Forbidden(Exception):
    """A signed-in caller asked for something only operators may do (HTTP 403)."""


class CsrfRefused(Exception):
    """A browser request that changes something came without its session's CSRF token."""


@dataclass(frozen=True)
class Principal:
    """Who is calling, as the handlers need it."""

    user_id: int
    username: str
    role: Role
    member_id: int | None
    member_asn: int | None
    browser: BrowserSession | None

    @property
    def is_operator(self) -> bool:
        """Operators may see and change everything."""
        return self.role is Role.operator

    @classmethod
    def of(cls, who: accounts.Identity, browser: BrowserSession | None) -> Principal:
        """The principal of an identity, signed in by ``browser`` or (None) by a token."""
        return cls(who.user_id, who.username, who.role, who.member_id, who.member_asn, browser)


def _kept(name: str) -> Callable[[Request], Awaitable[Any]]:
    """The dependency giving what ``create_app`` made once for the worker,
    ``app.state.<name>`` (its settings, caches and signers)."""

    async def kept(request: Request) -> Any:
        return getattr(request.app.state, name)

    return kept


async def _session(request: Request) -> AsyncIterator[Session]:
    # Async, so that neither making the session (no I/O until its first query) nor closing
    # it (handing its connection back) takes a trip through the thread pool.
    with request.app.state.session_factory() as session:
        yield session


Settings = Annotated[SettingsModel, Depends(_kept("settings"))]
# This worker's cached reader of BIRD's sessions and routes, for members' route pages.
Routes = Annotated[CachedReader, Depends(_kept("route_reader"))]
# This worker's cache of member listing pages (``ixp.members.member_page``).
MemberPages = Annotated[MemberPagesCache, Depends(_kept("member_pages"))]
# This worker's cache of the members table's pages (``ixp.roster.roster``).
RosterPages = Annotated[Rosters, Depends(_kept("rosters"))]
Db = Annotated[Session, Depends(_session)]
SessionSigner = Annotated[Sessions, Depends(_kept("sessions"))]


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise AccessDenied("the Authorization header must be 'Bearer <token>'")
    return value.strip()


def _identify(request: Request, db: Db, signer: SessionSigner) -> Principal | None:
    """The caller by API token (which wins) or session cookie; None for the public.

    A bad token is refused outright; a stale or forged cookie is treated as no cookie
    (the browser simply signs in again).
    """
    token = _bearer(request)
    if token is not None:
        return Principal.of(accounts.token_identity(db, token), None)
    cookie = request.cookies.get(COOKIE)
    browser = signer.read(cookie) if cookie else None
    if browser is None:
        return None
    who = accounts.session_identity(db, browser.user_id, browser.version)
    return Principal.of(who, browser) if who is not None else None


async def _presented_csrf(request: Request) -> str | None:
    presented = request.headers.get(CSRF_HEADER)
    content_type = request.headers.get("content-type", "")
    if presented is None and content_type.startswith(_FORMS):
        value = (await request.form()).get(CSRF_FIELD)
        presented = value if isinstance(value, str) else None
    return presented


async def _caller(
    request: Request,
    signer: SessionSigner,
    principal: Annotated[Principal | None, Depends(_identify)],
) -> Principal | None:
    if principal is None or principal.browser is None or request.method in _SAFE_METHODS:
        return principal
    if not signer.csrf_ok(principal.browser, await _presented_csrf(request)):
        raise CsrfRefused
    return principal


async def _user(caller: Annotated[Principal | None, Depends(_caller)]) -> Principal:
    if caller is None:
        raise AccessDenied("sign in or send an API token")
    return caller


async def _operator(user: Annotated[Principal, Depends(_user)]) -> Principal:
    if not user.is_operator:
        raise Forbidden
    return user


Caller = Annotated[Principal | None, Depends(_caller)]
User = Annotated[Principal, Depends(_user)]
Operator = Annotated[Principal, Depends(_operator)]


def own_asn(user: Principal, asn: int | str) -> int:
    """``asn`` as a number, if ``user`` may see that member: operators any, a member user
    only its own. Another member's is NotFound, exactly as a member that does not exist."""
    number = validate.asn(asn, "asn", allow_lab=True)
    if not user.is_operator and number != user.member_asn:
        raise NotFound("does not exist", field="member", value=asn)
    return number


def scope_asn(user: Principal, asn: int | str | None) -> int | None:
    """An optional ASN filter of a listing: a member user always sees only its own."""
    if user.is_operator:
        return validate.asn(asn, "asn", allow_lab=True) if asn is not None else None
    return own_asn(user, asn) if asn is not None else user.member_asn
