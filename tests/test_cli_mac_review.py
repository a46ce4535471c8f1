"""The operator's review of members' proposed router MACs: `ixp member macs ...`.

Members propose through the web API; the operator's side is the same service
functions from the shell: list what waits, approve (checked again) or reject.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from ixp import macreview
from ixp.models import AuditEntry
from tests.cli import run, set_up_pkix
from tests.dbsnapshot import snapshot

PROPOSED = ["02:00:00:00:01:21", "02:00:00:00:01:22"]


@pytest.fixture
def proposed(cli: CliRunner, session: Session) -> CliRunner:
    """The PKIX exchange, a second member AS38194, and AS38193's proposal of ``PROPOSED``."""
    set_up_pkix(cli)
    code, _, err = run(
        cli, "member", "add", "--asn", "38194", "--name", "Wateen", "--auto-ip",
        "--max-prefix-v4", "100", "--max-prefix-v6", "20", "--mac", "02:00:00:00:02:01",
    )  # fmt: skip
    assert code == 0, err
    macreview.propose(session, 38193, PROPOSED, actor="noc-nayatel")
    return cli


def _macs(cli: CliRunner, asn: str) -> list[str]:
    code, out, err = run(cli, "member", "show", asn, "--json")
    assert code == 0, err
    macs: list[str] = json.loads(out)["macs"]
    return macs


def test_pending_lists_what_waits_for_review(proposed: CliRunner) -> None:
    code, out, err = run(proposed, "member", "macs", "pending", "--json")
    assert code == 0, err
    [pending] = json.loads(out)
    assert (pending["asn"], pending["status"], pending["macs"]) == (38193, "open", PROPOSED)
    assert pending["in_use"] == [] and pending["proposed_by"] == "noc-nayatel"
    code, out, _ = run(proposed, "member", "macs", "pending")
    assert code == 0 and "38193" in out and "02:00:00:00:01:22" in out and "noc-nayatel" in out


def test_approve_applies_the_proposal_and_logs_it(proposed: CliRunner, session: Session) -> None:
    code, out, err = run(proposed, "member", "macs", "approve", "AS38193", "--json")
    assert code == 0, err
    assert json.loads(out)["status"] == "approved"
    assert _macs(proposed, "38193") == PROPOSED
    code, out, _ = run(proposed, "member", "macs", "pending", "--json")
    assert json.loads(out) == []
    actions = session.execute(
        select(AuditEntry.actor, AuditEntry.entity, AuditEntry.action).order_by(AuditEntry.id)
    ).all()
    assert [tuple(a) for a in actions[-3:]] == [
        ("noc-nayatel", "mac-proposal", "propose"),
        ("cli", "member", "update"),
        ("cli", "mac-proposal", "approve"),
    ]


def test_reject_keeps_the_macs_and_records_the_reason(proposed: CliRunner) -> None:
    code, out, err = run(
        proposed, "member", "macs", "reject", "38193", "--reason", "unknown router", "--json"
    )
    assert code == 0, err
    assert (json.loads(out)["status"], json.loads(out)["reason"]) == ("rejected", "unknown router")
    assert _macs(proposed, "38193") == []
    code, out, _ = run(proposed, "member", "macs", "pending", "--json")
    assert json.loads(out) == []


def test_reject_needs_a_reason(proposed: CliRunner, engine: Engine) -> None:
    before = snapshot(engine)
    code, _, err = run(proposed, "member", "macs", "reject", "38193")
    assert code == 2 and "--reason" in err
    code, _, err = run(proposed, "member", "macs", "reject", "38193", "--reason", " ")
    assert code == 2 and "error: reason:" in err
    assert snapshot(engine) == before


def test_a_mac_taken_since_the_proposal_is_refused_and_nothing_applied(
    proposed: CliRunner, engine: Engine
) -> None:
    code, _, err = run(
        proposed, "member", "set", "38194", "--mac", "02:00:00:00:02:01", "--mac", PROPOSED[1]
    )
    assert code == 0, err
    before = snapshot(engine)
    code, _, err = run(proposed, "member", "macs", "approve", "38193")
    assert code == 2
    assert f"error: macs: '{PROPOSED[1]}' is already used by AS38194" in err
    assert snapshot(engine) == before


def test_nothing_to_decide_is_an_error(proposed: CliRunner) -> None:
    assert run(proposed, "member", "macs", "approve", "38193")[0] == 0
    code, _, err = run(proposed, "member", "macs", "approve", "38193")
    assert code == 2 and "no MAC change waiting for review" in err
