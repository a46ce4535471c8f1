"""Tables printed to a pipe or a file are as wide as their content, never folded at 80 columns."""

from __future__ import annotations

from typer.testing import CliRunner

from tests.cli import run, set_up_pkix

LONG_NAME = "Karakoram Highlands Wireless Internet Services Private Limited Islamabad"


def test_a_table_on_a_pipe_keeps_every_header_and_cell_on_one_line(cli: CliRunner) -> None:
    set_up_pkix(cli)
    code, _, err = run(
        cli, "member", "add", "--asn", "58421", "--name", LONG_NAME, "--auto-ip",
        "--max-prefix-v4", "100", "--max-prefix-v6", "20",
    )  # fmt: skip
    assert code == 0, err
    code, out, err = run(cli, "member", "list")
    assert code == 0, err
    lines = out.splitlines()
    assert any(LONG_NAME in line and "58421" in line for line in lines), out
    header = next(line for line in lines if "asn" in line)
    assert "max_prefix_v4" in header and "max_prefix_v6" in header, out
    assert max(map(len, lines)) > 80  # wider than the default terminal, on purpose
