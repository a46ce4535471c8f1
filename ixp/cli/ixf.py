"""``ixp import ixf FILE`` and ``ixp export ixf``: the Euro-IX IX-F member list, both ways."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from ixp import ixf as service
from ixp.cli.common import JsonOption, cli_session, emit, handles_errors, json_safe, say
from ixp.exchange import get_exchange
from ixp.settings import get_settings

import_app = typer.Typer(help="Import data from other tools' formats.", no_args_is_help=True)
export_app = typer.Typer(help="Export data in other tools' formats.", no_args_is_help=True)

_SUMMARY_COLUMNS = ("exchange", "route_servers_added", "created", "updated", "unchanged", "skipped")


def _summary(result: service.ImportResult) -> dict[str, Any]:
    """The import's outcome with counts instead of ASN lists (table view)."""
    return {
        "exchange": result.exchange,
        "route_servers_added": ", ".join(result.route_servers_added) or "-",
        "created": len(result.created),
        "updated": len(result.updated),
        "unchanged": len(result.unchanged),
        "skipped": len(result.skipped),
    }


@import_app.command("ixf")
@handles_errors
def import_ixf(
    file: Path = typer.Argument(..., help="IX-F member export JSON file (schema 1.0)."),
    ixp_id: int = typer.Option(None, help="The ixp_list entry to import, if the file has several."),
    exchange_asn: str = typer.Option(
        None, help="The exchange's ASN, if the file lists no route server."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Create or update the exchange, route servers and members from an IX-F file (atomic)."""
    settings = get_settings()
    options = service.ImportOptions(
        ixp_id=ixp_id,
        exchange_asn=exchange_asn,
        allow_lab=settings.allow_lab_asns,
        actor=settings.actor,
    )
    document = service.read_file(file)
    with cli_session(settings) as session:
        result = service.import_document(session, document, options)
    if as_json:
        emit(True, result, "", ())
    else:
        emit(False, _summary(result), "IX-F import", _SUMMARY_COLUMNS)


@export_app.command("ixf")
@handles_errors
def export_ixf(
    out: Path = typer.Option(None, help="Write to this file instead of standard output."),
) -> None:
    """Write the exchange as an IX-F member export (schema 1.0): deterministic, sorted JSON."""
    settings = get_settings()
    with cli_session(settings) as session:
        text = service.export_json(session, get_exchange(session), ixf_id=settings.ixf_id)
    if out is None:
        sys.stdout.write(json_safe(text))
        return
    out.write_text(text, encoding="utf-8")
    say(f"wrote {out}")
