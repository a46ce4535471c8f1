"""``ixp lab``: the exchange's route servers and members, live in network namespaces here."""

from __future__ import annotations

import typer

from ixp.cli.common import JsonOption, cli_session, emit, emit_json, fail, handles_errors, say
from ixp.lab.lab import Lab
from ixp.lab.netns import LabError
from ixp.settings import get_settings

lab_app = typer.Typer(
    help="Run the exchange on this machine: BIRD route servers, ExaBGP members (needs root).",
    no_args_is_help=True,
)


@lab_app.command("up")
@handles_errors
def lab_up(
    wait: float = typer.Option(60.0, help="Seconds to wait for sessions and routes to settle."),
) -> None:
    """Build the route-server configs and start every route server and active member."""
    settings = get_settings()
    with cli_session(settings) as session:
        lab = Lab.from_database(session, settings)
    lab.up()
    status = lab.status()
    say(
        f"lab {status['prefix']} up: {len(status['route_servers'])} route servers, "
        f"{len(status['members'])} members; files in {status['directory']}"
    )
    try:
        lab.wait_converged(timeout=wait)
    except LabError as exc:
        raise fail(f"lab is up but did not settle: {exc}", code=1) from None
    say("all sessions established and routes exchanged")


@lab_app.command("down")
@handles_errors
def lab_down() -> None:
    """Stop everything the lab started and remove its namespaces and files."""
    lab = Lab.load(get_settings())
    if lab is None:
        say("no lab is up")
        return
    prefix = lab.prefix
    lab.down()
    say(f"lab {prefix} removed")


@lab_app.command("status")
@handles_errors
def lab_status(as_json: bool = JsonOption) -> None:
    """Route servers with their BGP sessions, and members with their speakers."""
    lab = Lab.load(get_settings())
    if lab is None:
        if as_json:
            emit_json({"up": False})
        else:
            say("no lab is up")
        return
    status = lab.status()
    if as_json:
        emit_json(status)
        return
    sessions = [
        {"rs": rs["name"], **session}
        for rs in status["route_servers"]
        for session in rs["sessions"]
    ]
    emit(
        False,
        sessions,
        f"lab {status['prefix']}: route-server sessions",
        ["rs", "name", "neighbor_as", "info", "imported", "filtered", "exported"],
    )
    emit(
        False,
        status["members"],
        "members",
        ["asn", "name", "ipv4", "ipv6", "running", "announced", "received"],
    )
