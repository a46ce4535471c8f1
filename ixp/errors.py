"""The few exceptions the domain raises.

The CLI and the API turn these into one-line messages (CLI: ``error: <message>``,
exit 2; API: problem+json), so every message must name the field and the value
that caused it and must make sense without a traceback.
"""

from __future__ import annotations


class IxpError(Exception):
    """Base of every error the domain raises on purpose."""


class ValidationError(IxpError):
    """Input that cannot be accepted; ``field`` and ``value`` say what and where."""

    def __init__(self, field: str, value: object, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        super().__init__(f"{field}: {value!r} {reason}")


class NotFound(IxpError):
    """A named object (member, route server, exchange) does not exist."""


class Conflict(IxpError):
    """The change collides with existing data (duplicate ASN, address in use)."""


class SourceUnavailable(IxpError):
    """An external source (IRR, RPKI, a daemon) could not be reached or read."""


class HeldForApproval(IxpError):
    """Data changed more than the safety thresholds allow; an operator must approve it."""
