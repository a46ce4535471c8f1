"""A default-route object in the registry, proven harmless on a live route server.

Bravo (AS38002) gets ``route: 0.0.0.0/0`` and ``route6: ::/0`` objects with its
own origin on top of its real ones, then announces its real prefixes and
prefixes it never registered. BIRD, running the configuration built from that
registry data, must accept the real ones and keep the others filtered with
reason 9 (prefix not covered by the member's AS-SET), so no other member sees them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ixp import db
from ixp.irr.service import sync
from ixp.lab.exabgp import Route
from ixp.lab.lab import Lab
from ixp.monitor.routes import reject_codes
from ixp.rs.codes import RejectCode
from tests.lab.exchange import (
    ALPHA,
    BRAVO,
    DATA,
    RS_ASN,
    RS_NAME,
    build_exchange,
    exchange_settings,
)
from tests.lab.harness import require_lab, routes_of

pytestmark = [pytest.mark.netns, pytest.mark.slow]

REGISTERED = ("37.60.0.0/22", "2a0b:4100::/32")
NOT_REGISTERED = ("45.60.0.0/24", "2a0b:4f00::/32")
WIDE_OBJECTS = f"""
route:          0.0.0.0/0
origin:         AS{BRAVO}
source:         TEST

route6:         ::/0
origin:         AS{BRAVO}
source:         TEST
"""


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """The lab exchange with the wide objects in its registry; Bravo announces both kinds."""
    require_lab()
    directory = tmp_path_factory.mktemp("wide-object")
    settings = exchange_settings(directory)
    registry = directory / "irr.rpsl"
    registry.write_text((DATA / "irr.rpsl").read_text() + WIDE_OBJECTS)
    engine = db.engine_from_settings(settings)
    with db.session_factory(engine)() as session:
        build_exchange(session, settings)
        report = sync(session, settings, rpsl_files=[Path(registry)])
        (bravo,) = [r for r in report.results if r.asn == BRAVO]
        assert bravo.note is not None and "0.0.0.0/0" in bravo.note and "::/0" in bravo.note
        announced = [Route(p) for p in (*REGISTERED, *NOT_REGISTERED)]
        built = Lab.from_database(session, settings, routes={BRAVO: announced})
    engine.dispose()
    try:
        built.up()
        built.wait_converged(timeout=60)
        yield built
    finally:
        built.down()


@pytest.mark.parametrize("prefix", REGISTERED)
def test_registered_prefixes_are_accepted(lab: Lab, prefix: str) -> None:
    assert [r.as_path for r in routes_of(lab, ALPHA, prefix)] == [(BRAVO,)]


@pytest.mark.parametrize("prefix", NOT_REGISTERED)
def test_other_prefixes_stay_filtered_with_reason_9(lab: Lab, prefix: str) -> None:
    tagged = [r for r in lab.bird(RS_NAME).routes("filtered") if r.prefix == prefix]
    assert len(tagged) == 1, f"{prefix} is not among the filtered routes"
    assert RejectCode.PREFIX_NOT_IN_AS_SET in reject_codes(tagged[0], RS_ASN)
    assert routes_of(lab, ALPHA, prefix) == []
