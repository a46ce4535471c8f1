"""Router MACs through /api/v1: a member proposes, an operator approves or rejects.

The exchange's port security allows exactly the MACs on record, so a member's
NOC never changes them itself: it proposes its whole new list, which is checked
at once (every bad MAC named), and waits for an operator. Approval applies it
as ``update_member`` does, checked again, since another member may have taken
one of the MACs in the meantime.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from ixp.models import AuditEntry
from tests.api.conftest import MEMBER_A, MEMBER_B, World
from tests.dbsnapshot import snapshot

PROBLEM = "application/problem+json"
PROPOSAL = f"/api/v1/members/{MEMBER_A}/macs/proposal"
A_NOW = ["02:00:00:00:00:15"]
B_NOW = "02:00:00:00:00:16"
NEW_MACS = ["02:00:00:00:01:21", "02-00-00-00-01-22"]
NEW_NORMALISED = ["02:00:00:00:01:21", "02:00:00:00:01:22"]


def _rows(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row but the tokens' (a request records when its token was last used)."""
    rows = snapshot(engine)
    del rows["api_tokens"]
    return rows


def _macs(client: TestClient, world: World, asn: int) -> list[str]:
    member = client.get(f"/api/v1/members/{asn}", headers=world.callers["operator"])
    macs: list[str] = member.json()["macs"]
    return macs


def _propose(client: TestClient, world: World, macs: list[str], role: str = "member_a") -> Any:
    return client.post(PROPOSAL, headers=world.callers[role], json={"macs": macs})


def _audit(session: Session, entity: str) -> list[tuple[str, str, str]]:
    entries = session.scalars(
        select(AuditEntry).where(AuditEntry.entity == entity).order_by(AuditEntry.id)
    )
    return [(e.actor, e.action, e.entity_key) for e in entries]


def test_member_proposes_and_the_operator_approves(
    client: TestClient, world: World, session: Session
) -> None:
    proposed = _propose(client, world, NEW_MACS)
    assert proposed.status_code == 201, proposed.text
    body = proposed.json()
    assert body["asn"] == MEMBER_A and body["status"] == "open"
    assert body["macs"] == NEW_NORMALISED and body["in_use"] == A_NOW
    assert body["proposed_by"] == "alpha" and body["decided_by"] is None
    assert _macs(client, world, MEMBER_A) == A_NOW, "a proposal changes nothing by itself"
    own = client.get(PROPOSAL, headers=world.callers["member_a"])
    assert own.status_code == 200 and own.json()["id"] == body["id"]

    approved = client.post(f"{PROPOSAL}/approve", headers=world.callers["operator"])
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved" and approved.json()["decided_by"] == "op"
    assert approved.json()["in_use"] == NEW_NORMALISED
    assert _macs(client, world, MEMBER_A) == NEW_NORMALISED
    assert client.get(PROPOSAL, headers=world.callers["member_a"]).status_code == 404
    assert _audit(session, "mac-proposal") == [
        ("alpha", "propose", "AS58421"),
        ("op", "approve", "AS58421"),
    ]
    update = session.scalars(
        select(AuditEntry).where(AuditEntry.entity == "member", AuditEntry.action == "update")
    ).one()
    assert update.actor == "op" and update.entity_key == "AS58421"
    assert update.before is not None and update.before["macs"] == A_NOW
    assert update.after is not None and update.after["macs"] == NEW_NORMALISED


def test_another_member_gets_404_exactly_as_for_a_missing_one(
    client: TestClient, world: World, engine: Engine
) -> None:
    before = _rows(engine)
    bravo = world.callers["member_b"]
    other = client.post(PROPOSAL, headers=bravo, json={"macs": NEW_MACS})
    missing = client.post(
        "/api/v1/members/64999/macs/proposal", headers=bravo, json={"macs": NEW_MACS}
    )
    assert other.status_code == missing.status_code == 404
    assert other.json()["title"] == missing.json()["title"]
    assert client.get(PROPOSAL, headers=bravo).status_code == 404
    assert _rows(engine) == before

    _propose(client, world, NEW_MACS)
    assert client.get(PROPOSAL, headers=bravo).status_code == 404
    listed = client.get("/api/v1/mac-proposals", headers=bravo)
    assert listed.status_code == 200 and listed.json()["total"] == 0


@pytest.mark.parametrize("action", ["approve", "reject"])
def test_only_operators_decide(client: TestClient, world: World, action: str) -> None:
    _propose(client, world, NEW_MACS)
    answer = client.post(
        f"{PROPOSAL}/{action}", headers=world.callers["member_a"], json={"reason": "mine"}
    )
    assert answer.status_code == 403
    assert client.get(PROPOSAL, headers=world.callers["member_a"]).json()["status"] == "open"


def test_operator_rejects_with_a_reason_the_member_reads(
    client: TestClient, world: World, session: Session
) -> None:
    _propose(client, world, NEW_MACS)
    reason = "02:00:00:00:01:22 is not on your LAG; send the MAC of the new router"
    rejected = client.post(
        f"{PROPOSAL}/reject", headers=world.callers["operator"], json={"reason": reason}
    )
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["status"] == "rejected" and rejected.json()["reason"] == reason
    assert _macs(client, world, MEMBER_A) == A_NOW
    assert client.get(PROPOSAL, headers=world.callers["member_a"]).status_code == 404
    history = client.get("/api/v1/mac-proposals?status=rejected", headers=world.callers["member_a"])
    assert [(p["status"], p["reason"]) for p in history.json()["items"]] == [("rejected", reason)]
    assert _audit(session, "mac-proposal")[-1] == ("op", "reject", "AS58421")
    again = client.post(f"{PROPOSAL}/approve", headers=world.callers["operator"])
    assert again.status_code == 404, "a decided proposal cannot be decided again"


