"""Is a route server healthy after a new configuration? Its sessions and routes, before and after.

The Ansible role reads ``birdc -v show protocols all`` on the route server
before the swap and again after it, and asks :func:`check_birdc` (through its
filter plugin) whether to confirm. Healthy means:

* every BGP session that was established before and is still configured (the
  same neighbor address) is established again;
* every member accepts at least its expected number of routes, less the
  tolerance: the count before, plus what the impact preview said the change
  would add or take away for that member (``delta``), so a change that was
  previewed and approved does not fail its own health check;
* the sessions have settled: the role reads twice, an interval apart, and no
  session's state, route counts or received updates changed in between. Right
  after ``configure``, BIRD is still asking members for their routes again
  through the new filters (route refresh): read then, a route server that will
  filter everything still shows the counts of before, and would be confirmed;
* every session whose import filter changed (``refreshed``: ``ixp push`` names
  them from the diff, or all of them when the role reloads every route) has
  sent its routes again: the updates and withdraws it sent since the reading
  before add up to the routes it had then, less the tolerance. Two equal
  readings do not show that: a member's router may take a minute to answer the
  route refresh, and until it does nothing changes.

``birdc -v`` prints BIRD's reply codes, so the output is read with the same
parser as the control socket (:mod:`ixp.bird.parse`), not as screen text.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace

from ixp.bird import ProtocolStatus, ReplyLine, parse_protocols

# birdc -v: a coded line is the raw one; a continuation line's leading space is five spaces.
_CODED = re.compile(r"^(\d{4})[ -](.*)$")
_CONTINUATION = "     "
# What the role prints between its two readings of ``show protocols all``.
SECOND_READING = "ixp-push: second reading"


def birdc_lines(text: str) -> Iterator[ReplyLine]:
    """The reply lines of ``birdc -v`` output, as the control socket would have sent them.

    birdc leaves out lines of code 0000 and prints asynchronous messages with
    ``>>>``; neither belongs to a reply.
    """
    code = 0
    for raw in text.splitlines():
        if raw.startswith(_CONTINUATION):
            yield ReplyLine(code, raw[len(_CONTINUATION) :])
            continue
        coded = _CODED.match(raw)
        if coded is not None:
            code = int(coded.group(1))
            yield ReplyLine(code, coded.group(2))


def final_reply(text: str) -> ReplyLine | None:
    """The last coded line of ``birdc -v`` output: BIRD's answer to the command (``0003
    Reconfigured``, ``8002 ... syntax error``), None when BIRD said nothing but its greeting."""
    last = None
    for raw in text.splitlines():
        coded = _CODED.match(raw)
        if coded is not None and coded.group(1) != "0001":
            last = ReplyLine(int(coded.group(1)), coded.group(2))
    return last


@dataclass(frozen=True)
class HealthReport:
    """The verdict on one route server, with the counts behind it."""

    healthy: bool
    problems: tuple[str, ...]
    established_before: int
    established_after: int
    accepted_before: int
    accepted_after: int


def _sessions(protocols: Iterable[ProtocolStatus]) -> dict[str, ProtocolStatus]:
    """BGP sessions by neighbor address (protocol names may change with the templates)."""
    return {
        p.neighbor_address: p
        for p in protocols
        if p.proto == "BGP" and p.neighbor_address is not None
    }


def _accepted(sessions: Mapping[str, ProtocolStatus], owner: Mapping[str, int]) -> dict[int, int]:
    counts: dict[int, int] = defaultdict(int)
    for address, protocol in sessions.items():
        asn = owner.get(address)
        if asn is not None:
            counts[asn] += protocol.imported
    return counts


def _received(protocol: ProtocolStatus) -> int:
    """Updates and withdraws the session has received, over its channels."""
    return sum(
        channel.route_changes.get(row, {}).get("received", 0)
        for channel in protocol.channels.values()
        for row in ("import_updates", "import_withdraws")
    )


def _held(protocol: ProtocolStatus) -> int:
    """Routes the session had, accepted or filtered."""
    return sum(c.imported + c.filtered for c in protocol.channels.values())


def not_sent_again(
    before: Mapping[str, ProtocolStatus],
    after: Mapping[str, ProtocolStatus],
    refreshed: Collection[str],
    tolerance_percent: float,
) -> list[str]:
    """Sessions in ``refreshed`` (protocol names) established before that have not yet sent
    their routes again; BIRD zeroes a restarted session's counters, so then all count."""
    found = []
    for address, now in sorted(after.items()):
        was = before.get(address)
        if now.name not in refreshed or was is None or not was.established:
            continue
        held, received, earlier = _held(was), _received(now), _received(was)
        since = received - earlier if received >= earlier else received
        least = held - math.floor(held * tolerance_percent / 100)
        if since < least:
            who = f"AS{now.neighbor_as}" if now.neighbor_as is not None else address
            found.append(
                f"{who}: session {now.name} with {address} has sent {since} of its {held} "
                "routes again since the change (route refresh not finished)"
            )
    return found


