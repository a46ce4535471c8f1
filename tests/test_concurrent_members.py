"""Several operators onboarding at once: real ``ixp`` processes against one database.

Eight ``ixp member add --auto-ip`` started together must all succeed with
distinct addresses while the LAN has room; a real conflict (the same ASN twice,
a full LAN) is one ``error:`` line naming the field and value, never a traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import netaddr
from sqlalchemy.orm import Session

from ixp import exchange, members

# Public ASNs of networks in Pakistan, as the members of a real exchange there.
ASNS = (38193, 9541, 17557, 23674, 45595, 24499, 59257, 135407)

# Imports everything, says it is ready, then waits for the start file: all
# processes reach the database at the same moment instead of one by one.
_STARTER = """
import pathlib, sys, time
from ixp.cli.main import app
start, ready = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
ready.touch()
while not start.exists():
    time.sleep(0.002)
app(sys.argv[3:], prog_name="ixp")
"""


def make_exchange(session: Session, lan4: str, lan6: str | None) -> None:
    """The exchange and one route server, on a LAN of the given size."""
    network = netaddr.IPNetwork(lan4)
    exchange.init_exchange(
        session, name="PKIX Test", country="PK", asn=38195, lan_v4=lan4, lan_v6=lan6, actor="test"
    )
    exchange.add_route_server(
        session,
        name="rs1-isb",
        asn=38195,
        router_id=str(network[1]),
        ipv4=str(network[1]),
        ipv6=str(netaddr.IPNetwork(lan6)[1]) if lan6 else None,
        actor="test",
    )


def run_at_once(
    database_url: str, tmp_path: Path, commands: Sequence[Sequence[str]]
) -> list[tuple[int, str, str]]:
    """Start one real ``ixp`` process per command, release them together, collect results."""
    start = tmp_path / "start"
    ready = [tmp_path / f"ready-{index}" for index in range(len(commands))]
    env = {**os.environ, "IXP_DATABASE_URL": database_url, "IXP_HOME": str(tmp_path / "home")}
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _STARTER, str(start), str(flag), *command],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for flag, command in zip(ready, commands, strict=True)
    ]
    deadline = time.monotonic() + 120
    while not all(flag.exists() for flag in ready) and time.monotonic() < deadline:
        time.sleep(0.05)
    start.touch()
    results = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        results.append((process.returncode, out, err))
    return results


def stored_members(session: Session) -> dict[int, members.MemberView]:
    """What the database holds now, by ASN, as the service layer reads it."""
    session.expire_all()
    return {m.asn: m for m in members.show_members(session)}


def add_command(asn: int) -> list[str]:
    return [
        "member", "add", "--asn", str(asn), "--name", f"AS{asn} Networks", "--auto-ip",
        "--max-prefix-v4", "10", "--max-prefix-v6", "10",
    ]  # fmt: skip


def test_eight_concurrent_auto_ip_adds_all_get_distinct_addresses(
    session: Session, database_url: str, tmp_path: Path
) -> None:
    make_exchange(session, "185.1.10.0/24", "2001:7f8:1::/64")
    results = run_at_once(database_url, tmp_path, [add_command(asn) for asn in ASNS])
    failures = [(code, err) for code, _, err in results if code != 0]
    assert failures == []
    stored = stored_members(session)
    assert sorted(stored) == sorted(ASNS)
    ipv4 = [a for m in stored.values() for a in m.ipv4]
    ipv6 = [a for m in stored.values() for a in m.ipv6]
    assert len(set(ipv4)) == len(ipv4) == 8 and "185.1.10.1" not in ipv4
    assert len(set(ipv6)) == len(ipv6) == 8


def test_the_same_asn_added_concurrently_is_one_member_and_one_line_errors(
    session: Session, database_url: str, tmp_path: Path
) -> None:
    make_exchange(session, "185.1.10.0/24", "2001:7f8:1::/64")
    results = run_at_once(database_url, tmp_path, [add_command(38193)] * 3)
    assert sorted(code for code, _, _ in results) == [0, 2, 2]
    errors = {err for code, _, err in results if code == 2}
    assert errors == {"error: asn: AS38193 is already a member of PKIX Test\n"}
    assert list(stored_members(session)) == [38193]


def test_a_lan_that_fills_up_under_concurrent_adds_says_so_in_one_line(
    session: Session, database_url: str, tmp_path: Path
) -> None:
    make_exchange(session, "185.1.10.0/30", None)  # hosts .1 and .2; .1 is the route server
    results = run_at_once(database_url, tmp_path, [add_command(asn) for asn in ASNS[:3]])
    assert sorted(code for code, _, _ in results) == [0, 2, 2]
    errors = {err for code, _, err in results if code == 2}
    assert errors == {"error: ipv4: no free address left in 185.1.10.0/30\n"}
    assert [m.ipv4 for m in stored_members(session).values()] == [("185.1.10.2",)]
