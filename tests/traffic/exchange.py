"""A test exchange whose members' MACs are the generator's (``sflowgen.Stream.macs``).

Member ``i`` of a generated stream sends from ``02:1a:00:00:hi:lo``; here it is
AS(``FIRST_ASN`` + i) with that MAC on its connection, so the matrix the storage
writes can be checked against what the stream sent.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from ixp.members import MemberInput, add_member
from tests.factories import pkix_test_exchange

FIRST_ASN = 38100


def generated_mac(index: int) -> str:
    """The MAC member ``index`` of a generated stream sends from."""
    return bytes((0x02, 0x1A, 0, 0, index >> 8, index & 0xFF)).hex(":")


def asn_of(index: int) -> int:
    """The ASN of member ``index``."""
    return FIRST_ASN + index


def traffic_exchange(session: Session, members: int) -> None:
    """The PKIX Test exchange with ``members`` members, each with its generated MAC."""
    pkix_test_exchange(session)
    for index in range(members):
        add_member(
            session,
            MemberInput(
                asn=asn_of(index),
                name=f"Member {index}",
                max_prefix_v4=100,
                max_prefix_v6=50,
                auto_ip=True,
                macs=[generated_mac(index)],
            ),
            actor="test",
        )
