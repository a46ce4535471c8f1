"""``ixp serve``: the real uvicorn server in a child process, and its systemd unit."""

from __future__ import annotations

import asyncio
import configparser
import gc
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import files
from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from ixp.settings import Settings
from tests.api.conftest import World
from tests.cli import run

IXP = str(Path(sys.executable).with_name("ixp"))

START_SECONDS = 120


def free_port() -> int:
    """A TCP port nothing listens on (at the moment of asking)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serving(arguments: list[str], env: dict[str, str]) -> Iterator[str]:
    """``ixp serve ARGUMENTS`` running until the block ends; yields its base URL once the
    app answers. Its output is checked for the address and against leaking secrets."""
    port = arguments[arguments.index("--port") + 1]
    server = subprocess.Popen(
        [IXP, "serve", *arguments],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        # Starting is importing the app and migrating checks: seconds, but a minute and more
        # on two cores that also run the lab's daemons beside this worker.
        deadline = time.monotonic() + START_SECONDS
        while True:
            try:
                httpx.get(f"{base}/api/v1/openapi.json", timeout=2)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.communicate()[0]
                assert time.monotonic() < deadline, f"ixp serve did not answer in {START_SECONDS} s"
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    assert f"serving on {base}/" in output
    assert env.get("IXP_WEB_SECRET_KEY", "never printed") not in output


def test_serve_refuses_production_without_a_secret_key(cli: CliRunner) -> None:
    code, _, err = run(cli, "serve", "--port", "1")
    assert code == 2
    assert err.startswith("error: settings: web_secret_key: None must be a random string")
    assert err.count("\n") == 1


def test_serve_runs_the_app_with_two_workers(database_url: str, tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "IXP_DATABASE_URL": database_url,
        "IXP_HOME": str(tmp_path),
        "IXP_WEB_SECRET_KEY": "k" * 40,
    }
    with serving(["--port", str(port), "--workers", "2"], env) as base:
        schema = httpx.get(f"{base}/api/v1/openapi.json", timeout=5)
        anonymous = httpx.get(f"{base}/api/v1/auth/me", timeout=5)
    assert schema.status_code == 200
    assert schema.json()["info"]["title"] == "ixp"
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"


def test_the_served_app_sets_its_start_up_heap_aside_from_the_cycle_collector(
    api_settings: Settings,
) -> None:
    """A worker's full collections would walk every library object again (pauses of
    0.1-0.3 s under load); the app ``ixp serve`` runs freezes them once started, and
    what outlives each full collection after that; a younger collection freezes
    nothing, and the hook goes with the app."""
    gc.unfreeze()
    try:
        with TestClient(create_app(api_settings)):
            assert gc.get_freeze_count() == 0
        with TestClient(create_app(api_settings, freeze_start_up=True)) as client:
            assert gc.get_freeze_count() > 10_000
            assert client.get("/api/v1/openapi.json").status_code == 200
            made_since = [[n] for n in range(1000)]
            frozen = gc.get_freeze_count()
            gc.collect(1)
            assert gc.get_freeze_count() == frozen
            gc.collect()
            assert gc.get_freeze_count() >= frozen + len(made_since)
        assert not [hook for hook in gc.callbacks if hook.__name__ == "_freeze_after_full"]
    finally:
        gc.unfreeze()


def test_systemd_unit_runs_ixp_serve_behind_a_proxy() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read_string(files("ixp").joinpath("data/systemd/ixp-web.service").read_text())
    assert " serve --host 127.0.0.1 " in unit["Service"]["ExecStart"]
    assert unit["Service"]["Restart"] == "always"
    assert unit["Service"]["SupplementaryGroups"] == "bird"


def test_a_burst_larger_than_the_pool_is_served_not_deadlocked(
    database_url: str, tmp_path: Path, world: World
) -> None:
    """50 requests at once against a worker with 2 database connections and 40 threads:
    without the admission limit, threads wait for connections held by requests waiting
    for threads, and nothing is answered until the pool gives up."""
    port = free_port()
    env = {
        **os.environ,
        "IXP_DATABASE_URL": database_url,
        "IXP_HOME": str(tmp_path),
        "IXP_WEB_ENVIRONMENT": "development",
        "IXP_WEB_MAX_REQUESTS": "2",
    }
    headers = world.callers["member_a"]
    with serving(["--port", str(port), "--workers", "1"], env) as base:

        async def burst() -> list[int]:
            async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as client:
                answers = await asyncio.gather(
                    *(client.get("/api/v1/members/58421/sessions") for _ in range(50))
                )
            return [answer.status_code for answer in answers]

        statuses = asyncio.run(burst())
    assert statuses == [200] * 50
