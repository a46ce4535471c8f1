"""`ixp import ixf` and `ixp export ixf` through the real CLI parser."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from ixp.cli.main import app
from ixp.settings import get_settings
from tests.dbsnapshot import snapshot
from tests.ixf import samples


def write(path: Path, document: object) -> Path:
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path


def test_import_then_export_to_file_and_stdout(cli: CliRunner, tmp_path: Path) -> None:
    source = write(tmp_path / "in.json", samples.document())

    imported = cli.invoke(app, ["import", "ixf", str(source), "--json"])
    exported = cli.invoke(app, ["export", "ixf", "--out", str(tmp_path / "out.json")])
    printed = cli.invoke(app, ["export", "ixf"])

    assert imported.exit_code == 0, imported.stderr
    result = json.loads(imported.stdout)
    assert result["exchange_created"] is True
    assert sorted(result["created"]) == [58421, 134733, 139871]
    assert result["route_servers_added"] == ["rs1-isb"]
    assert exported.exit_code == 0, exported.stderr
    text = (tmp_path / "out.json").read_text(encoding="utf-8")
    assert printed.stdout == text
    assert samples.schema_errors(text) == []
    assert "روشنی براڈبینڈ" in text


def test_second_import_reports_everything_unchanged(
    cli: CliRunner, tmp_path: Path, engine: Engine
) -> None:
    source = write(tmp_path / "in.json", samples.document())
    cli.invoke(app, ["import", "ixf", str(source)])
    before = snapshot(engine)

    again = cli.invoke(app, ["import", "ixf", str(source), "--json"])

    assert again.exit_code == 0, again.stderr
    assert json.loads(again.stdout)["created"] == []
    assert sorted(json.loads(again.stdout)["unchanged"]) == [58421, 134733, 139871]
    assert snapshot(engine) == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(
            '{"version": "1.0", "member_list": [',
            "file: '{path}' is not JSON (Expecting value at line 1 column 36)",
            id="invalid-json",
        ),
        pytest.param(
            json.dumps({k: v for k, v in samples.document().items() if k != "member_list"}),
            "member_list: required key is missing",
            id="no-member_list",
        ),
        pytest.param(
            json.dumps(samples.document() | {"version": "0.6"}),
            "version: '0.6' is not supported (only IX-F schema 1.0)",
            id="wrong-version",
        ),
    ],
)
def test_bad_file_exits_2_with_one_line_and_changes_nothing(
    cli: CliRunner, tmp_path: Path, engine: Engine, content: str, message: str
) -> None:
    cli.invoke(app, ["import", "ixf", str(write(tmp_path / "good.json", samples.document()))])
    before = snapshot(engine)
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")

    result = cli.invoke(app, ["import", "ixf", str(path)])

    assert result.exit_code == 2
    assert result.stderr == f"error: {message.format(path=path)}\n"
    assert snapshot(engine) == before


def test_bad_member_exits_2_naming_member_and_field(
    cli: CliRunner, tmp_path: Path, engine: Engine
) -> None:
    before = snapshot(engine)
    doc = samples.document()
    samples.vlan_entry(doc, 139871)["ipv4"]["as_macro"] = "AS-"

    result = cli.invoke(app, ["import", "ixf", str(write(tmp_path / "bad.json", doc))])

    assert result.exit_code == 2
    assert result.stderr == (
        "error: member_list[3] (AS139871): as_set_v4: 'AS-' is not a valid AS-SET name\n"
    )
    assert snapshot(engine) == before


def test_missing_file_is_one_line(cli: CliRunner, tmp_path: Path) -> None:
    result = cli.invoke(app, ["import", "ixf", str(tmp_path / "nope.json")])

    assert result.exit_code == 2
    assert result.stderr == (
        f"error: file: {str(tmp_path / 'nope.json')!r} cannot be read (No such file or directory)\n"
    )
    assert result.stderr.count("\n") == 1


def test_lab_asns_follow_the_allow_lab_setting(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = samples.document()
    samples.member(doc, 139871)["asnum"] = 65001
    path = write(tmp_path / "lab.json", doc)

    refused = cli.invoke(app, ["import", "ixf", str(path)])
    monkeypatch.setenv("IXP_ALLOW_LAB_ASNS", "1")
    get_settings.cache_clear()
    accepted = cli.invoke(app, ["import", "ixf", str(path), "--json"])

    assert refused.exit_code == 2
    assert "AS65001" in refused.stderr
    assert accepted.exit_code == 0, accepted.stderr
    assert 65001 in json.loads(accepted.stdout)["created"]
