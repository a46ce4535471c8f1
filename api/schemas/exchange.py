"""Request bodies of the exchange endpoints, typed strictly like the member ones."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from ixp.validate import MAX_ASN


class NewRouteServer(BaseModel):
    """A route server to add, as ``ixp rs add`` takes it."""

    model_config = ConfigDict(extra="forbid")

    name: StrictStr = Field(description="Short name, e.g. rs1-isb (file and BIRD names).")
    asn: StrictInt = Field(ge=1, le=MAX_ASN - 1)
    router_id: StrictStr = Field(description="BGP router id (an IPv4 address).")
    ipv4: StrictStr | None = Field(None, description="Address on the peering LAN.")
    ipv6: StrictStr | None = Field(None, description="Address on the peering LAN.")
    mgmt_host: StrictStr | None = None
    control_socket: StrictStr | None = None
