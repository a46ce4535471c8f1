"""Members' own route-server filtering rules: the services the CLI, the API and the portal share.

Members of small ISPs rarely tag their routes with the right announcement-control
communities, and cannot tell the route server whose routes they do not want at all.
These rules say it from a form: per peer (a member of the exchange, or every peer)
and address family, *do not announce* my routes to it, *announce only* to a set of
peers, *prepend* my ASN 1-3 times towards it, and *do not accept* its routes.

Every change checks the whole resulting set before anything is written (each bad
field is named with its value, all at once): the peer must be a current member other
than the member itself, a prepend is 1-3, and no two rules may repeat or contradict
each other in a family ("do not announce to P" beside "announce only to P"). The set
is then written in one transaction with an audit entry. ``preview`` says in words
what a proposed set would change for which peers before it is saved.

The build (``compile_rules``, through ``ixp.rs.context``) turns a member's rules into
data for the shared policy functions: the large communities the member could have
sent itself are added to its routes on import, and the peers whose routes it refuses
become a set its session's export filter checks. A rule naming a peer that is not
configured on the route server (it left, or is suspended) is left out of the build
and reported, never turned into an empty or an open filter; it is kept here and
applies again if the peer comes back.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ixp import audit, validate
from ixp.db import transaction
from ixp.errors import NotFound, Problems, ValidationError
from ixp.exchange import get_exchange
from ixp.models import (
    Exchange,
    LanAddress,
    Member,
    MemberStatus,
    RsRule,
    RsSession,
    RuleAction,
    RuleFamily,
    SessionState,
)
from ixp.rs.types import DroppedRule, FamilyRules, MemberRules

AUDIT_ENTITY = "rs-rules"
MAX_RULES = 1000
"""Rules one member may have: enough to announce only to every member of a large exchange."""

# The second field of the announcement-control large communities (RS_ASN, field, peer)
# a rule stands for; templates/bird/functions.j2 acts on them, the README lists them.
NOT_TO = 0
"""``(RS, 0, peer)``: not to that peer; ``(RS, 0, 0)``: to no one but the listed peers."""
ONLY_TO = 1
"""``(RS, 1, peer)``: a listed peer, announced to despite ``(RS, 0, 0)``."""
PREPEND = 100
"""``(RS, 100 + n, peer)``: the member's ASN prepended n times towards that peer (0: all)."""

ALL_PEERS = "all"
"""How the CLI and the portal's form name "every peer" (the API and the database: null)."""

_FAMILY_WORDS = {RuleFamily.ipv4: "IPv4", RuleFamily.ipv6: "IPv6", RuleFamily.both: "IPv4 and IPv6"}
_TIMES = {1: "once", 2: "twice", 3: "3 times"}
E = TypeVar("E", bound=StrEnum)
_ACTION_ORDER = {action: index for index, action in enumerate(RuleAction)}


@dataclass(frozen=True)
class RuleInput:
    """A rule as a caller gives it, before it is checked. ``peer`` None (or ``"all"``):
    every peer; ``prepend`` only for the ``prepend`` action."""

    action: str
    peer: int | str | None = None
    family: str = RuleFamily.both.value
    prepend: int | str | None = None


def _peer_label(peer: int | None, names: Mapping[int, str]) -> str:
    if peer is None:
        return "every peer"
    name = names.get(peer)
    return f"AS{peer} ({name})" if name else f"AS{peer}"


