"""A real BIRD 2 on a control socket in the test's directory (no namespace needed).

Its config has static routes carrying BGP attributes (so ``show route all``
prints paths and communities) and a member BGP session that stays down (its
neighbor is not on any interface) with an import limit, which is everything
the control-socket client and the session checks read.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from ixp.exchange import add_route_server, get_route_server, init_exchange
from ixp.models import RouteServer
from ixp.rs.codes import RPKI_ATTRIBUTE, RpkiTag

DATA = Path(__file__).resolve().parent.parent / "data" / "monitor"

RS_ASN = 59900

BIRD_CONFIG = f"""
router id 192.0.2.1;
protocol device {{}}
attribute int {RPKI_ATTRIBUTE};
ipv4 table master4;
ipv6 table master6;
protocol static members4 {{
  ipv4;
  route 45.64.0.0/22 blackhole {{
    bgp_path.prepend(38100); bgp_path.prepend(38001);
    bgp_community.add((38001, 100));
    bgp_large_community.add((38001, 100, 7));
    {RPKI_ATTRIBUTE} = {RpkiTag.VALID.value};
  }};
  route 37.60.0.0/22 blackhole {{ bgp_path.prepend(38002); }};
}}
protocol static members6 {{
  ipv6;
  route 2a0b:4000::/32 blackhole {{ bgp_path.prepend(38001); }};
}}
protocol bgp AS38003_v4_1 {{
  description "Charlie";
  local 127.0.0.1 as {RS_ASN};
  neighbor 127.0.0.9 as 38003;
  ipv4 {{ import limit 100 action restart; import all; export none; }};
}}
"""


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 40.0) -> Any:
    """Poll ``condition`` until it is true; its value, or an AssertionError naming ``what``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def make_rs(session: Session, socket: str = "/run/bird/bird.ctl") -> RouteServer:
    """The exchange and its route server rs1, whose control socket is ``socket``."""
    init_exchange(
        session,
        name="PK IX",
        country="PK",
        asn=RS_ASN,
        lan_v4="185.1.10.0/24",
        lan_v6=None,
        actor="test",
    )
    add_route_server(
        session,
        name="rs1",
        asn=RS_ASN,
        router_id="185.1.10.1",
        ipv4="185.1.10.1",
        ipv6=None,
        control_socket=socket,
        actor="test",
    )
    session.commit()
    return get_route_server(session, "rs1")


class Bird:
    """A BIRD process in the foreground, restartable, always stopped at the end."""

    def __init__(self, directory: Path, config: str) -> None:
        self.directory = directory
        self.config = directory / "bird.conf"
        self.config.write_text(config)
        self.socket = directory / "bird.ctl"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "bird",
                "-f",
                "-c",
                str(self.config),
                "-s",
                str(self.socket),
                "-P",
                str(self.directory / "bird.pid"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not self.socket.exists():
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError("BIRD did not open its control socket")
            time.sleep(0.05)
        time.sleep(0.2)  # let the static protocols come up

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.socket.unlink(missing_ok=True)


@pytest.fixture
def bird(tmp_path: Path) -> Iterator[Bird]:
    """A running BIRD with the config above."""
    if shutil.which("bird") is None:
        pytest.skip("bird (BIRD 2) is not installed")
    daemon = Bird(tmp_path, BIRD_CONFIG)
    daemon.start()
    try:
        yield daemon
    finally:
        daemon.stop()
