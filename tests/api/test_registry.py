"""IRR status, held changes and their approval, and RPKI, per member through /api/v1."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from ixp.irr import service as irr
from ixp.members import get_member
from ixp.models import AuditEntry
from ixp.rpki import service as rpki
from ixp.settings import Settings
from tests.api.conftest import World
from tests.irr.conftest import write_dump


def _sync(session: Session, settings: Settings, dump: Path) -> None:
    irr.sync(session, settings, members=[get_member(session, 58421)], rpsl_files=[dump])


def test_irr_status_before_and_after_a_sync(
    client: TestClient, world: World, session: Session, settings: Settings, tmp_path: Path
) -> None:
    member = world.callers["member_a"]
    never = client.get("/api/v1/members/58421/irr", headers=member).json()
    assert (never["synced"], never["as_set"], never["pending"]) == (False, None, None)
    _sync(session, settings, write_dump(tmp_path / "a.db", "AS58421", 20, 58421))
    status = client.get("/api/v1/members/58421/irr", headers=member).json()
    assert (status["as_set"], status["prefixes_v4"], status["held"]) == ("AS58421", 20, False)
    assert status["fetched_at"] and "v4" not in status
    detail = client.get("/api/v1/members/58421/irr/prefixes", headers=member).json()
    assert detail["asn_list"] == [58421] and len(detail["v4"]) == 20
    assert detail["v4"][0] == {"prefix": "193.0.0.0/24", "max_length": 24}


def test_held_change_is_shown_and_only_an_operator_approves_it(
    client: TestClient, world: World, session: Session, settings: Settings, tmp_path: Path
) -> None:
    _sync(session, settings, write_dump(tmp_path / "a.db", "AS58421", 20, 58421))
    _sync(session, settings, write_dump(tmp_path / "b.db", "AS58421", 250, 58421))
    held = client.get("/api/v1/members/58421/irr", headers=world.callers["member_a"]).json()
    assert held["held"] is True and held["prefixes_v4"] == 20
    assert (
        held["pending"]["prefixes_v4"] == 250
        and "grows from 20 to 250" in held["pending"]["reason"]
    )
    path = "/api/v1/members/58421/irr/approve"
    assert client.post(path, headers=world.callers["member_a"]).status_code == 403
    approved = client.post(path, headers=world.callers["operator"])
    assert approved.status_code == 200, approved.text
    assert (approved.json()["prefixes_v4"], approved.json()["pending"]) == (250, None)
    entry = session.scalars(select(AuditEntry).where(AuditEntry.entity == "irr")).one()
    assert (entry.actor, entry.action, entry.after["prefixes_v4"]) == ("op", "approve", 250)
    again = client.post(path, headers=world.callers["operator"])
    assert again.status_code == 404 and "no registry data held" in again.json()["detail"]


def test_another_members_registry_data_is_404(client: TestClient, world: World) -> None:
    member = world.callers["member_b"]
    for path in ("irr", "irr/prefixes", "rpki"):
        assert client.get(f"/api/v1/members/58421/{path}", headers=member).status_code == 404
        assert client.get(f"/api/v1/members/58421/{path}").status_code == 401
    assert (
        client.get("/api/v1/members/64999/irr", headers=world.callers["operator"]).status_code
        == 404
    )


def test_rpki_set_and_a_members_roas(
    client: TestClient, world: World, session: Session, settings: Settings, tmp_path: Path
) -> None:
    member = world.callers["member_a"]
    empty = client.get("/api/v1/rpki", headers=member).json()
    assert empty == {
        "roas": 0,
        "roas_v4": 0,
        "roas_v6": 0,
        "loaded_at": None,
        "source": None,
        "format": None,
        "sha256": None,
        "forced": None,
    }
    roas = [
        {"asn": "AS58421", "prefix": "193.0.0.0/21", "maxLength": 24},
        {"asn": "AS58421", "prefix": "2001:db8::/32", "maxLength": 48},
        {"asn": "AS55714", "prefix": "194.0.0.0/21", "maxLength": 24},
    ]
    path = tmp_path / "roas.json"
    path.write_text(json.dumps({"roas": roas}))
    rpki.load_file(session, path, settings=settings, actor="test")
    status = client.get("/api/v1/rpki", headers=member).json()
    assert (status["roas"], status["roas_v4"], status["roas_v6"]) == (3, 2, 1)
    own = client.get("/api/v1/members/58421/rpki", headers=member).json()
    assert (own["roas_v4"], own["roas_v6"]) == (1, 1)
    assert own["roas"] == [
        {"prefix": "193.0.0.0/21", "max_length": 24, "asn": 58421},
        {"prefix": "2001:db8::/32", "max_length": 48, "asn": 58421},
    ]
