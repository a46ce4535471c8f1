"""``ixp push --dry-run``, ``ixp push list`` and ``ixp push show`` as an operator runs them."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy.orm import Session
from typer.testing import CliRunner

from ixp.settings import Settings
from tests.cli import run
from tests.lab.exchange import RS_NAME, build_exchange
from tests.push.fleet import BASE_RPSL, rpsl_with
from tests.rs.birdtools import needs_bird


@needs_bird
def test_dry_run_then_list_and_show(cli: CliRunner, session: Session, settings: Settings) -> None:
    build_exchange(session, settings)
    code, out, err = run(cli, "push", "--dry-run", "--rpsl", str(BASE_RPSL))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("push #1: dry-run (build #")
    assert f"{RS_NAME}: nothing recorded of what it runs, so every one of its 4 members" in out
    assert f"impact preview: the routes {RS_NAME} holds cannot be read" in out
    assert lines[-1] == f"{RS_NAME}: skipped: not pushed: a dry run"

    code, out, _ = run(cli, "push", "list", "--json")
    [listed] = json.loads(out)
    assert (listed["id"], listed["state"], listed["actor"]) == (1, "dry-run", "cli")

    code, out, _ = run(cli, "push", "show", "1", "--json")
    shown = json.loads(out)
    assert shown["targets"][0]["route_server"] == RS_NAME
    assert "unified" not in shown["report"]["diffs"][RS_NAME]

    code, out, _ = run(cli, "push", "show", "1", "--diff")
    assert code == 0 and f"+++ {RS_NAME}.conf (new)\n" in out
    assert "+define AS38001_ORIGINS = [38001, 38011];\n" in out


def test_unknown_push_is_one_error_line(cli: CliRunner) -> None:
    code, out, err = run(cli, "push", "show", "9")
    assert (code, out) == (2, "")
    assert err.strip().splitlines() == ["error: push: 9 does not exist"]


@needs_bird
def test_a_push_stopped_at_held_data_words_how_to_go_on(
    cli: CliRunner, session: Session, settings: Settings, tmp_path: Path
) -> None:
    build_exchange(session, settings)
    assert run(cli, "push", "--dry-run", "--rpsl", str(BASE_RPSL))[0] == 0
    emptied = rpsl_with(tmp_path, drop=("103.21.0.0/22", "2a0b:4300::/32"))
    code, out, err = run(cli, "push", "--dry-run", "--rpsl", str(emptied))
    assert "push #2: stopped" in out, (code, out, err)
    assert "to go on: push again with --approve to go on anyway" in out
