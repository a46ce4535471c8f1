"""``ixp user ...``: the accounts of the web API and portal (operators and members' users)."""

from __future__ import annotations

import sys

import typer

from ixp import accounts
from ixp.cli.common import JsonOption, checked_settings, cli_session, emit, handles_errors, say
from ixp.models import Role

user_app = typer.Typer(
    help="Web API and portal users: add, list, remove, passwd.", no_args_is_help=True
)

_COLUMNS = ("username", "role", "member_asn", "member_name", "created_at", "last_login_at")
PasswordStdin = typer.Option(
    False, "--password-stdin", help="Read the password from the first line of stdin."
)


def _password(from_stdin: bool) -> str:
    """The new password: from stdin (scripts) or asked twice at the terminal, never echoed."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    value: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return value


@user_app.command("add")
@handles_errors
def user_add(
    username: str = typer.Argument(..., help="Sign-in name: a-z, 0-9 and . _ @ -"),
    role: Role = typer.Option(..., "--role", help="operator (everything) or member (its own)."),
    member: str | None = typer.Option(None, "--member", help="The member's ASN (member users)."),
    password_stdin: bool = PasswordStdin,
    as_json: bool = JsonOption,
) -> None:
    """Create a user; a member user sees and changes only its own network."""
    settings = checked_settings()
    accounts.check_username(username)
    password = _password(password_stdin)
    with cli_session(settings) as session:
        view = accounts.add_user(
            session,
            username=username,
            password=password,
            role=role.value,
            member_asn=member,
            actor=settings.actor,
        )
    emit(as_json, view, "user added", _COLUMNS)


@user_app.command("list")
@handles_errors
def user_list(as_json: bool = JsonOption) -> None:
    """Every user and the member it belongs to."""
    with cli_session() as session:
        emit(as_json, accounts.list_users(session), "users", _COLUMNS)


@user_app.command("remove")
@handles_errors
def user_remove(username: str = typer.Argument(..., help="The user to remove.")) -> None:
    """Remove a user; its API tokens and browser sessions stop working at once."""
    settings = checked_settings()
    with cli_session(settings) as session:
        accounts.remove_user(session, username, actor=settings.actor)
    say(f"user {username} removed")


@user_app.command("passwd")
@handles_errors
def user_passwd(
    username: str = typer.Argument(..., help="Whose password to set."),
    password_stdin: bool = PasswordStdin,
) -> None:
    """Set a user's password; the user's browser sessions end."""
    settings = checked_settings()
    with cli_session(settings) as session:
        accounts.get_user(session, username)  # before asking for a password it cannot use
        password = _password(password_stdin)
        accounts.set_password(session, username, password, actor=settings.actor)
    say(f"password of {username} changed")
