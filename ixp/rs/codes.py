"""Reject reason codes and informational communities shared by the config, explain and the monitor.

A route the route server filters keeps a large community ``(RS_ASN, 1101, code)``
for every rule it broke, so a looking glass (Alice-LG) and ``ixp rs explain``
show the same reasons. Codes 3-14 are the ones Euro-IX route servers and
Alice-LG already share; the others are ours and documented here. A leaf module:
it imports nothing from the project.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

REJECT_NAMESPACE = 1101
"""Second field of the large community that carries a reject reason."""

RPKI_NAMESPACE = 1000
"""Second field of the informational RPKI large communities."""

RPKI_ATTRIBUTE = "rs_rpki"
"""The BIRD attribute (``attribute int``) that holds an accepted route's RPKI state.

The route server keeps the state in an attribute of its own, which BIRD shows in
``show route all`` and never sends to a peer, rather than in a large community:
a community is carried through every export of the route (about 15 million when
100 members converge on 80,000 routes), the largest part of what the policy cost
over a bare route server at that scale (the README's performance section has the
figures). The looking glass turns the attribute back into the community for
Alice-LG; members get the community itself only when the exchange turns it on
(``settings.rpki_tag_routes``).
"""


class RejectCode(enum.IntEnum):
    """Why the route server filtered a route (third field of ``RS_ASN:1101:code``)."""

    PREFIX_LENGTH = 1
    BLACKHOLE_NOT_ALLOWED = 2
    BOGON_PREFIX = 3
    BOGON_ASN = 4
    AS_PATH_LENGTH = 5
    FIRST_AS = 7
    NEXT_HOP = 8
    PREFIX_NOT_IN_AS_SET = 9
    ORIGIN_NOT_IN_AS_SET = 10
    RPKI_INVALID = 13
    TRANSIT_FREE_ASN = 14


class RpkiTag(enum.IntEnum):
    """Route-origin validation state of an accepted route: the value of ``rs_rpki`` and the
    third field of ``RS_ASN:1000:n``."""

    VALID = 1
    UNKNOWN = 2

    @property
    def label(self) -> str:
        """The state as the API, the CLI and the pages write it (``valid``, ``unknown``)."""
        return self.name.lower()


def rpki_community(rs_asn: int, tag: RpkiTag) -> str:
    """The informational large community of ``tag`` as BIRD and ExaBGP write it."""
    return f"{rs_asn}:{RPKI_NAMESPACE}:{tag.value}"


@dataclass(frozen=True)
class CodeInfo:
    """A reject code with the short name and the sentence a looking glass shows."""

    code: RejectCode
    name: str
    description: str


REJECT_CODES: tuple[CodeInfo, ...] = (
    CodeInfo(RejectCode.PREFIX_LENGTH, "prefix-length", "prefix length outside the allowed range"),
    CodeInfo(
        RejectCode.BLACKHOLE_NOT_ALLOWED,
        "blackhole-not-allowed",
        "BLACKHOLE community from a member without blackholing enabled",
    ),
    CodeInfo(RejectCode.BOGON_PREFIX, "bogon-prefix", "special-purpose or unallocated prefix"),
    CodeInfo(RejectCode.BOGON_ASN, "bogon-asn", "reserved or private ASN in the AS path"),
    CodeInfo(RejectCode.AS_PATH_LENGTH, "as-path-length", "AS path longer than allowed"),
    CodeInfo(RejectCode.FIRST_AS, "first-as", "first AS in the path is not the member's ASN"),
    CodeInfo(RejectCode.NEXT_HOP, "next-hop", "next hop is not the member's own LAN address"),
    CodeInfo(
        RejectCode.PREFIX_NOT_IN_AS_SET,
        "prefix-not-in-as-set",
        "prefix not covered by route objects of the member's AS-SET",
    ),
    CodeInfo(
        RejectCode.ORIGIN_NOT_IN_AS_SET,
        "origin-not-in-as-set",
        "origin AS not in the member's AS-SET",
    ),
    CodeInfo(RejectCode.RPKI_INVALID, "rpki-invalid", "RPKI route-origin validation: invalid"),
    CodeInfo(
        RejectCode.TRANSIT_FREE_ASN, "transit-free-asn", "transit-free network behind the member"
    ),
)

_BY_CODE = {info.code: info for info in REJECT_CODES}


def describe(code: int) -> CodeInfo:
    """The table entry of a code (KeyError for a code this version does not know)."""
    return _BY_CODE[RejectCode(code)]
