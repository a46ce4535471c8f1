"""Reading RPSL dumps: the syntax real registry dumps use, plain and gzip."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from ixp.irr import rpsl
from ixp.irr.rpsl import attributes, read_dump

DATA = Path(__file__).resolve().parent.parent / "data" / "rpsl"
REGISTRY = DATA / "registry.db"


def test_reads_routes_sets_and_aut_nums_of_the_registry_fixture() -> None:
    contents = read_dump(REGISTRY)
    assert contents.routes4[38193] == ["203.99.160.0/19", "203.99.176.0/20"]
    assert contents.routes4[9541] == ["203.99.160.0/19", "202.125.128.0/25"]
    assert contents.routes6[38193] == ["2400:fc00::/32", "2400:fc00:8000::/33"]
    assert contents.aut_nums == {38193, 9541}
    # header comments are not objects; the person object is counted but not kept
    assert contents.objects == 26


def test_attribute_names_and_set_names_are_case_insensitive() -> None:
    contents = read_dump(REGISTRY)
    assert contents.routes4[23674] == ["103.31.80.0/22"]  # ROUTE:/ORIGIN: as23674
    assert contents.as_sets["AS-NAYATEL-CUSTOMERS"][:3] == ["AS23674", "AS9541", "AS-LOOP-ONE"]


def test_continuation_lines_comments_and_repeated_attributes() -> None:
    contents = read_dump(REGISTRY)
    # "AS23674,\n   AS9541\n+  AS-LOOP-ONE" then a second members: line
    assert contents.as_sets["AS-NAYATEL-CUSTOMERS"] == [
        "AS23674",
        "AS9541",
        "AS-LOOP-ONE",
        "AS-DOES-NOT-EXIST",
    ]
    # "members: AS38193, AS-NAYATEL-CUSTOMERS   # own network first"
    assert contents.as_sets["AS-NAYATEL"] == ["AS38193", "AS-NAYATEL-CUSTOMERS"]
    # origin given on a continuation line
    assert "182.176.0.0/12" in contents.routes4[45595]
    assert contents.as_sets["AS-EMPTY"] == []


def test_whitespace_only_line_separates_objects() -> None:
    contents = read_dump(REGISTRY)
    assert contents.as_sets["AS-LOOP-ONE"] == ["AS-LOOP-TWO"]
    assert contents.as_sets["AS-LOOP-TWO"] == ["AS-LOOP-ONE", "AS45595"]


def test_broken_objects_are_skipped_and_counted() -> None:
    contents = read_dump(REGISTRY)
    assert contents.skipped == 2  # host bits set; route without origin
    assert all(
        "192.0.2.0/24" not in p and "198.51.100.0/24" not in p for p in contents.routes4.values()
    )


def test_gzip_dump_reads_the_same(tmp_path: Path) -> None:
    packed = tmp_path / "registry.db.gz"
    packed.write_bytes(gzip.compress(REGISTRY.read_bytes()))
    plain, compressed = read_dump(REGISTRY), read_dump(packed)
    assert compressed.routes4 == plain.routes4
    assert compressed.routes6 == plain.routes6
    assert compressed.as_sets == plain.as_sets


def test_crlf_line_ends_and_no_trailing_newline(tmp_path: Path) -> None:
    dump = tmp_path / "crlf.db"
    dump.write_bytes(b"route: 193.0.0.0/21\r\norigin: AS3333\r\n\r\naut-num: AS3333")
    contents = read_dump(dump)
    assert contents.routes4 == {3333: ["193.0.0.0/21"]}
    assert contents.aut_nums == {3333}


def test_objects_split_across_read_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    whole = read_dump(REGISTRY)
    monkeypatch.setattr(rpsl, "CHUNK_BYTES", 7)
    pieces = read_dump(REGISTRY)
    assert (pieces.routes4, pieces.routes6, pieces.as_sets, pieces.objects) == (
        whole.routes4,
        whole.routes6,
        whole.as_sets,
        whole.objects,
    )


def test_attributes_parser() -> None:
    block = "as-set: AS-X\nMEMBERS: AS1, # c\n AS2\n+AS3\nremarks: a # b"
    assert attributes(block) == [
        ("as-set", "AS-X"),
        ("members", "AS1, AS2 AS3"),
        ("remarks", "a"),
    ]
