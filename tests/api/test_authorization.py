"""The authorization matrix: every route of the app, under every role, with the status it
must answer.

The routes come from the app's own route table (``api.app.ROUTERS``), so a route
added without an entry here fails ``test_every_route_has_an_entry``. Each route
runs on a fresh exchange, called in the order anonymous, member B, member A,
operator: refusals come first and change nothing, so each call sees the data as
set up. Every path parameter names member A's data (or something member B does
not own), which is what member B must never see: it gets 404, exactly as for
something that does not exist. An operator-only action is 403 for any member
user, whichever member it names. BIRD is not running here, so routes that read it
answer 503 to whoever passes the access check; the live tests cover their data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from api.app import ROUTERS
from ixp import accounts
from ixp.exchange import get_exchange
from ixp.models import BuildRecord
from ixp.models.base import utcnow
from ixp.monitor import alerts
from tests.api.conftest import MEMBER_A, PASSWORD, World

ROLES = ("anonymous", "member_b", "member_a", "operator")


@dataclass(frozen=True)
class Access:
    """The status each role gets; ``body`` is sent with the request (JSON)."""

    anonymous: int
    member_b: int
    member_a: int
    operator: int
    body: dict[str, Any] | None = None

    def of(self, role: str) -> int:
        status: int = getattr(self, role)
        return status


def everyone(status: int, body: dict[str, Any] | None = None) -> Access:
    return Access(status, status, status, status, body)


def signed_in(status: int = 200, body: dict[str, Any] | None = None) -> Access:
    return Access(401, status, status, status, body)


def operators(status: int = 200, body: dict[str, Any] | None = None) -> Access:
    return Access(401, 403, 403, status, body)


def member_a(status: int = 200, body: dict[str, Any] | None = None) -> Access:
    """A's own data: A and operators see it, B gets 404 as if it did not exist."""
    return Access(401, 404, status, status, body)


def page(status: int = 200, body: dict[str, Any] | None = None) -> Access:
    """A page for signed-in users: the public is sent to the sign-in page (303)."""
    return Access(303, status, status, status, body)


def page_of_a(status: int = 200, body: dict[str, Any] | None = None) -> Access:
    """A page of A's network: the public is sent to sign in, B gets 404 as for no member."""
    return Access(303, 404, status, status, body)


def operator_page(status: int = 200, body: dict[str, Any] | None = None) -> Access:
    """An operator's page: the public is sent to sign in, any member's user gets 403."""
    return Access(303, 403, 403, status, body)


NEW_MEMBER = {
    "asn": 38193,
    "name": "Nayatel",
    "max_prefix_v4": 100,
    "max_prefix_v6": 20,
    "auto_ip": True,
}
NEW_RS = {"name": "rs3-lhr", "asn": 38195, "router_id": "185.1.10.3", "ipv4": "185.1.10.3"}
NEW_USER = {"username": "charlie", "password": PASSWORD, "role": "operator"}
NEW_MACS = {"macs": ["02:00:00:00:01:21"]}
BIRD_DOWN = signed_in(503)

