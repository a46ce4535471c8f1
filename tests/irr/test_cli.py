"""`ixp irr sync|show|approve` as an operator runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.cli import run
from tests.irr.conftest import REGISTRY, add_member, write_dump

# Every command here runs against the exchange of the ``ix`` fixture.
pytestmark = pytest.mark.usefixtures("ix")


def test_sync_from_a_dump_then_show(cli: CliRunner) -> None:
    code, out, err = run(cli, "irr", "sync", "--rpsl", str(REGISTRY), "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["source"] == f"rpsl {REGISTRY}"
    assert [(m["asn"], m["outcome"]) for m in report["members"]] == [
        (9541, "ok"),
        (23674, "ok"),
        (38193, "ok"),
    ]
    code, out, err = run(cli, "irr", "show", "38193", "--json")
    assert code == 0, err
    shown = json.loads(out)
    assert shown["as_set"] == "AS-NAYATEL" and shown["prefixes_v4"] == 5
    assert {"prefix": "203.99.160.0/19", "max_length": 24} in shown["v4"]
    code, out, _ = run(cli, "irr", "show", "AS38193")
    assert code == 0 and "203.99.160.0/19" in out and "AS-NAYATEL" in out


def test_show_never_synced_and_unknown_member(cli: CliRunner) -> None:
    code, out, _ = run(cli, "irr", "show", "9541", "--json")
    never = json.loads(out)
    assert code == 0 and (never["asn"], never["synced"], never["as_set"]) == (9541, False, None)
    assert (never["prefixes_v4"], never["v4"], never["pending"]) == (0, [], None)
    code, _, err = run(cli, "irr", "show", "3333")
    assert code == 2 and err.startswith("error: member: AS3333 is not a member")


def test_held_data_exits_1_and_approve_releases_it(
    cli: CliRunner, ix: Session, tmp_path: Path
) -> None:
    add_member(ix, 45595, as_set="AS-GROW")
    first = write_dump(tmp_path / "a.db", "AS-GROW", 20, 45595)
    code, _, err = run(cli, "irr", "sync", "--rpsl", str(first), "--asn", "45595")
    assert code == 0, err
    grown = write_dump(tmp_path / "b.db", "AS-GROW", 250, 45595)
    code, _, err = run(cli, "irr", "sync", "--rpsl", str(grown), "--asn", "45595")
    assert code == 1 and "1 members: 0 ok, 0 unchanged, 0 failed-kept-last-good, 1 held" in err
    code, out, _ = run(cli, "irr", "sync", "--rpsl", str(grown), "--asn", "45595", "--json")
    assert code == 1 and json.loads(out)["members"][0]["outcome"] == "held-for-approval"
    code, out, _ = run(cli, "irr", "show", "45595", "--json")
    shown = json.loads(out)
    assert (shown["prefixes_v4"], shown["held"], shown["pending"]["prefixes_v4"]) == (20, True, 250)
    code, out, err = run(cli, "irr", "approve", "45595", "--json")
    assert code == 0, err
    approved = json.loads(out)
    assert approved["prefixes_v4"] == 250 and approved["held"] is False
    assert approved["pending"] is None
    code, _, err = run(cli, "irr", "approve", "45595")
    assert code == 2 and err == "error: asn: AS45595 has no registry data held for approval\n"


def test_missing_dump_is_one_error_line(cli: CliRunner, tmp_path: Path) -> None:
    code, _, err = run(cli, "irr", "sync", "--rpsl", str(tmp_path / "nope.db"))
    assert code == 2
    assert err == f"error: rpsl: '{tmp_path / 'nope.db'}' is not a readable file\n"
