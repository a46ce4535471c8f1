"""``ixp user``: operators manage the web logins from the shell, through the API's service."""

from __future__ import annotations

import json

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from ixp import accounts
from ixp.cli.main import app
from ixp.errors import AccessDenied
from ixp.models import AuditEntry
from ixp.settings import Settings
from tests.cli import run, set_up_pkix

PASSWORD = "a long enough password"


@pytest.fixture
def setup(cli: CliRunner) -> CliRunner:
    return set_up_pkix(cli)


def add(cli: CliRunner, *args: str, password: str = PASSWORD) -> tuple[int, str, str]:
    result = cli.invoke(
        app,
        ["user", "add", *args, "--password-stdin"],
        input=password + "\n",
    )
    return result.exit_code, result.stdout, result.stderr


def test_add_list_passwd_remove(setup: CliRunner, session: Session, settings: Settings) -> None:
    assert add(setup, "noc-op", "--role", "operator")[0] == 0
    assert add(setup, "nayatel-noc", "--role", "member", "--member", "AS38193")[0] == 0

    code, out, _ = run(setup, "user", "list", "--json")
    listed = json.loads(out)
    assert code == 0
    assert [(u["username"], u["role"], u["member_asn"]) for u in listed] == [
        ("noc-op", "operator", None),
        ("nayatel-noc", "member", 38193),
    ]
    assert PASSWORD not in out and "argon2" not in out

    result = setup.invoke(
        app,
        ["user", "passwd", "noc-op", "--password-stdin"],
        input="another long password\n",
    )
    assert result.exit_code == 0, result.stderr
    user = accounts.authenticate(
        session, "noc-op", "another long password", address="127.0.0.1", settings=settings
    )
    assert user.username == "noc-op"
    with pytest.raises(AccessDenied):
        accounts.authenticate(session, "noc-op", PASSWORD, address="127.0.0.1", settings=settings)

    assert run(setup, "user", "remove", "nayatel-noc")[0] == 0
    assert [u["username"] for u in json.loads(run(setup, "user", "list", "--json")[1])] == [
        "noc-op"
    ]
    actions = [(e.action, e.entity_key) for e in session.query(AuditEntry).filter_by(entity="user")]
    assert actions == [
        ("create", "noc-op"),
        ("create", "nayatel-noc"),
        ("update", "noc-op"),
        ("delete", "nayatel-noc"),
    ]


@pytest.mark.parametrize(
    ("args", "password", "message"),
    [
        (("Bad Name", "--role", "operator"), PASSWORD, "error: username: 'Bad Name' must be"),
        (("noc", "--role", "operator"), "short", "error: password: '***' must be 10 to 1024"),
        (("noc", "--role", "member"), PASSWORD, "error: member: None is required"),
        (
            ("noc", "--role", "member", "--member", "64999"),
            PASSWORD,
            "error: member: AS64999 is not a member",
        ),
        (
            ("noc", "--role", "operator", "--member", "38193"),
            PASSWORD,
            "error: member: '38193' is only for",
        ),
        (("noc", "--role", "admin"), PASSWORD, "error: Invalid value for '--role'"),
    ],
)
def test_bad_input_is_one_line_and_creates_nobody(
    setup: CliRunner, args: tuple[str, ...], password: str, message: str
) -> None:
    code, _, err = add(setup, *args, password=password)
    assert code == 2
    assert err.startswith(message) and err.count("\n") == 1
    assert password not in err
    assert json.loads(run(setup, "user", "list", "--json")[1]) == []


def test_a_taken_name_is_a_conflict(setup: CliRunner) -> None:
    assert add(setup, "noc", "--role", "operator")[0] == 0
    code, _, err = add(setup, "noc", "--role", "operator")
    assert (code, err) == (2, "error: username: 'noc' is taken already\n")


def test_unknown_user_is_not_found(setup: CliRunner) -> None:
    for command in (("remove", "ghost"), ("passwd", "ghost", "--password-stdin")):
        code, _, err = run(setup, "user", *command)
        assert (code, err) == (2, "error: user: 'ghost' does not exist\n")
