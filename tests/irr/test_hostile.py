"""Registry data that would open a filter, and dumps that are broken, cut short or odd.

The first half is the security promise: no object in a registry, however
wide, makes the route server accept prefixes the member did not register. The
second half is the reader's: a broken dump is one clear error for that dump,
never a traceback, and never silently fewer objects.
"""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from ixp import members
from ixp.errors import SourceUnavailable
from ixp.exchange import get_route_server
from ixp.irr import rpsl, service
from ixp.irr.prefixes import address_span, parse_prefix
from ixp.irr.rpsl import read_dump
from ixp.irr.sources import Bgpq4Source, DumpSource
from ixp.irr.types import IrrData, PrefixEntry, SyncOutcome
from ixp.rs.codes import RejectCode
from ixp.rs.context import build_context
from ixp.rs.explain import explain_route
from ixp.settings import Settings
from tests.irr.conftest import REGISTRY, add_member
from tests.irr.irrd_stub import irrd_stub

needs_bgpq4 = pytest.mark.skipif(shutil.which("bgpq4") is None, reason="bgpq4 is not installed")

ASN = 58421
REAL = ("45.61.0.0/22", "45.61.8.0/24", "2a0b:5800::/32")
OUTSIDE = "45.60.0.0/24"


def member_dump(path: Path, *extra: str) -> Path:
    """AS58421's registry: AS-PKNET holding it, three real route objects, then ``extra``."""
    objects = [f"as-set: AS-PKNET\nmembers: AS{ASN}\nsource: TEST", f"aut-num: AS{ASN}"]
    for prefix in REAL:
        kind = "route6" if ":" in prefix else "route"
        objects.append(f"{kind}: {prefix}\norigin: AS{ASN}\nsource: TEST")
    objects += extra
    path.write_text("\n\n".join(objects) + "\n")
    return path


def route(prefix: str, origin: int = ASN) -> str:
    kind = "route6" if ":" in prefix else "route"
    return f"{kind}: {prefix}\norigin: AS{origin}\nsource: TEST"


@pytest.fixture
def pknet(ix: Session) -> Session:
    """The ``ix`` exchange plus AS58421 (AS-PKNET)."""
    add_member(ix, ASN, as_set="AS-PKNET")
    return ix


def data_of(session: Session, asn: int = ASN) -> IrrData:
    data = service.irr_for_member(session, members.get_member(session, asn))
    assert data is not None
    return data


def sync_one(session: Session, settings: Settings, dump: Path) -> service.MemberSyncResult:
    report = service.sync(
        session, settings, members=[members.get_member(session, ASN)], rpsl_files=[dump]
    )
    (result,) = report.results
    return result


# -- registry data never opens a filter ---------------------------------------------------


@pytest.mark.parametrize("wide", ["0.0.0.0/0", "::/0", "0.0.0.0/7", "2a00::/15"])
def test_objects_shorter_than_the_minimum_never_enter_a_filter(
    pknet: Session, settings: Settings, tmp_path: Path, wide: str
) -> None:
    dump = member_dump(tmp_path / "registry.db", route(wide))
    result = sync_one(pknet, settings, dump)
    assert result.outcome is SyncOutcome.ok
    data = data_of(pknet)
    assert [e.prefix for e in (*data.v4, *data.v6)] == list(REAL)  # nothing aggregated away
    assert result.note is not None
    assert "ignored 1 route object(s) shorter than the route server's minimum" in result.note
    assert wide in result.note
    assert data.note is not None and wide in data.note  # `ixp irr show` says so too


def test_objects_at_the_minimum_length_are_kept(
    pknet: Session, settings: Settings, tmp_path: Path
) -> None:
    service.sync(pknet, settings, rpsl_files=[member_dump(tmp_path / "first.db")])
    dump = member_dump(tmp_path / "second.db", route("45.0.0.0/8"))
    result = sync_one(pknet, settings, dump)
    # allowed by length, but it widens the member's space 3,000 times: held, not used
    assert result.outcome is SyncOutcome.held
    assert "address space grows from 1,280 to 16,777,216 addresses" in (result.note or "")
    assert "45.0.0.0/8" not in [e.prefix for e in data_of(pknet).v4]


def test_default_route_object_does_not_make_the_route_server_accept_anything(
    pknet: Session, settings: Settings, tmp_path: Path
) -> None:
    """The reported exploit: ``route: 0.0.0.0/0`` with the member's origin."""
    dump = member_dump(tmp_path / "registry.db", route("0.0.0.0/0"), route("::/0"))
    service.sync(pknet, settings, rpsl_files=[dump])
    context = build_context(pknet, get_route_server(pknet, "rs1-isb"), settings).context
    outside = explain_route(context, ASN, OUTSIDE, path=[ASN])
    assert not outside.accepted
    assert RejectCode.PREFIX_NOT_IN_AS_SET in {r.code for r in outside.reasons}
    assert explain_route(context, ASN, "45.61.1.0/24", path=[ASN]).accepted


