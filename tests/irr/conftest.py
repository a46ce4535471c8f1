"""An exchange with members whose AS-SETs are in ``tests/data/rpsl/registry.db``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from ixp import members
from ixp.models import Member
from tests.factories import pkix_test_exchange

REGISTRY = Path(__file__).resolve().parent.parent / "data" / "rpsl" / "registry.db"


def add_member(session: Session, asn: int, **fields: Any) -> Member:
    """A member with automatic LAN addresses; ``fields`` override the defaults."""
    values: dict[str, Any] = {
        "asn": asn,
        "name": f"Member {asn}",
        "max_prefix_v4": 100,
        "max_prefix_v6": 20,
        "auto_ip": True,
    }
    values.update(fields)
    return members.add_member(session, members.MemberInput(**values), actor="test")


@pytest.fixture
def ix(session: Session) -> Session:
    """Three members: one AS-SET for both families, one without, one per family."""
    pkix_test_exchange(session)
    add_member(session, 38193, as_set="AS-NAYATEL")
    add_member(session, 9541)
    add_member(session, 23674, as_set_v4="AS-NAYATEL-CUSTOMERS")
    return session


def write_dump(path: Path, as_set: str, routes: int, origin: int = 38193) -> Path:
    """A dump where ``as_set`` holds ``origin``, which registers ``routes`` IPv4 /24s."""
    objects = [f"as-set: {as_set}\nmembers: AS{origin}\nsource: TEST"]
    objects += [
        f"route: {193 + i // 65536}.{i // 256 % 256}.{i % 256}.0/24\norigin: AS{origin}"
        for i in range(routes)
    ]
    path.write_text("\n\n".join(objects) + "\n")
    return path