@dataclass(frozen=True)
class Rule:
    """One checked rule: its action, its peer (None: every peer), families and prepend."""

    action: RuleAction
    peer: int | None
    family: RuleFamily
    prepend: int | None = None

    def sort_key(self) -> tuple[int, int, str, int]:
        """Rules in a fixed order: by action, peer (every peer first), family, prepend."""
        return (_ACTION_ORDER[self.action], self.peer or 0, self.family.value, self.prepend or 0)

    def overlaps(self, other: Rule) -> bool:
        """Whether the two rules share an address family."""
        return bool(set(self.family.numbers) & set(other.family.numbers))

    def describe(self, names: Mapping[int, str] | None = None) -> str:
        """The rule in words, seen from its member: ``do not announce to AS64501 in IPv4``."""
        peer = _peer_label(self.peer, names or {})
        family = _FAMILY_WORDS[self.family]
        if self.action is RuleAction.do_not_announce:
            what = (
                "do not announce to any peer" if self.peer is None else f"do not announce to {peer}"
            )
        elif self.action is RuleAction.announce_only:
            what = f"announce only to {peer}"
        elif self.action is RuleAction.prepend:
            what = f"prepend my ASN {_TIMES[self.prepend or 1]} towards {peer}"
        else:
            where = "any peer" if self.peer is None else peer
            what = f"do not accept routes from {where}"
        return f"{what} in {family}"

    def equivalent(self, rs_asn: int, own_asn: int) -> str:
        """What the member could have done itself: the communities on its routes, or for
        ``do-not-accept`` what the peer would have had to do."""
        peer = self.peer or 0
        if self.action is RuleAction.do_not_announce:
            return f"{rs_asn}:{NOT_TO}:{peer}"
        if self.action is RuleAction.announce_only:
            return f"{rs_asn}:{NOT_TO}:0 and {rs_asn}:{ONLY_TO}:{peer}"
        if self.action is RuleAction.prepend:
            return f"{rs_asn}:{PREPEND + (self.prepend or 1)}:{peer}"
        who = "every peer" if self.peer is None else f"AS{self.peer}"
        return f"as if {who} tagged its routes {rs_asn}:{NOT_TO}:{own_asn}"

    def snapshot(self) -> dict[str, object]:
        """The rule as the audit log records it."""
        return {
            "action": self.action.value,
            "peer": self.peer,
            "family": self.family.value,
            "prepend": self.prepend,
        }

    @classmethod
    def of(cls, row: RsRule) -> Rule:
        """The rule a stored row holds."""
        return cls(row.action, row.peer_asn, row.family, row.prepend)


@dataclass(frozen=True)
class RuleView:
    """A stored rule as the CLI prints it, the API serves it and the portal lists it.

    ``text`` is the rule in words, ``equivalent`` the communities it stands for;
    ``inactive`` says why the next build leaves it out (its peer is not an active
    member now), None while it applies.
    """

    id: int
    asn: int
    action: RuleAction
    peer: int | None
    peer_name: str | None
    family: RuleFamily
    prepend: int | None
    text: str
    equivalent: str
    inactive: str | None
    created_by: str
    created_at: dt.datetime


@dataclass(frozen=True)
class Change:
    """What a proposed rule set changes for some peers, in one sentence."""

    peers: tuple[int, ...]
    text: str


@dataclass(frozen=True)
class Preview:
    """What saving a proposed rule set would change at the next build, peer by peer.

    ``rules`` is the proposed set in words; ``changes`` is empty when the routes each
    peer gets (and the member gets) stay as they are.
    """

    asn: int
    rules: tuple[str, ...]
    changes: tuple[Change, ...]


# -- the exchange as the checks and the preview need it ----------------------------------------


@dataclass(frozen=True)
class _Peer:
    asn: int
    name: str
    status: MemberStatus
    families: frozenset[int]


@dataclass(frozen=True)
class _Exchange:
    """The members of the exchange (every status) and the route servers' ASN."""

    exchange: Exchange
    members: Mapping[int, _Peer]
    rs_asn: int

    def names(self) -> dict[int, str]:
        return {asn: peer.name for asn, peer in self.members.items()}