MATRIX: dict[tuple[str, str], Access] = {
    ("POST", "/api/v1/auth/login"): everyone(200, {"username": "alpha", "password": PASSWORD}),
    ("POST", "/api/v1/auth/logout"): everyone(204),
    ("GET", "/api/v1/auth/me"): signed_in(),
    ("GET", "/api/v1/tokens"): signed_in(),
    ("POST", "/api/v1/tokens"): signed_in(201, {"name": "nms"}),
    ("DELETE", "/api/v1/tokens/{token_id}"): member_a(),
    ("GET", "/api/v1/users"): operators(),
    ("POST", "/api/v1/users"): operators(201, NEW_USER),
    ("DELETE", "/api/v1/users/{username}"): operators(),
    ("PUT", "/api/v1/users/{username}/password"): operators(200, {"password": "x" * 12}),
    ("GET", "/api/v1/exchange"): signed_in(),
    ("GET", "/api/v1/exchange/lans"): signed_in(),
    ("GET", "/api/v1/route-servers"): signed_in(),
    ("GET", "/api/v1/route-servers/{name}"): signed_in(),
    ("POST", "/api/v1/route-servers"): operators(201, NEW_RS),
    ("GET", "/api/v1/members"): signed_in(),
    ("GET", "/api/v1/members/{asn}"): member_a(),
    ("POST", "/api/v1/members"): operators(201, NEW_MEMBER),
    ("PATCH", "/api/v1/members/{asn}"): member_a(200, {"noc_phone": "+92 51 1234567"}),
    ("POST", "/api/v1/members/{asn}/suspend"): operators(),
    ("DELETE", "/api/v1/members/{asn}"): operators(),
    ("POST", "/api/v1/members/{asn}/macs/proposal"): member_a(201, NEW_MACS),
    ("GET", "/api/v1/members/{asn}/macs/proposal"): member_a(404),
    ("POST", "/api/v1/members/{asn}/macs/proposal/approve"): operators(404),
    ("POST", "/api/v1/members/{asn}/macs/proposal/reject"): operators(404, {"reason": "no"}),
    ("GET", "/api/v1/mac-proposals"): signed_in(),
    ("GET", "/api/v1/members/{asn}/rules"): member_a(),
    # The operator's is A's rule again: refused as a repeat.
    ("POST", "/api/v1/members/{asn}/rules"): Access(
        401, 404, 201, 422, {"action": "do-not-announce", "peer": 55714}
    ),
    ("PUT", "/api/v1/members/{asn}/rules"): member_a(
        200, {"rules": [{"action": "prepend", "peer": None, "prepend": 2}]}
    ),
    ("DELETE", "/api/v1/members/{asn}/rules"): member_a(),
    ("POST", "/api/v1/members/{asn}/rules/preview"): member_a(
        200, {"rules": [{"action": "do-not-accept", "peer": 55714}]}
    ),
    ("GET", "/api/v1/members/{asn}/irr"): member_a(),
    ("GET", "/api/v1/members/{asn}/irr/prefixes"): member_a(),
    ("POST", "/api/v1/members/{asn}/irr/approve"): operators(404),
    ("GET", "/api/v1/members/{asn}/rpki"): member_a(),
    ("GET", "/api/v1/rpki"): signed_in(),
    ("POST", "/api/v1/builds"): operators(201, {}),
    ("GET", "/api/v1/builds"): signed_in(),
    ("GET", "/api/v1/builds/{build_id}"): signed_in(),
    ("GET", "/api/v1/sessions"): signed_in(),
    ("GET", "/api/v1/members/{asn}/sessions"): member_a(),
    ("GET", "/api/v1/members/{asn}/routes"): member_a(503),
    ("GET", "/api/v1/events"): signed_in(),
    ("GET", "/api/v1/alerts"): signed_in(),
    ("POST", "/api/v1/alerts/{alert_id}/ack"): operators(),
    ("GET", "/api/v1/reach"): everyone(200),
    ("GET", "/api/v1/reach/members"): signed_in(),
    ("GET", "/api/v1/members/{asn}/reach"): member_a(),
    ("GET", "/api/v1/traffic/days"): signed_in(),
    ("GET", "/api/v1/traffic/members"): signed_in(),
    ("GET", "/api/v1/traffic/pairs"): signed_in(),
    ("GET", "/api/v1/traffic/matrix"): signed_in(),
    ("GET", "/api/v1/traffic/shares"): signed_in(),
    ("GET", "/api/v1/traffic/international"): signed_in(),
    ("GET", "/api/v1/traffic/opportunity"): signed_in(),
    ("GET", "/api/v1/traffic/health"): operators(),
    ("GET", "/api/v1/members/{asn}/traffic"): member_a(),
    ("PUT", "/api/v1/members/{asn}/traffic/international/{month}"): member_a(
        200, {"bytes": 10**12}
    ),
    ("GET", "/ixf/member-export.json"): everyone(200),
    ("GET", "/lg/"): signed_in(),
    ("GET", "/lg/{rs}/status"): BIRD_DOWN,
    ("GET", "/lg/{rs}/protocols"): BIRD_DOWN,
    ("GET", "/lg/{rs}/protocols/bgp"): BIRD_DOWN,
    ("GET", "/lg/{rs}/protocols/short"): BIRD_DOWN,
    ("GET", "/lg/{rs}/routes/protocol/{protocol}"): BIRD_DOWN,
    ("GET", "/lg/{rs}/routes/filtered/{protocol}"): BIRD_DOWN,
    ("GET", "/lg/{rs}/routes/noexport/{protocol}"): BIRD_DOWN,
    ("GET", "/lg/{rs}/routes/table/{table}"): BIRD_DOWN,
    ("GET", "/lg/{rs}/routes/table/{table}/filtered"): BIRD_DOWN,
    ("GET", "/lg/{rs}/routes/prefix"): BIRD_DOWN,
    ("GET", "/"): everyone(200),
    ("GET", "/signin"): everyone(200),
    ("POST", "/signin"): everyone(303, {"username": "alpha", "password": PASSWORD}),
    ("POST", "/signout"): everyone(303),
    ("GET", "/members/{asn}"): page_of_a(),
    ("GET", "/members/{asn}/routes/filtered"): page_of_a(),
    ("GET", "/members/{asn}/routes/accepted"): page_of_a(503),
    ("GET", "/members/{asn}/router"): page_of_a(),
    ("GET", "/members/{asn}/contacts"): page_of_a(),
    ("POST", "/members/{asn}/contacts"): page_of_a(303, {"noc_phone": "+92 51 1234567"}),
    ("GET", "/members/{asn}/macs"): page_of_a(),
    ("POST", "/members/{asn}/macs"): page_of_a(303, {"macs": "02:00:00:00:01:21"}),
    ("GET", "/members/{asn}/rules"): page_of_a(),
    ("POST", "/members/{asn}/rules/preview"): page_of_a(
        200, {"action": "do-not-announce", "peer": "55714", "family": "ipv4"}
    ),
    # The operator's is A's rule again: refused as a repeat, on the form's page.
    ("POST", "/members/{asn}/rules"): Access(
        303, 404, 303, 422, {"action": "do-not-announce", "peer": "55714", "family": "ipv4"}
    ),
    ("POST", "/members/{asn}/rules/remove"): page_of_a(404, {"rule": "999999"}),
    ("GET", "/tokens"): page(),
    ("POST", "/tokens"): page(201, {"name": "nms"}),
    ("POST", "/tokens/{token_id}/revoke"): page_of_a(303),
    ("GET", "/members/{asn}/registry"): page_of_a(),
    ("POST", "/members/{asn}/registry/approve"): operator_page(404),
    ("GET", "/members/{asn}/rpki"): page_of_a(),
    ("GET", "/members/{asn}/traffic"): page_of_a(),
    ("POST", "/members/{asn}/traffic/figure"): page_of_a(
        303, {"month": "2025-06", "gigabytes": "1500"}
    ),
    ("GET", "/members/{asn}/history"): operator_page(),
    ("GET", "/members/{asn}/suspend"): operator_page(),
    ("POST", "/members/{asn}/suspend"): operator_page(303),
    ("GET", "/members/{asn}/remove"): operator_page(),
    ("POST", "/members/{asn}/remove"): operator_page(303),
    ("GET", "/operator"): operator_page(),
    ("GET", "/members"): operator_page(),
    ("GET", "/traffic"): operator_page(),
    ("GET", "/alerts"): operator_page(),
    ("POST", "/alerts/{alert_id}/ack"): operator_page(303),
    ("GET", "/onboarding"): operator_page(),
    ("POST", "/onboarding"): operator_page(422, {"asn": "not a number", "action": "check"}),
    ("GET", "/onboarding/{asn}"): operator_page(),
    ("GET", "/builds"): operator_page(),
    ("POST", "/builds"): operator_page(303),
    ("GET", "/builds/preview"): operator_page(),
    ("GET", "/builds/{build_id}"): operator_page(),
    ("GET", "/looking-glass"): page(),
}

