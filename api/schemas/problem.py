"""The problem+json body every error response has, declared once for the OpenAPI schema.

``api.problems`` writes these bodies; this module only describes them, so that
each route can list the errors it may answer with (``responses=errors(404, 422)``)
and a schema-driven client or fuzzer sees the body it will really get, under the
media type it really gets (``application/problem+json``, not FastAPI's default
``application/json`` validation error).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from api.problems import MEDIA_TYPE

_FIELD_ERROR: dict[str, Any] = {
    "type": "object",
    "description": "One bad field: its name, the value given (cut short) and what is wrong.",
    "required": ["field", "value", "reason"],
    "properties": {
        "field": {"type": ["string", "null"]},
        "value": {"description": "The value as given: any JSON value."},
        "reason": {"type": "string"},
    },
}

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Problem",
    "description": "An RFC 9457 problem: what went wrong, with every bad field in `errors`.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "description": "urn:ixp:problem:<kind>"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {"type": "array", "items": _FIELD_ERROR},
        "hint": {"type": "string", "description": "What would fix it."},
    },
}

# Every route may answer these: no or a bad credential, or a database it cannot use.
_ALWAYS = (401, 503)


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route that may answer with problems of ``statuses`` (401 and
    503 are always added)."""
    return {
        status: {
            "description": HTTPStatus(status).phrase,
            "content": {MEDIA_TYPE: {"schema": PROBLEM_SCHEMA}},
        }
        for status in sorted({*statuses, *_ALWAYS})
    }
