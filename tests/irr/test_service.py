"""Syncing members' registry data: what the route-server renderer will be given, and when not."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from ixp import members
from ixp.errors import NotFound, SourceUnavailable
from ixp.irr import service
from ixp.irr.index import index_path
from ixp.irr.types import IrrData, MemberSyncResult, PrefixEntry, SyncOutcome
from ixp.models import AuditEntry, Member
from ixp.settings import Settings
from tests.dbsnapshot import snapshot
from tests.irr.conftest import REGISTRY, add_member, write_dump


def data_of(session: Session, asn: int) -> IrrData | None:
    return service.irr_for_member(session, members.get_member(session, asn))


def outcomes(report: service.SyncReport) -> dict[int, SyncOutcome]:
    return {r.asn: r.outcome for r in report.results}


def test_first_sync_from_a_dump_stores_expanded_aggregated_lists(
    ix: Session, settings: Settings
) -> None:
    report = service.sync(ix, settings, rpsl_files=[REGISTRY])
    assert outcomes(report) == {9541: "ok", 23674: "ok", 38193: "ok"}
    data = data_of(ix, 38193)
    assert data is not None
    assert data.as_set == "AS-NAYATEL"
    assert data.asns == (9541, 23674, 38193, 45595)  # through the AS-LOOP-ONE/TWO loop
    assert data.v4 == (
        PrefixEntry("39.32.0.0/11", 24),
        PrefixEntry("103.31.80.0/22", 24),
        PrefixEntry("182.176.0.0/12", 24),
        PrefixEntry("202.125.128.0/25", 25),
        PrefixEntry("203.99.160.0/19", 24),
    )
    assert data.v6 == (PrefixEntry("2400:fc00::/32", 48),)
    assert not data.held and data.fetched_at is not None
    assert data.source == f"rpsl {REGISTRY}"
    assert data.note is not None and "missing sets AS-DOES-NOT-EXIST" in data.note


def test_member_without_as_set_uses_its_own_asn(ix: Session, settings: Settings) -> None:
    service.sync(ix, settings, rpsl_files=[REGISTRY])
    data = data_of(ix, 9541)
    assert data is not None
    assert (data.as_set, data.asns) == ("AS9541", (9541,))
    assert [e.prefix for e in data.v4] == ["202.125.128.0/25", "203.99.160.0/19"]
    assert data.v6 == (PrefixEntry("2400:fc00:1::/48", 48),)


def test_per_family_as_sets(ix: Session, settings: Settings) -> None:
    service.sync(ix, settings, rpsl_files=[REGISTRY])
    data = data_of(ix, 23674)
    assert data is not None
    assert data.as_set == "AS-NAYATEL-CUSTOMERS (IPv4), AS23674 (IPv6)"
    assert PrefixEntry("39.32.0.0/11", 24) in data.v4  # AS45595 via the loop
    assert data.v6 == ()  # AS23674 registers no route6 objects
    assert "AS23674 has no aut-num object" in (data.note or "")


def test_never_synced_member_has_no_data(ix: Session) -> None:
    assert data_of(ix, 38193) is None


def test_second_sync_is_unchanged_and_reuses_the_index(ix: Session, settings: Settings) -> None:
    service.sync(ix, settings, rpsl_files=[REGISTRY])
    index = index_path(REGISTRY, settings.home / "irr")
    built = index.stat().st_mtime_ns
    report = service.sync(ix, settings, rpsl_files=[REGISTRY])
    assert set(outcomes(report).values()) == {SyncOutcome.unchanged}
    assert index.stat().st_mtime_ns == built


def test_changed_dump_is_indexed_again_and_the_old_index_removed(
    ix: Session, settings: Settings, tmp_path: Path
) -> None:
    dump = tmp_path / "registry.db"
    shutil.copy(REGISTRY, dump)
    service.sync(ix, settings, rpsl_files=[dump])
    old_index = index_path(dump, settings.home / "irr")
    with dump.open("a") as handle:
        handle.write("\nroute: 185.2.0.0/22\norigin: AS38193\n")
    os.utime(dump, ns=(1, 1))
    report = service.sync(ix, settings, rpsl_files=[dump])
    assert outcomes(report)[38193] == SyncOutcome.ok
    assert not old_index.exists() and index_path(dump, settings.home / "irr").exists()
    data = data_of(ix, 38193)
    assert data is not None and PrefixEntry("185.2.0.0/22", 24) in data.v4


def test_first_dump_wins_for_an_as_set_and_routes_are_merged(
    ix: Session, settings: Settings, tmp_path: Path
) -> None:
    other = tmp_path / "radb.db"
    other.write_text(
        "as-set: AS-NAYATEL\nmembers: AS9541\n\nroute: 185.3.0.0/22\norigin: AS38193\n"
    )
    service.sync(ix, settings, rpsl_files=[REGISTRY, other])
    data = data_of(ix, 38193)
    assert data is not None and 45595 in data.asns  # the set came from REGISTRY
    assert PrefixEntry("185.3.0.0/22", 24) in data.v4  # the route from the second dump


def test_missing_set_fails_and_keeps_last_good(
    ix: Session, settings: Settings, tmp_path: Path
) -> None:
    service.sync(ix, settings, rpsl_files=[REGISTRY])
    before = data_of(ix, 38193)
    broken = write_dump(tmp_path / "other.db", "AS-SOMETHING-ELSE", 3)
    report = service.sync(ix, settings, rpsl_files=[broken])
    result = {r.asn: r for r in report.results}[38193]
    assert result.outcome is SyncOutcome.failed
    assert "'AS-NAYATEL' is not in rpsl" in (result.note or "")
    after = data_of(ix, 38193)
    assert after is not None and before is not None
    assert (after.v4, after.v6, after.asns, after.fetched_at) == (
        before.v4,
        before.v6,
        before.asns,
        before.fetched_at,
    )
    assert "failed" in (after.note or "")


def test_empty_as_set_is_a_failure_not_an_empty_filter(ix: Session, settings: Settings) -> None:
    member = _member_with_set(ix, "AS-EMPTY")
    result = service.sync(ix, settings, members=[member], rpsl_files=[REGISTRY]).results[0]
    assert result.outcome is SyncOutcome.failed
    assert "'AS-EMPTY' has no member ASNs" in (result.note or "")
    assert service.irr_for_member(ix, member) is None


def test_member_without_route_objects_is_stored_with_a_note(
    ix: Session, settings: Settings
) -> None:
    add_member(ix, 3333)
    member = members.get_member(ix, 3333)
    result = service.sync(ix, settings, members=[member], rpsl_files=[REGISTRY]).results[0]
    assert result.outcome is SyncOutcome.ok
    data = service.irr_for_member(ix, member)
    assert data is not None and data.asns == (3333,) and data.v4 == () and data.v6 == ()
    assert "AS3333: no route or route6 objects for any of its ASNs" in (data.note or "")


def test_failure_without_any_data_stores_nothing(
    ix: Session, settings: Settings, tmp_path: Path
) -> None:
    broken = write_dump(tmp_path / "other.db", "AS-SOMETHING-ELSE", 3)
    report = service.sync(ix, settings, rpsl_files=[broken])
    assert outcomes(report)[38193] is SyncOutcome.failed
    assert data_of(ix, 38193) is None


def test_unreadable_dump_is_refused_before_anything_changes(
    ix: Session, settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    service.sync(ix, settings, rpsl_files=[REGISTRY])
    state = snapshot(engine)
    with pytest.raises(SourceUnavailable, match="not a readable file"):
        service.sync(ix, settings, rpsl_files=[tmp_path / "missing.db"])
    assert snapshot(engine) == state


def _member_with_set(session: Session, as_set: str) -> Member:
    add_member(session, 45595, as_set=as_set)
    return members.get_member(session, 45595)


def sync_routes(
    session: Session, settings: Settings, member: Member, dump: Path, routes: int
) -> MemberSyncResult:
    """Sync ``member`` from a fresh dump in which its AS-SET has ``routes`` prefixes."""
    assert member.as_set_v4 is not None
    path = write_dump(dump, member.as_set_v4, routes, member.asn)
    return service.sync(session, settings, members=[member], rpsl_files=[path]).results[0]


def test_growth_past_the_factor_is_held_until_approved(
    ix: Session, settings: Settings, tmp_path: Path
) -> None:
    member = _member_with_set(ix, "AS-GROW")
    sync_routes(ix, settings, member, tmp_path / "a.db", 20)
    result = sync_routes(ix, settings, member, tmp_path / "b.db", 201)
    assert result.outcome is SyncOutcome.held and result.prefixes_v4 == 20
    assert "IPv4 grows from 20 to 201 prefixes" in (result.note or "")
    data = service.irr_for_member(ix, member)
    assert data is not None and data.held and len(data.v4) == 20
    assert "held for approval" in (data.note or "")

    approved = service.approve(ix, member, actor="noc-alice")
    assert not approved.held and len(approved.v4) == 201
    data = service.irr_for_member(ix, member)
    assert data is not None and not data.held and len(data.v4) == 201
    entry = ix.scalars(select(AuditEntry).where(AuditEntry.entity == "irr")).one()
    assert (entry.actor, entry.action, entry.entity_key) == ("noc-alice", "approve", "AS45595")
    assert entry.before is not None and entry.before["prefixes_v4"] == 20
    assert entry.after is not None and entry.after["prefixes_v4"] == 201


def test_approve_without_held_data_is_not_found(ix: Session, settings: Settings) -> None:
    service.sync(ix, settings, rpsl_files=[REGISTRY])
    with pytest.raises(NotFound, match="AS38193 has no registry data held"):
        service.approve(ix, members.get_member(ix, 38193), actor="test")


def test_shrink_and_drop_to_nothing_are_held(
    ix: Session, settings: Settings, tmp_path: Path
) -> None:
    member = _member_with_set(ix, "AS-SHRINK")
    sync_routes(ix, settings, member, tmp_path / "a.db", 50)
    shrunk = sync_routes(ix, settings, member, tmp_path / "b.db", 4)
    assert shrunk.outcome is SyncOutcome.held
    assert "IPv4 shrinks from 50 to 4 prefixes" in (shrunk.note or "")
    emptied = sync_routes(ix, settings, member, tmp_path / "c.db", 0)
    assert emptied.outcome is SyncOutcome.held
    assert "IPv4 would drop from 50 prefixes to none" in (emptied.note or "")
    data = service.irr_for_member(ix, member)
    assert data is not None and len(data.v4) == 50


def test_small_changes_are_not_held(ix: Session, settings: Settings, tmp_path: Path) -> None:
    member = _member_with_set(ix, "AS-SMALL")
    sync_routes(ix, settings, member, tmp_path / "a.db", 1)
    assert sync_routes(ix, settings, member, tmp_path / "b.db", 9).outcome is SyncOutcome.ok


def test_held_spike_that_goes_away_is_dropped(
    ix: Session, settings: Settings, tmp_path: Path
) -> None:
    member = _member_with_set(ix, "AS-SPIKE")
    sync_routes(ix, settings, member, tmp_path / "a.db", 20)
    sync_routes(ix, settings, member, tmp_path / "b.db", 300)
    assert sync_routes(ix, settings, member, tmp_path / "a.db", 20).outcome is SyncOutcome.unchanged
    data = service.irr_for_member(ix, member)
    assert data is not None and not data.held


def test_first_sync_over_max_prefixes_is_held_with_no_data(
    ix: Session, settings: Settings, tmp_path: Path
) -> None:
    member = _member_with_set(ix, "AS-HUGE")
    limited = settings.model_copy(update={"irr_max_prefixes": 30})
    result = sync_routes(ix, limited, member, tmp_path / "a.db", 31)
    assert result.outcome is SyncOutcome.held
    assert "IPv4 31 prefixes is over irr_max_prefixes" in (result.note or "")
    data = service.irr_for_member(ix, member)
    assert data is not None
    assert data.held and data.fetched_at is None and data.v4 == () and data.v6 == ()


def test_huge_as_set_fails_instead_of_truncating(ix: Session, settings: Settings) -> None:
    small = settings.model_copy(update={"irr_max_asns": 2})
    report = service.sync(ix, small, rpsl_files=[REGISTRY])
    assert outcomes(report)[38193] is SyncOutcome.failed
    assert "more than 2 ASNs" in ({r.asn: r for r in report.results}[38193].note or "")


def test_depth_limit_is_noted(ix: Session, settings: Settings) -> None:
    _member_with_set(ix, "AS-DEEP-1")
    shallow = settings.model_copy(update={"irr_max_depth": 3})
    service.sync(ix, shallow, rpsl_files=[REGISTRY])
    data = data_of(ix, 45595)
    assert data is not None and data.asns == (9541, 23674, 38193)
    assert "sets beyond max depth AS-DEEP-4" in (data.note or "")


def test_progress_is_reported(ix: Session, settings: Settings) -> None:
    seen: list[tuple[int, int]] = []
    service.sync(ix, settings, rpsl_files=[REGISTRY], progress=lambda d, t: seen.append((d, t)))
    assert seen == [(1, 3), (2, 3), (3, 3)]


def test_many_members_are_read_in_one_call(ix: Session, settings: Settings) -> None:
    service.sync(ix, settings, rpsl_files=[REGISTRY])
    everyone = service.syncable_members(ix)
    batch = service.irr_for_members(ix, everyone)
    assert batch == {m.id: service.irr_for_member(ix, m) for m in everyone}
