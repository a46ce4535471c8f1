"""What every CLI command shares: the session, error handling and output.

Commands are thin: they parse options, call one service function in ``ixp/``
inside ``cli_session`` and print the result with ``emit``. Domain errors become
one line on stderr (``error: ...``, exit 2), never a traceback; so do a
database that cannot be used and a malformed setting. Input with several bad
fields is one line per field. The remedy an error names (``Remedy``) is worded
here, as the commands and options that apply it: the domain never names them.

Whatever is printed may come from the database or the command line, so it is
hostile until proven otherwise: control characters are shown escaped (ESC as
``\\x1b``) and rich markup and emoji codes are printed as the text they are.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import pydantic
import typer
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text
from sqlalchemy.orm import Session

from ixp import audit, db
from ixp.errors import (
    AccessDenied,
    Conflict,
    HeldForApproval,
    IxpError,
    NotFound,
    RateLimited,
    Remedy,
    SourceUnavailable,
    ValidationError,
)
from ixp.rs.check import ConfigRejected
from ixp.settings import Settings, get_settings

P = ParamSpec("P")
R = TypeVar("R")

# What a terminal acts on instead of showing: C0 and C1 controls (ESC, CSI, NUL,
# BEL, newline), line and paragraph separators, bidirectional overrides and
# isolates (text that reads differently than it is), lone surrogates (cannot be
# written as UTF-8 at all).
_CONTROLS = "\x00-\x1f\x7f-\x9f"
_INVISIBLE = "\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff"
_UNPRINTABLE = re.compile(f"[{_CONTROLS}{_INVISIBLE}]")
# The same, for text whose line breaks and tabs are its layout.
_UNPRINTABLE_IN_LINES = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_INVISIBLE}]")
# json.dumps already escapes C0 controls inside strings; the rest may pass raw.
_UNPRINTABLE_IN_JSON = re.compile(f"[\x7f-\x9f{_INVISIBLE}]")


def _python_escape(match: re.Match[str]) -> str:
    return match.group().encode("unicode_escape").decode("ascii")


def printable(text: str) -> str:
    """``text`` with everything a terminal would act on written as a Python escape."""
    return _UNPRINTABLE.sub(_python_escape, text)


def printable_lines(text: str) -> str:
    """Multi-line ``text`` (a router snippet) as ``printable`` makes it, keeping its
    line breaks and tabs."""
    return _UNPRINTABLE_IN_LINES.sub(_python_escape, text)


def json_safe(text: str) -> str:
    """JSON text with what a terminal would act on written as ``\\uXXXX`` escapes.

    Such characters can only stand inside JSON strings, where the escape means
    the same character: the JSON value is exactly the same.
    """
    return _UNPRINTABLE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


class PlainConsole(Console):
    """A console that prints every string as plain text.

    Rich turns each string it prints (a message, a table title, header or cell)
    into text through ``render_str``; doing the escaping there, with markup and
    emoji codes off, covers every caller, including ones that forget to ask.
    """

    def render_str(self, text: str, **options: Any) -> Text:
        """The string, escaped, as literal text (no markup, emoji codes or highlighting)."""
        options.update(markup=False, emoji=False, highlight=False)
        return super().render_str(printable(text), **options)


_UNBOUNDED = 10_000
console = PlainConsole()
err_console = PlainConsole(stderr=True)

JsonOption = typer.Option(False, "--json", help="Print machine-readable JSON instead of a table.")


def say(message: str, *, stderr: bool = False) -> None:
    """Print one line of progress, outcome or a note (``stderr``), never wrapped."""
    (err_console if stderr else console).print(message, soft_wrap=True)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print one error line and return the Exit to raise."""
    err_console.print(f"error: {message}", soft_wrap=True)
    return typer.Exit(code)


# How the CLI words each remedy the domain names.
REMEDY_WORDS: dict[Remedy, str] = {
    Remedy.INIT_EXCHANGE: "run 'ixp exchange init' first",
    Remedy.DB_UPGRADE: "run 'ixp db upgrade'",
    Remedy.FORCE: "use --force to do it anyway",
    Remedy.LAB_UP: "run 'ixp lab up' first",
    Remedy.LAB_DOWN: "run 'ixp lab down' first",
    Remedy.APPROVE: "push again with --approve to go on anyway",
}

# The exit status of each kind of domain error: 2, or 1 for a check that failed.
# ``IxpError`` stands for the few module errors not yet placed in a category.
EXIT_STATUS: dict[type[IxpError], int] = {
    ValidationError: 2,
    NotFound: 2,
    Conflict: 2,
    SourceUnavailable: 2,
    HeldForApproval: 2,
    AccessDenied: 2,
    RateLimited: 2,
    ConfigRejected: 1,
    IxpError: 2,
}


