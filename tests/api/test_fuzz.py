"""Property-based fuzzing of the whole API from its own OpenAPI schema (schemathesis).

For every operation the schema declares, generated requests (valid and invalid
parameters and bodies) must never get a 5xx, and every response must match what
the schema says of it: a declared status, the declared media type (problem+json
for errors) and a body valid against the declared schema. Run as an operator
(who reaches every handler), as a member user (refused or scoped) and as the
public (refused, except on public routes).
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from api.app import create_app
from ixp.settings import Settings
from tests.api.conftest import World

pytestmark = pytest.mark.slow

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]
EXAMPLES = 20
ROLES = ("operator", "member_a", "anonymous")


def _operations() -> list[tuple[str, str]]:
    """Every (method, path) of the schema, read from an app that never touches a database."""
    app = create_app(Settings(web_environment="development", database_url="sqlite://"))
    return [
        (method.upper(), path)
        for path, methods in app.openapi()["paths"].items()
        for method in methods
    ]


OPERATIONS = _operations()


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_generated_requests_get_no_5xx_and_match_the_schema(
    client: TestClient, world: World, method: str, path: str
) -> None:
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", client.app)
    operation = schema[path][method]
    for role in ROLES:
        fuzz(operation, world.callers[role])


def fuzz(operation: Any, headers: dict[str, str]) -> None:
    """Send ``EXAMPLES`` generated requests to ``operation`` and check each response."""

    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES, suppress_health_check=list(HealthCheck))
    def check(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    check()
