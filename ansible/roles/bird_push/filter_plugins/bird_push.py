"""Filters of the bird_push role: BIRD's reply codes and the health check, read by ixp.

``birdc`` exits non-zero on errors only since BIRD 2.0.10, so the role never trusts
its exit status: it runs ``birdc -v`` (which prints BIRD's reply codes) and asks
``bird_reply_code`` for the code BIRD ended its answer with (0003 reconfigured,
0018 confirmed, 0019 nothing to do, 0020 configuration OK, 8xxx/9xxx errors).
``bird_push_health`` compares ``show protocols all`` before and after the swap.

Both use ixp's own BIRD parser (:mod:`ixp.push.health`), so the role and
``ixp push`` judge a route server alike; ansible-core is one of ixp's
dependencies, so the environment that runs the playbook has ixp.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ansible.errors import AnsibleFilterError

try:
    from ixp.push import health
except ImportError as exc:  # pragma: no cover - only outside ixp's environment
    raise AnsibleFilterError(
        "the bird_push role needs ixp: run ansible-playbook from ixp's environment"
    ) from exc


def bird_reply_code(output: str) -> int:
    """The code of BIRD's last reply line in ``birdc -v`` output (-1: none)."""
    reply = health.final_reply(str(output))
    return reply.code if reply is not None else -1


def bird_reply_text(output: str) -> str:
    """BIRD's last reply line, code and text (for messages)."""
    reply = health.final_reply(str(output))
    return f"{reply.code:04d} {reply.text}" if reply is not None else "no reply from BIRD"


def bird_push_health(
    after: str,
    before: str,
    delta: Mapping[Any, Any] | None,
    tolerance: float,
    refreshed: Sequence[Any] | None = None,
) -> dict[str, Any]:
    """The health verdict: ``healthy``, ``problems`` and the counts behind them;
    ``refreshed`` names the sessions that must have sent their routes again."""
    report = health.check_birdc(
        str(before),
        str(after),
        delta={int(asn): int(change) for asn, change in (delta or {}).items()},
        tolerance_percent=float(tolerance),
        refreshed=[str(name) for name in refreshed or ()],
    )
    return {
        "healthy": report.healthy,
        "problems": list(report.problems),
        "established_before": report.established_before,
        "established_after": report.established_after,
        "accepted_before": report.accepted_before,
        "accepted_after": report.accepted_after,
    }


class FilterModule:
    """The role's filters."""

    def filters(self) -> dict[str, Callable[..., Any]]:
        return {
            "bird_reply_code": bird_reply_code,
            "bird_reply_text": bird_reply_text,
            "bird_push_health": bird_push_health,
        }
