"""Request bodies of the member endpoints: ``MemberInput``'s fields, typed for the wire.

The types are strict (a number sent as text, or text as a number, is a 422 naming
the field, never coerced) and unknown fields are refused, so that a typo is never
silently dropped. What the types cannot say (an address in the LAN, a valid AS-SET,
a free MAC) the service checks, reporting every bad field at once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from ixp.macreview import REASON_MAX_LENGTH
from ixp.models import MaxPrefixAction, MemberStatus
from ixp.validate import MAX_ASN

# A 32-bit number as the database stores it (max-prefix, speed, PeeringDB id).
_INT32 = 2**31 - 1


def _hide_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def _optional(default: Any, **constraints: Any) -> Any:
    """A field of an update: the ``default`` is only a placeholder (an update takes the
    fields that were sent) and is not shown in the schema, where it would read as the
    value an omitted field gets. A field whose type excludes null can still be omitted."""
    return Field(default, json_schema_extra=_hide_default, **constraints)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NewMember(_Body):
    """A member to onboard, as ``ixp member add`` takes it."""

    asn: StrictInt = Field(ge=1, le=MAX_ASN - 1)
    name: StrictStr
    max_prefix_v4: StrictInt = Field(ge=1, le=_INT32)
    max_prefix_v6: StrictInt = Field(ge=1, le=_INT32)
    legal_name: StrictStr | None = None
    as_set: StrictStr | None = Field(None, description="AS-SET for both families.")
    as_set_v4: StrictStr | None = None
    as_set_v6: StrictStr | None = None
    ipv4: StrictStr | None = Field(None, description="Address on the peering LAN.")
    ipv6: StrictStr | None = Field(None, description="Address on the peering LAN.")
    auto_ip: StrictBool = Field(False, description="Allocate the addresses not given.")
    macs: list[StrictStr] = Field(default_factory=list, max_length=64)
    speed_mbps: StrictInt | None = Field(None, ge=1, le=_INT32)
    status: MemberStatus = MemberStatus.active
    max_prefix_action: MaxPrefixAction = MaxPrefixAction.restart
    peeringdb_id: StrictInt | None = Field(None, ge=1, le=_INT32)
    noc_email: StrictStr | None = None
    noc_phone: StrictStr | None = None
    peering_email: StrictStr | None = None
    url: StrictStr | None = None
    joined: dt.date | None = None
    announcement_control: StrictBool = True
    blackholing: StrictBool = False
    third_party_next_hop: StrictBool = False
    rs_ipv4: StrictBool = True
    rs_ipv6: StrictBool = True


class MemberChanges(_Body):
    """Fields of a member to change; only those sent change. Null clears an optional field
    (an address, an AS-SET, a contact); ``ipv4`` or ``ipv6`` null removes that address.
    A member's own users may change only ``noc_email``, ``noc_phone``, ``peering_email``
    and ``url``."""

    name: StrictStr = _optional("")
    legal_name: StrictStr = _optional("")
    as_set: StrictStr | None = _optional(None)
    as_set_v4: StrictStr | None = _optional(None)
    as_set_v6: StrictStr | None = _optional(None)
    ipv4: StrictStr | None = _optional(None)
    ipv6: StrictStr | None = _optional(None)
    macs: list[StrictStr] = _optional([], max_length=64)
    speed_mbps: StrictInt | None = _optional(None, ge=1, le=_INT32)
    status: MemberStatus = _optional(MemberStatus.active)
    max_prefix_v4: StrictInt = _optional(1, ge=1, le=_INT32)
    max_prefix_v6: StrictInt = _optional(1, ge=1, le=_INT32)
    max_prefix_action: MaxPrefixAction = _optional(MaxPrefixAction.restart)
    peeringdb_id: StrictInt | None = _optional(None, ge=1, le=_INT32)
    noc_email: StrictStr | None = _optional(None)
    noc_phone: StrictStr | None = _optional(None)
    peering_email: StrictStr | None = _optional(None)
    url: StrictStr | None = _optional(None)
    joined: dt.date | None = _optional(None)
    announcement_control: StrictBool = _optional(False)
    blackholing: StrictBool = _optional(False)
    third_party_next_hop: StrictBool = _optional(False)
    rs_ipv4: StrictBool = _optional(False)
    rs_ipv6: StrictBool = _optional(False)

    def given(self) -> dict[str, Any]:
        """The fields that were sent, with their values (enums as their names)."""
        return self.model_dump(exclude_unset=True, mode="python")


# What a member's own users may change about their member.
MEMBER_EDITABLE = frozenset({"noc_email", "noc_phone", "peering_email", "url"})


class MacProposalBody(_Body):
    """A member's whole new list of router MACs, for an operator to review; any notation
    ``ixp member set --mac`` takes."""

    macs: list[StrictStr] = Field(max_length=64)


class MacRejection(_Body):
    """Why an operator refuses a proposed MAC list; the member reads it."""

    reason: StrictStr = Field(min_length=1, max_length=REASON_MAX_LENGTH)
