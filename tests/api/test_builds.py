"""Builds through /api/v1: triggered by operators, recorded ok or not, read per role."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from ixp.rs.history import BUILD_LOCK
from ixp.settings import Settings
from tests.api.conftest import World
from tests.cli import run

PROBLEM = "application/problem+json"


def test_operator_builds_into_home_rs_and_the_build_is_recorded(
    client: TestClient, world: World, api_settings: Settings
) -> None:
    made = client.post("/api/v1/builds", headers=world.callers["operator"])
    assert made.status_code == 201, made.text
    build = made.json()
    assert (build["ok"], build["error"], build["actor"]) == (True, None, "op")
    assert (build["route_servers"], build["members"]) == (2, 2) and build["size_bytes"] > 0
    out = api_settings.home / "rs"
    assert sorted(p.name for p in out.glob("*.conf")) == ["rs1-isb.conf", "rs2-khi.conf"]
    assert build["out_dir"] == str(out)
    rs1 = build["servers"][0]
    assert rs1["rs_name"] == "rs1-isb" and [m["asn"] for m in rs1["members"]] == [55714, 58421]
    assert rs1["members"][0]["registry"] == "missing"
    one = client.post("/api/v1/builds", json={"rs": "rs2-khi"}, headers=world.callers["operator"])
    assert [s["rs_name"] for s in one.json()["servers"]] == ["rs2-khi"]
    listed = client.get("/api/v1/builds", headers=world.callers["operator"]).json()
    assert [b["id"] for b in listed["items"]] == [one.json()["id"], build["id"]]
    assert listed["total"] == 2 and "servers" not in listed["items"][0]


def test_a_member_sees_builds_but_only_its_own_summary_line(
    client: TestClient, world: World
) -> None:
    build_id = client.post("/api/v1/builds", headers=world.callers["operator"]).json()["id"]
    shown = client.get(f"/api/v1/builds/{build_id}", headers=world.callers["member_a"])
    assert shown.status_code == 200
    for server in shown.json()["servers"]:
        assert [m["asn"] for m in server["members"]] == [58421]
    assert "Bravo" not in shown.text and "55714" not in shown.text
    listed = client.get("/api/v1/builds", headers=world.callers["member_b"])
    assert listed.json()["total"] == 1
    assert client.post("/api/v1/builds", headers=world.callers["member_a"]).status_code == 403
    assert client.get("/api/v1/builds").status_code == 401


def test_unknown_build_and_route_server_are_404_and_record_nothing(
    client: TestClient, world: World
) -> None:
    operator = world.callers["operator"]
    assert client.get("/api/v1/builds/9", headers=operator).status_code == 404
    assert client.get("/api/v1/builds/0", headers=operator).status_code == 422
    response = client.post("/api/v1/builds", json={"rs": "rs9"}, headers=operator)
    assert response.status_code == 404 and response.headers["content-type"] == PROBLEM
    typed = client.post("/api/v1/builds", json={"rs": 1, "x": True}, headers=operator)
    assert typed.status_code == 422
    assert {e["field"] for e in typed.json()["errors"]} == {"rs", "x"}
    assert client.get("/api/v1/builds", headers=operator).json()["total"] == 0


@pytest.fixture
def refusing(api_settings: Settings, world: World) -> Iterator[TestClient]:
    """A client of an app whose policy makes BIRD refuse the configuration."""
    broken = api_settings.model_copy(update={"rs_transit_free_asns": [2**33]})
    with TestClient(create_app(broken), raise_server_exceptions=False) as client:
        yield client


def test_a_build_bird_refuses_is_recorded_with_its_error_and_publishes_nothing(
    refusing: TestClient, world: World, api_settings: Settings
) -> None:
    made = refusing.post("/api/v1/builds", headers=world.callers["operator"])
    assert made.status_code == 201, made.text
    build = made.json()
    assert build["ok"] is False and "bird -p rejected" in build["error"]
    assert build["servers"] == [] and build["size_bytes"] == 0
    assert not list((api_settings.home / "rs").glob("*.conf"))
    listed = refusing.get("/api/v1/builds", headers=world.callers["operator"]).json()
    assert [b["ok"] for b in listed["items"]] == [False]


def test_cli_builds_are_recorded_in_the_same_history(
    client: TestClient, world: World, cli: CliRunner, tmp_path: Path
) -> None:
    code, out, err = run(cli, "rs", "build", "--out", str(tmp_path / "out"), "--json")
    assert code == 0, err
    assert [r["rs_name"] for r in json.loads(out)["route_servers"]] == ["rs1-isb", "rs2-khi"]
    code, _, err = run(cli, "rs", "build", "--rs", "rs9")
    assert code == 2 and err == "error: route server: 'rs9' does not exist\n"
    code, out, err = run(cli, "rs", "builds", "--json")
    assert code == 0, err
    (recorded,) = json.loads(out)
    assert (recorded["actor"], recorded["ok"], recorded["members"]) == ("cli", True, 2)
    listed = client.get("/api/v1/builds", headers=world.callers["member_a"]).json()
    assert [b["id"] for b in listed["items"]] == [recorded["id"]]
    code, out, _ = run(cli, "rs", "builds")
    assert code == 0 and "Builds (1 of 1)" in out


@pytest.fixture
def build_in_progress(api_settings: Settings) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the build lock of ``<home>/rs``, as a running build does."""
    lock = api_settings.home / "rs" / BUILD_LOCK
    holder = subprocess.Popen(
        [
            sys.executable, "-c",
            "import sys, time; from pathlib import Path; from ixp import locks\n"
            "with locks.exclusive(Path(sys.argv[1]), 'a build', holder='started by nightly'):\n"
            "    print('held', flush=True); time.sleep(60)",
            str(lock),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    with holder:  # closes its pipe
        yield holder
        holder.kill()


def test_one_build_at_a_time_and_a_killed_build_leaves_no_lock(
    client: TestClient,
    world: World,
    cli: CliRunner,
    api_settings: Settings,
    build_in_progress: subprocess.Popen[str],
) -> None:
    operator = world.callers["operator"]
    refused = client.post("/api/v1/builds", headers=operator)
    assert refused.status_code == 409 and refused.headers["content-type"] == PROBLEM
    detail = refused.json()["detail"]
    assert "is already running (started by nightly, pid" in detail, detail
    code, _, err = run(cli, "rs", "build", "--out", str(api_settings.home / "rs"))
    assert code == 2 and err.startswith("error: a build into ") and err.count("\n") == 1, err
    assert client.get("/api/v1/builds", headers=operator).json()["total"] == 0
    build_in_progress.kill()  # SIGKILL: no chance to clean up
    build_in_progress.wait()
    assert client.post("/api/v1/builds", headers=operator).status_code == 201
