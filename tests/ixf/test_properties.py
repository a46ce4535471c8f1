"""Property-based tests of the IX-F reader: random, mutated, cut-off and hostile files.

Whatever the file holds, reading it gives a document or the project's own
one-line error (an ``IxpError``), never another exception; and importing it
into a real database (SQLite and PostgreSQL) either changes it as the file
says or refuses it whole.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from ixp import ixf, jsonload
from ixp.errors import IxpError
from tests.dbsnapshot import snapshot
from tests.ixf import samples
from tests.jsonfuzz import json_values, keys_of, mutated, truncated

DEMO_FILE = Path(__file__).resolve().parents[2] / "ixp" / "data" / "demo" / "exchange.json"
# The demo exchange with its route servers and first members: mutating all 40
# members' worth of JSON makes each example slow without reaching more code.
DEMO = json.loads(DEMO_FILE.read_text(encoding="utf-8"))
DEMO["member_list"] = DEMO["member_list"][:8]
SAMPLES = (samples.document(), DEMO)
KEYS = keys_of(SAMPLES)
documents = (
    json_values(KEYS)
    | mutated(samples.document(), KEYS)
    | mutated(DEMO, KEYS)
    | st.builds(lambda d: {"version": "1.0", "timestamp": "2026-10-01T00:00:00Z"} | d,
                json_values(KEYS).filter(lambda d: isinstance(d, dict)))
)  # fmt: skip


def _check_error(error: IxpError) -> None:
    message = str(error)
    assert message and "\n" not in message and message.isprintable()
    assert len(message) < 1000


def _read(document: Any) -> ixf.ParsedDocument | None:
    """The document as the importer reads it, or None after checking its one-line error."""
    try:
        return ixf.read_document(document)
    except IxpError as error:
        _check_error(error)
        return None


@given(documents)
def test_reading_any_document_gives_members_or_one_line(document: Any) -> None:
    parsed = _read(document)
    if parsed is not None:
        asns = [int(data.asn) for _, data in parsed.members]
        assert len(asns) == len(set(asns))
        assert not set(asns) & set(parsed.skipped)


@given(truncated(SAMPLES))
def test_a_cut_off_file_is_refused_or_complete(data: bytes) -> None:
    try:
        document = jsonload.loads(data, "members.json")
    except IxpError as error:
        _check_error(error)
        return
    _read(document)


@given(documents)
def test_the_same_document_through_json_text_reads_the_same(document: Any) -> None:
    text = json.dumps(document)
    try:
        again = jsonload.loads(text, "members.json")
    except IxpError as error:  # a value too deep or too long for the reader
        _check_error(error)
        return
    first, second = _read(document), _read(again)
    assert (first is None) == (second is None)


@settings(max_examples=25)
@given(mutated(samples.document(), KEYS))
def test_importing_a_mutated_file_changes_all_or_nothing(
    session: Session, engine: Engine, document: Any
) -> None:
    before = snapshot(engine)
    try:
        result = ixf.import_document(session, document, samples.OPTIONS)
    except IxpError as error:
        _check_error(error)
        assert snapshot(engine) == before
        return
    parsed = ixf.read_document(document)
    assert len(result.created + result.updated + result.unchanged) == len(parsed.members)
