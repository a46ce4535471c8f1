"""bgpq4 as a source: its JSON output parsed, and an unreachable server handled safely."""

from __future__ import annotations

import shutil
import socket
import time
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from ixp.errors import SourceUnavailable, ValidationError
from ixp.irr import bgpq4, service
from ixp.irr.sources import Bgpq4Source, DumpSource
from ixp.irr.types import SyncOutcome
from ixp.settings import Settings
from tests.irr.conftest import REGISTRY
from tests.irr.irrd_stub import irrd_stub

# Verbatim shapes of `bgpq4 -j -l NN -R 24 ...` and `bgpq4 -j -l NN -t ...` (bgpq4 1.9).
PREFIXES_V4 = r"""{ "NN": [
    { "prefix": "39.32.0.0\/11", "exact": false, "less-equal": 24 },
    { "prefix": "103.31.80.0\/22", "exact": false, "less-equal": 24 },
    { "prefix": "193.0.0.0\/22", "exact": false,
      "greater-equal": 23, "less-equal": 24 },
    { "prefix": "202.125.128.0\/25", "exact": true }
] }
"""
PREFIXES_V6 = r"""{ "NN": [
    { "prefix": "2400:fc00::\/32", "exact": false, "less-equal": 48 }
] }
"""
EMPTY = '{ "NN": [\n] }\n'
ASNS = '{"NN": [\n  9541,23674,38193\n]}\n'

needs_bgpq4 = pytest.mark.skipif(shutil.which("bgpq4") is None, reason="bgpq4 is not installed")


def test_prefix_list_output_is_parsed() -> None:
    assert bgpq4.parse_prefix_list(PREFIXES_V4, 4) == [
        ("39.32.0.0/11", 24),
        ("103.31.80.0/22", 24),
        ("193.0.0.0/23", 24),  # greater-equal 23: the /22 itself is not allowed
        ("193.0.2.0/23", 24),
        ("202.125.128.0/25", 25),
    ]
    assert bgpq4.parse_prefix_list(PREFIXES_V6, 6) == [("2400:fc00::/32", 48)]
    assert bgpq4.parse_prefix_list(EMPTY, 4) == []


def test_asn_list_output_is_parsed() -> None:
    assert bgpq4.parse_asn_list(ASNS) == [9541, 23674, 38193]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ERROR: timeout", "not JSON"),
        ('{"XX": []}', "no 'NN' list"),
        ('{"NN": [{"prefix": "2400:fc00::/32", "exact": true}]}', "not an IPv4 prefix"),
        ('{"NN": [{"prefix": "193.0.0.0/22", "exact": false, "less-equal": 20}]}', "range"),
    ],
)
def test_malformed_output_is_a_source_failure(text: str, message: str) -> None:
    with pytest.raises(SourceUnavailable, match=message):
        bgpq4.parse_prefix_list(text, 4)


@pytest.mark.parametrize("name", ["-h evil.example", "AS-FOO; rm", "", "AS FOO"])
def test_object_names_that_could_become_options_are_refused(name: str) -> None:
    with pytest.raises(ValidationError, match="as_set"):
        bgpq4.check_object_name(name)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@needs_bgpq4
def test_unreachable_server_fails_fast(tmp_path: Path) -> None:
    settings = Settings(
        home=tmp_path, irr_server=f"127.0.0.1:{_closed_port()}", irr_timeout_seconds=5
    )
    started = time.monotonic()
    with pytest.raises(SourceUnavailable, match="bgpq4"):
        Bgpq4Source(settings).fetch("AS-NAYATEL", "AS-NAYATEL")
    assert time.monotonic() - started < 5


@needs_bgpq4
def test_unreachable_server_keeps_last_good_data(ix: Session, settings: Settings) -> None:
    service.sync(ix, settings, rpsl_files=[REGISTRY])
    members = service.syncable_members(ix)
    before = {m.asn: service.irr_for_member(ix, m) for m in members}
    offline = settings.model_copy(
        update={"irr_server": f"127.0.0.1:{_closed_port()}", "irr_timeout_seconds": 5}
    )
    report = service.sync(ix, offline)
    assert {r.outcome for r in report.results} == {SyncOutcome.failed}
    for member in members:
        after = service.irr_for_member(ix, member)
        assert after is not None and before[member.asn] is not None
        assert after.v4 == before[member.asn].v4 and after.v6 == before[member.asn].v6
        assert after.fetched_at == before[member.asn].fetched_at
        assert after.note is not None and "failed" in after.note and "keeping data" in after.note


@needs_bgpq4
@pytest.mark.parametrize(
    "objects",
    [("AS-NAYATEL", "AS-NAYATEL"), ("AS9541", "AS9541"), ("AS-NAYATEL-CUSTOMERS", "AS23674")],
)
def test_real_bgpq4_gives_the_same_lists_as_the_dump(
    tmp_path: Path, objects: tuple[str, str]
) -> None:
    with irrd_stub(REGISTRY) as server:
        settings = Settings(home=tmp_path, irr_server=server, irr_timeout_seconds=10)
        from_bgpq4 = Bgpq4Source(settings).fetch(*objects)
    dump = DumpSource(settings, [REGISTRY])
    try:
        from_dump = dump.fetch(*objects)
    finally:
        dump.close()
    assert (from_bgpq4.asns, from_bgpq4.v4, from_bgpq4.v6) == (
        from_dump.asns,
        from_dump.v4,
        from_dump.v6,
    )
    assert from_bgpq4.v4  # not vacuous


@needs_bgpq4
def test_sync_through_real_bgpq4(ix: Session, settings: Settings) -> None:
    with irrd_stub(REGISTRY) as server:
        online = settings.model_copy(update={"irr_server": server, "irr_timeout_seconds": 10})
        report = service.sync(ix, online)
    assert {r.outcome for r in report.results} == {SyncOutcome.ok}
    assert report.source == f"bgpq4 {server} (RIPE,APNIC,ARIN,RADB,AFRINIC,LACNIC)"
    data = service.irr_for_member(ix, service.syncable_members(ix)[-1])
    assert data is not None and data.as_set == "AS-NAYATEL"
    assert [e.prefix for e in data.v4][-1] == "203.99.160.0/19" and data.asns[-1] == 45595


@needs_bgpq4
def test_unknown_set_at_the_server_is_a_failure(tmp_path: Path) -> None:
    with irrd_stub(REGISTRY) as server:
        settings = Settings(home=tmp_path, irr_server=server, irr_timeout_seconds=10)
        with pytest.raises(SourceUnavailable, match="'AS-NOWHERE' is empty or unknown"):
            Bgpq4Source(settings).fetch("AS-NOWHERE", "AS-NOWHERE")


@pytest.mark.parametrize(
    "text",
    ["[" * 100_000 + "]" * 100_000, '{"NN": [' + "9" * 5000 + "]}", '{"NN": {"prefix": 1}}'],
)
def test_hostile_json_is_a_source_failure(text: str) -> None:
    for parse in (bgpq4.parse_asn_list, lambda t: bgpq4.parse_prefix_list(t, 4)):
        with pytest.raises(SourceUnavailable, match="bgpq4"):
            parse(text)