def _exchange(session: Session, exchange: Exchange) -> _Exchange:
    """Every member's ASN, name, status and session families, in three plain queries."""
    rows = session.execute(
        select(Member.id, Member.asn, Member.display_name, Member.status).where(
            Member.exchange_id == exchange.id
        )
    ).all()
    addressed: defaultdict[int, set[int]] = defaultdict(set)
    for member_id, family in session.execute(
        select(LanAddress.member_id, LanAddress.family)
        .join(Member, Member.id == LanAddress.member_id)
        .where(Member.exchange_id == exchange.id)
    ):
        addressed[member_id].add(family)
    enabled: defaultdict[int, set[int]] = defaultdict(set)
    for member_id, ipv4, ipv6 in session.execute(
        select(RsSession.member_id, RsSession.ipv4_enabled, RsSession.ipv6_enabled)
        .join(Member, Member.id == RsSession.member_id)
        .where(Member.exchange_id == exchange.id)
    ):
        enabled[member_id].update(f for f, on in ((4, ipv4), (6, ipv6)) if on)
    members = {
        asn: _Peer(asn, name, status, frozenset(addressed[id_] & enabled[id_]))
        for id_, asn, name, status in rows
    }
    servers = exchange.route_servers
    return _Exchange(exchange, members, servers[0].asn if servers else exchange.asn)


def _owner(session: Session, asn: int | str, exchange: Exchange) -> Member:
    """The member whose rules these are (``NotFound`` as ``get_member`` words it)."""
    number = validate.asn(asn, "asn", allow_lab=True)
    member = session.scalar(
        select(Member).where(Member.exchange_id == exchange.id, Member.asn == number)
    )
    if member is None:
        raise NotFound(f"AS{number} is not a member of {exchange.name}", field="member")
    return member


def _stored(session: Session, member: Member) -> list[RsRule]:
    return list(
        session.scalars(select(RsRule).where(RsRule.member_id == member.id).order_by(RsRule.id))
    )


def peer_choices(session: Session, asn: int | str) -> list[tuple[int, str]]:
    """The members a rule of member ``asn`` may name (current members other than itself),
    with their names, by ASN: what a form offers."""
    exchange = get_exchange(session)
    owner = _owner(session, asn, exchange)
    rows = session.execute(
        select(Member.asn, Member.display_name)
        .where(
            Member.exchange_id == exchange.id,
            Member.id != owner.id,
            Member.status != MemberStatus.departed,
        )
        .order_by(Member.asn)
    )
    return [(number, name) for number, name in rows]


def _inactive(peer: int | None, known: _Exchange) -> str | None:
    """Why a rule about ``peer`` is left out of the next build, or None while it applies."""
    if peer is None:
        return None
    found = known.members.get(peer)
    if found is None:
        return f"AS{peer} is no longer a member: the next build leaves this rule out"
    if found.status is not MemberStatus.active:
        return (
            f"AS{peer} is {found.status.value}: the next build leaves this rule out "
            "until it is active again"
        )
    return None


def _view(row: RsRule, owner: int, known: _Exchange) -> RuleView:
    rule = Rule.of(row)
    names = known.names()
    return RuleView(
        id=row.id,
        asn=owner,
        action=rule.action,
        peer=rule.peer,
        peer_name=names.get(rule.peer) if rule.peer is not None else None,
        family=rule.family,
        prepend=rule.prepend,
        text=rule.describe(names),
        equivalent=rule.equivalent(known.rs_asn, owner),
        inactive=_inactive(rule.peer, known),
        created_by=row.created_by,
        created_at=row.created_at,
    )


# -- checking ------------------------------------------------------------------------------------


def _choice(kind: type[E], value: object, field: str) -> E:
    """``value`` as a member of ``kind`` (its value, any case)."""
    try:
        return kind(str(value).strip().lower())
    except ValueError:
        allowed = ", ".join(m.value for m in kind)
        raise ValidationError(field, validate.shown(value), f"must be one of {allowed}") from None


