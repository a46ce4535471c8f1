"""Data versions: a counter per group of tables, and a cache of answers checked against it.

A page of the member listing costs milliseconds of Python per request, yet the
members change a few times a day. So answers built from a group of tables are
kept, per process, under the group's version, and reused while the version in
the database is the same (one small query): correct across web workers and
whatever process made the change (CLI, API, nightly job).

The version is raised by the session itself, not by each service function: every
session from ``ixp.db.session_factory`` raises it in the same transaction as any
ORM change to the group's tables (new, changed or deleted objects, and ORM
``insert()``/``update()``/``delete()`` statements). A change made outside the ORM
(statements on a connection) is not seen by itself: the one place ixp does that,
the ROA load's bulk replace, adds its load record through the ORM in the same
transaction, which raises the version.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Sequence
from itertools import chain
from typing import Generic, TypeVar

from sqlalchemy import Table, event, insert, select, update
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction, sessionmaker

from ixp.models import (
    Alert,
    Base,
    Connection,
    DataVersion,
    Exchange,
    IrrPrefixData,
    LanAddress,
    MacAddress,
    Member,
    PeeringLan,
    RouteServer,
    RpkiLoad,
    RpkiRoa,
    RsSession,
    SessionState,
)

MEMBERS = "members"
RPKI = "rpki"
IRR = "irr"
SESSIONS = "sessions"

# What each version covers: for MEMBERS, the tables a member's view
# (``ixp.members.MemberView``) reads; for RPKI and IRR, the stored ROA set and the
# members' registry data (part of what tells the answers a route-server build keeps
# apart, ``ixp.rs.context``); for SESSIONS, what the monitor writes each round (the
# sessions it saw and the alerts it raised; with the others, the members table,
# ``ixp.roster``).
GROUPS: dict[str, tuple[type[Base], ...]] = {
    MEMBERS: (Member, LanAddress, Connection, MacAddress, RsSession, RouteServer, Exchange),
    RPKI: (RpkiRoa, RpkiLoad),
    IRR: (IrrPrefixData,),
    SESSIONS: (SessionState, Alert),
}
# Tables by name, for ORM insert()/update()/delete() statements. PeeringLan is not shown in a view,
# but a LAN removed takes addresses with it.
_ALSO: dict[str, tuple[type[Base], ...]] = {MEMBERS: (PeeringLan,)}
_TABLES: dict[str, frozenset[str]] = {
    name: frozenset(str(model.__tablename__) for model in models + _ALSO.get(name, ()))
    for name, models in GROUPS.items()
}

V = TypeVar("V")


def current(session: Session, group: str) -> int:
    """The version of ``group`` as this session's transaction sees it (0: never changed)."""
    return current_of(session, (group,))[0]


def current_of(session: Session, groups: Sequence[str]) -> tuple[int, ...]:
    """The versions of ``groups``, in their order, read in one query."""
    found = {
        name: version
        for name, version in session.execute(
            select(DataVersion.name, DataVersion.version).where(DataVersion.name.in_(groups))
        )
    }
    return tuple(int(found.get(group, 0)) for group in groups)


def _raise(session: Session, groups: Iterable[str]) -> None:
    connection = session.connection()
    for group in sorted(set(groups)):
        bumped = connection.execute(
            update(DataVersion)
            .where(DataVersion.name == group)
            .values(version=DataVersion.version + 1)
        )
        if bumped.rowcount == 0:
            connection.execute(insert(DataVersion).values(name=group, version=1))


def _changed_groups(objects: Iterable[object]) -> set[str]:
    return {name for obj in objects for name, models in GROUPS.items() if isinstance(obj, models)}


def _before_flush(session: Session, _context: UOWTransaction, _instances: object) -> None:
    changed = _changed_groups(chain(session.new, session.dirty, session.deleted))
    if changed:
        _raise(session, changed)


def _on_execute(state: ORMExecuteState) -> None:
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if isinstance(table, Table):
        changed = {name for name, tables in _TABLES.items() if table.name in tables}
        if changed:
            _raise(state.session, changed)


def track(factory: sessionmaker[Session]) -> sessionmaker[Session]:
    """Make every session of ``factory`` raise the versions of the groups it changes."""
    event.listen(factory, "before_flush", _before_flush)
    event.listen(factory, "do_orm_execute", _on_execute)
    return factory


class VersionedCache(Generic[V]):
    """Answers by key, each kept with the version it was built at (one group's version, or
    a tuple of several: ``current_of``); thread-safe, at most ``max_entries`` (the one
    used longest ago goes first).

    ``get`` builds the answer when none is kept for the current version. Two threads
    missing at once may both build it; the answer is the same.
    """

    def __init__(self, max_entries: int = 128) -> None:
        if max_entries < 1:
            raise ValueError("a cache holds at least one entry")
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, tuple[Hashable, V]] = OrderedDict()

    def get(self, key: Hashable, version: Hashable, build: Callable[[], V]) -> V:
        """The answer of ``key`` at ``version``: kept, or ``build()``'s (then kept)."""
        with self._lock:
            kept = self._entries.get(key)
            if kept is not None and kept[0] == version:
                self._entries.move_to_end(key)
                return kept[1]
        answer = build()
        with self._lock:
            self._entries[key] = (version, answer)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return answer
