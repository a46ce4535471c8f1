"""Running ``ixp`` commands in tests through typer's runner."""

from __future__ import annotations

import shlex

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


# The "PKIX Test" exchange with one route server and member AS38193, as an operator sets it up.
PKIX_SETUP = (
    "exchange init --name 'PKIX Test' --asn 38195 --lan-v4 185.1.10.0/24 --lan-v6 2001:7f8:1::/64",
    "rs add --name rs1-isb --asn 38195 --router-id 185.1.10.1 --ipv4 185.1.10.1 "
    "--ipv6 2001:7f8:1::1",
    "member add --asn 38193 --name Nayatel --auto-ip --max-prefix-v4 100 --max-prefix-v6 20",
)


def set_up_pkix(cli: CliRunner) -> CliRunner:
    """Run the PKIX_SETUP commands; each must succeed."""
    for command in PKIX_SETUP:
        code, _, err = run(cli, *shlex.split(command))
        assert code == 0, err
    return cli
