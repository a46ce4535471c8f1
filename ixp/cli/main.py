"""The ``ixp`` application: one typer app with a sub-app per domain area."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

import typer
from typer import _click as click  # typer 0.29 ships click of its own
from typer.core import TyperGroup

from ixp import db
from ixp.cli.common import checked_settings, fail, handles_errors, say

# The commands by name, and where each lives: (module, its typer app or command function).
# A command's module is imported only when that command runs (or a listing of every
# command is asked for, as ``ixp --help`` does): importing all of them, the traffic
# collector, the lab, the monitor and the push pipeline with their libraries, was a
# third of every command's start-up, and the nightly build runs several commands.
COMMANDS: dict[str, tuple[str, str]] = {
    "exchange": ("ixp.cli.exchange", "exchange_app"),
    "rs": ("ixp.cli.rs", "rs_app"),
    "member": ("ixp.cli.member", "member_app"),
    "import": ("ixp.cli.ixf", "import_app"),
    "export": ("ixp.cli.ixf", "export_app"),
    "demo": ("ixp.cli.demo", "demo_app"),
    "irr": ("ixp.cli.irr", "irr_app"),
    "rpki": ("ixp.cli.rpki", "rpki_app"),
    "lab": ("ixp.cli.lab", "lab_app"),
    "monitor": ("ixp.cli.monitor", "monitor_app"),
    "reach": ("ixp.cli.monitor", "reach_app"),
    "user": ("ixp.cli.user", "user_app"),
    "push": ("ixp.cli.push", "push_app"),
    "traffic": ("ixp.cli.traffic", "traffic_app"),
    "routes": ("ixp.cli.monitor", "routes_command"),
    "serve": ("ixp.cli.serve", "serve_command"),
}


def _loaded(name: str) -> click.Command:
    module, attribute = COMMANDS[name]
    found: typer.Typer | Callable[..., Any] = getattr(importlib.import_module(module), attribute)
    if isinstance(found, typer.Typer):
        group: click.Command = typer.main.get_group(found)
        group.name = name
        return group
    single = typer.Typer(add_completion=False)
    single.command(name)(found)
    return typer.main.get_command(single)


class OneLineErrors(TyperGroup):
    """The ``ixp`` command: a usage error (a mistyped option or value, a missing one)
    is one ``error:`` line with exit status 2, like every other error. Its commands
    are loaded when asked for (``COMMANDS``)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command, the loaded and the not yet loaded, in the order of ``COMMANDS``."""
        return list(dict.fromkeys([*super().list_commands(ctx), *COMMANDS]))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command ``cmd_name``, its module imported now if it was not yet."""
        found = super().get_command(ctx, cmd_name)
        if found is None and cmd_name in COMMANDS:
            found = _loaded(cmd_name)
            self.add_command(found, cmd_name)
        return found

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
