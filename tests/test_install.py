"""The wheel, installed outside the checkout, works like the checkout.

Route-server hosts and containers get ixp from a wheel, not from a git
checkout. This builds the wheel from the tree, installs it into a fresh
virtual environment in a temporary directory, and runs there what an operator
runs first: migrate a database, load the demo exchange, build the route-server
configurations (which BIRD must accept). Every path ixp reads its templates and
migrations from must lie inside that environment.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.rs.birdtools import needs_bird

pytestmark = [needs_bird, pytest.mark.slow]

CHECKOUT = Path(__file__).resolve().parent.parent
# What the wheel is built from: copied first, so setuptools' build/ folder (which
# would keep files deleted from the tree) never lands in the checkout.
SOURCES = (
    "pyproject.toml",
    "setup.py",
    "README.md",
    "ixp",
    "api",
    "templates",
    "migrations",
    "ansible",
)


def run(argv: list[str], cwd: Path, env: dict[str, str], timeout: float = 600) -> str:
    """Run a command; fail the test with its output if it fails."""
    result = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{' '.join(argv)}\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A fresh virtual environment with the wheel built from this tree; its bin dir and env."""
    work = tmp_path_factory.mktemp("wheel")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IXP_", "PYTHON", "VIRTUAL"))}
    source, dist = work / "source", work / "dist"
    source.mkdir()
    for name in SOURCES:
        if (CHECKOUT / name).is_dir():
            ignore = shutil.ignore_patterns("__pycache__")
            shutil.copytree(CHECKOUT / name, source / name, ignore=ignore)
        elif (CHECKOUT / name).exists():
            shutil.copy2(CHECKOUT / name, source / name)
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist)]
    run([*pip_wheel, str(source)], work, env)
    (wheel,) = dist.glob("ixp-*.whl")
    venv = work / "venv"
    run([sys.executable, "-m", "venv", str(venv)], work, env)
    run([str(venv / "bin" / "pip"), "install", "-q", str(wheel)], work, env)
    env["IXP_HOME"] = str(work / "home")
    return venv / "bin", env


def test_resources_come_from_the_installed_package(installed: tuple[Path, dict[str, str]]) -> None:
    bin_dir, env = installed
    probe = (
        "import importlib.resources as r, ixp, api.app; print(ixp.__file__); "
        "print(r.files('ixp.templates')); print(r.files('ixp.migrations')); print(api.app.__file__)"
    )
    venv = bin_dir.parent.resolve()
    for line in run([str(bin_dir / "python"), "-c", probe], venv.parent, env).split():
        assert Path(line).resolve().is_relative_to(venv), line
        assert not Path(line).resolve().is_relative_to(CHECKOUT), line


def test_migrate_load_the_demo_and_build_configs_bird_accepts(
    installed: tuple[Path, dict[str, str]],
) -> None:
    bin_dir, env = installed
    work = bin_dir.parent.parent
    ixp = str(bin_dir / "ixp")
    run([ixp, "db", "upgrade"], work, env)
    run([ixp, "demo", "load"], work, env)
    out = work / "rs"
    run([ixp, "rs", "build", "--out", str(out)], work, env)
    bird = shutil.which("bird")
    assert bird is not None
    configs = sorted(out.glob("*.conf"))
    assert [c.name for c in configs] == ["rs1-isb.conf", "rs2-khi.conf"]  # the demo's two
    for config in configs:
        assert "protocol bgp" in config.read_text(encoding="utf-8")
        run([bird, "-p", "-c", str(config)], work, env)
