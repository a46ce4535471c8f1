"""Members through /api/v1: what each role may read and change, errors, and query counts."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session

from ixp.models import AuditEntry, Member
from tests.api.conftest import World, add_test_member
from tests.dbsnapshot import snapshot

PROBLEM = "application/problem+json"

NEW = {
    "asn": 38193,
    "name": "Nayatel",
    "as_set": "AS-NAYATEL",
    "max_prefix_v4": 100,
    "max_prefix_v6": 20,
    "ipv4": "185.1.10.30",
    "ipv6": "2001:7f8:1::30",
    "macs": ["02:00:00:00:00:30"],
}


def _rows(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row but the tokens' (a request records when its token was last used)."""
    rows = snapshot(engine)
    del rows["api_tokens"]
    return rows


def _asns(response: Any) -> list[int]:
    return [m["asn"] for m in response.json()["items"]]


def test_operator_lists_every_member_a_member_only_itself(client: TestClient, world: World) -> None:
    listed = client.get("/api/v1/members", headers=world.callers["operator"])
    assert listed.status_code == 200
    assert _asns(listed) == [55714, 58421] and listed.json()["total"] == 2
    own = client.get("/api/v1/members", headers=world.callers["member_a"])
    assert _asns(own) == [58421] and own.json()["total"] == 1
    assert client.get("/api/v1/members").status_code == 401


def test_another_members_asn_is_404_exactly_like_a_missing_one(
    client: TestClient, world: World
) -> None:
    member = world.callers["member_a"]
    assert client.get("/api/v1/members/58421", headers=member).json()["name"] == "Alpha Net"
    other = client.get("/api/v1/members/55714", headers=member)
    missing = client.get("/api/v1/members/64999", headers=member)
    assert other.status_code == missing.status_code == 404
    assert other.text == missing.text.replace("64999", "55714")
    assert "Bravo" not in other.text
    assert client.get("/api/v1/members?asn=55714", headers=member).status_code == 404


def test_list_filters_by_status_asn_route_server_and_name(
    client: TestClient, world: World, session: Session
) -> None:
    operator = world.callers["operator"]
    client.post("/api/v1/members/55714/suspend", headers=operator)
    client.patch("/api/v1/members/58421", json={"rs_ipv6": False}, headers=operator)

    def asns(query: str) -> list[int]:
        response = client.get(f"/api/v1/members?{query}", headers=operator)
        assert response.status_code == 200, response.text
        return _asns(response)

    assert asns("status=suspended") == [55714]
    assert asns("asn=58421") == [58421]
    assert asns("route_server=rs2-khi") == [55714, 58421]
    assert asns("q=bravo") == [55714] and asns("q=NET") == [58421] and asns("q=%25") == []
    assert asns("status=active&q=bravo") == []
    assert asns("limit=1&offset=1") == [58421]
    bad = client.get("/api/v1/members?status=gone&limit=0", headers=operator)
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"query.status", "query.limit"}
    unknown = client.get("/api/v1/members?route_server=rs9", headers=operator)
    assert unknown.status_code == 404


def test_operator_onboards_a_member_through_the_service_and_audit_log(
    client: TestClient, world: World, session: Session
) -> None:
    made = client.post("/api/v1/members", json=NEW, headers=world.callers["operator"])
    assert made.status_code == 201, made.text
    member = made.json()
    assert member["as_set_v4"] == "AS-NAYATEL" and member["macs"] == ["02:00:00:00:00:30"]
    assert [rs["name"] for rs in member["route_servers"]] == ["rs1-isb", "rs2-khi"]
    entry = session.scalars(select(AuditEntry).where(AuditEntry.entity_key == "AS38193")).one()
    assert (entry.actor, entry.action) == ("op", "create")
    again = client.post("/api/v1/members", json=NEW, headers=world.callers["operator"])
    assert again.status_code == 409


def test_every_bad_field_is_reported_and_nothing_is_written(
    client: TestClient, world: World, engine: Engine
) -> None:
    before = _rows(engine)
    bad = {**NEW, "ipv4": "10.1.1.1", "as_set": "AS-", "macs": ["nope"], "noc_email": "x"}
    response = client.post("/api/v1/members", json=bad, headers=world.callers["operator"])
    assert response.status_code == 422 and response.headers["content-type"] == PROBLEM
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"ipv4", "as_set", "macs", "noc_email"}
    typed = {**NEW, "asn": "38193", "max_prefix_v4": None, "auto_ip": "yes", "extra": 1}
    response = client.post("/api/v1/members", json=typed, headers=world.callers["operator"])
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {
        "asn",
        "max_prefix_v4",
        "auto_ip",
        "extra",
    }
    taken = {**NEW, "ipv4": "185.1.10.21"}
    assert (
        client.post("/api/v1/members", json=taken, headers=world.callers["operator"]).status_code
        == 409
    )
    assert _rows(engine) == before


