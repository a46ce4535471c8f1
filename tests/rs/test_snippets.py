"""`ixp member snippet`: the member side of its route-server sessions, per platform."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from ixp.errors import NotFound, ValidationError
from ixp.rs.snippets import PLATFORMS, member_snippet
from ixp.settings import Settings
from tests.rs.birdtools import needs_bird, parses
from tests.rs.exchange import build_exchange

HOSTILE = 'Evil "ISP"\n}; protocol x {} */'


@pytest.fixture
def demo(session: Session, settings: Settings) -> Session:
    build_exchange(session, settings, names={10101: HOSTILE})
    return session


def test_every_platform_names_every_session(demo: Session) -> None:
    for platform in PLATFORMS:
        text = member_snippet(demo, 10101, platform)
        for needle in ("10101", "59900", "185.1.0.1", "185.1.0.2", "2001:7f8:ff::1"):
            assert needle in text, (platform, needle)
        assert "185.1.0.11" in text or platform in ("cisco", "frr"), platform
        assert "\n}; protocol x" not in text and '"ISP"' not in text


def test_ipv4_only_member_gets_no_ipv6_sessions(demo: Session) -> None:
    text = member_snippet(demo, 30303, "mikrotik")
    assert text.count("\nadd name=ixp-") == 2
    assert "address-families=ipv6" not in text
    assert "local.role=ebgp-rs-client" in text


def test_cisco_turns_off_first_as_enforcement(demo: Session) -> None:
    text = member_snippet(demo, 20202, "cisco")
    assert " no bgp enforce-first-as" in text
    assert "  no neighbor 2001:7f8:ff::1 activate" in text


def test_unknown_platform_and_member(demo: Session) -> None:
    with pytest.raises(ValidationError, match="platform"):
        member_snippet(demo, 10101, "vyos")
    with pytest.raises(NotFound):
        member_snippet(demo, 1, "bird")


@needs_bird
def test_bird_snippet_parses(demo: Session, tmp_path: Path) -> None:
    text = member_snippet(demo, 10101, "bird")
    parses("router id 185.1.0.11;\nprotocol device {}\n" + text, tmp_path)
