"""The ``ixp`` application: one typer app with a sub-app per domain area."""

from __future__ import annotations

import typer

from ixp import db
from ixp.cli.common import console, handles_errors
from ixp.cli.demo import demo_app
from ixp.cli.exchange import exchange_app
from ixp.cli.irr import irr_app
from ixp.cli.ixf import export_app, import_app
from ixp.cli.lab import lab_app
from ixp.cli.member import member_app
from ixp.cli.monitor import monitor_app, reach_app, routes_command
from ixp.cli.rpki import rpki_app
from ixp.cli.rs import rs_app
from ixp.settings import get_settings

app = typer.Typer(
    name="ixp",
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
app.command("routes")(routes_command)


@db_app.command("upgrade")
@handles_errors
def db_upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Create or migrate the database schema to the newest revision."""
    settings = get_settings()
    engine = db.engine_from_settings(settings)
    try:
        db.upgrade(engine, revision)
    finally:
        engine.dispose()
    console.print(f"database at {revision}: {settings.effective_database_url}", highlight=False)
