"""The operator's commands: `ixp exchange|rs|member ...` through the real CLI parser."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from tests.cli import run
from tests.dbsnapshot import snapshot


@pytest.fixture
def setup(cli: CliRunner) -> CliRunner:
    steps = [
        (
            "exchange",
            "init",
            "--name",
            "PKIX Test",
            "--asn",
            "38195",
            "--lan-v4",
            "185.1.10.0/24",
            "--lan-v6",
            "2001:7f8:1::/64",
        ),
        (
            "rs",
            "add",
            "--name",
            "rs1-isb",
            "--asn",
            "38195",
            "--router-id",
            "185.1.10.1",
            "--ipv4",
            "185.1.10.1",
            "--ipv6",
            "2001:7f8:1::1",
        ),
        (
            "member",
            "add",
            "--asn",
            "38193",
            "--name",
            "Nayatel",
            "--as-set",
            "AS-NAYATEL",
            "--auto-ip",
            "--max-prefix-v4",
            "100",
            "--max-prefix-v6",
            "20",
            "--mac",
            "00:11:22:33:44:55",
        ),
    ]
    for step in steps:
        code, _, err = run(cli, *step)
        assert code == 0, err
    return cli


def test_member_list_json_is_machine_readable(setup: CliRunner) -> None:
    code, out, _ = run(setup, "member", "list", "--json")
    assert code == 0
    rows = json.loads(out)
    assert [(r["asn"], r["ipv4"], r["ipv6"]) for r in rows] == [
        (38193, ["185.1.10.2"], ["2001:7f8:1::9531:1"])
    ]


def test_member_show_and_set(setup: CliRunner) -> None:
    code, _, err = run(setup, "member", "set", "38193", "--max-prefix-v4", "300", "--blackholing")
    assert code == 0, err
    code, out, _ = run(setup, "member", "show", "AS38193", "--json")
    record = json.loads(out)
    assert (record["max_prefix_v4"], record["blackholing"]) == (300, True)
    code, out, _ = run(setup, "member", "show", "38193")
    assert code == 0 and "AS-NAYATEL" in out


def test_suspend_then_remove(setup: CliRunner) -> None:
    assert run(setup, "member", "suspend", "38193")[0] == 0
    assert (
        json.loads(run(setup, "member", "list", "--json", "--status", "suspended")[1])[0]["asn"]
        == 38193
    )
    assert run(setup, "member", "remove", "38193")[0] == 0
    assert json.loads(run(setup, "member", "list", "--json")[1]) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            (
                "member",
                "add",
                "--asn",
                "65000",
                "--name",
                "X",
                "--auto-ip",
                "--max-prefix-v4",
                "1",
                "--max-prefix-v6",
                "1",
            ),
            "error: asn: '65000' is a private ASN (RFC 6996); allowed only for lab use",
        ),
        (
            (
                "member",
                "add",
                "--asn",
                "9541",
                "--name",
                "X",
                "--ipv4",
                "185.1.10.2",
                "--max-prefix-v4",
                "1",
                "--max-prefix-v6",
                "1",
            ),
            "error: ipv4: '185.1.10.2' is already used by AS38193",
        ),
        (
            (
                "member",
                "add",
                "--asn",
                "9541",
                "--name",
                "X",
                "--ipv4",
                "10.0.0.1",
                "--max-prefix-v4",
                "1",
                "--max-prefix-v6",
                "1",
            ),
            "error: ipv4: '10.0.0.1' is outside the peering LAN 185.1.10.0/24",
        ),
        (
            (
                "member",
                "add",
                "--asn",
                "9541",
                "--name",
                "X",
                "--auto-ip",
                "--as-set",
                "AS FOO",
                "--max-prefix-v4",
                "1",
                "--max-prefix-v6",
                "1",
            ),
            "error: as_set: 'AS FOO' is not a valid AS-SET name",
        ),
        (
            (
                "member",
                "add",
                "--asn",
                "9541",
                "--name",
                "X",
                "--auto-ip",
                "--mac",
                "nope",
                "--max-prefix-v4",
                "1",
                "--max-prefix-v6",
                "1",
            ),
            "error: macs: 'nope' is not a MAC address",
        ),
        (
            ("member", "set", "38193", "--ipv6", "2001:7f8:9::1"),
            "error: ipv6: '2001:7f8:9::1' is outside the peering LAN 2001:7f8:1::/64",
        ),
        (("member", "show", "9541"), "error: member: AS9541 is not a member of PKIX Test"),
        (
            (
                "rs",
                "add",
                "--name",
                "RS 1",
                "--asn",
                "38195",
                "--router-id",
                "185.1.10.9",
                "--ipv4",
                "185.1.10.9",
            ),
            "error: name: 'RS 1' must be lower-case letters, digits and '-' (max 31)",
        ),
        (
            ("exchange", "init", "--name", "Other", "--asn", "38195", "--lan-v4", "185.1.20.1/24"),
            "error: lan_v4: '185.1.20.1/24' has host bits set (network is 185.1.20.0/24)",
        ),
    ],
)
def test_bad_input_prints_one_line_exits_2_and_changes_nothing(
    setup: CliRunner, engine: Engine, args: tuple[str, ...], message: str
) -> None:
    before = snapshot(engine)
    code, out, err = run(setup, *args)
    assert code == 2
    assert err.strip() == message
    assert "Traceback" not in out + err
    assert snapshot(engine) == before


def test_db_upgrade_is_idempotent(cli: CliRunner) -> None:
    assert run(cli, "db", "upgrade")[0] == 0
    assert run(cli, "db", "upgrade")[0] == 0


def test_every_bad_field_is_one_line_and_nothing_is_written(
    setup: CliRunner, engine: Engine
) -> None:
    before = snapshot(engine)
    code, out, err = run(
        setup, "member", "add", "--asn", "AS-X", "--name", "X", "--ipv4", "10.0.0.1",
        "--mac", "nope", "--max-prefix-v4", "0", "--max-prefix-v6", "1",
    )  # fmt: skip
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        "error: asn: 'AS-X' is not an AS number",
        "error: max_prefix_v4: 0 must be a whole number from 1 to 10000000",
        "error: ipv4: '10.0.0.1' is outside the peering LAN 185.1.10.0/24",
        "error: macs: 'nope' is not a MAC address",
    ]
    code, _, err = run(
        setup, "exchange", "init", "--name", "Other", "--asn", "0", "--lan-v4", "185.1.20.1/24",
        "--country", "Pakistan", "--blackhole-ipv4", "185.1.20.66",
    )  # fmt: skip
    assert code == 2
    assert err.splitlines() == [
        "error: country: 'Pakistan' is not a two-letter country code",
        "error: asn: '0' is reserved (RFC 7607)",
        "error: lan_v4: '185.1.20.1/24' has host bits set (network is 185.1.20.0/24)",
    ]
    assert snapshot(engine) == before
