"""Hostile and broken ROA files, in every validator's format: one line, nothing loaded.

Runs on SQLite and PostgreSQL: a trust-anchor name with a NUL is stored by one
and refused with a traceback by the other unless the loader refuses it first.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from ixp.errors import IxpError
from ixp.rpki import service
from ixp.settings import Settings
from tests.cli import run
from tests.dbsnapshot import snapshot

DATA = Path(__file__).resolve().parent.parent / "data" / "rpki"
FORMATS = ["rpki-client.json", "routinator.json", "stayrtr.json", "routinator-jsonext.json"]


def _sample(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((DATA / name).read_text(encoding="utf-8"))
    return document


def _refused(session: Session, engine: Engine, settings: Settings, path: Path) -> str:
    """The one-line error loading ``path`` gives, after a good load it must leave in place."""
    service.load_file(session, DATA / "routinator.json", settings=settings, actor="test")
    before = snapshot(engine)
    with pytest.raises(IxpError) as caught:
        service.load_file(session, path, settings=settings, actor="test")
    message = str(caught.value)
    assert "\n" not in message and message.isprintable()
    assert snapshot(engine) == before
    return message


def _write(tmp_path: Path, content: str | bytes | dict[str, Any]) -> Path:
    path = tmp_path / "roas.json"
    if isinstance(content, dict):
        content = json.dumps(content)  # ensure_ascii: "\ud800" as a JSON escape
    if isinstance(content, str):
        content = content.encode()
    path.write_bytes(content)
    return path


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        pytest.param(
            '{"roas": ' + "[" * 100_000 + "]" * 100_000 + "}",
            "is not usable JSON (nested too deeply)",
            id="nested-100k-deep",
        ),
        pytest.param(
            '{"roas": [{"asn": ' + "3" * 5000 + ', "prefix": "39.32.0.0/11", "maxLength": 11}]}',
            "is not usable JSON (a number has more than 4300 digits)",
            id="asn-of-5000-digits",
        ),
        pytest.param(
            b'{"roas": [{"asn": "AS1", "prefix": "39.32.0.0/11", "maxLength": 11, "ta": "\xff"}]}',
            "is not UTF-8 text (byte 0xff at offset 75)",
            id="not-utf8",
        ),
    ],
)
def test_an_unreadable_document_names_the_file(
    session: Session,
    engine: Engine,
    settings: Settings,
    tmp_path: Path,
    content: str | bytes,
    reason: str,
) -> None:
    path = _write(tmp_path, content)
    assert _refused(session, engine, settings, path) == f"file: {str(path)!r} {reason}"


ARABIC_INDIC_38193 = "\u0663\u0668\u0661\u0669\u0663"
ARABIC_INDIC_19 = "\u0661\u0669"
SUPERSCRIPT_TWO = "\u00b2"  # isdigit() is true, int() refuses it


def _bad_prefix(prefix: str, name: str) -> Any:
    shown = repr(prefix) if len(prefix) < 50 else repr(prefix)[:60] + "…"
    return pytest.param("prefix", prefix, "prefix", f"{shown} is not a valid prefix", id=name)


def _hostile_entries() -> list[Any]:
    """(key, value, the error's field and reason) for the first ROA of any format."""
    digits = "9" * 5000
    asn_reason = "is not an ASN (expected AS<number> or a number)"
    return [
        pytest.param(
            "asn",
            "AS" + digits,
            "asn",
            "'AS" + "9" * 57 + "… " + asn_reason,
            id="asn-of-5000-digits",
        ),
        pytest.param(
            "asn",
            "AS" + ARABIC_INDIC_38193,
            "asn",
            f"'AS{ARABIC_INDIC_38193}' {asn_reason}",
            id="arabic-indic-asn",
        ),
        pytest.param(
            "maxLength",
            int("9" * 4000),
            "maxLength",
            "9" * 60 + "… is more than 32",
            id="max-length-of-4000-digits",
        ),
        _bad_prefix("203.99.160.0/" + ARABIC_INDIC_19, "arabic-indic-length"),
        _bad_prefix("203.99.160.0/" + SUPERSCRIPT_TWO, "superscript-length"),
        _bad_prefix("203.99.160.0\x00/19", "nul-in-prefix"),
        _bad_prefix("203.99.160.0\ud800/19", "surrogate-in-prefix"),
        _bad_prefix("203.99.160.0/" + digits, "length-of-5000-digits"),
        pytest.param(
            "ta",
            "apnic\x00",
            "ta",
            "'apnic\\x00' contains control character U+0000 at position 5",
            id="nul-in-trust-anchor",
        ),
        pytest.param(
            "ta",
            "ap\udfffnic",
            "ta",
            "'ap\\udfffnic' contains lone surrogate U+DFFF at position 2",
            id="surrogate-in-trust-anchor",
        ),
        pytest.param(
            "ta",
            "t" * 65,
            "ta",
            "'" + "t" * 59 + "… is longer than 64 characters",
            id="trust-anchor-too-long",
        ),
    ]


@pytest.mark.parametrize("name", FORMATS)
@pytest.mark.parametrize(("key", "value", "field", "reason"), _hostile_entries())
def test_a_hostile_entry_is_refused_in_every_format(
    session: Session,
    engine: Engine,
    settings: Settings,
    tmp_path: Path,
    name: str,
    key: str,
    value: Any,
    field: str,
    reason: str,
) -> None:
    document = _sample(name)
    entry = document["roas"][0]
    if key == "ta" and "source" in entry:  # jsonext names the trust anchor in its sources
        entry["source"][0]["tal"] = value
        field = "source[0].tal"
    else:
        entry[key] = value
    message = _refused(session, engine, settings, _write(tmp_path, document))
    assert message == f"roas[0].{field}: {reason}"


def test_a_trust_anchor_in_jsonext_sources_is_checked_too(
    session: Session, engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    document = _sample("routinator-jsonext.json")
    document["roas"][1]["source"][0]["tal"] = "apnic\x00"
    assert _refused(session, engine, settings, _write(tmp_path, document)) == (
        "roas[1].source[0].tal: 'apnic\\x00' contains control character U+0000 at position 5"
    )


def test_a_file_name_that_is_not_utf8_is_refused_before_it_is_stored(
    session: Session, engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    path = Path(os.fsdecode(os.fsencode(tmp_path) + b"/roas\xff.json"))
    path.write_bytes((DATA / "routinator.json").read_bytes())
    message = _refused(session, engine, settings, path)
    assert message == (
        f"file: {str(path.resolve())!r} has a name that cannot be stored: contains lone "
        f"surrogate U+DCFF at position {len(str(path.resolve())) - 6}"
    )


def test_the_cli_exits_2_with_one_line(cli: CliRunner, engine: Engine, tmp_path: Path) -> None:
    document = _sample("rpki-client.json")
    document["roas"][0]["ta"] = "apnic\x00"
    path = _write(tmp_path, document)
    before = snapshot(engine)
    code, _, err = run(cli, "rpki", "load", str(path))
    assert (code, err) == (
        2,
        "error: roas[0].ta: 'apnic\\x00' contains control character U+0000 at position 5\n",
    )
    assert snapshot(engine) == before
