"""Loading ROA exports: every validator format gives the same set; bad files change nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from ixp.errors import HeldForApproval, Remedy, ValidationError
from ixp.models import AuditEntry
from ixp.rpki import service
from ixp.rpki.types import Roa
from ixp.settings import Settings
from tests.dbsnapshot import snapshot

DATA = Path(__file__).resolve().parent.parent / "data" / "rpki"
EXPECTED = [
    Roa("39.32.0.0/11", 11, 45595),
    Roa("202.125.128.0/18", 24, 9541),
    Roa("203.99.160.0/19", 24, 38193),
    Roa("2400:fc00::/32", 48, 38193),
]


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("rpki-client.json", "rpki-client"),
        ("routinator.json", "json"),
        ("stayrtr.json", "json"),
        ("routinator-jsonext.json", "jsonext"),
    ],
)
def test_each_validator_format_loads_the_same_set(
    session: Session, settings: Settings, name: str, kind: str
) -> None:
    report = service.load_file(session, DATA / name, settings=settings, actor="test")
    assert (report.format, report.roas_v4, report.roas_v6, report.previous) == (kind, 3, 1, 0)
    assert service.current_roas(session) == EXPECTED


def test_duplicates_across_trust_anchors_are_stored_once(
    session: Session, settings: Settings
) -> None:
    report = service.load_file(session, DATA / "rpki-client.json", settings=settings, actor="test")
    assert report.duplicates == 1
    status = service.rpki_status(session)
    assert status.roas == 4 and status.format == "rpki-client"
    assert status.source == str((DATA / "rpki-client.json").resolve())


def test_a_new_load_replaces_the_set_and_is_audited(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    service.load_file(session, DATA / "routinator.json", settings=settings, actor="test")
    roas = [{"asn": "AS38193", "prefix": f"185.{i}.0.0/16", "maxLength": 24} for i in range(5)]
    path = tmp_path / "next.json"
    path.write_text(json.dumps({"roas": roas}))
    report = service.load_file(session, path, settings=settings, actor="noc-bob")
    assert report.previous == 4
    assert [r.prefix for r in service.current_roas(session)] == [
        f"185.{i}.0.0/16" for i in range(5)
    ]
    entries = session.scalars(select(AuditEntry).where(AuditEntry.entity == "rpki")).all()
    assert [(e.actor, e.after["roas"]) for e in entries if e.after] == [("test", 4), ("noc-bob", 5)]


def _write(tmp_path: Path, document: Any) -> Path:
    path = tmp_path / "roas.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return path


def _roa(**overrides: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"asn": "AS38193", "prefix": "203.99.160.0/19", "maxLength": 24}
    entry.update(overrides)
    return entry


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ('{"roas": [', "file: '{path}' is not JSON (Expecting value at line 1 column 11)"),
        ({"vrps": []}, "file: '{path}' has no top-level 'roas' list"),
        ({"roas": [_roa(), "x"]}, "roas[1]: 'x' is not an object"),
        (
            {"roas": [_roa(), _roa(prefix="203.99.160.1/19")]},
            "roas[1].prefix: '203.99.160.1/19' is not a valid prefix",
        ),
        (
            {"roas": [_roa(prefix="not-a-prefix")]},
            "roas[0].prefix: 'not-a-prefix' is not a valid prefix",
        ),
        (
            {"roas": [_roa(maxLength=18)]},
            "roas[0].maxLength: 18 is shorter than the prefix length of 203.99.160.0/19",
        ),
        ({"roas": [_roa(maxLength=33)]}, "roas[0].maxLength: 33 is more than 32"),
        (
            {"roas": [_roa(prefix="2400:fc00::/32", maxLength=129)]},
            "roas[0].maxLength: 129 is more than 128",
        ),
        ({"roas": [_roa(maxLength="24")]}, "roas[0].maxLength: '24' is not an integer"),
        (
            {"roas": [_roa(), _roa(), _roa(asn="ASX")]},
            "roas[2].asn: 'ASX' is not an ASN (expected AS<number> or a number)",
        ),
        ({"roas": [_roa(asn=2**32)]}, "roas[0].asn: 4294967296 is outside the 32-bit ASN range"),
        ({"roas": [_roa(asn=True)]}, "roas[0].asn: True is not an ASN"),
        ({"roas": []}, "file: '{path}' has no ROAs"),
    ],
)
def test_bad_files_are_refused_with_one_line_and_change_nothing(
    session: Session,
    settings: Settings,
    engine: Engine,
    tmp_path: Path,
    document: Any,
    message: str,
) -> None:
    service.load_file(session, DATA / "routinator.json", settings=settings, actor="test")
    state = snapshot(engine)
    path = _write(tmp_path, document)
    with pytest.raises(ValidationError) as caught:
        service.load_file(session, path, settings=settings, actor="test")
    assert str(caught.value) == message.format(path=path)
    assert caught.value.hint is (Remedy.FORCE if document == {"roas": []} else None)
    assert "\n" not in str(caught.value)
    assert snapshot(engine) == state


def test_a_big_shrink_is_held_unless_forced(
    session: Session, settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    service.load_file(session, DATA / "routinator.json", settings=settings, actor="test")
    state = snapshot(engine)
    path = _write(tmp_path, {"roas": [_roa()]})
    with pytest.raises(HeldForApproval, match="has 1 ROAs against 4 loaded now") as caught:
        service.load_file(session, path, settings=settings, actor="test")
    assert caught.value.hint is Remedy.FORCE
    assert snapshot(engine) == state
    report = service.load_file(session, path, settings=settings, force=True, actor="test")
    assert report.forced and service.current_roas(session) == [Roa("203.99.160.0/19", 24, 38193)]
    assert service.rpki_status(session).forced is True


def test_a_small_shrink_loads(session: Session, settings: Settings, tmp_path: Path) -> None:
    service.load_file(session, DATA / "routinator.json", settings=settings, actor="test")
    roas = json.loads((DATA / "routinator.json").read_text())["roas"][:-1]
    report = service.load_file(
        session,
        _write(tmp_path, {"roas": roas}),
        settings=settings.model_copy(update={"rpki_max_shrink_percent": 30.0}),
        actor="test",
    )
    assert report.previous == 4 and report.roas_v4 + report.roas_v6 == 3


def test_unreadable_file(session: Session, settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="cannot be read"):
        service.load_file(session, tmp_path / "missing.json", settings=settings, actor="test")


def test_nothing_loaded_yet(session: Session) -> None:
    assert service.current_roas(session) == []
    assert service.rpki_status(session).loaded_at is None