def test_every_bad_mac_is_named_and_nothing_is_written(
    client: TestClient, world: World, engine: Engine
) -> None:
    before = _rows(engine)
    bad = ["not-a-mac", "01:00:5e:00:00:01", B_NOW]
    answer = _propose(client, world, [*bad, "02:00:00:00:01:21"])
    assert answer.status_code == 422 and answer.headers["content-type"] == PROBLEM
    errors = answer.json()["errors"]
    assert sorted(e["value"] for e in errors) == sorted(bad)
    assert {e["field"] for e in errors} == {"macs"}
    taken = next(e for e in errors if e["value"] == B_NOW)
    assert "AS55714" in taken["reason"]
    assert _rows(engine) == before


def test_the_macs_in_use_are_no_proposal(client: TestClient, world: World) -> None:
    answer = _propose(client, world, [A_NOW[0].upper()])
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "macs"


@pytest.mark.parametrize(
    "body",
    [
        {"macs": "02:00:00:00:01:21"},
        {"macs": [2199023256865]},
        {"macs": None},
        {},
        {"macs": NEW_MACS, "speed_mbps": 10000},
        {"macs": ["02:00:00:00:01:21"] * 65},
    ],
)
def test_a_malformed_proposal_is_422(
    client: TestClient, world: World, engine: Engine, body: dict[str, Any]
) -> None:
    before = _rows(engine)
    answer = client.post(PROPOSAL, headers=world.callers["member_a"], json=body)
    assert answer.status_code == 422 and answer.headers["content-type"] == PROBLEM
    assert _rows(engine) == before


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": 7}, {"reason": "x" * 1001}])
def test_a_rejection_needs_a_reason(client: TestClient, world: World, body: dict[str, Any]) -> None:
    _propose(client, world, NEW_MACS)
    answer = client.post(f"{PROPOSAL}/reject", headers=world.callers["operator"], json=body)
    assert answer.status_code == 422 and answer.headers["content-type"] == PROBLEM
    assert client.get(PROPOSAL, headers=world.callers["member_a"]).json()["status"] == "open"


def test_a_mac_taken_before_approval_is_409_and_nothing_is_applied(
    client: TestClient, world: World, engine: Engine
) -> None:
    _propose(client, world, NEW_MACS)
    operator = world.callers["operator"]
    taken = client.patch(
        f"/api/v1/members/{MEMBER_B}", headers=operator, json={"macs": [B_NOW, NEW_MACS[0]]}
    )
    assert taken.status_code == 200, taken.text
    before = _rows(engine)
    answer = client.post(f"{PROPOSAL}/approve", headers=operator)
    assert answer.status_code == 409 and answer.headers["content-type"] == PROBLEM
    assert "AS55714" in answer.json()["detail"]
    assert _rows(engine) == before
    assert _macs(client, world, MEMBER_A) == A_NOW
    assert client.get(PROPOSAL, headers=operator).json()["status"] == "open"


def test_a_new_proposal_replaces_the_open_one(client: TestClient, world: World) -> None:
    first = _propose(client, world, NEW_MACS).json()
    second = _propose(client, world, ["02:00:00:00:01:23"], role="operator")
    assert second.status_code == 201 and second.json()["proposed_by"] == "op"
    operator = world.callers["operator"]
    assert client.get(PROPOSAL, headers=operator).json()["id"] == second.json()["id"]
    listed = client.get("/api/v1/mac-proposals", headers=operator).json()
    assert [(p["id"], p["status"]) for p in listed["items"]] == [
        (first["id"], "replaced"),
        (second.json()["id"], "open"),
    ]


def test_operators_list_every_members_proposals_a_page_at_a_time(
    client: TestClient, world: World
) -> None:
    _propose(client, world, NEW_MACS)
    client.post(
        f"/api/v1/members/{MEMBER_B}/macs/proposal",
        headers=world.callers["member_b"],
        json={"macs": ["02:00:00:00:02:22"]},
    )
    operator = world.callers["operator"]
    everything = client.get("/api/v1/mac-proposals?status=open", headers=operator).json()
    assert [p["asn"] for p in everything["items"]] == [MEMBER_A, MEMBER_B]
    page = client.get("/api/v1/mac-proposals?limit=1&offset=1", headers=operator).json()
    assert [p["asn"] for p in page["items"]] == [MEMBER_B] and page["total"] == 2
    one = client.get(f"/api/v1/mac-proposals?asn={MEMBER_B}", headers=operator).json()
    assert [p["asn"] for p in one["items"]] == [MEMBER_B]
    own = client.get("/api/v1/mac-proposals", headers=world.callers["member_a"]).json()
    assert [p["asn"] for p in own["items"]] == [MEMBER_A]
    nosy = client.get(f"/api/v1/mac-proposals?asn={MEMBER_B}", headers=world.callers["member_a"])
    assert nosy.status_code == 404
    assert client.get("/api/v1/mac-proposals?status=maybe", headers=operator).status_code == 422