@needs_bgpq4
def test_bgpq4_source_drops_too_short_objects_as_well(tmp_path: Path) -> None:
    dump = member_dump(tmp_path / "registry.db", route("0.0.0.0/0"), route("::/0"))
    with irrd_stub(dump) as server:
        settings = Settings(home=tmp_path, irr_server=server, irr_timeout_seconds=10)
        fetched = Bgpq4Source(settings).fetch("AS-PKNET", "AS-PKNET")
    assert [e.prefix for e in (*fetched.v4, *fetched.v6)] == list(REAL)
    assert set(fetched.ignored) == {"0.0.0.0/0", "::/0"}


def test_growth_in_address_space_is_held_even_with_few_prefixes(
    pknet: Session, settings: Settings, tmp_path: Path
) -> None:
    service.sync(pknet, settings, rpsl_files=[member_dump(tmp_path / "first.db")])
    before = data_of(pknet)
    wider = member_dump(tmp_path / "second.db", route("45.64.0.0/12"))
    result = sync_one(pknet, settings, wider)
    assert result.outcome is SyncOutcome.held
    assert "IPv4 address space grows from 1,280 to 1,049,856 addresses" in (result.note or "")
    after = data_of(pknet)
    assert (after.v4, after.held) == (before.v4, True)


def test_ordinary_growth_is_not_held(pknet: Session, settings: Settings, tmp_path: Path) -> None:
    service.sync(pknet, settings, rpsl_files=[member_dump(tmp_path / "first.db")])
    more = member_dump(tmp_path / "second.db", route("45.62.0.0/21"), route("2a0b:5801::/32"))
    assert sync_one(pknet, settings, more).outcome is SyncOutcome.ok


@pytest.mark.parametrize(
    ("wide", "message"),
    [
        ("39.0.0.0/8", "IPv4 covers 16,778,496 addresses, more than a /10 (irr_max_space_v4)"),
        ("2400::/16", "more than a /20 (irr_max_space_v6)"),
    ],
)
def test_first_sync_covering_too_much_space_is_held(
    pknet: Session, settings: Settings, tmp_path: Path, wide: str, message: str
) -> None:
    result = sync_one(pknet, settings, member_dump(tmp_path / "registry.db", route(wide)))
    assert result.outcome is SyncOutcome.held
    assert message in (result.note or "")
    data = data_of(pknet)
    assert data.fetched_at is None and data.v4 == () and data.v6 == ()


def test_address_span_counts_overlaps_once() -> None:
    entries = [PrefixEntry("10.0.0.0/8", 24), PrefixEntry("10.1.0.0/16", 32)]
    assert address_span(4, [*entries, PrefixEntry("11.0.0.0/24", 24)]) == 2**24 + 256
    assert address_span(6, [PrefixEntry("2001:db8::/32", 48)]) == 2**96
    assert address_span(4, []) == 0


# -- broken dumps --------------------------------------------------------------------------


def test_dump_starting_with_blank_lines(tmp_path: Path) -> None:
    dump = tmp_path / "blank.db"
    dump.write_text("\n\n\n" + route("45.61.0.0/22") + "\n\n \n" + route("45.61.8.0/24") + "\n")
    assert read_dump(dump).routes4 == {ASN: ["45.61.0.0/22", "45.61.8.0/24"]}


def test_corrupt_gzip_is_one_error_for_that_dump_and_nothing_changes(
    pknet: Session, settings: Settings, tmp_path: Path
) -> None:
    service.sync(pknet, settings, rpsl_files=[member_dump(tmp_path / "good.db")])
    before = data_of(pknet)
    packed = bytearray(gzip.compress(member_dump(tmp_path / "new.db").read_bytes() * 50))
    packed[40:60] = b"\xff" * 20
    broken = tmp_path / "broken.db.gz"
    broken.write_bytes(bytes(packed))
    with pytest.raises(SourceUnavailable, match=r"rpsl: '.*broken\.db\.gz' cannot be read"):
        service.sync(pknet, settings, rpsl_files=[broken])
    assert data_of(pknet) == before


def test_truncated_gzip_is_one_error(pknet: Session, settings: Settings, tmp_path: Path) -> None:
    packed = gzip.compress(member_dump(tmp_path / "new.db").read_bytes())
    cut = tmp_path / "cut.db.gz"
    cut.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(SourceUnavailable, match="cannot be read"):
        service.sync(pknet, settings, rpsl_files=[cut])


@pytest.mark.parametrize("length", ["/²", "/\u0662\u0664", "/2\u0664", "/+24", "/ 24", "/24 "])
def test_prefix_lengths_must_be_ascii_digits(length: str) -> None:
    assert parse_prefix(f"45.61.0.0{length}") is None


