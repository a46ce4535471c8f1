"""Running ``ixp`` commands in tests through typer's runner."""

from __future__ import annotations

from typer.testing import CliRunner, Result

from ixp.cli.main import app


def invoke(cli: CliRunner, *args: str) -> Result:
    """The result of ``ixp ARGS``; an exception other than SystemExit is re-raised.

    Typer's runner would otherwise turn an escaped exception into exit code 1
    silently, hiding exactly the traceback a user would have seen.
    """
    result = cli.invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def run(cli: CliRunner, *args: str) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of ``ixp ARGS``."""
    result = invoke(cli, *args)
    return result.exit_code, result.stdout, result.stderr
