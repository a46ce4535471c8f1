"""``ixp exchange ...``: setting up the exchange and its peering LAN."""

from __future__ import annotations

import typer

from ixp import exchange as service
from ixp.cli.common import JsonOption, cli_session, emit, handles_errors
from ixp.settings import get_settings

exchange_app = typer.Typer(help="The exchange and its peering LAN.", no_args_is_help=True)

_EXCHANGE_COLUMNS = ("name", "country", "asn", "vlan_id", "lan_v4", "lan_v6")


@exchange_app.command("init")
@handles_errors
def exchange_init(
    name: str = typer.Option(..., help="Name of the exchange."),
    asn: str = typer.Option(..., help="The exchange's own ASN."),
    lan_v4: str = typer.Option(None, help="IPv4 subnet of the peering LAN."),
    lan_v6: str = typer.Option(None, help="IPv6 subnet of the peering LAN."),
    country: str = typer.Option("PK", help="ISO 3166 country code."),
    vlan: int = typer.Option(100, help="VLAN id of the peering LAN."),
    blackhole_ipv4: str = typer.Option(None, help="IPv4 next hop for blackholed routes."),
    blackhole_ipv6: str = typer.Option(None, help="IPv6 next hop for blackholed routes."),
    as_json: bool = JsonOption,
) -> None:
    """Create the exchange and its peering LAN."""
    settings = get_settings()
    with cli_session(settings) as session:
        created = service.init_exchange(
            session,
            name=name,
            country=country,
            asn=asn,
            lan_v4=lan_v4,
            lan_v6=lan_v6,
            vlan_id=vlan,
            blackhole_ipv4=blackhole_ipv4,
            blackhole_ipv6=blackhole_ipv6,
            allow_lab=settings.allow_lab_asns,
            actor=settings.actor,
        )
    emit(as_json, created, "Exchange", _EXCHANGE_COLUMNS)


@exchange_app.command("show")
@handles_errors
def exchange_show(
    name: str = typer.Option(None, help="Exchange name (needed when there are several)."),
    as_json: bool = JsonOption,
) -> None:
    """Show the exchange."""
    with cli_session() as session:
        found = service.show_exchange(session, name)
    emit(as_json, found, "Exchange", _EXCHANGE_COLUMNS)