# Query strings a route needs to be called at all.
QUERIES = {
    "/lg/{rs}/routes/prefix": "?prefix=185.1.10.0/24",
    "/looking-glass": "?prefix=185.1.10.0/24",
}


def routes() -> list[tuple[str, str]]:
    """Every (method, path) the app serves, from its route table."""
    return sorted(
        (method, route.path)
        for module in ROUTERS
        for route in module.router.routes
        for method in getattr(route, "methods", ()) - {"HEAD"}
    )


def test_every_route_has_an_entry() -> None:
    served = set(routes())
    assert served - MATRIX.keys() == set(), "routes without an authorization entry"
    assert MATRIX.keys() - served == set(), "entries for routes the app no longer has"


def _a_build(session: Session) -> int:
    """A recorded build to read (building needs BIRD; reading a record does not)."""
    record = BuildRecord(exchange_id=get_exchange(session).id, actor="test", ok=True, report={})
    session.add(record)
    session.commit()
    return record.id


def _an_alert(session: Session) -> int:
    """An open alert about member A, as the monitor opens one."""
    finding = alerts.Finding("down:a", alerts.Rule.session_down, "critical", None, MEMBER_A, "A")
    (opened,) = alerts.sync_alerts(session, [finding], utcnow())
    session.commit()
    return opened.id


def url_for(path: str, session: Session, *, asn: int = MEMBER_A, build: int | None = None) -> str:
    """``path`` with its parameters naming member ``asn``'s data (by default A's), the
    route server rs1-isb, ``build`` (by default a new record) and a new open alert."""
    alpha = accounts.get_user(session, "alpha")
    spare = accounts.create_token(session, alpha, "spare", actor="test")
    values = {
        "asn": str(asn),
        "token_id": str(spare.token.id),
        "username": "bravo",
        "name": "rs1-isb",
        "rs": "rs1-isb",
        "protocol": "AS58421_1",
        "table": "master4",
        "month": "2025-06",
    }
    if "{build_id}" in path:
        values["build_id"] = str(build or _a_build(session))
    if "{alert_id}" in path:
        values["alert_id"] = str(_an_alert(session))
    url = re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)
    return url + QUERIES.get(path, "")


def is_page(path: str) -> bool:
    """Portal pages take forms and answer HTML (errors too); the rest is for programs."""
    return not path.startswith(("/api/", "/lg/", "/ixf/"))


@pytest.mark.parametrize(("method", "path"), routes(), ids=[f"{m} {p}" for m, p in routes()])
def test_route_answers_each_role_as_the_matrix_says(
    client: TestClient, world: World, session: Session, method: str, path: str
) -> None:
    access = MATRIX[(method, path)]
    url = url_for(path, session)
    page = is_page(path)
    body = {"data": access.body} if page else {"json": access.body}
    errors = "text/html; charset=utf-8" if page else "application/problem+json"
    answers = {}
    for role in ROLES:
        client.cookies.clear()
        response = client.request(
            method, url, headers=world.callers[role], follow_redirects=False, **body
        )
        answers[role] = response.status_code
        if response.status_code >= 400:
            assert response.headers["content-type"] == errors, role
    assert answers == {role: access.of(role) for role in ROLES}
