"""``ixp rpki ...``: load a validator's ROA export and show what is loaded."""

from __future__ import annotations

from pathlib import Path

import typer

from ixp.cli.common import JsonOption, cli_session, emit, handles_errors
from ixp.rpki import service
from ixp.settings import get_settings

rpki_app = typer.Typer(help="RPKI: load ROAs from validator JSON, show them.", no_args_is_help=True)

_STATUS_COLUMNS = ("roas", "roas_v4", "roas_v6", "loaded_at", "source", "format")


@rpki_app.command("load")
@handles_errors
def rpki_load(
    file: Path = typer.Argument(..., help="rpki-client -j, or routinator/stayrtr json/jsonext."),
    force: bool = typer.Option(False, "--force", help="Load even if the set shrinks a lot."),
    as_json: bool = JsonOption,
) -> None:
    """Validate the file and replace the stored ROAs with it, all or nothing."""
    settings = get_settings()
    with cli_session(settings) as session:
        report = service.load_file(
            session, file, force=force, settings=settings, actor=settings.actor
        )
    columns = ("format", "roas_v4", "roas_v6", "previous", "duplicates", "loaded_at")
    emit(as_json, report, f"ROAs loaded from {report.source}", columns)


@rpki_app.command("show")
@handles_errors
def rpki_show(as_json: bool = JsonOption) -> None:
    """Counts of the stored ROAs and when and from where they were loaded."""
    with cli_session() as session:
        emit(as_json, service.rpki_status(session), "RPKI ROAs", _STATUS_COLUMNS)
