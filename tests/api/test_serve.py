"""``ixp serve``: the real uvicorn server in a child process, and its systemd unit."""

from __future__ import annotations

import configparser
import os
import socket
import subprocess
import sys
import time
from importlib.resources import files
from pathlib import Path

import httpx
from typer.testing import CliRunner

from tests.cli import run

IXP = str(Path(sys.executable).with_name("ixp"))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_serve_refuses_production_without_a_secret_key(cli: CliRunner) -> None:
    code, _, err = run(cli, "serve", "--port", "1")
    assert code == 2
    assert err.startswith("error: settings: web_secret_key: None must be a random string")
    assert err.count("\n") == 1


def test_serve_runs_the_app_with_two_workers(database_url: str, tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "IXP_DATABASE_URL": database_url,
        "IXP_HOME": str(tmp_path),
        "IXP_WEB_SECRET_KEY": "k" * 40,
    }
    server = subprocess.Popen(
        [IXP, "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/api/v1/openapi.json", timeout=2)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.communicate()[0]
                assert time.monotonic() < deadline, "ixp serve did not answer within 30 s"
                time.sleep(0.2)
        assert response.status_code == 200
        assert response.json()["info"]["title"] == "ixp"
        anonymous = httpx.get(f"http://127.0.0.1:{port}/api/v1/auth/me", timeout=5)
        assert anonymous.status_code == 401
        assert anonymous.headers["content-type"] == "application/problem+json"
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    assert f"serving on http://127.0.0.1:{port}/" in output
    assert "k" * 40 not in output


def test_systemd_unit_runs_ixp_serve_behind_a_proxy() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read_string(files("ixp").joinpath("data/systemd/ixp-web.service").read_text())
    assert " serve --host 127.0.0.1 " in unit["Service"]["ExecStart"]
    assert unit["Service"]["Restart"] == "always"
    assert unit["Service"]["SupplementaryGroups"] == "bird"
