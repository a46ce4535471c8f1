"""The service layer as the web API will stand on it.

Every service that writes takes the actor from its caller (the CLI's
``IXP_ACTOR``, the API's signed-in user), never a default, so an API call is
never recorded as the CLI; an actor that cannot be recorded refuses the change.
Services return typed objects, which ``--json`` prints field for field, the same
for every command, in one vocabulary; the audit log keeps its own format.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import typer
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from ixp import demo, exchange, members
from ixp.cli.main import app
from ixp.errors import Conflict, NotFound, Remedy, ValidationError
from ixp.irr import service as irr_service
from ixp.ixf import ImportOptions
from ixp.models import AuditEntry
from ixp.rpki import service as rpki_service
from ixp.settings import get_settings
from tests.cli import run, set_up_pkix
from tests.dbsnapshot import snapshot
from tests.factories import pkix_test_exchange

WRITING_SERVICES: list[Callable[..., Any]] = [
    exchange.init_exchange,
    exchange.add_route_server,
    members.add_member,
    members.update_member,
    members.suspend_member,
    members.remove_member,
    irr_service.approve,
    rpki_service.load_file,
    demo.load_demo,
]


@pytest.mark.parametrize("service", WRITING_SERVICES, ids=lambda f: f.__qualname__)
def test_every_writing_service_requires_the_actor(service: Callable[..., Any]) -> None:
    actor = inspect.signature(service).parameters["actor"]
    assert actor.default is inspect.Parameter.empty
    assert actor.kind is inspect.Parameter.KEYWORD_ONLY


def test_an_ixf_import_requires_the_actor() -> None:
    actor = next(f for f in dataclasses.fields(ImportOptions) if f.name == "actor")
    assert actor.default is dataclasses.MISSING
    with pytest.raises(TypeError):
        ImportOptions()  # type: ignore[call-arg]


def test_changes_are_recorded_under_the_cli_actor(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch, session: Session
) -> None:
    monkeypatch.setenv("IXP_ACTOR", "noc-alice")
    get_settings.cache_clear()
    set_up_pkix(cli)
    assert run(cli, "member", "set", "38193", "--name", "Nayatel Pvt")[0] == 0
    actors = session.scalars(select(AuditEntry.actor)).all()
    assert len(actors) == 4 and set(actors) == {"noc-alice"}


@pytest.mark.parametrize(
    ("actor", "message"),
    [
        ("noc\x1b[2J", "error: settings: actor: 'noc\\x1b[2J' contains control character U+001B"),
        ("a" * 201, "error: settings: actor: '" + "a" * 59 + "… is longer than 200 characters"),
        ("  ", "error: settings: actor: '  ' must not be empty"),
    ],
)
def test_an_actor_that_cannot_be_recorded_is_one_line_and_nothing_is_written(
    cli: CliRunner,
    monkeypatch: pytest.MonkeyPatch,
    engine: Engine,
    actor: str,
    message: str,
) -> None:
    set_up_pkix(cli)
    before = snapshot(engine)
    monkeypatch.setenv("IXP_ACTOR", actor)
    get_settings.cache_clear()
    code, _, err = run(cli, "member", "set", "38193", "--name", "Nayatel Pvt")
    assert code == 2 and len(err.splitlines()) == 1
    assert err.startswith(message)
    assert snapshot(engine) == before


def test_a_service_refuses_an_actor_it_cannot_record(session: Session, engine: Engine) -> None:
    pkix_test_exchange(session)
    before = snapshot(engine)
    data = members.MemberInput(
        asn=38193, name="Nayatel", max_prefix_v4=1, max_prefix_v6=1, auto_ip=True
    )
    with pytest.raises(ValidationError, match=r"^actor: 'api\\nuser' contains control"):
        members.add_member(session, data, actor="api\nuser")
    assert snapshot(engine) == before


def _json(cli: CliRunner, *args: str) -> Any:
    code, out, err = run(cli, *args, "--json")
    assert code == 0, err
    return json.loads(out)


def test_every_member_command_prints_the_member_the_same_way(cli: CliRunner) -> None:
    set_up_pkix(cli)
    shown = _json(cli, "member", "show", "38193")
    assert list(shown) == [f.name for f in dataclasses.fields(members.MemberView)]
    assert _json(cli, "member", "list") == [shown]
    changed = _json(cli, "member", "set", "38193", "--max-prefix-v4", "300")
    assert changed == shown | {"max_prefix_v4": 300}
    suspended = _json(cli, "member", "suspend", "38193")
    assert suspended == changed | {"status": "suspended"}
    assert _json(cli, "member", "remove", "38193") == suspended
    added = _json(
        cli, "member", "add", "--asn", "38193", "--name", "Nayatel", "--auto-ip",
        "--max-prefix-v4", "100", "--max-prefix-v6", "20",
    )  # fmt: skip
    assert added == shown


def test_member_json_uses_the_input_field_names(cli: CliRunner) -> None:
    set_up_pkix(cli)
    shown = _json(cli, "member", "show", "38193")
    inputs = {f.name for f in dataclasses.fields(members.MemberInput)}
    assert set(shown) - inputs == {"route_servers"}
    assert shown["route_servers"] == [
        {"name": "rs1-isb", "ipv4_enabled": True, "ipv6_enabled": True}
    ]
    assert (shown["ipv4"], shown["max_prefix_v4"], shown["joined"]) == (["185.1.10.2"], 100, None)


def test_exchange_and_route_server_json_use_the_parameter_names(cli: CliRunner) -> None:
    set_up_pkix(cli)
    shown = _json(cli, "exchange", "show")
    assert set(shown) <= set(inspect.signature(exchange.init_exchange).parameters)
    assert (shown["lan_v4"], shown["lan_v6"]) == ("185.1.10.0/24", "2001:7f8:1::/64")
    (rs,) = _json(cli, "rs", "list")
    assert set(rs) <= set(inspect.signature(exchange.add_route_server).parameters)


# One word for each family-specific thing: ``_v4`` for settings and counts (as_set_v4,
# max_prefix_v4, lan_v4, prefixes_v4, roas_v4), ``ipv4`` for addresses.
OLD_WORDS = re.compile(r"^--?(?:max-prefix|lan|blackhole)[46]$|^--?\w+-(?:v|ipv)?[46]-")


def _options(command: Any, context: Any) -> Iterator[str]:
    """Every option name of ``command`` and its subcommands (a group lists them, loading
    each when asked)."""
    for param in command.params:
        yield from param.opts
    for name in getattr(command, "list_commands", lambda _: [])(context):
        yield from _options(command.get_command(context, name), context)


def test_cli_options_use_one_vocabulary_for_address_families() -> None:
    root = typer.main.get_command(app)
    options = set(_options(root, typer.Context(root)))
    assert {"--max-prefix-v4", "--lan-v4", "--blackhole-ipv4", "--as-set-v4", "--ipv4"} <= options
    assert sorted(o for o in options if OLD_WORDS.search(o)) == []


def test_the_audit_log_keeps_its_own_member_format(session: Session) -> None:
    """The keys written since the first release: renaming a view field must not change them."""
    pkix_test_exchange(session)
    data = members.MemberInput(asn=38193, name="N", max_prefix_v4=1, max_prefix_v6=1, auto_ip=True)
    members.add_member(session, data, actor="test")
    entry = session.scalars(select(AuditEntry).where(AuditEntry.entity == "member")).one()
    assert entry.after is not None and list(entry.after) == [
        "asn", "name", "legal_name", "status", "as_set_v4", "as_set_v6", "max_prefix4",
        "max_prefix6", "max_prefix_action", "ipv4", "ipv6", "macs", "speed_mbps",
        "peeringdb_id", "noc_email", "noc_phone", "peering_email", "url", "joined",
        "announcement_control", "blackholing", "third_party_next_hop", "route_servers",
    ]  # fmt: skip
    assert entry.after["route_servers"][0] == {"name": "rs1-isb", "ipv4": True, "ipv6": True}
    exchange_entry = session.scalars(select(AuditEntry).where(AuditEntry.entity == "exchange"))
    assert list(exchange_entry.one().after or {}) == [
        "name", "country", "asn", "url", "vlan_id", "lan4", "lan6", "blackhole_ipv4",
        "blackhole_ipv6",
    ]  # fmt: skip


def test_errors_carry_field_value_reason_and_remedy_for_any_front_end(session: Session) -> None:
    with pytest.raises(NotFound) as missing:
        exchange.get_exchange(session)
    assert (missing.value.field, missing.value.reason, missing.value.hint) == (
        "exchange",
        "none exists yet",
        Remedy.INIT_EXCHANGE,
    )
    assert "ixp" not in str(missing.value)
    pkix_test_exchange(session)
    data = members.MemberInput(
        asn=38193, name="N", max_prefix_v4=1, max_prefix_v6=1, ipv4="185.1.10.1"
    )
    with pytest.raises(Conflict) as taken:
        members.add_member(session, data, actor="test")
    assert (taken.value.field, taken.value.value, taken.value.reason) == (
        "ipv4",
        "185.1.10.1",
        "is already used by route server rs1-isb",
    )
    with pytest.raises(NotFound) as unknown:
        members.show_member(session, 9541)
    assert (unknown.value.field, unknown.value.reason) == (
        "member",
        "AS9541 is not a member of PKIX Test",
    )
