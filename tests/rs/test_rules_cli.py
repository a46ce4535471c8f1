"""``ixp member rules list|add|remove``: the service the API and the portal use, from a shell."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from ixp.cli.main import app

ALPHA, BRAVO = "10101", "20202"


def run(cli: CliRunner, *args: str) -> tuple[int, str, str]:
    result = cli.invoke(app, ["member", "rules", *args])
    return result.exit_code, result.stdout, result.stderr


def test_add_list_and_remove_a_rule(demo_cli: CliRunner) -> None:
    code, out, err = run(demo_cli, "add", ALPHA, "do-not-announce", BRAVO, "--family", "ipv4")
    assert code == 0, err
    assert "do not announce to AS20202 (Bravo Telecom) in IPv4" in out
    assert "At the next build:" in out and "AS20202 (Bravo Telecom) will no longer receive" in out

    code, out, err = run(demo_cli, "add", ALPHA, "prepend", "all", "--prepend", "2", "--json")
    assert code == 0, err
    added = json.loads(out)
    assert added["text"] == "prepend my ASN twice towards every peer in IPv4 and IPv6"
    assert added["equivalent"] == "59900:102:0" and added["peer"] is None

    code, out, err = run(demo_cli, "list", ALPHA, "--json")
    assert code == 0, err
    listed = json.loads(out)
    assert [r["action"] for r in listed] == ["do-not-announce", "prepend"]

    code, out, err = run(demo_cli, "remove", ALPHA, str(listed[0]["id"]))
    assert code == 0, err
    assert [r["id"] for r in json.loads(run(demo_cli, "list", ALPHA, "--json")[1])] == [added["id"]]


def test_preview_saves_nothing(demo_cli: CliRunner) -> None:
    code, out, err = run(demo_cli, "add", ALPHA, "announce-only", BRAVO, "--preview")
    assert code == 0, err
    assert out.startswith("At the next build:")
    assert "AS30303 (Charlie Wireless) and AS50505 (Echo Unsynced) will no longer receive" in out
    code, out, _ = run(demo_cli, "add", ALPHA, "do-not-accept", BRAVO, "--preview", "--json")
    assert code == 0 and json.loads(out)["changes"][0]["peers"] == [20202]
    assert json.loads(run(demo_cli, "list", ALPHA, "--json")[1]) == []


def test_bad_input_is_one_line_per_field_and_exit_2(demo_cli: CliRunner) -> None:
    code, out, err = run(demo_cli, "add", ALPHA, "prepend", ALPHA, "--prepend", "7")
    assert code == 2 and out == ""
    assert err.splitlines() == [
        "error: peer: '10101' is your own ASN: name another member",
        "error: prepend: 7 must be 1, 2 or 3",
    ]
    code, _, err = run(demo_cli, "remove", ALPHA, "999")
    assert code == 2 and err.startswith("error: rule: 999 does not exist")


def test_the_build_summary_lists_the_rules_it_left_out(demo_cli: CliRunner, tmp_path: Path) -> None:
    assert run(demo_cli, "add", ALPHA, "do-not-announce", "40404", "--family", "ipv4")[0] == 0
    result = demo_cli.invoke(app, ["rs", "build", "--out", str(tmp_path), "--rs", "rs1"])
    assert result.exit_code == 0, result.stderr
    assert "rs1: filtering rules left out" in result.stdout
    assert "do not announce to AS40404 in IPv4" in result.stdout
    assert "AS40404 is not configured on rs1 (status is suspended)" in result.stdout