def test_operator_changes_suspends_and_removes(
    client: TestClient, world: World, session: Session
) -> None:
    operator = world.callers["operator"]
    changed = client.patch(
        "/api/v1/members/55714", json={"max_prefix_v4": 300, "url": None}, headers=operator
    )
    assert changed.status_code == 200 and changed.json()["max_prefix_v4"] == 300
    suspended = client.post("/api/v1/members/55714/suspend", headers=operator).json()
    assert suspended["status"] == "suspended"
    removed = client.delete("/api/v1/members/55714", headers=operator)
    assert removed.status_code == 200 and removed.json() == suspended
    assert client.get("/api/v1/members/55714", headers=operator).status_code == 404
    actions = session.scalars(
        select(AuditEntry.action).where(
            AuditEntry.entity_key == "AS55714", AuditEntry.actor == "op"
        )
    ).all()
    assert actions == ["update", "update", "delete"]


def test_member_changes_its_own_contacts_only(
    client: TestClient, world: World, engine: Engine
) -> None:
    member = world.callers["member_a"]
    contacts = {"noc_email": "noc@alpha.example", "noc_phone": "+92 51 111", "url": None}
    changed = client.patch("/api/v1/members/58421", json=contacts, headers=member)
    assert changed.status_code == 200, changed.text
    assert changed.json()["noc_email"] == "noc@alpha.example" and changed.json()["url"] is None
    before = _rows(engine)
    refused = client.patch(
        "/api/v1/members/58421",
        json={"noc_email": "a@b.example", "max_prefix_v4": 9999, "status": "active"},
        headers=member,
    )
    assert refused.status_code == 403 and refused.headers["content-type"] == PROBLEM
    assert [e["field"] for e in refused.json()["errors"]] == ["max_prefix_v4", "status"]
    other = client.patch("/api/v1/members/55714", json={"url": "x"}, headers=member)
    assert other.status_code == 404
    for method, path in (
        ("POST", "/api/v1/members/58421/suspend"),
        ("DELETE", "/api/v1/members/58421"),
    ):
        assert client.request(method, path, headers=member).status_code == 403
    assert client.post("/api/v1/members", json=NEW, headers=member).status_code == 403
    assert _rows(engine) == before


@contextmanager
def counted(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements ``engine`` runs inside the block."""
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _list_queries(client: TestClient, world: World, expected: int) -> int:
    engine = client.app.state.engine  # type: ignore[attr-defined]
    client.get("/api/v1/auth/me", headers=world.callers["operator"])  # the token's use is noted
    with counted(engine) as statements:
        response = client.get("/api/v1/members?limit=1000", headers=world.callers["operator"])
    assert response.status_code == 200 and response.json()["total"] == expected
    return len(statements)


def test_member_list_runs_the_same_number_of_queries_for_3_or_30_members(
    client: TestClient, world: World, session: Session
) -> None:
    add_test_member(session, 38193, "Nayatel", 23)
    few = _list_queries(client, world, 3)
    for host in range(24, 51):
        add_test_member(session, 60000 + host, f"Member {host}", host)
    many = _list_queries(client, world, 30)
    assert many == few, f"{few} queries for 3 members, {many} for 30"
    assert few <= 12


# Any JSON value, including the ones that break naive handlers.
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.characters(codec="utf-8"), max_size=30),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=5,
)
MEMBER_FIELDS = sorted({*NEW, "legal_name", "speed_mbps", "joined", "status", "url", "blackholing"})


@given(body=st.dictionaries(st.sampled_from(MEMBER_FIELDS), JSON, max_size=4))
def test_hostile_create_bodies_are_422_or_409_never_500_never_half_written(
    client: TestClient, world: World, session: Session, body: dict[str, Any]
) -> None:
    before = session.scalar(select(Member.id).order_by(Member.id.desc()).limit(1))
    response = client.post(
        "/api/v1/members", json={**NEW, **body}, headers=world.callers["operator"]
    )
    assert response.status_code in (201, 409, 422), response.text
    if response.status_code == 201:
        client.delete(
            f"/api/v1/members/{response.json()['asn']}", headers=world.callers["operator"]
        )
    else:
        assert response.headers["content-type"] == PROBLEM and response.json()["detail"]
        session.expire_all()
        assert session.scalar(select(Member.id).order_by(Member.id.desc()).limit(1)) == before


@given(body=st.dictionaries(st.sampled_from(sorted({*MEMBER_FIELDS, "rs_ipv4"})), JSON, max_size=4))
def test_hostile_update_bodies_are_never_500(
    client: TestClient, world: World, body: dict[str, Any]
) -> None:
    response = client.patch("/api/v1/members/55714", json=body, headers=world.callers["operator"])
    assert response.status_code in (200, 409, 422), response.text


@pytest.mark.parametrize(
    "raw",
    [b'{"asn": 1e400}', b'{"name": "\\ud800"}', b"[1, 2", b'"x"', b'{"asn": 38193, "asn": null}'],
)
def test_malformed_json_is_422(client: TestClient, world: World, raw: bytes) -> None:
    response = client.post(
        "/api/v1/members",
        content=raw,
        headers={**world.callers["operator"], "content-type": "application/json"},
    )
    assert response.status_code == 422 and response.headers["content-type"] == PROBLEM
