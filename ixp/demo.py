"""The demo exchange: a fictional national IXP in Pakistan, loaded through the normal code paths.

The exchange, its two route servers and its 40 members are an IX-F file
(``data/demo/exchange.json``), imported exactly as an operator's file would be;
``extras.json`` adds what IX-F cannot carry (blackhole next hops, legal names,
blackholing and max-prefix actions), and ``registry.rpsl`` and ``roas.json`` feed
the IRR and RPKI loaders. Every name, ASN and prefix is made up; the ASNs and
prefixes are public-looking (APNIC ranges) so they pass the route servers' bogon
filters, and a few registry objects and ROAs are wrong on purpose so the
policy has something to reject (listed in ``data/demo/README.md``).

Loading is idempotent: a second run finds nothing to change and writes nothing.

In development mode only (``web_environment``, as the demo's ``ixp.toml`` sets
it), loading also creates two web logins with published passwords, an operator
and one member's NOC, so that a new user can try the API and the portal at once;
a production installation never gets an account anyone else knows the password of.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from ixp import accounts, ixf
from ixp.db import transaction
from ixp.exchange import get_exchange
from ixp.irr import service as irr_service
from ixp.irr.types import SyncOutcome
from ixp.members import MemberView, get_member, update_member
from ixp.models import Exchange
from ixp.rpki import service as rpki_service
from ixp.settings import Settings

DEMO_DIR = Path(__file__).resolve().parent / "data" / "demo"
EXCHANGE_FILE = DEMO_DIR / "exchange.json"
EXTRAS_FILE = DEMO_DIR / "extras.json"
REGISTRY_FILE = DEMO_DIR / "registry.rpsl"
ROAS_FILE = DEMO_DIR / "roas.json"


@dataclass(frozen=True)
class DemoLogin:
    """A web login of the demo (development mode only); its password is published."""

    username: str
    password: str
    role: str
    member_asn: int | None


DEMO_LOGINS = (
    DemoLogin("operator", "demo-operator-password", "operator", None),
    DemoLogin("member", "demo-member-password", "member", 58421),
)


@dataclass(frozen=True)
class DemoReport:
    """What ``load_demo`` did (``roas_loaded`` is None when these ROAs were loaded already)."""

    exchange: str
    imported: ixf.ImportResult
    members_with_extras_changed: tuple[int, ...]
    irr_synced: int
    roas_loaded: int | None
    logins_created: tuple[str, ...]


def _apply_extras(
    session: Session, exchange: Exchange, extras: dict[str, Any], actor: str
) -> list[int]:
    """Set the extra member fields that differ; returns the ASNs that changed."""
    changed = []
    for asn_text, wanted in sorted(extras.items(), key=lambda item: int(item[0])):
        member = get_member(session, asn_text, exchange)
        current = MemberView.of(member)
        changes = {key: value for key, value in wanted.items() if getattr(current, key) != value}
        if changes:
            update_member(session, member.asn, changes, exchange=exchange, actor=actor)
            changed.append(member.asn)
    return changed


def _sync_registry(session: Session, settings: Settings) -> int:
    """Registry data for members that have none yet (a re-run must not rewrite fetch times).

    Returns how many members got data; a member whose AS-SET is not registered
    stays without data (its filter accepts nothing) and is tried again next time.
    """
    members = irr_service.syncable_members(session)
    stored = irr_service.irr_for_members(session, members)
    missing = [m for m in members if stored.get(m.id) is None]
    if not missing:
        return 0
    report = irr_service.sync(session, settings, members=missing, rpsl_files=[REGISTRY_FILE])
    return len(missing) - report.count(SyncOutcome.failed)


def _load_roas(session: Session, settings: Settings, actor: str) -> int | None:
    """Load the demo ROAs unless exactly this file is already the loaded set."""
    digest = hashlib.sha256(ROAS_FILE.read_bytes()).hexdigest()
    last = rpki_service.last_load(session)
    if last is not None and last.sha256 == digest:
        return None
    report = rpki_service.load_file(session, ROAS_FILE, settings=settings, actor=actor)
    return report.roas_v4 + report.roas_v6


def _create_logins(session: Session, settings: Settings, actor: str) -> tuple[str, ...]:
    """The demo's web logins that do not exist yet; none outside development mode."""
    if settings.web_environment != "development":
        return ()
    existing = {user.username for user in accounts.list_users(session)}
    created = []
    for login in DEMO_LOGINS:
        if login.username not in existing:
            accounts.add_user(
                session,
                username=login.username,
                password=login.password,
                role=login.role,
                member_asn=login.member_asn,
                actor=actor,
            )
            created.append(login.username)
    return tuple(created)


def load_demo(session: Session, settings: Settings, *, actor: str) -> DemoReport:
    """Load (or top up) the demo exchange, its registry data and its ROAs."""
    extras = json.loads(EXTRAS_FILE.read_text(encoding="utf-8"))
    options = ixf.ImportOptions(
        blackhole_ipv4=extras["exchange"]["blackhole_ipv4"],
        blackhole_ipv6=extras["exchange"]["blackhole_ipv6"],
        actor=actor,
    )
    with transaction(session):
        imported = ixf.import_file(session, EXCHANGE_FILE, options)
        exchange = get_exchange(session, imported.exchange)
        changed = _apply_extras(session, exchange, extras["members"], actor)
    irr_synced = _sync_registry(session, settings)
    roas = _load_roas(session, settings, actor)
    logins = _create_logins(session, settings, actor)
    return DemoReport(imported.exchange, imported, tuple(changed), irr_synced, roas, logins)
