"""RPKI seen from a member's registered prefixes: which ROAs cover each, and what they say.

The route servers validate each route by its prefix and origin (RFC 6811). Before
a member announces anything, the operator can check its registered prefixes the
same way: for each prefix, the ROAs covering it (of any origin), and whether one
of them authorises an ASN of the member's AS-SET at that length (``valid``),
none does although some cover it (``invalid``: the route servers would drop it),
or no ROA covers it (``unknown``: accepted, tagged). The verdict is
``ixp.rs.explain.rpki_state``'s, the one ``ixp rs explain`` gives.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import starmap

from sqlalchemy import select
from sqlalchemy.orm import Session

from ixp.irr.types import PrefixEntry
from ixp.models import RpkiRoa
from ixp.rpki.types import Roa
from ixp.rs.explain import rpki_state

PREFIXES_SHOWN = 500
_BATCH = 500


@dataclass(frozen=True)
class PrefixRpki:
    """One registered prefix: its RPKI state for the member's origins and the covering ROAs."""

    prefix: str
    state: str
    roas: tuple[Roa, ...]


def _supernets(prefix: str) -> list[str]:
    network = ipaddress.ip_network(prefix)
    return [str(network.supernet(new_prefix=length)) for length in range(network.prefixlen + 1)]


def _covering(session: Session, prefixes: Sequence[str]) -> dict[str, list[Roa]]:
    """The stored ROAs whose prefix covers (or is) any of ``prefixes``, by ROA prefix."""
    wanted = sorted({net for prefix in prefixes for net in _supernets(prefix)})
    found: dict[str, list[Roa]] = {}
    for start in range(0, len(wanted), _BATCH):
        query = (
            select(RpkiRoa.prefix, RpkiRoa.max_length, RpkiRoa.asn)
            .where(RpkiRoa.prefix.in_(wanted[start : start + _BATCH]))
            .order_by(RpkiRoa.id)
        )
        for roa in starmap(Roa, session.execute(query)):
            found.setdefault(roa.prefix, []).append(roa)
    return found


def prefix_rpki(
    session: Session, entries: Sequence[PrefixEntry], origins: Sequence[int]
) -> list[PrefixRpki]:
    """The RPKI view of the first ``PREFIXES_SHOWN`` of a member's registered prefixes, for
    the ASNs its AS-SET expands to (``origins``)."""
    shown = [entry.prefix for entry in entries[:PREFIXES_SHOWN]]
    covering = _covering(session, shown)
    result = []
    for prefix in shown:
        roas = tuple(roa for net in _supernets(prefix) for roa in covering.get(net, ()))
        network = ipaddress.ip_network(prefix)
        states = {rpki_state(network, origin, roas) for origin in origins or (0,)}
        state = "valid" if "valid" in states else "invalid" if "invalid" in states else "unknown"
        result.append(PrefixRpki(prefix, state, roas))
    return result
