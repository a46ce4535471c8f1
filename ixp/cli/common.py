"""What every CLI command shares: the session, error handling and output.

Commands are thin: they parse options, call one service function in ``ixp/``
inside ``cli_session`` and print the result with ``emit``. Domain errors become
one line on stderr (``error: ...``, exit 2), never a traceback.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text
from sqlalchemy.orm import Session

from ixp import db
from ixp.errors import IxpError
from ixp.settings import Settings, get_settings

P = ParamSpec("P")
R = TypeVar("R")

console = Console()
err_console = Console(stderr=True)

JsonOption = typer.Option(False, "--json", help="Print machine-readable JSON instead of a table.")


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print one error line and return the Exit to raise."""
    err_console.print(f"error: {message}", markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(code)


def handles_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn domain errors into ``error: <message>`` and exit status 2."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except IxpError as exc:
            raise fail(str(exc)) from None

    return wrapper


@contextmanager
def cli_session(settings: Settings | None = None) -> Iterator[Session]:
    """A session on the configured database, closed afterwards."""
    settings = settings or get_settings()
    engine = db.engine_from_settings(settings)
    try:
        with db.session_factory(engine)() as session:
            yield session
    finally:
        engine.dispose()


def emit_json(data: Any) -> None:
    """Write ``data`` as JSON to stdout (dates and other objects as strings)."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def emit_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Print rows as a table; free text is printed literally (no rich markup)."""
    table = Table(title=title, show_lines=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(Text("" if cell is None else str(cell)) for cell in row))
    console.print(table)


def emit(
    as_json: bool, data: list[dict[str, Any]] | dict[str, Any], title: str, columns: Sequence[str]
) -> None:
    """Print a listing as JSON or as a table of the given dict keys."""
    if as_json:
        emit_json(data)
        return
    records = data if isinstance(data, list) else [data]
    emit_table(title, columns, [[record.get(c) for c in columns] for record in records])
