"""Impact preview: what a new configuration would do to the routes members send now.

Before a push, the new configuration runs in a scratch BIRD (:mod:`ixp.push.scratch`)
and every member's speaker (:mod:`ixp.push.speakers`) sends it exactly the routes
that member offers the live route server now. Route by route, the scratch BIRD's
verdict is compared with the live one:

* **newly filtered**: accepted now, filtered by the new configuration, with the
  reject reasons in words (:func:`ixp.monitor.routes.reason_text`);
* **newly accepted**: filtered now (and why), accepted by the new one;
* **not taken in**: accepted now, but the new configuration never got it: the
  session would not come up (a wrong ASN), or a lower limit holds it back.

Newly filtered and not taken in are both routes the exchange would lose. A
change that loses more than ``member_percent`` of one member's accepted routes,
or ``total_percent`` of all of them, stops the push until an operator approves.
Sessions the new configuration no longer has (a member leaving) are listed
apart: the diff already shows them as intended, and their routes do not count.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from ixp.bird import ProtocolStatus
from ixp.monitor.routes import reason_text
from ixp.push.scratch import (
    ScratchResult,
    Verdict,
    read_verdicts,
    scratch,
    wait_settled,
    without_exports,
)
from ixp.push.speakers import OfferedSession, plan
from ixp.settings import Settings

Progress = Callable[[str], None]
# Route changes kept per member in the record (the counts are always complete).
ROUTES_SHOWN = 50


class Change:
    """What happens to one route under the new configuration."""

    NEWLY_FILTERED = "newly filtered"
    NEWLY_ACCEPTED = "newly accepted"
    NOT_TAKEN = "not taken in"


@dataclass(frozen=True)
class Thresholds:
    """When the preview stops a push: shares of accepted routes lost, in percent."""

    member_percent: float
    total_percent: float

    @classmethod
    def from_settings(cls, settings: Settings) -> Thresholds:
        """The thresholds the settings give (``push_preview_*``)."""
        return cls(settings.push_preview_member_percent, settings.push_preview_total_percent)


@dataclass(frozen=True)
class RouteChange:
    """One route that changes: from which session, how, and why in words."""

    prefix: str
    neighbor: str
    change: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class MemberImpact:
    """One member's routes under the new configuration, counted, with the first changes."""

    asn: int
    name: str
    accepted_before: int
    filtered_before: int
    newly_filtered: int
    newly_accepted: int
    not_taken: int
    not_replayed: int
    lost_percent: float
    over_threshold: bool
    session_problems: tuple[str, ...]
    routes: tuple[RouteChange, ...]


@dataclass(frozen=True)
class ImpactPreview:
    """The preview of one route server's new configuration."""

    rs_name: str
    sessions: int
    routes_offered: int
    routes_not_replayed: int
    accepted_before: int
    newly_filtered: int
    newly_accepted: int
    not_taken: int
    lost_percent: float
    members: tuple[MemberImpact, ...]
    """Members with any change or problem; the others keep every route as it is."""
    removed_sessions: tuple[str, ...]
    stop_reasons: tuple[str, ...]
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def stops(self) -> bool:
        """True when the push must wait for an operator's approval."""
        return bool(self.stop_reasons)


def _words(codes: Sequence[int]) -> tuple[str, ...]:
    return tuple(": ".join(reason_text(code)) for code in codes) or ("no reject reason given",)


def _session_problem(protocol: ProtocolStatus | None) -> str:
    if protocol is None:
        return "no session in the new configuration"
    if not protocol.established:
        detail = protocol.last_error or protocol.info or protocol.state
        return f"session {protocol.name} would not come up: {protocol.bgp_state} ({detail})"
    return f"session {protocol.name} took in only {protocol.imported + protocol.filtered} routes"


@dataclass
class _Tally:
    """Counts and kept changes of one member while the routes are compared."""

    accepted: int = 0
    filtered: int = 0
    newly_filtered: int = 0
    newly_accepted: int = 0
    not_taken: int = 0
    not_replayed: int = 0
    problems: list[str] = field(default_factory=list)
    routes: list[RouteChange] = field(default_factory=list)

    def keep(self, change: RouteChange) -> None:
        if len(self.routes) < ROUTES_SHOWN:
            self.routes.append(change)


def _compare_session(
    session: OfferedSession,
    protocol: ProtocolStatus | None,
    verdicts: Mapping[tuple[str, str], Verdict],
    skipped: Mapping[tuple[str, str], str],
    tally: _Tally,
) -> None:
    problem_shown = False
    for route in session.routes:
        tally.accepted += route.accepted
        tally.filtered += not route.accepted
        key = (session.neighbor, route.prefix)
        if key in skipped:
            tally.not_replayed += 1
            continue
        after = verdicts.get(key)
        if after is None:
            if route.accepted:
                tally.not_taken += 1
                problem = _session_problem(protocol)
                if not problem_shown:
                    tally.problems.append(f"{session.neighbor}: {problem}")
                    problem_shown = True
                change = RouteChange(route.prefix, session.neighbor, Change.NOT_TAKEN, (problem,))
                tally.keep(change)
        elif route.accepted and not after.accepted:
            tally.newly_filtered += 1
            reasons = _words(after.codes)
            tally.keep(RouteChange(route.prefix, session.neighbor, Change.NEWLY_FILTERED, reasons))
        elif after.accepted and not route.accepted:
            tally.newly_accepted += 1
            was = tuple(f"was filtered for {reason}" for reason in _words(route.codes))
            tally.keep(RouteChange(route.prefix, session.neighbor, Change.NEWLY_ACCEPTED, was))


