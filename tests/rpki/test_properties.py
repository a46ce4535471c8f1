"""Property-based tests of the ROA export reader: random, mutated, cut-off and hostile files.

Whatever a validator's export holds, the reader returns entries that are valid
VRPs (canonical prefix, max length between the prefix length and the family's
bits, a 32-bit ASN) or one line from the project's own errors, never another
exception.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from ixp.errors import IxpError
from ixp.irr.prefixes import format_prefix, parse_prefix
from ixp.rpki.formats import parse_document
from tests.jsonfuzz import json_values, mutated, truncated

DATA = Path(__file__).resolve().parent.parent / "data" / "rpki"
SAMPLES = tuple(
    json.loads((DATA / name).read_text(encoding="utf-8"))
    for name in ("rpki-client.json", "routinator.json", "stayrtr.json", "routinator-jsonext.json")
)
KEYS = ("roas", "asn", "prefix", "maxLength", "ta", "source", "tal", "metadata", "buildtime")


def _parse(data: bytes | str) -> None:
    try:
        kind, entries = parse_document(data, "roas.json")
    except IxpError as error:
        message = str(error)
        assert message and "\n" not in message and message.isprintable()
        assert len(message) < 1000
        return
    assert kind in {"rpki-client", "json", "jsonext"}
    for family, value, length, max_length, asn, prefix, ta in entries:
        bits = 32 if family == 4 else 128
        assert parse_prefix(prefix) == (family, value, length)
        assert format_prefix(family, value, length) == prefix
        assert length <= max_length <= bits
        assert 0 <= asn < 2**32
        assert ta is None or (ta.isprintable() and len(ta) <= 64)


@given(json_values(KEYS) | st.one_of(*(mutated(s, KEYS) for s in SAMPLES)))
def test_any_document_gives_valid_roas_or_one_line(document: Any) -> None:
    _parse(json.dumps(document))


@given(st.one_of(*(mutated(s, KEYS) for s in SAMPLES)))
def test_a_mutated_file_keeps_one_entry_per_roa_or_is_refused(document: Any) -> None:
    try:
        _, entries = parse_document(json.dumps(document), "roas.json")
    except IxpError:
        return
    assert len(entries) == len(document["roas"])


@given(truncated(SAMPLES))
def test_a_cut_off_file_gives_valid_roas_or_one_line(data: bytes) -> None:
    _parse(data)
