"""Reading JSON files from outside: every way a file can be broken is one line naming the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from ixp import jsonload
from ixp.errors import ValidationError


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        pytest.param(
            "[" * 100_000 + "]" * 100_000,
            "is not usable JSON (nested too deeply)",
            id="nested-100k-deep",
        ),
        pytest.param(
            b'{"roas": [{"asn": ' + b"7" * 5000 + b"}]}",
            "is not usable JSON (a number has more than 4300 digits)",
            id="int-of-5000-digits",
        ),
        pytest.param(
            b'{"name": "Nayatel \xff"}',
            "is not UTF-8 text (byte 0xff at offset 18)",
            id="not-utf8",
        ),
        pytest.param(
            '{"roas": [',
            "is not JSON (Expecting value at line 1 column 11)",
            id="truncated",
        ),
        pytest.param("", "is not JSON (Expecting value at line 1 column 1)", id="empty"),
    ],
)
def test_broken_json_is_one_line_naming_the_file(data: str | bytes, reason: str) -> None:
    with pytest.raises(ValidationError) as caught:
        jsonload.loads(data, "/srv/members.json")
    assert str(caught.value) == f"file: '/srv/members.json' {reason}"


def test_json_is_read_from_text_and_bytes_with_or_without_a_byte_order_mark() -> None:
    expected = {"name": "روشنی", "asn": 134733}
    text = '{"name": "روشنی", "asn": 134733}'
    assert jsonload.loads(text, "x") == expected
    assert jsonload.loads(text.encode(), "x") == expected
    assert jsonload.loads(b"\xef\xbb\xbf" + text.encode(), "x") == expected


def test_an_unreadable_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as caught:
        jsonload.read(tmp_path / "missing.json")
    assert str(caught.value) == (
        f"file: {str(tmp_path / 'missing.json')!r} cannot be read (No such file or directory)"
    )


def test_a_file_name_that_is_not_utf8_is_shown_escaped(tmp_path: Path) -> None:
    path = Path(tmp_path.as_posix().encode().decode() + "/roas\udcff.json")
    with pytest.raises(ValidationError) as caught:
        jsonload.read(path)
    assert "roas\\udcff.json" in str(caught.value)
    assert str(caught.value).isprintable()