def _peer(value: object, field: str, owner: Member, known: _Exchange) -> int | None:
    """``value`` as a peer: None for every peer, else the ASN of a current member."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", ALL_PEERS)):
        return None
    number = validate.asn(value, field, allow_lab=True)
    if number == owner.asn:
        raise ValidationError(field, validate.shown(value), "is your own ASN: name another member")
    found = known.members.get(number)
    if found is None or found.status is MemberStatus.departed:
        raise ValidationError(
            field, validate.shown(value), f"is not a member of {known.exchange.name}"
        )
    return number


def _prepend(value: object, field: str, action: RuleAction | None) -> int | None:
    if action is not RuleAction.prepend:
        if value in (None, ""):
            return None
        raise ValidationError(field, validate.shown(value), "is only for the prepend action")
    if isinstance(value, bool) or value in (None, ""):
        raise ValidationError(field, validate.shown(value), "must be 1, 2 or 3")
    try:
        times = int(str(value).strip())
    except ValueError:
        raise ValidationError(field, validate.shown(value), "must be 1, 2 or 3") from None
    if not 1 <= times <= 3:
        raise ValidationError(field, validate.shown(value), "must be 1, 2 or 3")
    return times


def _check_one(given: RuleInput, where: str, owner: Member, known: _Exchange) -> Rule:
    """One given rule with every field checked; every bad one is reported at once."""
    problems = Problems()
    action = problems.check(_choice, RuleAction, given.action, f"{where}action")
    family = problems.check(_choice, RuleFamily, given.family, f"{where}family")
    peer = problems.check(_peer, given.peer, f"{where}peer", owner, known)
    prepend = problems.check(_prepend, given.prepend, f"{where}prepend", action)
    problems.raise_any()
    assert isinstance(action, RuleAction) and isinstance(family, RuleFamily)
    if action is RuleAction.announce_only and peer is None:
        raise ValidationError(
            f"{where}peer",
            ALL_PEERS,
            "must name a peer: announcing only to every peer is no rule at all",
        )
    return Rule(action, peer, family, prepend)


@dataclass(frozen=True)
class _Given:
    """A rule of the proposed set and where it came from: ``where`` prefixes its fields
    (None for a stored rule that stays, which is never blamed)."""

    rule: Rule
    where: str | None


_Seen = dict[tuple[int, RuleAction, int | None], _Given]


def _clash(
    seen: _Seen, first: Mapping[tuple[int, RuleAction], _Given], family: int, rule: Rule
) -> tuple[str, _Given] | None:
    """Why ``rule`` cannot join the rules ``seen`` before it in ``family`` (by action and
    peer; ``first`` holds the first rule of each action), and with which, or None."""

    def at(action: RuleAction, peer: int | None) -> _Given | None:
        return seen.get((family, action, peer))

    action, peer = rule.action, rule.peer
    if (same := at(action, peer)) is not None:
        return "is already a rule", same
    if action in (RuleAction.do_not_announce, RuleAction.do_not_accept):
        if peer is not None and (wider := at(action, None)) is not None:
            return "is already covered by the rule", wider
        if peer is None and (narrower := first.get((family, action))) is not None:
            return "would cover the rule", narrower
    if action in (RuleAction.announce_only, RuleAction.prepend):
        blocking = at(RuleAction.do_not_announce, None) or at(RuleAction.do_not_announce, peer)
        if blocking is not None:
            return "contradicts the rule", blocking
    if action is RuleAction.do_not_announce:
        sending = (RuleAction.announce_only, RuleAction.prepend)
        if peer is None:
            found = [g for a in sending if (g := first.get((family, a))) is not None]
        else:
            found = [g for a in sending if (g := at(a, peer)) is not None]
        if found:
            return "contradicts the rule", found[0]
    return None


def _unreachable_prepends(given: Sequence[_Given]) -> list[tuple[_Given, _Given]]:
    """Prepend rules towards a peer that an ``announce only`` set leaves out, each with the
    rule to blame (the prepend when it is new, else a new ``announce only`` rule)."""
    found: dict[tuple[_Given, _Given], None] = {}
    for family in (4, 6):
        only = [g for g in given if g.rule.action is RuleAction.announce_only]
        only = [g for g in only if family in g.rule.family.numbers]
        listed = {g.rule.peer for g in only}
        for item in given:
            rule = item.rule
            if rule.action is not RuleAction.prepend or family not in rule.family.numbers:
                continue
            if not only or rule.peer is None or rule.peer in listed:
                continue
            other = next((g for g in only if g.where is not None), only[0])
            found[(item, other) if item.where is not None else (other, item)] = None
    return list(found)


def _check_set(given: Sequence[_Given], names: Mapping[int, str], problems: Problems) -> None:
    """No two rules repeat or contradict each other; a new rule is blamed, never a kept one
    (kept rules come first). Rules are indexed by family, action and peer as they come, so
    a set of a thousand rules is checked in one pass."""
    seen: _Seen = {}
    first: dict[tuple[int, RuleAction], _Given] = {}
    for item in given:
        clashes: list[tuple[str, _Given]] = []
        for family in item.rule.family.numbers:
            found = _clash(seen, first, family, item.rule)
            if found is not None and found not in clashes:
                clashes.append(found)
        if item.where is not None:
            for why, other in clashes:
                _blame(problems, item, f"{why} '{other.rule.describe(names)}'")
        for family in item.rule.family.numbers:
            seen.setdefault((family, item.rule.action, item.rule.peer), item)
            first.setdefault((family, item.rule.action), item)
    for blamed, other in _unreachable_prepends(given):
        if blamed.where is None:
            continue
        peer = next(g.rule.peer for g in (blamed, other) if g.rule.action is RuleAction.prepend)
        _blame(
            problems,
            blamed,
            f"contradicts the rule '{other.rule.describe(names)}': "
            f"{_peer_label(peer, names)} gets none of your routes with an 'announce only' set",
        )


def _blame(problems: Problems, item: _Given, reason: str) -> None:
    peer = item.rule.peer if item.rule.peer is not None else ALL_PEERS
    problems.add(ValidationError(f"{item.where}peer", peer, reason))


def _checked_set(
    owner: Member,
    known: _Exchange,
    kept: Sequence[Rule],
    given: Sequence[RuleInput],
    *,
    indexed: bool,
) -> list[Rule]:
    """``kept`` (stored rules that stay) and ``given`` checked together; the new set."""
    problems = Problems()
    items = [_Given(rule, None) for rule in kept]
    for index, raw in enumerate(given):
        where = f"rules[{index}]." if indexed else ""
        rule = problems.check(_check_one, raw, where, owner, known)
        if rule is not None:
            items.append(_Given(rule, where))
    if len(items) > MAX_RULES:
        problems.add(
            ValidationError("rules", len(items), f"are too many: at most {MAX_RULES} per member")
        )
    _check_set(items, known.names(), problems)
    problems.raise_any()
    return [item.rule for item in items]


# -- reading and writing -------------------------------------------------------------------------


def _snapshot(rows: Iterable[RsRule]) -> dict[str, object]:
    return {"rules": [{"id": row.id, **Rule.of(row).snapshot()} for row in rows]}


def _lock(session: Session, member: Member) -> None:
    """Hold the member's row until the transaction ends, so two changes of its rules never
    both check against the same old set (SQLite: its one writer at a time does that)."""
    session.execute(select(Member.id).where(Member.id == member.id).with_for_update())


def list_rules(session: Session, asn: int | str) -> list[RuleView]:
    """A member's rules in the order they were made, in words, each saying if it applies."""
    exchange = get_exchange(session)
    owner = _owner(session, asn, exchange)
    known = _exchange(session, exchange)
    return [_view(row, owner.asn, known) for row in _stored(session, owner)]