def _percent(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 2) if whole else 0.0


def compare(
    rs_name: str,
    offered: Sequence[OfferedSession],
    skipped: Mapping[tuple[str, str], str],
    result: ScratchResult,
    names: Mapping[int, str],
    thresholds: Thresholds,
) -> ImpactPreview:
    """Compare the live verdicts in ``offered`` with the scratch ones in ``result``."""
    tallies: dict[int, _Tally] = defaultdict(_Tally)
    removed: list[str] = []
    for session in offered:
        protocol = result.sessions.get(session.neighbor)
        if protocol is None:
            if session.routes:
                removed.append(
                    f"AS{session.asn} {session.neighbor} ({session.protocol}): "
                    f"{len(session.routes)} routes, no session in the new configuration"
                )
            continue
        _compare_session(session, protocol, result.verdicts, skipped, tallies[session.asn])
    members = []
    stop_reasons = []
    for asn, tally in sorted(tallies.items()):
        lost = tally.newly_filtered + tally.not_taken
        share = _percent(lost, tally.accepted)
        over = lost > 0 and share > thresholds.member_percent
        name = names.get(asn, f"AS{asn}")
        if over:
            stop_reasons.append(
                f"AS{asn} ({name}) would lose {lost} of its {tally.accepted} accepted routes "
                f"({share:g}%, more than {thresholds.member_percent:g}%)"
            )
        if lost or tally.newly_accepted or tally.problems:
            members.append(
                MemberImpact(
                    asn=asn,
                    name=name,
                    accepted_before=tally.accepted,
                    filtered_before=tally.filtered,
                    newly_filtered=tally.newly_filtered,
                    newly_accepted=tally.newly_accepted,
                    not_taken=tally.not_taken,
                    not_replayed=tally.not_replayed,
                    lost_percent=share,
                    over_threshold=over,
                    session_problems=tuple(tally.problems),
                    routes=tuple(tally.routes),
                )
            )
    accepted = sum(t.accepted for t in tallies.values())
    newly_filtered = sum(t.newly_filtered for t in tallies.values())
    not_taken = sum(t.not_taken for t in tallies.values())
    total_share = _percent(newly_filtered + not_taken, accepted)
    if newly_filtered + not_taken and total_share > thresholds.total_percent:
        stop_reasons.insert(
            0,
            f"{newly_filtered + not_taken} of {accepted} accepted routes would be lost "
            f"({total_share:g}%, more than {thresholds.total_percent:g}%)",
        )
    return ImpactPreview(
        rs_name=rs_name,
        sessions=len(offered),
        routes_offered=sum(len(s.routes) for s in offered),
        routes_not_replayed=len(skipped),
        accepted_before=accepted,
        newly_filtered=newly_filtered,
        newly_accepted=sum(t.newly_accepted for t in tallies.values()),
        not_taken=not_taken,
        lost_percent=total_share,
        members=tuple(members),
        removed_sessions=tuple(removed),
        stop_reasons=tuple(stop_reasons),
        seconds=dict(result.seconds),
    )


@dataclass(frozen=True)
class PreviewInput:
    """What the preview of one route server needs besides its new configuration."""

    rs_name: str
    rs_asn: int
    rs_addresses: Mapping[int, str]
    """The route server's LAN address by family."""
    lan: Mapping[int, str]
    """The peering LAN's prefix by family."""
    offered: Sequence[OfferedSession]
    names: Mapping[int, str]


def run_preview(
    config: str,
    given: PreviewInput,
    settings: Settings,
    *,
    thresholds: Thresholds,
    progress: Progress | None = None,
) -> ImpactPreview:
    """Run ``config`` in a scratch exchange fed with ``given.offered``; compare the verdicts."""
    say = progress or (lambda _stage: None)
    seconds: dict[str, float] = {}
    started = time.monotonic()
    speakers, skipped = plan([s for s in given.offered if s.routes], given.rs_addresses)
    expected = {
        session.local: len(session.routes) for speaker in speakers for session in speaker.sessions
    }
    addresses = {
        session.local: given.lan[session.family]
        for speaker in speakers
        for session in speaker.sessions
        if session.family in given.lan
    }
    with scratch(settings) as place:
        say(f"preview: namespaces for {len(speakers)} member speakers")
        place.create(given.lan, given.rs_addresses)
        place.add_member_addresses(addresses)
        daemon = place.route_server(without_exports(config))
        seconds["setup"] = round(time.monotonic() - started, 2)
        say(f"preview: starting {len(speakers)} speakers")
        mark = time.monotonic()
        place.start_speakers(speakers, given.rs_asn)
        seconds["speakers"] = round(time.monotonic() - mark, 2)
        say(f"preview: replaying {sum(expected.values())} routes")
        mark = time.monotonic()
        with daemon.client(timeout=settings.bird_timeout_seconds) as bird:
            sessions = wait_settled(
                bird,
                expected,
                timeout=settings.push_preview_timeout_seconds,
                quiet=settings.push_preview_quiet_seconds,
            )
            seconds["replay"] = round(time.monotonic() - mark, 2)
            mark = time.monotonic()
            verdicts = read_verdicts(bird, sessions, given.rs_asn)
            seconds["read"] = round(time.monotonic() - mark, 2)
    seconds["total"] = round(time.monotonic() - started, 2)
    result = ScratchResult(sessions, verdicts, seconds)
    return compare(given.rs_name, given.offered, skipped, result, given.names, thresholds)
