"""The portal: server-rendered pages on the accounts, roles and service functions of the API.

Handlers here are as thin as ``api/routers``: who may see what comes from
``api.deps`` (``own_asn`` for a member's pages), the data from ``ixp/``
service functions, the words of errors from the app's own exception handlers
(:mod:`api.pages.errors` turns them into pages). Reading works without
JavaScript; ``/static/vendor`` (``make assets``) adds htmx and charts.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api.pages import (
    builds,
    errors,
    looking_glass,
    member,
    member_admin,
    onboarding,
    operator,
    public,
    tokens,
)
from api.pages.render import STATIC

# The page modules, each with its ``router`` (left out of the OpenAPI document), for the
# app's ROUTERS.
ROUTERS = (public, member, member_admin, tokens, operator, onboarding, builds, looking_glass)


def install(app: FastAPI) -> None:
    """Serve ``/static`` and answer errors of pages as pages (after the handlers are in)."""
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    errors.install(app)