def exit_status(kind: type[IxpError]) -> int:
    """The exit status for an error of ``kind``: that of its nearest mapped class."""
    return next(EXIT_STATUS[k] for k in kind.__mro__ if k in EXIT_STATUS)


def error_lines(exc: IxpError) -> list[str]:
    """What the CLI prints for ``exc``: one line per bad field, each with its remedy worded."""
    errors: tuple[IxpError, ...] = exc.errors if isinstance(exc, ValidationError) else (exc,)
    return [
        f"{error}; {REMEDY_WORDS[error.hint]}" if error.hint is not None else str(error)
        for error in errors
    ]


def fail_on(exc: IxpError) -> typer.Exit:
    """Print ``exc`` as ``error:`` lines and return the Exit (with its status) to raise."""
    *first, last = error_lines(exc)
    for line in first:
        err_console.print(f"error: {line}", soft_wrap=True)
    return fail(last, exit_status(type(exc)))


def _settings_error(exc: pydantic.ValidationError) -> ValidationError:
    """The first problem of a malformed setting (environment or TOML), as a domain error."""
    first = exc.errors()[0]
    name = ".".join(str(part) for part in first["loc"]) or "settings"
    message = first["msg"]
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    reason = f"is invalid: {message[:1].lower()}{message[1:]}{more}"
    return ValidationError(f"settings: {name}", first.get("input"), reason)


def checked_settings() -> Settings:
    """The process settings; a malformed value is a domain error naming the setting.

    ``actor`` is checked too: every change is recorded under it, and a command must
    not get as far as writing before it is refused.
    """
    try:
        settings = get_settings()
    except pydantic.ValidationError as exc:
        raise _settings_error(exc) from None
    audit.check_actor(settings.actor, "settings: actor")
    return settings


def handles_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn domain errors, malformed settings and an unusable database into one
    ``error: <message>`` line and exit status 2; a bug keeps its traceback."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            url = checked_settings().effective_database_url
            with db.reported_errors(url):
                return func(*args, **kwargs)
        except IxpError as exc:
            raise fail_on(exc) from None

    return wrapper


@contextmanager
def cli_session(settings: Settings | None = None) -> Iterator[Session]:
    """A session on the configured database, closed afterwards."""
    settings = settings or checked_settings()
    engine = db.engine_from_settings(settings)
    try:
        with db.session_factory(engine)() as session:
            yield session
    finally:
        engine.dispose()


def plain(data: Any) -> Any:
    """``data`` as JSON's kinds of value: a service's dataclass as an object of its fields,
    tuples as lists; what JSON has no kind for (dates) is left to ``emit_json``."""
    if dataclasses.is_dataclass(data) and not isinstance(data, type):
        return {field.name: plain(getattr(data, field.name)) for field in dataclasses.fields(data)}
    if isinstance(data, list | tuple):
        return [plain(item) for item in data]
    if isinstance(data, dict):
        return {key: plain(value) for key, value in data.items()}
    return data


def _json_default(value: object) -> str:
    """Times as ISO 8601 (to the second), anything else JSON cannot hold as its text."""
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def emit_json(data: Any) -> None:
    """Write ``data`` (a service's result) as JSON to stdout, the same way for every command:
    objects with their field names, times in ISO 8601; non-ASCII text stays readable, see
    ``json_safe``."""
    text = json.dumps(plain(data), indent=2, ensure_ascii=False, default=_json_default)
    sys.stdout.write(json_safe(text) + "\n")


def emit_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Print rows as a table; every cell, header and the title are printed literally."""
    table = Table(title=title, show_lines=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
    if console.is_terminal:
        console.print(table)
        return
    # A pipe or a file has no width: print the table as wide as its widest row, so
    # no header or cell ("Established") is folded at rich's default of 80 columns.
    # (print's own width= is capped at the console's width, so widen the console.)
    natural = Measurement.get(console, console.options.update_width(_UNBOUNDED), table).maximum
    narrow, console.width = console.width, max(console.width, natural)
    try:
        console.print(table)
    finally:
        console.width = narrow


def emit(as_json: bool, data: Any, title: str, columns: Sequence[str]) -> None:
    """Print a service's result (one object, or a list of them) as JSON or as a table of
    the given fields."""
    if as_json:
        emit_json(data)
        return
    records = plain(data)
    rows = records if isinstance(records, list) else [records]
    emit_table(title, columns, [[_cell(row.get(c)) for c in columns] for row in rows])


def _cell(value: Any) -> Any:
    """A table cell: lists joined with commas, times to the second."""
    if isinstance(value, list):
        return ", ".join(map(str, value))
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    return value
