"""Running ``ixp`` commands in tests through typer's runner."""

from __future__ import annotations

from typer.testing import CliRunner

from ixp.cli.main import app


def run(cli: CliRunner, *args: str) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of ``ixp ARGS``."""
    result = cli.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr
