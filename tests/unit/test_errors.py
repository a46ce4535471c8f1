"""The exception tree of ``ixp/errors.py``: messages, categories, remedies, exit statuses.

Each error says what is wrong (field, value, reason) and, optionally, what would
fix it as a ``Remedy``; only a front end (the CLI here, the API later) words a
remedy as a command or an option, so no domain module may.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import ixp
from ixp.cli.common import EXIT_STATUS, REMEDY_WORDS, error_lines, exit_status
from ixp.errors import (
    CATEGORIES,
    InvalidInput,
    IxpError,
    NotFound,
    Problems,
    Remedy,
    SourceUnavailable,
    ValidationError,
    shown,
)
from ixp.rs.check import ConfigRejected

PACKAGE = Path(ixp.__file__).resolve().parent
# Errors that subclass IxpError directly, in modules outside this change; each belongs
# under a category (see the report of this change). The test fails once one is
# placed, so the list only shrinks.
NOT_YET_IN_A_CATEGORY = {
    "ixp.bird.control.BirdCommandError",
    "ixp.rs.check.ConfigRejected",
}
# A remedy worded as a command or an option: "run 'ixp db upgrade'", "use --force".
CLI_WORDING = re.compile(r"\brun '?ixp |\b(?:use|with) --[a-z]")


def name(kind: type) -> str:
    return f"{kind.__module__}.{kind.__qualname__}"


def all_error_classes() -> list[type[IxpError]]:
    """Every IxpError subclass defined anywhere in the package."""
    for module in pkgutil.walk_packages(ixp.__path__, "ixp."):
        importlib.import_module(module.name)
    found: list[type[IxpError]] = []
    pending: list[type[IxpError]] = [IxpError]
    while pending:
        kind = pending.pop()
        found.append(kind)
        pending.extend(kind.__subclasses__())
    return sorted(found[1:], key=name)


@pytest.mark.parametrize("kind", all_error_classes(), ids=name)
def test_every_error_has_an_exit_status_from_its_category(kind: type[IxpError]) -> None:
    categories = [c for c in CATEGORIES if issubclass(kind, c)]
    if name(kind) in NOT_YET_IN_A_CATEGORY:
        assert categories == [], f"{name(kind)} is in a category now: drop it from the list"
    else:
        assert len(categories) == 1, f"{name(kind)} must be under exactly one category"
    mapped = next(k for k in kind.__mro__ if k in EXIT_STATUS)
    assert mapped is not IxpError or name(kind) in NOT_YET_IN_A_CATEGORY
    assert exit_status(kind) in (1, 2)


def test_a_failed_check_exits_1_everything_else_2() -> None:
    assert exit_status(ConfigRejected) == 1
    assert {exit_status(c) for c in CATEGORIES} == {2}


def test_every_remedy_has_cli_wording() -> None:
    assert set(REMEDY_WORDS) == set(Remedy)
    for remedy, words in REMEDY_WORDS.items():
        assert words.strip() and "\n" not in words, remedy


def _strings_outside_docstrings(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


DOMAIN_SOURCES = sorted(p for p in PACKAGE.rglob("*.py") if "cli" not in p.parts)


@pytest.mark.parametrize("path", DOMAIN_SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_domain_message_words_a_remedy_as_a_command_or_option(path: Path) -> None:
    worded = [
        (line, text) for line, text in _strings_outside_docstrings(path) if CLI_WORDING.search(text)
    ]
    assert worded == []


def test_the_wording_check_finds_cli_wording() -> None:
    for text in ("; run 'ixp db upgrade'", "(run ixp irr sync)", "or use --force", "with --force"):
        assert CLI_WORDING.search(text), text
    for text in ("run the monitor", "`monitor run --once`", "use auto_ip", "used by AS38193"):
        assert not CLI_WORDING.search(text), text


def test_a_message_names_field_value_and_reason_and_leaves_out_what_is_not_given() -> None:
    assert str(ValidationError("asn", "AS0", "is reserved")) == "asn: 'AS0' is reserved"
    assert str(ValidationError("ipv4", None, "or ipv6 must be given")) == (
        "ipv4: None or ipv6 must be given"
    )
    assert str(NotFound("none exists yet", field="exchange")) == "exchange: none exists yet"
    assert str(SourceUnavailable("bgpq4 timed out")) == "bgpq4 timed out"
    error = NotFound("is not up", field="lab", value="ixp1", hint=Remedy.LAB_UP)
    assert (error.message, error.reason, error.field, error.value, error.hint) == (
        "lab: 'ixp1' is not up",
        "is not up",
        "lab",
        "ixp1",
        Remedy.LAB_UP,
    )


def test_a_hostile_value_never_breaks_or_floods_the_message() -> None:
    assert str(ValidationError("asn", 10**5000, "is too big")) == (
        "asn: <int too deeply nested or too large to show> is too big"
    )
    flood = str(ValidationError("name", "x" * 1_000_000, "is too long"))
    assert len(flood) < 1100 and flood.endswith("… is too long")
    escaped = str(ValidationError("name", "\x1b[2J\n", "is bad"))
    assert escaped == "name: '\\x1b[2J\\n' is bad"


def test_a_long_path_is_named_whole() -> None:
    path = "/var/lib/ixp/" + "exports/" * 20 + "roas.json"
    assert str(ValidationError("file", path, "has no ROAs")) == f"file: {path!r} has no ROAs"


def test_shown_is_idempotent() -> None:
    once = shown("x" * 500)
    assert repr(shown(once)) == repr(once) == "'" + "x" * 59 + "…"


def test_problems_raise_nothing_one_error_as_it_is_or_all_of_them() -> None:
    Problems().raise_any()
    first = ValidationError("asn", "x", "is not an AS number")
    problems = Problems()
    assert problems.check(int, "12") == 12
    problems.add(first)
    with pytest.raises(ValidationError) as caught:
        problems.raise_any()
    assert caught.value is first
    second = ValidationError("name", "", "must not be empty")
    problems.check(_raises, InvalidInput([second, ValidationError("url", 1, "is not text")]))
    with pytest.raises(InvalidInput) as all_of_them:
        problems.raise_any()
    assert [e.field for e in all_of_them.value.errors] == ["asn", "name", "url"]
    assert str(all_of_them.value) == (
        "asn: 'x' is not an AS number; name: '' must not be empty; url: 1 is not text"
    )


def _raises(error: ValidationError) -> None:
    raise error


def test_the_cli_prints_one_line_per_field_with_the_remedy_worded() -> None:
    several = InvalidInput(
        [
            ValidationError("asn", "x", "is not an AS number"),
            ValidationError("file", "f.json", "has no ROAs", hint=Remedy.FORCE),
        ]
    )
    assert error_lines(several) == [
        "asn: 'x' is not an AS number",
        "file: 'f.json' has no ROAs; use --force to do it anyway",
    ]
    missing = NotFound("none exists yet", field="exchange", hint=Remedy.INIT_EXCHANGE)
    assert error_lines(missing) == ["exchange: none exists yet; run 'ixp exchange init' first"]
