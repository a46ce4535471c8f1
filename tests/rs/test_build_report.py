"""The build report as plain data (``--json``, the API, the build history)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from sqlalchemy.orm import Session

from ixp.rs.build import build
from ixp.settings import Settings
from tests.rs.birdtools import needs_bird
from tests.rs.exchange import add_rules

pytestmark = needs_bird


def test_the_report_as_plain_data_is_what_asdict_gives(
    demo: Session, demo_settings: Settings, tmp_path: Path
) -> None:
    add_rules(demo)  # dropped rules, registry notes and exclusions all present
    report = build(demo, demo_settings, tmp_path)
    plain = report.to_dict()
    assert plain == dataclasses.asdict(report)
    rs1 = plain["route_servers"][0]
    assert rs1["excluded"] and rs1["dropped_rules"] and rs1["members"]
    assert isinstance(rs1["members"], tuple) and isinstance(rs1["members"][0], dict)