def _write(
    session: Session,
    owner: Member,
    action: str,
    before: list[RsRule],
    added: Sequence[Rule],
    removed: Sequence[RsRule],
    actor: str,
) -> list[RsRule]:
    """Remove ``removed``, add ``added`` and log it (inside the caller's transaction)."""
    made_by = audit.check_actor(actor)
    snapshot = _snapshot(before)
    for row in removed:
        session.delete(row)
    rows = [
        RsRule(
            member=owner,
            action=r.action,
            peer_asn=r.peer,
            family=r.family,
            prepend=r.prepend,
            created_by=made_by,
        )
        for r in added
    ]
    session.add_all(rows)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=action,
        entity=AUDIT_ENTITY,
        key=f"AS{owner.asn}",
        before=snapshot,
        after=_snapshot(_stored(session, owner)),
    )
    return rows


@dataclass(frozen=True)
class _Change:
    """A change of one member's rules under way: the member, what the exchange holds, and
    its rules as they stood."""

    owner: Member
    known: _Exchange
    before: list[RsRule]

    def view(self, row: RsRule) -> RuleView:
        return _view(row, self.owner.asn, self.known)


@contextmanager
def _changing(session: Session, asn: int | str) -> Iterator[_Change]:
    """One transaction changing a member's rules, with the member's row held throughout."""
    exchange = get_exchange(session)
    with transaction(session):
        owner = _owner(session, asn, exchange)
        _lock(session, owner)
        yield _Change(owner, _exchange(session, exchange), _stored(session, owner))


