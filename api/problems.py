"""Errors as RFC 9457 problem details (``application/problem+json``).

Every error the API returns has the same shape: ``type``, ``title``, ``status``,
``detail`` (the domain's one-line message) and, for bad input, ``errors``, one
entry per bad field with its ``field``, ``value`` and ``reason``, so a form can
mark every field at once. A remedy the domain names is worded here, for HTTP
callers, in ``hint``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi.responses import JSONResponse

from ixp.errors import (
    UNSET,
    AccessDenied,
    Conflict,
    HeldForApproval,
    IxpError,
    NotFound,
    RateLimited,
    Remedy,
    SourceUnavailable,
    ValidationError,
    shown,
)

MEDIA_TYPE = "application/problem+json"
_TYPE_BASE = "urn:ixp:problem:"

# The HTTP status of each error category; an error's nearest mapped class decides.
STATUS: dict[type[IxpError], int] = {
    ValidationError: 422,
    NotFound: 404,
    Conflict: 409,
    HeldForApproval: 409,
    SourceUnavailable: 503,
    AccessDenied: 401,
    RateLimited: 429,
    IxpError: 500,
}

# How the API words each remedy the domain names.
REMEDY_WORDS: dict[Remedy, str] = {
    Remedy.INIT_EXCHANGE: "create the exchange first (ixp exchange init)",
    Remedy.DB_UPGRADE: "the database schema is missing or old: the operator must migrate it",
    Remedy.FORCE: "repeat the request with force=true to do it anyway",
    Remedy.LAB_UP: "start the lab first",
    Remedy.LAB_DOWN: "stop the lab first",
}

# The longest text value echoed back in ``errors``: enough to recognise it.
_VALUE_LENGTH = 200


def _category(exc: IxpError) -> type[IxpError]:
    return next(kind for kind in type(exc).__mro__ if kind in STATUS)


def status_of(exc: IxpError) -> int:
    """The HTTP status for ``exc``: that of its nearest mapped class."""
    return STATUS[_category(exc)]


def _kind(category: type[IxpError]) -> str:
    """``NotFound`` -> ``not-found``: the last part of the problem type URI."""
    return re.sub(r"(?<!^)(?=[A-Z])", "-", category.__name__).lower()


def wire_value(value: object) -> Any:
    """``value`` as JSON can carry it back: scalars as they are (long text cut), the rest as
    their cut-short repr, so that no value a client sent can break the response."""
    if value is UNSET:
        return None
    if value is None or (isinstance(value, bool | int | float) and abs(value) < 2**63):
        return value
    if isinstance(value, str):
        return value if len(value) <= _VALUE_LENGTH else value[:_VALUE_LENGTH] + "…"
    return str(shown(value, _VALUE_LENGTH))


def field_error(field: str | None, value: object, reason: str) -> dict[str, Any]:
    """One entry of ``errors``."""
    return {"field": field, "value": wire_value(value), "reason": reason}


def problem(
    status: int,
    detail: str,
    *,
    kind: str | None = None,
    errors: Sequence[Mapping[str, Any]] = (),
    hint: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """A problem+json response."""
    title = HTTPStatus(status).phrase
    body: dict[str, Any] = {
        "type": _TYPE_BASE + (kind or title.lower().replace(" ", "-")),
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = list(errors)
    if hint:
        body["hint"] = hint
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def from_error(exc: IxpError) -> JSONResponse:
    """The problem+json response for a domain error."""
    status = status_of(exc)
    errors: list[dict[str, Any]] = []
    if isinstance(exc, ValidationError):
        errors = [field_error(e.field, e.value, e.reason) for e in exc.errors]
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
    if isinstance(exc, AccessDenied):
        headers = {"WWW-Authenticate": 'Bearer realm="ixp"'}
    return problem(
        status,
        exc.message,
        kind=_kind(_category(exc)),
        errors=errors,
        hint=REMEDY_WORDS[exc.hint] if exc.hint is not None else None,
        headers=headers,
    )
