"""``ixp monitor ...``, ``ixp reach ...`` and ``ixp routes`` through the real CLI parser."""

from __future__ import annotations

import configparser
import json
from importlib.resources import files

from typer.testing import CliRunner

from tests.cli import run
from tests.monitor.conftest import DATA, RS_ASN, Bird


def test_one_round_then_sessions_events_alerts_and_routes(cli: CliRunner, bird: Bird) -> None:
    steps = [
        ("exchange", "init", "--name", "PK IX", "--asn", str(RS_ASN), "--lan-v4", "185.1.10.0/24"),
        (
            "rs",
            "add",
            "--name",
            "rs1",
            "--asn",
            str(RS_ASN),
            "--router-id",
            "185.1.10.1",
            "--ipv4",
            "185.1.10.1",
            "--socket",
            str(bird.socket),
        ),
    ]
    for step in steps:
        code, _, err = run(cli, *step)
        assert code == 0, err
    code, _, err = run(cli, "monitor", "run", "--once")
    assert code == 0, err
    code, out, _ = run(cli, "monitor", "sessions", "--json")
    sessions = json.loads(out)
    assert [(s["asn"], s["protocol"], s["up"]) for s in sessions] == [
        (38003, "AS38003_v4_1", False)
    ]
    code, out, _ = run(cli, "monitor", "events", "--json")
    assert [(e["asn"], e["kind"]) for e in json.loads(out)] == [(38003, "down")]
    code, out, _ = run(cli, "monitor", "alerts", "--json")
    assert code == 0 and json.loads(out) == []  # down for less than 10 minutes
    code, out, _ = run(cli, "routes", "38003", "--json")
    assert code == 0 and json.loads(out) == []  # a session, but no routes
    code, _, err = run(cli, "routes", "64999")
    assert code == 2
    assert "AS64999 has no session on route server(s) rs1" in err
    code, _, err = run(cli, "routes", "38003", "--rs", "nope")
    assert code == 2 and "nope" in err


def test_reach_load_and_empty_report(cli: CliRunner) -> None:
    code, _, err = run(
        cli, "exchange", "init", "--name", "PK IX", "--asn", "38195", "--lan-v4", "185.1.10.0/24"
    )
    assert code == 0, err
    code, out, err = run(cli, "reach", "load", str(DATA / "delegated-pk-sample-extended.txt"))
    assert code == 0, err
    assert "PK: 5 ipv4, 3 ipv6, 5 asn delegations" in out
    code, out, _ = run(cli, "reach", "report", "--json")
    assert json.loads(out)["overall"] is None
    code, _, err = run(cli, "reach", "load", "/nonexistent/delegated.txt")
    assert code == 2 and "/nonexistent/delegated.txt" in err


def test_systemd_unit_is_shipped_and_runs_the_monitor() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read_string(files("ixp").joinpath("data/systemd/ixp-monitor.service").read_text())
    assert unit["Service"]["ExecStart"].endswith("ixp monitor run")
    assert unit["Service"]["Restart"] == "always"
