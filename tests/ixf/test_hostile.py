"""Hostile and broken IX-F files: one line naming the file, key or member, and nothing written.

Every test runs on SQLite and on PostgreSQL (the ``session`` fixture): the two
disagree about NUL characters, lone surrogates and over-long values, so a file
that one of them stores and the other refuses with a traceback is a bug here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from ixp import ixf
from ixp.errors import IxpError
from ixp.members import show_member
from tests.cli import run
from tests.dbsnapshot import snapshot
from tests.ixf import samples


def _write(tmp_path: Path, content: str | bytes) -> Path:
    path = tmp_path / "members.json"
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def _refused(session: Session, engine: Engine, path: Path) -> str:
    """The one-line error an import of ``path`` gives; the database must be unchanged."""
    before = snapshot(engine)
    with pytest.raises(IxpError) as caught:
        ixf.import_file(session, path, samples.OPTIONS)
    message = str(caught.value)
    assert "\n" not in message and message.isprintable()
    assert snapshot(engine) == before
    return message


def test_a_file_nested_100k_deep_is_refused(
    session: Session, engine: Engine, tmp_path: Path
) -> None:
    path = _write(tmp_path, '{"member_list": ' + "[" * 100_000 + "]" * 100_000 + "}")
    assert _refused(session, engine, path) == (
        f"file: {str(path)!r} is not usable JSON (nested too deeply)"
    )


def test_an_integer_of_5000_digits_is_refused(
    session: Session, engine: Engine, tmp_path: Path
) -> None:
    text = json.dumps(samples.document()).replace("139871", "9" * 5000)
    path = _write(tmp_path, text)
    assert _refused(session, engine, path) == (
        f"file: {str(path)!r} is not usable JSON (a number has more than 4300 digits)"
    )


def test_an_asn_of_4000_digits_is_refused_in_a_short_line(
    session: Session, engine: Engine, tmp_path: Path
) -> None:
    path = _write(tmp_path, json.dumps(samples.document()).replace("139871", "9" * 4000))
    assert _refused(session, engine, path) == (
        "member_list[3].asnum: " + "9" * 60 + "… is not a 32-bit AS number"
    )


def test_a_file_that_is_not_utf8_is_refused(
    session: Session, engine: Engine, tmp_path: Path
) -> None:
    raw = json.dumps(samples.document(), ensure_ascii=False).encode()
    path = _write(tmp_path, raw.replace(b"Jugnu", b"Jugnu\xff"))
    assert _refused(session, engine, path).startswith(f"file: {str(path)!r} is not UTF-8 text")


def _member_field(asn: int, key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda doc: samples.member(doc, asn).update({key: value})


def _ixp_field(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda doc: doc["ixp_list"][0].update({key: value})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param(
            _member_field(139871, "name", "Jugnu\ud800"),
            "member_list[3] (AS139871): name: 'Jugnu\\ud800' contains lone surrogate U+D800 "
            "at position 5",
            id="lone-surrogate-in-member-name",
        ),
        pytest.param(
            _member_field(139871, "name", "Jugnu\x00Wireless"),
            "member_list[3] (AS139871): name: 'Jugnu\\x00Wireless' contains control character "
            "U+0000 at position 5",
            id="nul-in-member-name",
        ),
        pytest.param(
            _member_field(139871, "name", "Jugnu\u2028Wireless"),
            "member_list[3] (AS139871): name: 'Jugnu\\u2028Wireless' contains line separator "
            "U+2028 at position 5",
            id="line-separator-in-member-name",
        ),
        pytest.param(
            _member_field(139871, "contact_email", ["noc\x00@jugnu.example"]),
            "member_list[3] (AS139871): noc_email: 'noc\\x00@jugnu.example' contains control "
            "character U+0000 at position 3",
            id="nul-in-contact-email",
        ),
        pytest.param(
            _member_field(139871, "contact_phone", ["+92\udc00"]),
            "member_list[3] (AS139871): noc_phone: '+92\\udc00' contains lone surrogate U+DC00 "
            "at position 3",
            id="surrogate-in-contact-phone",
        ),
        pytest.param(
            _member_field(139871, "url", "https://jugnu.example/\x1b[2J"),
            "member_list[3] (AS139871): url: 'https://jugnu.example/\\x1b[2J' contains control "
            "character U+001B at position 22",
            id="escape-sequence-in-url",
        ),
        pytest.param(
            _ixp_field("name", "Lahore\x00IX"),
            "ixp_list[0].name: 'Lahore\\x00IX' contains control character U+0000 at position 6",
            id="nul-in-exchange-name",
        ),
        pytest.param(
            _ixp_field("name", "Lahore\ud83dIX"),
            "ixp_list[0].name: 'Lahore\\ud83dIX' contains lone surrogate U+D83D at position 6",
            id="half-an-emoji-in-exchange-name",
        ),
        pytest.param(
            _ixp_field("name", "L" * 190),
            "ixp_list[0].name: '" + "L" * 59 + "… is longer than 188 characters",
            id="exchange-name-too-long-for-its-lan-name",
        ),
        pytest.param(
            lambda doc: doc["ixp_list"][0].update(shortname="LHR\x00", name=None),
            "ixp_list[0].shortname: 'LHR\\x00' contains control character U+0000 at position 3",
            id="nul-in-exchange-shortname",
        ),
        pytest.param(
            _ixp_field("url", "https://lhr.example/\x00"),
            "ixp_list[0]: url: 'https://lhr.example/\\x00' contains control character U+0000 "
            "at position 20",
            id="nul-in-exchange-url",
        ),
    ],
)
def test_hostile_text_is_refused_into_an_empty_database(
    session: Session,
    engine: Engine,
    tmp_path: Path,
    change: Callable[[dict[str, Any]], None],
    message: str,
) -> None:
    doc = samples.document()
    change(doc)
    path = _write(tmp_path, json.dumps(doc))  # ensure_ascii: "\ud800" as a JSON escape
    assert _refused(session, engine, path) == message


def test_hostile_text_in_a_reimport_leaves_the_members_as_they_were(
    session: Session, engine: Engine, tmp_path: Path
) -> None:
    ixf.import_document(session, samples.document(), samples.OPTIONS)
    doc = samples.document()
    samples.member(doc, 58421)["name"] = "renamed before the bad member"
    samples.member(doc, 139871)["name"] = "Jugnu\x00"
    assert _refused(session, engine, _write(tmp_path, json.dumps(doc))) == (
        "member_list[3] (AS139871): name: 'Jugnu\\x00' contains control character U+0000 "
        "at position 5"
    )


def _second_connection(doc: dict[str, Any], asn: int, vlan: dict[str, Any]) -> None:
    connections = samples.member(doc, asn)["connection_list"]
    connections.append({"ixp_id": 7, "if_list": [{"if_speed": 1000}], "vlan_list": [vlan]})


@pytest.mark.parametrize(
    ("family", "first", "extra"),
    [(4, "103.151.232.10", "103.151.232.20"), (6, "2001:de8:4e::e435:1", "2001:de8:4e::e435:2")],
)
def test_a_second_address_of_one_family_is_refused_naming_member_and_address(
    session: Session, engine: Engine, tmp_path: Path, family: int, first: str, extra: str
) -> None:
    doc = samples.document()
    _second_connection(doc, 58421, {"vlan_id": 200, f"ipv{family}": {"address": extra}})
    path = _write(tmp_path, json.dumps(doc))
    assert _refused(session, engine, path) == (
        f"member_list[1].connection_list[1].vlan_list[0].ipv{family}.address: AS58421 has a "
        f"second IPv{family} address {extra!r} (the first is {first!r}); a member has one "
        f"address per family, so the file cannot be imported without dropping one"
    )


def test_a_second_address_in_the_same_connection_is_refused_too(session: Session) -> None:
    doc = samples.document()
    vlans = samples.member(doc, 139871)["connection_list"][0]["vlan_list"]
    vlans.append({"vlan_id": 200, "ipv4": {"address": "103.151.232.99"}})
    with pytest.raises(IxpError, match=r"AS139871 has a second IPv4 address '103.151.232.99'"):
        ixf.import_document(session, doc, samples.OPTIONS)


def test_the_same_address_on_two_connections_is_one_address(session: Session) -> None:
    doc = samples.document()
    _second_connection(doc, 139871, {"vlan_id": 200, "ipv4": {"address": "103.151.232.12"}})
    _second_connection(doc, 139871, {"vlan_id": 200, "ipv6": {"address": "2001:DE8:4E::12"}})
    ixf.import_document(session, doc, samples.OPTIONS)
    jugnu = show_member(session, 139871)
    assert (jugnu.ipv4, jugnu.ipv6) == (("103.151.232.12",), ("2001:de8:4e::12",))
    assert jugnu.speed_mbps == 2000


@pytest.mark.parametrize("ixp_id", [None, 7])
def test_an_empty_ixp_list_says_it_is_empty(session: Session, ixp_id: int | None) -> None:
    doc = samples.document() | {"ixp_list": []}
    with pytest.raises(IxpError) as caught:
        ixf.import_document(session, doc, ixf.ImportOptions(ixp_id=ixp_id, actor="test"))
    assert str(caught.value) == "ixp_list: is empty: the file describes no exchange"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(
            "[" * 100_000, "file: {path!r} is not usable JSON (nested too deeply)", id="deep"
        ),
        pytest.param(
            json.dumps(samples.document()).replace("Jugnu Wireless", "Jugnu\\u0000"),
            "member_list[3] (AS139871): name: 'Jugnu\\x00' contains control character U+0000 "
            "at position 5",
            id="nul",
        ),
    ],
)
def test_the_cli_exits_2_with_one_line(
    cli: CliRunner, engine: Engine, tmp_path: Path, content: str, message: str
) -> None:
    before = snapshot(engine)
    path = _write(tmp_path, content)
    code, _, err = run(cli, "import", "ixf", str(path))
    assert (code, err) == (2, f"error: {message.format(path=str(path))}\n")
    assert snapshot(engine) == before
