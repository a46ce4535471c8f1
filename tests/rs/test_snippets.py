"""`ixp member snippet`: the member side of its route-server sessions, per platform.

The BIRD and FRR snippets run on real routers in tests/lab/test_live_snippets.py;
the MikroTik, Cisco and Junos ones cannot run here and are held to golden files
in tests/data/snippets/ (after a deliberate change, compare the new text with the
vendor documentation named in the template, then replace the file).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from ixp.errors import NotFound, ValidationError
from ixp.rs.snippets import PLATFORMS, member_snippet
from ixp.settings import Settings
from tests.rs.birdtools import needs_bird, parses
from tests.rs.exchange import UNSYNCED_ASN, build_exchange

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "snippets"
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
    # Each neighbor in its own family only: IPv4 unicast is not on by default.
    assert " no bgp default ipv4-unicast" in text
    ipv4 = text.split(" address-family ipv4 unicast")[1].split("exit-address-family")[0]
    assert "2001:7f8:ff::1" not in ipv4 and "  neighbor 185.1.0.1 activate" in ipv4


@pytest.mark.parametrize("platform", PLATFORMS)
def test_export_lets_out_the_registered_prefixes_only(demo: Session, platform: str) -> None:
    text = member_snippet(demo, 20202, platform)
    assert "62.40.0.0/18" in text and "2a0b:2000::/32" in text
    assert "31.10.0.0/16" not in text  # Alpha's
    closed = member_snippet(demo, UNSYNCED_ASN, platform)
    assert "No registered prefixes of AS-ECHO-MISSING are in use yet" in closed
    assert not re.search(r"[0-9a-f:.]+/\d+", closed)  # no prefix at all: nothing let out


def test_unknown_platform_and_member(demo: Session) -> None:
    with pytest.raises(ValidationError, match="platform"):
        member_snippet(demo, 10101, "vyos")
    with pytest.raises(NotFound):
        member_snippet(demo, 1, "bird")


@needs_bird
def test_bird_snippet_parses(demo: Session, tmp_path: Path) -> None:
    text = member_snippet(demo, 10101, "bird")
    parses("router id 185.1.0.11;\nprotocol device {}\n" + text, tmp_path)


@pytest.fixture
def plain(session: Session, settings: Settings) -> Session:
    """The demo exchange with its members' own names (the golden files' input)."""
    build_exchange(session, settings)
    return session


@pytest.mark.parametrize("asn", [20202, UNSYNCED_ASN])
@pytest.mark.parametrize("platform", ["mikrotik", "cisco", "junos"])
def test_snippets_that_cannot_run_here_match_their_golden_files(
    plain: Session, platform: str, asn: int
) -> None:
    golden = GOLDEN / f"{platform}-AS{asn}.txt"
    assert member_snippet(plain, asn, platform) == golden.read_text(encoding="utf-8")
