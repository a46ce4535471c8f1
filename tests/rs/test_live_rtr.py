"""RPKI from an RTR validator (RFC 8210), proven with stayrtr and BIRD's `protocol rpki`.

The route-server config is built with ``settings.rpki_rtr_host`` set, so its ROAs
come only over RTR, and with ``settings.rpki_tag_routes`` on, so members receive
each accepted route's RPKI state as a large community besides the route server's
own ``rs_rpki`` attribute: every change of state has to reach both. A real
validator cache, stayrtr, serves an rpki-client JSON file on the route server's
own loopback inside its namespace. The lab of ``tests/lab/exchange.py`` runs
with two members: Alpha announces one route per RPKI state and family, Charlie
receives what the route server exports.

stayrtr can only start once the lab's namespaces exist, that is after BIRD and
the members: BIRD's first connection is refused and it would wait its `retry`
(90 s) before the next, so the fixture restarts the RTR protocol once stayrtr
listens. Alpha's routes have then arrived before any ROA, so the first verdicts
already prove that BIRD re-filters routes when ROAs arrive; the change test then
swaps the served file and proves it again for every transition.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

import pytest

from ixp import db
from ixp.lab import netns
from ixp.lab.lab import Lab
from ixp.rs.codes import REJECT_NAMESPACE, RejectCode, RpkiTag, rpki_community
from tests.lab.exchange import (
    ALPHA,
    ALPHA_CUSTOMER,
    CHARLIE,
    RS_ASN,
    RS_NAME,
    build_exchange,
    exchange_settings,
)
from tests.lab.exchange import DATA as LAB_DATA
from tests.lab.harness import require_lab, running_lab
from tests.rs.cases import Case, pair

pytestmark = [pytest.mark.netns]

FAMILIES = pytest.mark.parametrize("family", [4, 6])
T = TypeVar("T")

STAYRTR = "stayrtr"
RTR_HOST, RTR_PORT = "127.0.0.1", 3323  # the route server's own loopback, inside its namespace
RTR_PROTOCOL = "rs_rtr"  # the `protocol rpki` of templates/bird/rpki.j2
# The ROAs the static-mode tests compile into the config, and the same set after a change:
# 45.64.0.0/20 moves to AS38777, 45.65.0.0/22 to AS38001, 45.66.0.0/20 gets a ROA for AS38011
# (and the same for their IPv6 twins).
ROAS = LAB_DATA / "roas.json"
ROAS_CHANGED = Path(__file__).resolve().parents[1] / "data" / "rtr" / "roas-changed.json"

# ROA for AS38001 at first, for AS38777 after the change.
VALID_THEN_INVALID = pair("45.64.0.0/20", "2a0b:4000::/32")
# ROA for AS38777 at first (the IRR registers it for Alpha), for AS38001 after.
INVALID_THEN_VALID = pair("45.65.0.0/22", "2a0b:4001::/32")
# From Alpha's customer AS38011: no ROA at first, one after.
UNKNOWN_THEN_VALID = pair("45.66.0.0/20", "2a0b:4002::/32", as_path=(ALPHA, ALPHA_CUSTOMER))
ANNOUNCEMENTS = (VALID_THEN_INVALID, INVALID_THEN_VALID, UNKNOWN_THEN_VALID)

VALID, UNKNOWN, INVALID = "valid", "unknown", "invalid"
TAGS = {rpki_community(RS_ASN, tag): tag.label for tag in RpkiTag}
REJECT_PREFIX = f"{RS_ASN}:{REJECT_NAMESPACE}:"


@dataclass(frozen=True)
class RtrLab:
    """The running lab and the file its validator serves."""

    lab: Lab
    cache: Path

    def switch_to(self, roas: Path) -> None:
        """Serve ``roas`` and wait until BIRD's ROA tables hold exactly its entries."""
        serve(self.cache, roas)
        for family in (4, 6):
            eventually(lambda f=family: roa_table(self.lab, f), served(roas, family))


