"""`ixp lab up|status|down` on the test exchange, through the real CLI parser and real daemons."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ixp import db
from ixp.cli.main import app
from ixp.lab import netns
from ixp.lab.lab import Lab
from ixp.settings import Settings, get_settings
from tests.lab.exchange import ALPHA, RS_NAME, build_exchange, exchange_settings
from tests.lab.harness import require_lab

pytestmark = [pytest.mark.netns, pytest.mark.slow]


@pytest.fixture
def lab_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Settings]:
    """The test exchange in a fresh database, and the CLI pointed at it; no lab left after."""
    require_lab()
    settings = exchange_settings(tmp_path)
    engine = db.engine_from_settings(settings)
    with db.session_factory(engine)() as session:
        build_exchange(session, settings)
    engine.dispose()
    monkeypatch.setenv("IXP_HOME", str(settings.home))
    monkeypatch.setenv("IXP_DATABASE_URL", str(settings.database_url))
    get_settings.cache_clear()
    try:
        yield settings
    finally:
        leftover = Lab.load(settings)
        if leftover is not None:
            leftover.down()
        get_settings.cache_clear()


def ixp(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_lab_up_status_down(lab_settings: Settings) -> None:
    assert json.loads(ixp("lab", "status", "--json")[1]) == {"up": False}

    code, out, err = ixp("lab", "up")
    assert code == 0, err
    assert "all sessions established" in out

    status = json.loads(ixp("lab", "status", "--json")[1])
    assert status["up"] is True
    (rs,) = status["route_servers"]
    assert rs["name"] == RS_NAME and rs["running"]
    assert len(rs["sessions"]) == 8  # four members, IPv4 and IPv6
    assert all(s["info"] == "Established" for s in rs["sessions"])
    assert {m["asn"] for m in status["members"]} == {38001, 38002, 38003, 38004}
    assert all(m["running"] and m["received"] > 0 for m in status["members"])

    # Every member announces its registered prefixes and a few the policy must reject.
    lab = Lab.load(lab_settings)
    assert lab is not None
    filtered = {r.prefix for r in lab.bird(RS_NAME).routes("filtered") if r.as_path[:1] == (ALPHA,)}
    assert {"192.168.0.0/16", "45.64.0.0/25", "2001:db8::/32", "2a0b:4000::/49"} <= filtered
    table = ixp("lab", "status")[1]
    assert "route-server sessions" in table and "38001" in table

    code, _, err = ixp("lab", "up")
    assert code == 2 and "already up" in err

    code, out, _ = ixp("lab", "down")
    assert code == 0 and f"lab {status['prefix']} removed" in out
    assert [n for n in netns.list_namespaces() if n.startswith(status["prefix"])] == []
    assert json.loads(ixp("lab", "status", "--json")[1]) == {"up": False}
    assert ixp("lab", "down")[1].strip() == "no lab is up"