def _state(protocol: ProtocolStatus) -> str:
    """``Active (Received: Bad peer AS)``: the BGP state and why (BIRD's info column repeats
    the state before the last error)."""
    state = protocol.bgp_state or protocol.state
    detail = protocol.last_error or protocol.info.removeprefix(state).strip()
    return f"{state} ({detail})" if detail else state


def _activity(protocol: ProtocolStatus) -> tuple[object, ...]:
    """What changes while a session's routes are still arriving or going."""
    return (
        protocol.bgp_state,
        tuple(
            (
                name,
                channel.imported,
                channel.filtered,
                channel.route_changes.get("import_updates", {}).get("received"),
                channel.route_changes.get("import_withdraws", {}).get("received"),
            )
            for name, channel in sorted(protocol.channels.items())
        ),
    )


def unsettled(first: Sequence[ProtocolStatus], second: Sequence[ProtocolStatus]) -> list[str]:
    """Sessions whose state, routes or received updates changed from one reading to the next.

    A session down in both readings is left out: BIRD keeps trying to connect to
    members whose router is off, and their state turns between Connect and Active
    every few seconds; at an exchange with hundreds of such sessions one of them
    always changes, and no push would ever settle.
    """
    earlier = _sessions(first)
    found = []
    for address, now in sorted(_sessions(second).items()):
        was = earlier.get(address)
        if not now.established and (was is None or not was.established):
            continue
        if was is None or _activity(was) != _activity(now):
            who = f"AS{now.neighbor_as}" if now.neighbor_as is not None else address
            found.append(f"{who}: session {now.name} with {address} has not settled yet")
    return found


def check(
    before: Sequence[ProtocolStatus],
    after: Sequence[ProtocolStatus],
    *,
    delta: Mapping[int, int] | None = None,
    tolerance_percent: float,
    settling: Sequence[ProtocolStatus] | None = None,
    refreshed: Collection[str] = (),
) -> HealthReport:
    """Compare the protocols after a change with those before it (see the module docstring);
    ``settling`` is the reading an interval before ``after``, which it must equal;
    ``refreshed`` names the sessions that must have sent their routes again."""
    old, new = _sessions(before), _sessions(after)
    owner = {address: p.neighbor_as for address, p in old.items() if p.neighbor_as is not None}
    problems: list[str] = [] if settling is None else unsettled(settling, after)
    problems += not_sent_again(old, new, frozenset(refreshed), tolerance_percent)
    for address, was in sorted(old.items()):
        now = new.get(address)
        if was.established and now is not None and not now.established:
            who = f"AS{was.neighbor_as}" if was.neighbor_as is not None else address
            problems.append(
                f"{who}: session {now.name} with {address} is {_state(now)}, was established"
            )
    # Routes of sessions the new configuration removed are not expected back.
    kept = old.keys() & new.keys()
    accepted_before = _accepted({a: p for a, p in old.items() if a in kept}, owner)
    accepted_after = _accepted({a: p for a, p in new.items() if a in kept}, owner)
    for asn, count in sorted(accepted_before.items()):
        expected = max(0, count + (delta or {}).get(asn, 0))
        # The tolerance is a number of whole routes: 5% of 4 routes allows losing none.
        least = expected - math.floor(expected * tolerance_percent / 100)
        got = accepted_after.get(asn, 0)
        if got < least:
            problems.append(
                f"AS{asn}: {got} accepted routes, expected {expected} "
                f"(at least {least} with {tolerance_percent:g}% tolerance)"
            )
    return HealthReport(
        healthy=not problems,
        problems=tuple(problems),
        established_before=sum(1 for p in old.values() if p.established),
        established_after=sum(1 for p in new.values() if p.established),
        accepted_before=sum(accepted_before.values()),
        accepted_after=sum(accepted_after.values()),
    )


def check_birdc(
    before: str,
    after: str,
    *,
    delta: Mapping[int, int] | None,
    tolerance_percent: float,
    refreshed: Collection[str] = (),
) -> HealthReport:
    """:func:`check` on ``birdc -v show protocols all`` outputs (what the role reads).

    ``after`` holds the role's two readings, the first ended by :data:`SECOND_READING`.
    One reading alone cannot show that the sessions settled, so it is never healthy."""
    first, marker, second = after.partition(SECOND_READING)
    report = check(
        parse_protocols(birdc_lines(before)),
        parse_protocols(birdc_lines(second if marker else first)),
        delta=delta,
        tolerance_percent=tolerance_percent,
        settling=parse_protocols(birdc_lines(first)) if marker else None,
        refreshed=refreshed,
    )
    if marker:
        return report
    return replace(
        report,
        healthy=False,
        problems=(*report.problems, "one reading after the change, not two an interval apart"),
    )
