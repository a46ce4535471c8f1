"""The IX-F member export, public at the path exchanges conventionally serve it from.

PeeringDB, IXP Manager and peering tools fetch ``/ixf/member-export.json`` without
signing in. The bytes are exactly what ``ixp export ixf`` writes (deterministic:
its ``timestamp`` is when the data last changed), so a short cache lifetime
spares the database without serving stale member lists for long.
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from api.deps import Db, Settings
from api.schemas.problem import errors
from ixp import ixf
from ixp.exchange import get_exchange

router = APIRouter(tags=["ixf"])

# How long a client or proxy may reuse a fetched export, in seconds.
MAX_AGE = 300

_DOCUMENT = {
    "description": "The exchange as an IX-F member export, schema version 1.0 "
    "(https://github.com/euro-ix/json-schemas).",
    "content": {"application/json": {"schema": {"type": "object"}}},
}


@router.get(
    "/ixf/member-export.json",
    summary="IX-F member export",
    response_class=Response,
    responses={200: _DOCUMENT, **errors(404, 503)},
)
def member_export(db: Db, settings: Settings) -> Response:
    """The exchange, its route servers and its members in the Euro-IX IX-F JSON format."""
    text = ixf.export_json(db, get_exchange(db), ixf_id=settings.ixf_id)
    return Response(
        text,
        media_type="application/json",
        headers={"Cache-Control": f"public, max-age={MAX_AGE}"},
    )