def add_rule(session: Session, asn: int | str, rule: RuleInput, *, actor: str) -> RuleView:
    """Add one rule to a member's set, checked against the rules it already has."""
    with _changing(session, asn) as change:
        kept = [Rule.of(row) for row in change.before]
        checked = _checked_set(change.owner, change.known, kept, [rule], indexed=False)
        added = checked[len(kept) :]
        (row,) = _write(session, change.owner, "add", change.before, added, [], actor)
    return change.view(row)


def replace_rules(
    session: Session, asn: int | str, rules: Sequence[RuleInput], *, actor: str
) -> list[RuleView]:
    """Make ``rules`` the member's whole set (an empty list removes every rule)."""
    with _changing(session, asn) as change:
        checked = _checked_set(change.owner, change.known, [], rules, indexed=True)
        _write(session, change.owner, "replace", change.before, checked, change.before, actor)
        rows = _stored(session, change.owner)
    return [change.view(row) for row in rows]


def remove_rule(session: Session, asn: int | str, rule_id: int, *, actor: str) -> RuleView:
    """Remove one of the member's rules (another member's rule is NotFound, as none)."""
    with _changing(session, asn) as change:
        row = next((r for r in change.before if r.id == rule_id), None)
        if row is None:
            raise NotFound("does not exist", field="rule", value=rule_id)
        removed = change.view(row)
        _write(session, change.owner, "remove", change.before, [], [row], actor)
    return removed


def remove_all_rules(session: Session, asn: int | str, *, actor: str) -> list[RuleView]:
    """Remove every rule of the member; returns what they were."""
    with _changing(session, asn) as change:
        removed = [change.view(row) for row in change.before]
        _write(session, change.owner, "remove", change.before, [], change.before, actor)
    return removed


# -- preview -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Outcome:
    """What a rule set means for one peer in one family."""

    sends: bool
    prepend: int
    accepts: bool


def _outcome(rules: Sequence[Rule], family: int, peer: int) -> _Outcome:
    """The meaning of ``rules`` towards ``peer``, as the route server's policy applies
    the communities they compile to (templates/bird/functions.j2, ``rs_export``)."""
    mine = [r for r in rules if family in r.family.numbers]

    def has(action: RuleAction, who: int | None) -> bool:
        return any(r.action is action and r.peer == who for r in mine)

    only = {r.peer for r in mine if r.action is RuleAction.announce_only}
    sends = not has(RuleAction.do_not_announce, None) and not has(RuleAction.do_not_announce, peer)
    if only and peer not in only:
        sends = False
    prepends = {r.peer: r.prepend or 0 for r in mine if r.action is RuleAction.prepend}
    prepend = prepends.get(peer, prepends.get(None, 0))
    accepts = not has(RuleAction.do_not_accept, None) and not has(RuleAction.do_not_accept, peer)
    return _Outcome(sends, prepend if sends else 0, accepts)


