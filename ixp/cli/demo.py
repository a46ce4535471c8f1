"""``ixp demo load``: the fictional PKIX demo exchange."""

from __future__ import annotations

import typer

from ixp import demo as service
from ixp.cli.common import JsonOption, cli_session, emit, handles_errors
from ixp.settings import get_settings

demo_app = typer.Typer(help="The fictional demo exchange.", no_args_is_help=True)

_COLUMNS = ("exchange", "created", "updated", "unchanged", "extras_changed", "irr_synced", "roas")


@demo_app.command("load")
@handles_errors
def demo_load(as_json: bool = JsonOption) -> None:
    """Load the demo exchange, its registry data and ROAs; running it again changes nothing."""
    settings = get_settings()
    with cli_session(settings) as session:
        report = service.load_demo(session, settings, actor=settings.actor)
    if as_json:
        emit(True, report, "", ())
        return
    summary = {
        "exchange": report.exchange,
        "created": len(report.imported.created),
        "updated": len(report.imported.updated),
        "unchanged": len(report.imported.unchanged),
        "extras_changed": len(report.members_with_extras_changed),
        "irr_synced": report.irr_synced,
        "roas": "already loaded" if report.roas_loaded is None else report.roas_loaded,
    }
    emit(False, summary, "Demo exchange", _COLUMNS)
