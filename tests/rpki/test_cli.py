"""`ixp rpki load|show` as an operator runs them."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tests.cli import run

DATA = Path(__file__).resolve().parent.parent / "data" / "rpki"


def test_load_then_show(cli: CliRunner) -> None:
    code, out, err = run(cli, "rpki", "load", str(DATA / "rpki-client.json"), "--json")
    assert code == 0, err
    loaded = json.loads(out)
    assert (loaded["format"], loaded["roas_v4"], loaded["roas_v6"]) == ("rpki-client", 3, 1)
    code, out, err = run(cli, "rpki", "show", "--json")
    assert code == 0, err
    shown = json.loads(out)
    assert shown["roas"] == 4 and shown["source"] == str((DATA / "rpki-client.json").resolve())
    code, out, _ = run(cli, "rpki", "show")
    assert code == 0 and "rpki-client" in out


def test_bad_file_and_shrink_are_one_line_errors(cli: CliRunner, tmp_path: Path) -> None:
    assert run(cli, "rpki", "load", str(DATA / "routinator.json"))[0] == 0
    bad = tmp_path / "bad.json"
    bad.write_text('{"roas": [{"asn": "AS1", "prefix": "193.0.0.0/21", "maxLength": 40}]}')
    code, _, err = run(cli, "rpki", "load", str(bad))
    assert (code, err) == (2, "error: roas[0].maxLength: 40 is more than 32\n")
    small = tmp_path / "small.json"
    small.write_text('{"roas": [{"asn": "AS1", "prefix": "193.0.0.0/21", "maxLength": 24}]}')
    code, _, err = run(cli, "rpki", "load", str(small))
    assert code == 2 and "has 1 ROAs against 4 loaded now" in err
    assert err.endswith("; check the validator; use --force to do it anyway\n")
    empty = tmp_path / "empty.json"
    empty.write_text('{"roas": []}')
    code, _, err = run(cli, "rpki", "load", str(empty))
    assert (code, err) == (2, f"error: file: '{empty}' has no ROAs; use --force to do it anyway\n")
    code, out, _ = run(cli, "rpki", "load", str(small), "--force", "--json")
    assert code == 0 and json.loads(out)["forced"] is True
