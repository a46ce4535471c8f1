"""The service layer as the web API will stand on it: who changed what is always said.

Every service that writes takes the actor from its caller (the CLI's
``IXP_ACTOR``, the API's signed-in user), never a default, so an API call is
never recorded as the CLI; an actor that cannot be recorded refuses the change.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from ixp import demo, exchange, members
from ixp.errors import ValidationError
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
        asn=38193, name="Nayatel", max_prefix4=1, max_prefix6=1, auto_ip=True
    )
    with pytest.raises(ValidationError, match=r"^actor: 'api\\nuser' contains control"):
        members.add_member(session, data, actor="api\nuser")
    assert snapshot(engine) == before
