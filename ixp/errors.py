"""The exceptions the domain raises on purpose, and how their one-line messages are made.

The CLI and the API turn these into one-line messages (CLI: ``error: <message>``,
exit status 2; API: problem+json), so every error carries what a caller needs
to explain it without a traceback: ``reason`` (what is wrong), ``field`` and
``value`` (where, when the error is about one input), and ``hint``, a
``Remedy`` saying what would fix it. The domain never words a remedy as a
command or an option: the CLI says "run 'ixp exchange init' first", the API
will say it its own way, both from the same ``Remedy``.

The tree (each category is what a caller reacts to; the HTTP status is the
API's natural mapping):

``IxpError``                      base; never raised itself
├── ``ValidationError``           bad input: ``field``, ``value``, ``reason`` (422)
│   └── ``InvalidInput``          several bad fields of one request; ``errors`` has each
├── ``NotFound``                  a named object does not exist (404)
├── ``Conflict``                  collides with existing data or state (409)
├── ``SourceUnavailable``         an external source, daemon or the database cannot
│                                 be reached or read (503)
├── ``HeldForApproval``           data changed past a safety threshold; an operator
│                                 must approve it (409)
├── ``AccessDenied``              credentials missing, wrong, expired or revoked (401)
└── ``RateLimited``               too many failed attempts; wait and retry (429)

Modules add narrower subclasses under these categories (``IxfError`` is a
``ValidationError``, ``CommandFailed`` a ``SourceUnavailable``); a few older
ones still derive from ``IxpError`` itself and are yet to be placed (listed in
``tests/unit/test_errors.py``, which fails once one is placed, or when a new one
is added outside a category).

Every ``ValidationError`` has ``errors``, one ``ValidationError`` per bad field
(itself alone for a single one), so a form can show them all; ``Problems``
collects them while a whole request is checked.

Every ``Remedy`` has its CLI wording in ``ixp.cli.common.REMEDY_WORDS`` (a
test checks that none is missing).

This module imports nothing from the project: everything else imports it.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable, Sequence
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

# How much of a value's repr a message shows: of input, that ``shown`` is asked
# for (it names the value), and of anything (a file path must stay whole, a
# megabyte of hostile text must not become the message).
_SHOWN_LENGTH = 60
_MESSAGE_VALUE_LENGTH = 1000


class _Unset(enum.Enum):
    """The type of ``UNSET``: no value belongs in the message (None is a value)."""

    UNSET = "unset"


UNSET = _Unset.UNSET


class Remedy(enum.StrEnum):
    """What would fix an error, for the caller to word (a command, an option, a button)."""

    INIT_EXCHANGE = "init-exchange"
    """No exchange exists yet: create it first."""
    DB_UPGRADE = "db-upgrade"
    """The database has no schema (or an old one): migrate it."""
    FORCE = "force"
    """A safety check refused the change: repeat it with ``force`` to go ahead anyway."""
    LAB_UP = "lab-up"
    """No lab is running: start it first."""
    LAB_DOWN = "lab-down"
    """A lab is running already: stop it first."""
    APPROVE = "approve"
    """A push stopped at something held for review: approve it to go on anyway."""


class _Shown(str):
    """A value's repr already cut short: messages print it as it is, without quoting it again."""

    __slots__ = ()

    def __repr__(self) -> str:
        return str(self)


def shown(value: object, length: int = _SHOWN_LENGTH) -> object:
    """``value`` itself when its repr is short, else a stand-in whose repr is cut short.

    Messages print ``repr(value)``, which escapes control characters and
    surrogates but has no length limit and fails outright for integers beyond
    4300 digits or lists nested too deeply. Validators pass the value they
    refuse through it; applying it again changes nothing.
    """
    try:
        text = repr(value)
    except (RecursionError, ValueError):
        return _Shown(f"<{type(value).__name__} too deeply nested or too large to show>")
    return value if len(text) <= length else _Shown(text[:length] + "…")


