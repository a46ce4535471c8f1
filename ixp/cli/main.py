"""The ``ixp`` application: one typer app with a sub-app per domain area."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any, NoReturn

import typer
from typer.core import TyperGroup

from ixp import db
from ixp.cli.common import checked_settings, fail, handles_errors, say
from ixp.cli.demo import demo_app
from ixp.cli.exchange import exchange_app
from ixp.cli.irr import irr_app
from ixp.cli.ixf import export_app, import_app
from ixp.cli.lab import lab_app
from ixp.cli.member import member_app
from ixp.cli.monitor import monitor_app, reach_app, routes_command
from ixp.cli.push import push_app
from ixp.cli.rpki import rpki_app
from ixp.cli.rs import rs_app
from ixp.cli.serve import serve_command
from ixp.cli.traffic import traffic_app
from ixp.cli.user import user_app


class OneLineErrors(TyperGroup):
    """The ``ixp`` command: a usage error (a mistyped option or value, a missing one)
    is one ``error:`` line with exit status 2, like every other error."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        """Run the command; errors typer would draw as a box become one line."""
        passed = {"windows_expand_args": windows_expand_args, **extra}
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **passed)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **passed)
        except typer.TyperException as exc:
            _exit_on_usage_error(exc)
        except typer.Abort:
            sys.exit(fail("aborted", code=1).exit_code)
        sys.exit(code if isinstance(code, int) else 0)


def _exit_on_usage_error(exc: typer.TyperException) -> NoReturn:
    # A group called without a command has printed its help already (typer's own check).
    if type(exc).__name__ != "NoArgsIsHelpError":
        context = getattr(exc, "ctx", None)
        hint = f" (see '{context.command_path} --help')" if context is not None else ""
        fail(f"{exc.format_message().rstrip('.')}{hint}", exc.exit_code)
    sys.exit(exc.exit_code)


app = typer.Typer(
    name="ixp",
    cls=OneLineErrors,
    help="Route-server and peering manager for internet exchange points.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(exchange_app, name="exchange")
app.add_typer(rs_app, name="rs")
app.add_typer(member_app, name="member")
app.add_typer(import_app, name="import")
app.add_typer(export_app, name="export")
app.add_typer(demo_app, name="demo")
app.add_typer(irr_app, name="irr")
app.add_typer(rpki_app, name="rpki")
app.add_typer(lab_app, name="lab")
app.add_typer(monitor_app, name="monitor")
app.add_typer(reach_app, name="reach")
app.add_typer(user_app, name="user")
app.add_typer(push_app, name="push")
app.add_typer(traffic_app, name="traffic")
app.command("routes")(routes_command)
app.command("serve")(serve_command)


@db_app.command("upgrade")
@handles_errors
def db_upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Create or migrate the database schema to the newest revision."""
    settings = checked_settings()
    engine = db.engine_from_settings(settings)
    try:
        db.upgrade(engine, revision)
    finally:
        engine.dispose()
    say(f"database at {revision}: {db.masked_url(settings.effective_database_url)}")