def _accepted_counts(session: Session, asns: Iterable[int]) -> dict[tuple[int, int], int]:
    """Routes each member had accepted per family as the monitor last stored it (the most
    any route server accepted); members never seen are absent."""
    wanted = list(asns)
    query = (
        select(SessionState.asn, SessionState.family, func.max(SessionState.imported))
        .where(SessionState.asn.in_(wanted))
        .group_by(SessionState.asn, SessionState.family)
    )
    counts = {}
    for asn, family, imported in session.execute(query):
        if asn is not None and family in ("ipv4", "ipv6"):
            counts[(asn, 4 if family == "ipv4" else 6)] = int(imported or 0)
    return counts


def _routes(counts: Mapping[tuple[int, int], int], asn: int, families: Sequence[int]) -> str:
    """``12 IPv4 and 3 IPv6 routes``; a family the monitor has not seen has no number."""
    parts = []
    for family in families:
        count = counts.get((asn, family))
        parts.append(f"{count} IPv{family}" if count is not None else f"IPv{family}")
    one = len(parts) == 1 and counts.get((asn, families[0])) == 1
    return " and ".join(parts) + (" route" if one else " routes")


def _sentence(kind: str, value: object, owner: int, routes: str, several: bool) -> str:
    """What changes for the peers named before it: ``kind`` changed to ``value``."""
    if kind == "sends":
        return (
            f"will receive your {routes} again"
            if value
            else f"will no longer receive your {routes}"
        )
    if kind == "prepend":
        if value == 0:
            return f"will receive your {routes} without AS{owner} prepended"
        return f"will receive your {routes} with AS{owner} prepended {_TIMES[int(str(value))]}"
    whose = "their" if several else "its"
    return (
        f"will send you {whose} {routes} again"
        if value
        else f"will no longer send you {whose} {routes}"
    )


_SHOWN_PEERS = 5


def _who(peers: Sequence[int], names: Mapping[int, str], everyone: int) -> str:
    """The peers a change is about: each by name, or in short when there are many."""
    if len(peers) == everyone and everyone > 1:
        return f"Every peer ({everyone} members)"
    labels = [_peer_label(p, names) for p in peers[:_SHOWN_PEERS]]
    if len(peers) > _SHOWN_PEERS:
        return f"{', '.join(labels)} and {len(peers) - _SHOWN_PEERS} more peers"
    return " and ".join(filter(None, [", ".join(labels[:-1]), labels[-1]]))


def _changes(
    session: Session, owner: int, known: _Exchange, before: Sequence[Rule], after: Sequence[Rule]
) -> tuple[Change, ...]:
    """The sentences of what changes between ``before`` and ``after`` for the active peers
    the member shares a family with, peers with the same change in one sentence."""
    me = known.members[owner]
    peers = sorted(
        p.asn
        for p in known.members.values()
        if p.asn != owner and p.status is MemberStatus.active and p.families & me.families
    )
    # (what changed, its new value, in which families) -> the peers it changed for
    found: defaultdict[tuple[str, object, tuple[int, ...]], list[int]] = defaultdict(list)
    for peer in peers:
        changed: defaultdict[tuple[str, object], list[int]] = defaultdict(list)
        for family in sorted(me.families & known.members[peer].families):
            old, new = _outcome(before, family, peer), _outcome(after, family, peer)
            for kind in ("sends", "prepend", "accepts"):
                if getattr(old, kind) != getattr(new, kind) and (kind != "prepend" or new.sends):
                    changed[(kind, getattr(new, kind))].append(family)
        for (kind, value), families in changed.items():
            found[(kind, value, tuple(families))].append(peer)
    counts = _accepted_counts(session, [owner, *{p for group in found.values() for p in group}])
    names = known.names()
    changes = []
    for (kind, value, shared), group in found.items():
        several = len(group) > 1
        if kind != "accepts":
            routes = _routes(counts, owner, shared)
        else:
            routes = _routes({} if several else counts, group[0], shared)
        sentence = _sentence(kind, value, owner, routes, several)
        changes.append(Change(tuple(group), f"{_who(group, names, len(peers))} {sentence}"))
    return tuple(sorted(changes, key=lambda c: (c.peers, c.text)))