@pytest.mark.parametrize(
    "text", ["45.61.0.0\x00/24", "45.61.\ud800.0/24", "45.61.0.0/" + "0" * 5000 + "24", "::\x00/0"]
)
def test_hostile_prefix_text_is_not_a_prefix(text: str) -> None:
    assert parse_prefix(text) is None


def test_odd_digits_skip_the_object_and_the_rest_of_the_dump_is_read(
    pknet: Session, settings: Settings, tmp_path: Path
) -> None:
    dump = member_dump(
        tmp_path / "registry.db",
        route("45.62.0.0/²"),
        "route: 45.63.0.0/24\norigin: AS\u0665\u0668\u0664\u0662\u0661\nsource: TEST",
        "aut-num: AS\u0665\u0668\u0664\u0662\u0661",
        "remarks: the last object is whole, so the dump is not cut short",
    )
    contents = read_dump(dump)
    assert contents.skipped == 3
    assert contents.routes4 == {ASN: ["45.61.0.0/22", "45.61.8.0/24"]}
    assert sync_one(pknet, settings, dump).outcome is SyncOutcome.ok
    assert [e.prefix for e in data_of(pknet).v4] == ["45.61.0.0/22", "45.61.8.0/24"]


def crlf_dump(count: int, pad: int) -> bytes:
    """``count`` CRLF route objects after a ``pad``-byte remarks object."""
    objects = [b"remarks: " + b"x" * pad]
    objects += [
        b"route: %d.%d.%d.0/24\r\norigin: AS%d" % (45 + (i >> 16), i >> 8 & 255, i & 255, ASN)
        for i in range(count)
    ]
    return b"\r\n\r\n".join(objects) + b"\r\n"


@pytest.mark.parametrize("chunk", [5, 16, 17, 64])
def test_crlf_dump_split_at_every_offset_loses_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    monkeypatch.setattr(rpsl, "CHUNK_BYTES", chunk)
    dump = tmp_path / "crlf.db"
    for pad in range(2 * chunk):
        dump.write_bytes(crlf_dump(12, pad))
        contents = read_dump(dump)
        assert len(contents.routes4[ASN]) == 12, f"pad {pad}"
        assert not contents.truncated


@pytest.mark.parametrize("before", range(-1, 6))
def test_crlf_dump_across_the_real_read_boundary(tmp_path: Path, before: int) -> None:
    """The reported case: the 8 MiB read ends ``before`` bytes into a CRLF object separator."""
    dump = tmp_path / "big.db"
    dump.write_bytes(crlf_dump(3, rpsl.CHUNK_BYTES - len(b"remarks: ") - before))
    assert len(read_dump(dump).routes4[ASN]) == 3


def test_dump_cut_mid_object_is_reported_and_its_data_held(
    pknet: Session, settings: Settings, tmp_path: Path
) -> None:
    whole = member_dump(tmp_path / "whole.db")
    service.sync(pknet, settings, rpsl_files=[whole])
    before = data_of(pknet)
    text = whole.read_text()
    cut = tmp_path / "cut.db"
    cut.write_text(text[: text.index("45.61.8.0/24") + 4])  # ends mid-value
    contents = read_dump(cut)
    assert contents.truncated
    result = sync_one(pknet, settings, cut)
    assert result.outcome is SyncOutcome.held
    assert "ends mid-object (cut short?)" in (result.note or "")
    assert data_of(pknet).v4 == before.v4


def test_dump_cut_between_lines_of_an_object_is_truncated(tmp_path: Path) -> None:
    text = member_dump(tmp_path / "whole.db").read_text()
    cut = tmp_path / "cut.db"
    cut.write_text(text[: text.index("origin: AS58421\nsource: TEST\n\nroute6")])
    assert read_dump(cut).truncated


def test_complete_dump_is_not_truncated(tmp_path: Path) -> None:
    assert not read_dump(member_dump(tmp_path / "whole.db")).truncated
    assert not read_dump(REGISTRY).truncated


def test_unchanged_data_from_a_cut_dump_is_not_held(
    pknet: Session, settings: Settings, tmp_path: Path
) -> None:
    whole = member_dump(tmp_path / "whole.db", "remarks: a last object")
    service.sync(pknet, settings, rpsl_files=[whole])
    text = whole.read_text()
    cut = tmp_path / "cut.db"
    cut.write_text(text[: text.index("a last object") + 6])  # only the remark is cut
    assert sync_one(pknet, settings, cut).outcome is SyncOutcome.unchanged


@pytest.mark.parametrize("name", ["home#1", "home?x=1", "home%20", "h#?%"])
def test_home_with_uri_characters(tmp_path: Path, name: str) -> None:
    settings = Settings(home=tmp_path / name)
    for _ in range(2):  # indexed, then reopened from the index
        source = DumpSource(settings, [REGISTRY])
        try:
            assert source.fetch("AS9541", "AS9541").v4
        finally:
            source.close()