@pytest.fixture(scope="module")
def rtr(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RtrLab]:
    """The lab with an RTR-mode config, its RTR session to stayrtr established."""
    if shutil.which(STAYRTR) is None:
        pytest.skip("stayrtr (Debian package stayrtr) is not installed")
    require_lab()
    directory = tmp_path_factory.mktemp("live-rtr")
    settings = exchange_settings(directory).model_copy(
        update={"rpki_rtr_host": RTR_HOST, "rpki_rtr_port": RTR_PORT, "rpki_tag_routes": True}
    )
    engine = db.engine_from_settings(settings)
    routes = {ALPHA: [route for a in ANNOUNCEMENTS for route in (a.v4, a.v6)], CHARLIE: []}
    with db.session_factory(engine)() as session:
        build_exchange(session, settings)
        built = Lab.from_database(session, settings, routes=routes)
    engine.dispose()
    members = tuple(m for m in built.layout.members if m.asn in routes)
    layout = replace(built.layout, members=members)
    cache = directory / "vrps.json"
    serve(cache, ROAS)
    with running_lab(layout, settings, built.rs_configs) as running:
        stayrtr = netns.spawn(
            [
                STAYRTR, "-bind", f"{RTR_HOST}:{RTR_PORT}", "-cache", str(cache),
                # The test data is timeless: no staleness check of its build time.
                "-checktime=false",
                # Re-read the file every second; BIRD gets a Serial Notify on each change.
                "-refresh", "1",
                # No metrics listener: the RTR port is the only one stayrtr opens.
                "-metrics.addr", "",
            ],
            namespace=running.node(f"rs-{RS_NAME}").namespace,
            log=directory / "stayrtr.log",
        )  # fmt: skip
        try:
            netns.wait_until(
                lambda: listening(running), timeout=10, what=f"stayrtr on {RTR_HOST}:{RTR_PORT}"
            )
            running.birdc(RS_NAME, f"restart {RTR_PROTOCOL}")
            netns.wait_until(
                lambda: rtr_state(running) == "Established",
                timeout=10,
                what=f"BIRD's {RTR_PROTOCOL} to reach Established",
            )
            yield RtrLab(running, cache)
        finally:
            netns.stop_pids([stayrtr])


def serve(cache: Path, roas: Path) -> None:
    """Make ``cache`` hold ``roas``, replaced at once so stayrtr never reads half a file."""
    temporary = cache.with_suffix(".tmp")
    shutil.copyfile(roas, temporary)
    temporary.replace(cache)


def listening(lab: Lab) -> bool:
    """True once something listens on the RTR port in the route server's namespace."""
    result = netns.run(
        ["ss", "-Hltn", f"sport = :{RTR_PORT}"], namespace=lab.node(f"rs-{RS_NAME}").namespace
    )
    return bool(result.stdout.strip())


def rtr_state(lab: Lab) -> str:
    """The info column of the RTR protocol in ``birdc show protocols``."""
    for line in lab.birdc(RS_NAME, "show protocols").splitlines():
        fields = line.split()
        if fields[:2] == [RTR_PROTOCOL, "RPKI"]:
            return " ".join(fields[5:])
    raise AssertionError(f"no protocol {RTR_PROTOCOL} in the config")


def roa_table(lab: Lab, family: int) -> set[str]:
    """BIRD's ROA table of ``family`` as ``prefix-maxlen ASn`` entries."""
    text = lab.birdc(RS_NAME, f"show route table rs_roa{family}")
    return {" ".join(m.groups()) for m in re.finditer(r"^(\S+-\d+) (AS\d+)\s", text, re.M)}


def served(roas: Path, family: int) -> set[str]:
    """The entries of ``roas`` (an rpki-client JSON file) as :func:`roa_table` shows them."""
    entries = json.loads(roas.read_text(encoding="utf-8"))["roas"]
    return {
        f"{e['prefix']}-{e['maxLength']} AS{e['asn']}"
        for e in entries
        if (":" in e["prefix"]) == (family == 6)
    }


