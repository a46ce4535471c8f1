"""What a build keeps for the next one never changes what the next one writes.

A build keeps the relevant ROAs in ``<home>/cache/rs`` and the members' registry
data in its process, so a warm rebuild skips most of its work. For every kind of
input a build reads, these tests build once (filling both caches), change that
input, build again in the same process and compare the files, byte for byte,
with a build from scratch: a new Python process with an empty data directory.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ixp import members, versions
from ixp.irr.service import sync
from ixp.irr.types import SyncOutcome
from ixp.models import Exchange, IrrPrefixData
from ixp.rpki.service import load_file
from ixp.rs.build import build
from ixp.rs.cache import KEEP, BuildCache, cache_key
from ixp.settings import Settings
from tests.rs.birdtools import needs_bird
from tests.rs.exchange import DATA, add_rules

pytestmark = needs_bird

# Builds every route server in a new process (nothing kept in memory); from scratch
# when its data directory is empty too (no cache entries).
FROM_SCRATCH = """
import sys
from pathlib import Path

from ixp.db import make_engine, session_factory
from ixp.rs.build import build
from ixp.rs.cache import KEEP, BuildCache, cache_key
from ixp.settings import Settings

settings = Settings.model_validate_json(sys.stdin.read())
engine = make_engine(settings.effective_database_url)
with session_factory(engine)() as session:
    build(session, settings, Path(sys.argv[1]))
engine.dispose()
"""


def from_scratch(settings: Settings, tmp_path: Path) -> dict[str, bytes]:
    """Every configuration as a build with nothing kept from earlier builds writes it."""
    home = tmp_path / "scratch-home"
    assert not home.exists()
    return in_new_process(settings.model_copy(update={"home": home}), tmp_path / "scratch-out")


def in_new_process(settings: Settings, out: Path) -> dict[str, bytes]:
    """Every configuration as a build in a new process (``ixp rs build``) writes it."""
    subprocess.run(
        [sys.executable, "-c", FROM_SCRATCH, str(out)],
        input=settings.model_dump_json(),
        text=True,
        check=True,
        capture_output=True,
    )
    return _files(out)


def _files(out: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(out.glob("*.conf"))}


def _changed_dump(tmp_path: Path) -> Path:
    """The demo registry with one more route object for Charlie (AS30303), inside the
    one ROA no member's prefixes overlapped before."""
    dump = tmp_path / "registry.rpsl"
    extra = "\nroute:          88.50.4.0/22\norigin:         AS30303\nsource:         TEST\n"
    dump.write_text((DATA / "registry.rpsl").read_text() + extra)
    return dump


def _resync(session: Session, settings: Settings, tmp_path: Path) -> None:
    charlie = members.get_member(session, 30303)
    report = sync(session, settings, members=[charlie], rpsl_files=[_changed_dump(tmp_path)])
    assert [r.outcome for r in report.results] == [SyncOutcome.ok]


def _reload_roas(session: Session, settings: Settings, tmp_path: Path) -> None:
    document = json.loads((DATA / "roas.json").read_text())
    document["roas"][0]["maxLength"] = 20  # 31.10.0.0/16: fewer more-specifics valid
    document["roas"].append(
        {"asn": "AS20202", "prefix": "62.40.0.0/19", "maxLength": 24, "ta": "test"}
    )
    path = tmp_path / "roas.json"
    path.write_text(json.dumps(document))
    load_file(session, path, settings=settings, actor="test")


def _edit_registry_row(session: Session) -> None:
    """An ORM edit of stored registry data that changes none of its times."""
    charlie = members.get_member(session, 30303)
    row = session.scalars(select(IrrPrefixData).where(IrrPrefixData.member_id == charlie.id)).one()
    row.prefixes_v4 = {"prefix": ["77.30.0.0/21"], "max_length": [24]}
    session.commit()


def _move_blackhole(session: Session) -> None:
    exchange = session.scalars(select(Exchange)).one()
    exchange.blackhole_ipv4 = "185.1.0.67"
    session.commit()


Change = Callable[[Session, Settings, Path], object]

CHANGES: dict[str, Change] = {
    "a member's max-prefix": lambda s, _, __: members.update_member(
        s, 20202, {"max_prefix_v4": 77}, actor="test"
    ),
    "a member's LAN address": lambda s, _, __: members.update_member(
        s, 30303, {"ipv4": "185.1.0.33"}, actor="test"
    ),
    "a member suspended": lambda s, _, __: members.suspend_member(s, 20202, actor="test"),
    # Delta's registered prefix overlaps the one ROA no configured member's did.
    "a suspended member back": lambda s, _, __: members.update_member(
        s, 40404, {"status": "active"}, actor="test"
    ),
    "a member removed": lambda s, _, __: members.remove_member(s, 10101, actor="test"),
    "a member's registry data synced": _resync,
    "a member's registry data edited": lambda s, _, __: _edit_registry_row(s),
    "new ROAs loaded": _reload_roas,
    "filtering rules": lambda s, _, __: add_rules(s),
    "the exchange's blackhole address": lambda s, _, __: _move_blackhole(s),
}