def render(reason: str, field: str | None = None, value: object = UNSET) -> str:
    """The one-line message: ``field: 'value' reason``, leaving out what is not given.

    The value is escaped and can never break the message; only a value longer
    than any path or URL is cut (validators cut what they refuse much shorter).
    """
    parts = [f"{field}:"] if field is not None else []
    if value is not UNSET:
        parts.append(repr(shown(value, _MESSAGE_VALUE_LENGTH)))
    parts.append(reason)
    return " ".join(parts)


class IxpError(Exception):
    """Base of every error the domain raises on purpose."""

    def __init__(
        self,
        reason: str,
        *,
        field: str | None = None,
        value: object = UNSET,
        hint: Remedy | None = None,
    ) -> None:
        self.reason = reason
        self.field = field
        self.value = value
        self.hint = hint
        super().__init__(render(reason, field, value))

    # Not a property: a subclass that keeps some other text in ``message`` can still do so.
    @functools.cached_property
    def message(self) -> str:
        """The one-line message (the same as ``str(error)``), without the remedy."""
        return str(self)


class ValidationError(IxpError):
    """Input that cannot be accepted; ``field`` and ``value`` say what and where."""

    def __init__(self, field: str, value: object, reason: str, *, hint: Remedy | None = None):
        super().__init__(reason, field=field, value=value, hint=hint)

    @property
    def errors(self) -> tuple[ValidationError, ...]:
        """One error per bad field: this one alone."""
        return (self,)


class InvalidInput(ValidationError):
    """Several fields of one request are bad; ``errors`` holds one ``ValidationError`` each.

    Its own message joins theirs with ``; `` for callers that show one line.
    """

    def __init__(self, errors: Sequence[ValidationError]) -> None:
        self._errors = tuple(e for error in errors for e in error.errors)
        IxpError.__init__(self, "; ".join(str(e) for e in self._errors))

    @property
    def errors(self) -> tuple[ValidationError, ...]:
        """Every bad field's error, in the order they were checked."""
        return self._errors


class NotFound(IxpError):
    """A named object (member, route server, exchange) does not exist."""


class Conflict(IxpError):
    """The change collides with existing data (duplicate ASN, address in use) or state."""


class SourceUnavailable(IxpError):
    """An external source (IRR, RPKI, a daemon, the database) could not be reached or read."""


class HeldForApproval(IxpError):
    """Data changed more than the safety thresholds allow; an operator must approve it."""


class AccessDenied(IxpError):
    """The caller is not who it claims to be: wrong password, unknown or revoked token.

    Deliberately vague (it never says whether the account exists). A caller who is
    known but asks for something not its own gets ``NotFound`` instead, so that
    another member's data cannot even be shown to exist.
    """


class RateLimited(IxpError):
    """Too many failed attempts from one account or address; ``retry_after`` is in seconds."""

    def __init__(self, reason: str, *, retry_after: int) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


CATEGORIES: tuple[type[IxpError], ...] = (
    ValidationError,
    NotFound,
    Conflict,
    SourceUnavailable,
    HeldForApproval,
    AccessDenied,
    RateLimited,
)


class Problems:
    """The validation errors of one request, collected so that all are reported at once.

    ``check`` runs one validator and keeps its error instead of raising it;
    ``raise_any`` raises, once everything is checked: the single error as it
    is, several as one ``InvalidInput``.
    """

    def __init__(self) -> None:
        self._errors: list[ValidationError] = []

    def check(self, validator: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T | None:
        """``validator(*args, **kwargs)``, or None when it refused (the error is kept)."""
        try:
            return validator(*args, **kwargs)
        except ValidationError as exc:
            self._errors.extend(exc.errors)
            return None

    def add(self, error: ValidationError) -> None:
        """Keep an error found without a validator."""
        self._errors.extend(error.errors)

    def __bool__(self) -> bool:
        return bool(self._errors)

    def raise_any(self) -> None:
        """Raise what was collected, if anything."""
        if len(self._errors) == 1:
            raise self._errors[0]
        if self._errors:
            raise InvalidInput(self._errors)
