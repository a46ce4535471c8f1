"""The ``ixp`` command loads the module of the command it runs, not every command's."""

from __future__ import annotations

import ast
import subprocess
import sys

from typer.testing import CliRunner

from ixp.cli.main import COMMANDS, app

# What ``ixp rs ...`` must not pay for: other commands and their libraries.
NOT_FOR_RS = {"ixp.cli.traffic", "ixp.cli.lab", "ixp.cli.push", "ixp.cli.monitor", "ixp.cli.serve"}


def test_a_command_imports_its_own_module_only() -> None:
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from ixp.cli.main import app\n"
        "result = CliRunner().invoke(app, ['rs', 'build', '--help'])\n"
        "assert result.exit_code == 0, result.output\n"
        "print(sorted(name for name in sys.modules if name.startswith('ixp.')))\n"
    )
    answer = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    loaded = set(ast.literal_eval(answer.stdout.strip().splitlines()[-1]))
    assert "ixp.cli.rs" in loaded
    assert NOT_FOR_RS & loaded == set()
    assert not any(name.startswith("ixp.traffic") for name in loaded)


def test_the_listing_names_every_command_and_each_one_loads() -> None:
    runner = CliRunner()
    listing = runner.invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert listing.exit_code == 0, listing.output
    for name in ("db", *COMMANDS):
        assert f" {name} " in listing.output, name
        shown = runner.invoke(app, [name, "--help"], env={"COLUMNS": "200"})
        assert shown.exit_code == 0 and "Usage: ixp " + name in shown.output, name
    wrong = runner.invoke(app, ["traffics"])
    assert wrong.exit_code == 2 and "No such command 'traffics'" in wrong.output