def _preview(
    session: Session,
    asn: int | str,
    proposed: Callable[[Member, _Exchange, list[Rule]], list[Rule]],
) -> Preview:
    exchange = get_exchange(session)
    owner = _owner(session, asn, exchange)
    known = _exchange(session, exchange)
    before = [Rule.of(row) for row in _stored(session, owner)]
    after = proposed(owner, known, before)
    names = known.names()
    return Preview(
        asn=owner.asn,
        rules=tuple(r.describe(names) for r in after),
        changes=_changes(session, owner.asn, known, before, after),
    )


def preview(session: Session, asn: int | str, rules: Sequence[RuleInput]) -> Preview:
    """What making ``rules`` the member's whole set would change, checked as
    ``replace_rules`` checks it; nothing is written."""
    return _preview(
        session, asn, lambda owner, known, _: _checked_set(owner, known, [], rules, indexed=True)
    )


def preview_add(session: Session, asn: int | str, rule: RuleInput) -> Preview:
    """What adding ``rule`` would change, checked as ``add_rule`` checks it; nothing is
    written."""
    return _preview(
        session,
        asn,
        lambda owner, known, before: _checked_set(owner, known, before, [rule], indexed=False),
    )


# -- the build -----------------------------------------------------------------------------------


def rules_by_member(session: Session, exchange: Exchange) -> dict[int, tuple[Rule, ...]]:
    """Every member's rules keyed by its ASN, each set in a fixed order, in one query."""
    found: defaultdict[int, list[Rule]] = defaultdict(list)
    query = (
        select(Member.asn, RsRule)
        .join(Member, Member.id == RsRule.member_id)
        .where(Member.exchange_id == exchange.id)
    )
    for asn, row in session.execute(query):
        found[asn].append(Rule.of(row))
    return {asn: tuple(sorted(rules, key=Rule.sort_key)) for asn, rules in found.items()}


def _family_rules(rules: Sequence[Rule], family: int) -> FamilyRules:
    tags: set[tuple[int, int]] = set()
    refused: set[int] = set()
    refuse_all = False
    for rule in rules:
        if family not in rule.family.numbers:
            continue
        peer = rule.peer or 0
        if rule.action is RuleAction.do_not_announce:
            tags.add((NOT_TO, peer))
        elif rule.action is RuleAction.announce_only:
            tags.update({(NOT_TO, 0), (ONLY_TO, peer)})
        elif rule.action is RuleAction.prepend:
            tags.add((PREPEND + (rule.prepend or 1), peer))
        elif rule.peer is None:
            refuse_all = True
        else:
            refused.add(rule.peer)
    return FamilyRules(
        tuple(sorted(tags)), () if refuse_all else tuple(sorted(refused)), refuse_all
    )


def compile_rules(
    asn: int, rules: Sequence[Rule], absent: Callable[[int], str | None]
) -> tuple[MemberRules, tuple[DroppedRule, ...]]:
    """A member's rules as configuration data, and the rules left out.

    ``absent(peer)`` says why a peer is not configured on the route server being built
    (None: it is). A rule about such a peer is left out and reported. When that empties
    a family's ``announce only`` set, the set is gone as a whole (the member's routes
    go to every peer, as without the rules) and the report says so: an empty set would
    silently announce to no one.
    """
    kept: list[Rule] = []
    dropped: list[DroppedRule] = []
    for rule in rules:
        why = absent(rule.peer) if rule.peer is not None else None
        if why is None:
            kept.append(rule)
        else:
            dropped.append(DroppedRule(asn, rule.describe(), why))
    for family in (4, 6):
        had = any(
            r.action is RuleAction.announce_only and family in r.family.numbers for r in rules
        )
        has = any(r.action is RuleAction.announce_only and family in r.family.numbers for r in kept)
        if had and not has:
            dropped.append(
                DroppedRule(
                    asn,
                    f"announce only to the listed peers (IPv{family})",
                    f"none of them is configured: AS{asn}'s IPv{family} routes go to every peer",
                )
            )
    compiled = MemberRules(_family_rules(kept, 4), _family_rules(kept, 6))
    return compiled, tuple(dropped)
