"""How a page is made: the Jinja2 environment, who is looking, and the headers every page gets.

Templates autoescape everything and fail on an undefined name, so a typo is a
failing test, not an empty cell. A page's content security policy lets it load
only the app's own scripts and styles: no inline script or style, nothing
from elsewhere, never framed. Data a script needs (a chart's points) travels
in a ``<script type="application/json">`` block, which is never run.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined
from starlette.templating import Jinja2Templates

from api.deps import Caller, Principal, SessionSigner
from api.security import CSRF_FIELD

STATIC = Path(__file__).resolve().parent.parent / "static"

POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


# Router platforms (``ixp.rs.snippets.PLATFORMS``) as their makers name them.
PLATFORM_NAMES = {
    "mikrotik": "MikroTik RouterOS",
    "cisco": "Cisco IOS",
    "junos": "Juniper Junos",
    "bird": "BIRD 2",
    "frr": "FRRouting",
}


def when(moment: dt.datetime | None) -> str:
    """A time as people at an exchange read it in a NOC: UTC, to the minute."""
    if moment is None:
        return "—"
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def duration(moment: dt.datetime | None, now: dt.datetime | None = None) -> str:
    """How long ago ``moment`` was, in the largest whole unit (``3 days``, ``5 min``)."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    seconds = max(0, int(((now or dt.datetime.now(dt.UTC)) - moment).total_seconds()))
    for unit, size in (("day", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if unit == 'day' and count > 1 else ''}"
    return f"{seconds} s"


_SI_PREFIXES = ("", "k", "M", "G", "T", "P", "E")


def si(value: float, unit: str) -> str:
    """``value`` with a decimal SI prefix and three significant digits, as network people
    write traffic: ``1.25 TB``, ``840 Mbit/s`` (1,000, not 1,024, per step)."""
    step = 0
    while abs(value) >= 999.5 and step < len(_SI_PREFIXES) - 1:
        value /= 1000
        step += 1
    digits = 0 if abs(value) >= 99.95 or step == 0 else 1 if abs(value) >= 9.995 else 2
    return f"{value:.{digits}f} {_SI_PREFIXES[step]}{unit}"


def web_url(url: str | None) -> str | None:
    """``url`` if a link to it is safe to show (http or https), else None: a stored URL is
    free text, and ``javascript:`` in an ``href`` would run."""
    if url and url.lower().startswith(("https://", "http://")):
        return url
    return None


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("api", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = when
    env.filters["duration"] = duration
    env.filters["number"] = lambda value: f"{value:,}"
    env.filters["web_url"] = web_url
    env.filters["si"] = si
    env.globals["CSRF_FIELD"] = CSRF_FIELD
    env.globals["PLATFORM_NAMES"] = PLATFORM_NAMES
    return env


templates = Jinja2Templates(env=_environment())


@dataclass(frozen=True)
class Viewer:
    """Who looks at a page, as the layout needs it: the nav by role, the signed-in user,
    and the CSRF token its forms carry (None for the public and for API tokens)."""

    username: str | None = None
    operator: bool = False
    member_asn: int | None = None
    csrf_token: str | None = None

    @classmethod
    def of(cls, caller: Principal | None, signer: SessionSigner) -> Viewer:
        """The viewer a caller is."""
        if caller is None:
            return cls()
        token = signer.csrf_token(caller.browser) if caller.browser else None
        return cls(caller.username, caller.is_operator, caller.member_asn, token)


async def _viewer(caller: Caller, signer: SessionSigner) -> Viewer:
    return Viewer.of(caller, signer)


Look = Annotated[Viewer, Depends(_viewer)]


def page(
    request: Request,
    template: str,
    *,
    viewer: Viewer,
    exchange: str | None,
    status: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """``template`` rendered for ``viewer`` under the exchange's name, with the page policy.
    ``lg_public`` tells the layout whether the looking glass is open to the public."""
    lg_public = request.app.state.settings.web_lg_public
    response = templates.TemplateResponse(
        request,
        template,
        {"viewer": viewer, "exchange": exchange, "lg_public": lg_public, **context},
        status_code=status,
        headers={"Content-Security-Policy": POLICY, **(headers or {})},
    )
    return response
