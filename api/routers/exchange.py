"""The exchange, its peering LANs and its route servers, as ``ixp exchange`` and ``ixp rs``
show them; operators add route servers. Signed-in users only: the public reads the
IX-F export instead."""

from __future__ import annotations

import dataclasses
from typing import Annotated

from fastapi import APIRouter, Path, status

from api.deps import Db, Operator, Principal, Settings, User
from api.schemas.exchange import NewRouteServer
from api.schemas.problem import errors
from ixp import exchange
from ixp.exchange import ExchangeView, PeeringLanView, RouteServerView

router = APIRouter(prefix="/api/v1", tags=["exchange"])

RsName = Annotated[str, Path(max_length=64, description="The route server's name.")]


def _as_seen_by(user: Principal, view: RouteServerView) -> RouteServerView:
    """Where a route server is managed from (its host, BIRD's socket) is for operators:
    members see what they peer with."""
    if user.is_operator:
        return view
    return dataclasses.replace(view, mgmt_host=None, control_socket=None)


@router.get("/exchange", summary="The exchange", responses=errors(404, 422))
def show_exchange(user: User, db: Db) -> ExchangeView:
    """The exchange and its (first) peering LAN."""
    return exchange.show_exchange(db)


@router.get("/exchange/lans", summary="Peering LANs", responses=errors(404, 422))
def list_lans(user: User, db: Db) -> list[PeeringLanView]:
    """The exchange's peering LANs; members get their addresses on the first."""
    return exchange.list_peering_lans(db)


@router.get("/route-servers", summary="Route servers", responses=errors(404, 422))
def list_route_servers(user: User, db: Db) -> list[RouteServerView]:
    """The route servers by name (management details for operators only)."""
    return [_as_seen_by(user, view) for view in exchange.list_route_servers(db)]


@router.get("/route-servers/{name}", summary="One route server", responses=errors(404, 422))
def show_route_server(name: RsName, user: User, db: Db) -> RouteServerView:
    """One route server (management details for operators only)."""
    return _as_seen_by(user, exchange.show_route_server(db, name))


@router.post(
    "/route-servers",
    status_code=status.HTTP_201_CREATED,
    summary="Add a route server",
    responses=errors(403, 404, 409, 422),
)
def add_route_server(
    new: NewRouteServer, operator: Operator, db: Db, settings: Settings
) -> RouteServerView:
    """Add a route server on the peering LAN; every member gets sessions with it."""
    return exchange.add_route_server(
        db,
        name=new.name,
        asn=new.asn,
        router_id=new.router_id,
        ipv4=new.ipv4,
        ipv6=new.ipv6,
        mgmt_host=new.mgmt_host,
        control_socket=new.control_socket,
        allow_lab=settings.allow_lab_asns,
        actor=operator.username,
    )
