"""``ixp demo load``: the fictional PKIX demo exchange."""

from __future__ import annotations

import typer

from ixp import demo as service
from ixp.cli.common import JsonOption, cli_session, emit, handles_errors
from ixp.errors import ValidationError
from ixp.settings import get_settings

demo_app = typer.Typer(help="The fictional demo exchange.", no_args_is_help=True)

_LOGIN_COLUMNS = ("username", "password", "role", "member_asn")
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


@demo_app.command("logins")
@handles_errors
def demo_logins(as_json: bool = JsonOption) -> None:
    """The demo's web logins (created by 'ixp demo load' in development mode only)."""
    settings = get_settings()
    if settings.web_environment != "development":
        raise ValidationError(
            "settings: web_environment",
            settings.web_environment,
            "is not development: the demo has no web logins here",
        )
    emit(as_json, list(service.DEMO_LOGINS), "Demo logins", _LOGIN_COLUMNS)