def eventually(observe: Callable[[], T], expected: T, timeout: float = 15.0) -> None:
    """Poll ``observe`` until it returns ``expected``; on timeout fail with the last value."""
    deadline = time.monotonic() + timeout
    seen = observe()
    while seen != expected and time.monotonic() < deadline:
        time.sleep(0.2)
        seen = observe()
    assert seen == expected


def verdicts(lab: Lab, family: int) -> dict[str, str]:
    """What the route server made of each of Alpha's routes of ``family``.

    ``valid``/``unknown`` for an accepted route in that RPKI state (``rs_rpki``),
    ``invalid`` for a filtered route whose only reject reason is RPKI-invalid, and
    ``rejected <codes>`` for anything else filtered.
    """
    bird = lab.bird(RS_NAME)
    result: dict[str, str] = {}
    for route in bird.routes(f"table master{family}"):
        result[route.prefix] = route.rpki.label if route.rpki else "no state"
    for route in bird.routes(f"filtered table master{family}"):
        codes = {
            int(c.removeprefix(REJECT_PREFIX))
            for c in route.large_communities
            if c.startswith(REJECT_PREFIX)
        }
        result[route.prefix] = (
            INVALID if codes == {RejectCode.RPKI_INVALID} else f"rejected {sorted(codes)}"
        )
    return result


def charlie_holds(lab: Lab, family: int) -> dict[str, str]:
    """Alpha's routes of ``family`` that Charlie received, with their RPKI tag."""
    return {
        route.prefix: " ".join(sorted(TAGS[c] for c in route.large_communities if c in TAGS))
        for route in lab.member(CHARLIE).received().values()
        if route.as_path[:1] == (ALPHA,) and (":" in route.prefix) == (family == 6)
    }


def by_prefix(family: int, states: dict[Case, str]) -> dict[str, str]:
    """``states`` keyed by the prefix of each announcement in ``family``."""
    return {case(family).prefix: state for case, state in states.items()}


def assert_evaluated(lab: Lab, family: int, states: dict[Case, str]) -> None:
    """The route server settles on ``states`` and exports exactly the accepted routes."""
    expected = by_prefix(family, states)
    eventually(lambda: verdicts(lab, family), expected)
    exported = {prefix: state for prefix, state in expected.items() if state != INVALID}
    eventually(lambda: charlie_holds(lab, family), exported)


BEFORE_CHANGE = {
    VALID_THEN_INVALID: VALID,
    INVALID_THEN_VALID: INVALID,
    UNKNOWN_THEN_VALID: UNKNOWN,
}
AFTER_CHANGE = {VALID_THEN_INVALID: INVALID, INVALID_THEN_VALID: VALID, UNKNOWN_THEN_VALID: VALID}


def test_rtr_session_is_established_and_fills_the_roa_tables(rtr: RtrLab) -> None:
    rtr.switch_to(ROAS)
    assert rtr_state(rtr.lab) == "Established"
    status = rtr.lab.birdc(RS_NAME, f"show protocols all {RTR_PROTOCOL}")
    assert f"Cache server:     {RTR_HOST}" in status
    assert f"Cache port:       {RTR_PORT}" in status
    assert roa_table(rtr.lab, 4) == served(ROAS, 4)
    assert roa_table(rtr.lab, 6) == served(ROAS, 6)


@FAMILIES
def test_roas_over_rtr_filter_invalid_and_tag_valid_and_unknown(rtr: RtrLab, family: int) -> None:
    rtr.switch_to(ROAS)
    assert_evaluated(rtr.lab, family, BEFORE_CHANGE)


@FAMILIES
def test_changed_roas_re_evaluate_routes_already_received(rtr: RtrLab, family: int) -> None:
    rtr.switch_to(ROAS)
    assert_evaluated(rtr.lab, family, BEFORE_CHANGE)
    rtr.switch_to(ROAS_CHANGED)
    assert_evaluated(rtr.lab, family, AFTER_CHANGE)
