"""``ixp serve``: the web API, looking glass and portal, under uvicorn.

The app lives in the top-level ``api`` package, which imports ``ixp`` and never
the other way round: uvicorn is given the factory's import path.
"""

from __future__ import annotations

import typer

from ixp.accounts import secret_key
from ixp.cli.common import checked_settings, handles_errors, say
from ixp.lab.monitoring import lab_sockets
from ixp.settings import pass_to_children

APP_FACTORY = "api.app:served_app"


@handles_errors
def serve_command(
    host: str | None = typer.Option(None, "--host", help="Address to listen on (web_host)."),
    port: int | None = typer.Option(None, "--port", min=1, max=65535, help="Port (web_port)."),
    workers: int | None = typer.Option(
        None, "--workers", min=1, max=64, help="Worker processes (web_workers)."
    ),
    lab: bool = typer.Option(
        False, "--lab", help="Read BIRD of the running lab's route servers ('ixp lab up')."
    ),
) -> None:
    """Serve the REST API (/api/v1), the IX-F export and the looking glass (/lg/)."""
    import uvicorn

    settings = checked_settings()
    secret_key(settings)  # a production server without its own key stops here, not per worker
    if lab:
        pass_to_children(bird_sockets=lab_sockets(settings))
    host = host or settings.web_host
    port = port or settings.web_port
    say(f"serving on http://{host}:{port}/ (API: /api/v1, docs: /api/v1/docs)")
    uvicorn.run(
        APP_FACTORY,
        factory=True,
        host=host,
        port=port,
        workers=workers or settings.web_workers,
        proxy_headers=True,
        log_level="info",
        access_log=False,
    )