@pytest.mark.parametrize("change", CHANGES, ids=list(CHANGES))
def test_a_warm_rebuild_after_a_change_equals_a_build_from_scratch(
    demo: Session, demo_settings: Settings, tmp_path: Path, change: str
) -> None:
    out = tmp_path / "out"
    build(demo, demo_settings, out)
    before = _files(out)
    CHANGES[change](demo, demo_settings, tmp_path)
    build(demo, demo_settings, out)
    after = _files(out)
    assert after != before, "the change should show in the configuration"
    assert after == from_scratch(demo_settings, tmp_path)


def test_a_warm_rebuild_with_other_settings_equals_a_build_from_scratch(
    demo: Session, demo_settings: Settings, tmp_path: Path
) -> None:
    build(demo, demo_settings, tmp_path / "out")
    changed = demo_settings.model_copy(
        update={"rs_max_as_path_length": 20, "rs_transit_free_asns": [174, 3356]}
    )
    build(demo, changed, tmp_path / "out")
    assert _files(tmp_path / "out") == from_scratch(changed, tmp_path)


def test_an_unchanged_rebuild_reuses_the_relevant_roas(
    demo: Session, demo_settings: Settings, tmp_path: Path
) -> None:
    cache = demo_settings.home / "cache" / "rs"
    build(demo, demo_settings, tmp_path / "a")
    # Both route servers configure the same members: one entry serves the two.
    (entry,) = cache.glob("relevant-roas-*.json")
    written = entry.stat().st_mtime_ns
    members.update_member(demo, 20202, {"max_prefix_v4": 77}, actor="test")
    build(demo, demo_settings, tmp_path / "b")
    assert list(cache.glob("relevant-roas-*.json")) == [entry]
    assert entry.stat().st_mtime_ns == written


@pytest.mark.parametrize("damage", ["truncated", "not json", "another key", "a hostile prefix"])
def test_a_damaged_cache_entry_is_a_miss(
    demo: Session, demo_settings: Settings, tmp_path: Path, damage: str
) -> None:
    build(demo, demo_settings, tmp_path / "a")
    (entry,) = (demo_settings.home / "cache" / "rs").glob("relevant-roas-*.json")
    text = entry.read_text()
    stored = json.loads(text)
    if damage == "truncated":
        entry.write_text(text[: len(text) // 2])
    elif damage == "not json":
        entry.write_text("\x00\x01")
    elif damage == "another key":
        stored["key"] = "0" * 64
        entry.write_text(json.dumps(stored))
    else:
        stored["value"]["prefix"][0] = "31.10.0.0/16 max 32 as 1; } protocol x {"
        entry.write_text(json.dumps(stored))
    # A new process: this one keeps the relevant ROAs in memory as well.
    assert in_new_process(demo_settings, tmp_path / "b") == _files(tmp_path / "a")


def test_a_cache_that_cannot_be_written_only_costs_time(
    demo: Session, demo_settings: Settings, tmp_path: Path
) -> None:
    demo_settings.home.mkdir(parents=True, exist_ok=True)
    (demo_settings.home / "cache").write_text("a file where the cache directory would be")
    build(demo, demo_settings, tmp_path / "out")
    assert _files(tmp_path / "out") == from_scratch(demo_settings, tmp_path)


def test_loading_roas_and_syncing_raise_their_data_versions(
    demo: Session, demo_settings: Settings, tmp_path: Path
) -> None:
    rpki, irr = versions.current(demo, versions.RPKI), versions.current(demo, versions.IRR)
    _reload_roas(demo, demo_settings, tmp_path)
    assert versions.current(demo, versions.RPKI) > rpki
    _resync(demo, demo_settings, tmp_path)
    assert versions.current(demo, versions.IRR) > irr


def test_the_cache_keeps_the_newest_entries_of_each_kind(tmp_path: Path) -> None:
    cache = BuildCache(tmp_path)
    keys = [cache_key([str(n)]) for n in range(KEEP + 3)]
    for n, key in enumerate(keys):
        cache.put("kind", key, n)
        os.utime(tmp_path / f"kind-{key}.json", ns=(n * 10**9, n * 10**9))
    cache.put("other", keys[0], "kept")
    assert [cache.get("kind", key) for key in keys] == [None] * 3 + list(range(3, KEEP + 3))
    assert cache.get("other", keys[0]) == "kept"
    assert cache.get("kind", keys[0]) is None
