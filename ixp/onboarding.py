"""Onboarding a member from the operator's form: its ASN and AS-SET checked against the
registry before anything is written, free LAN addresses proposed, and its registry data
fetched as soon as it is saved.

``ixp member add`` checks the input (``ixp.members``); a member whose AS-SET
cannot work still gets in that way, and its sessions come up with a filter that
matches nothing. The form refuses such a member with the reason, using the
registry source the exchange's filters come from and the rules a sync applies
(``ixp.irr``): an AS-SET the registry does not know, one without member ASNs or
route objects, one that expands past ``irr_max_asns`` or whose prefixes would be
held for an operator (more than ``irr_max_prefixes``, or wider than a
``irr_max_space_v4``/``_v6``), and a member ASN its own AS-SET leaves out (the
route servers would filter every route it originates). Every refusal names its
field, beside every other bad field of the form.

The registry source is the one the exchange's stored registry data last came
from: the same RPSL dumps when the last sync read dumps (the demo, the lab, an
air-gapped exchange), bgpq4 against ``irr_server`` otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ixp import addressing, members, validate
from ixp.db import transaction
from ixp.errors import (
    Conflict,
    IxpError,
    Problems,
    SourceUnavailable,
    ValidationError,
)
from ixp.exchange import get_exchange, peering_lan
from ixp.irr import service as irr
from ixp.irr.sources import Bgpq4Source, DumpSource, Fetched, IrrSource
from ixp.models import IrrPrefixData
from ixp.settings import Settings

# How ``DumpSource`` describes itself: "rpsl " and the dumps' paths, joined by ", ".
_DUMPS_PREFIX = "rpsl "
_DUMPS_SEPARATOR = ", "


@dataclass(frozen=True)
class RegistryCheck:
    """What the registry holds for a new member: its AS-SET (or ASN), the ASNs it expands
    to and the prefixes its filter would have, and remarks (objects left out)."""

    as_set: str
    source: str
    asns: int
    prefixes_v4: int
    prefixes_v6: int
    notes: tuple[str, ...]


def registry_dumps(session: Session) -> list[Path] | None:
    """The RPSL dumps the exchange's registry data last came from, or None for bgpq4.

    A sync records its source on every member's data; the newest row says which.
    Dumps that are no longer where they were cannot be checked against:
    ``SourceUnavailable`` asks for a new sync.
    """
    source = session.scalar(
        select(IrrPrefixData.source).order_by(IrrPrefixData.last_attempt_at.desc()).limit(1)
    )
    if source is None or not source.startswith(_DUMPS_PREFIX):
        return None
    dumps = [Path(p) for p in source.removeprefix(_DUMPS_PREFIX).split(_DUMPS_SEPARATOR)]
    missing = [str(p) for p in dumps if not p.is_file()]
    if missing:
        raise SourceUnavailable(
            f"the registry dumps of the last sync are gone ({', '.join(missing)}): "
            "sync the registry data again"
        )
    return dumps


def _open(settings: Settings, dumps: list[Path] | None) -> IrrSource:
    return DumpSource(settings, dumps) if dumps else Bgpq4Source(settings)


def _fetch(source: IrrSource, name: str, field: str) -> Fetched:
    """The registry's answer for ``name``; a refusal becomes an error of ``field``."""
    try:
        return source.fetch(name, name)
    except IxpError as exc:
        reason = exc.reason.removeprefix("as_set: ")
        raise ValidationError(field, name, f"cannot be used: {reason}") from None


def _refusals(fetched: Fetched, name: str, field: str, asn: int, settings: Settings) -> Problems:
    problems = Problems()
    if not fetched.v4 and not fetched.v6:
        problems.add(
            ValidationError(
                field,
                name,
                f"has no route or route6 objects for any of its {len(fetched.asns)} ASN(s): "
                "the route servers would filter every route (register route objects first)",
            )
        )
    held = irr.hold_reasons(None, (fetched.v4, fetched.v6), settings)
    if held:
        problems.add(
            ValidationError(
                field,
                name,
                f"expands too far to be trusted without review: {'; '.join(held)}",
            )
        )
    if asn not in fetched.asns:
        problems.add(
            ValidationError(
                "asn",
                asn,
                f"is not in {name}: the route servers would filter every route AS{asn} "
                "originates (add it to the AS-SET)",
            )
        )
    return problems


def check_registry(
    settings: Settings, asn: int, as_set: str | None, dumps: list[Path] | None
) -> RegistryCheck:
    """Check member ``asn`` with ``as_set`` (None: its own ASN alone) against the registry
    (``dumps``, or bgpq4 when None); every reason it cannot work is raised at once."""
    name = (as_set or f"AS{asn}").upper()
    field = "as_set" if as_set else "asn"
    source = _open(settings, dumps)
    try:
        fetched = _fetch(source, name, field)
    finally:
        source.close()
    _refusals(fetched, name, field, asn, settings).raise_any()
    return RegistryCheck(
        as_set=name,
        source=source.description,
        asns=len(fetched.asns),
        prefixes_v4=len(fetched.v4),
        prefixes_v6=len(fetched.v6),
        notes=fetched.notes,
    )


def proposed_addresses(session: Session, asn: int | None) -> dict[int, str]:
    """Free LAN addresses for a new member, by family (only families the LAN has); the IPv6
    one carries the ASN when it is known (``ixp.addressing.allocate``'s choice)."""
    lan = peering_lan(get_exchange(session))
    return {
        family: addressing.propose(session, lan, family, asn or 0)
        for family in (4, 6)
        if addressing.lan_subnet_or_none(lan, family) is not None
    }


def _as_field_errors(error: IxpError) -> list[ValidationError]:
    """A refusal of ``add_member`` as errors of the fields it names (a form shows them)."""
    if isinstance(error, ValidationError):
        return list(error.errors)
    return [ValidationError(error.field or "asn", error.value, error.reason)]


def _syntax_ok(data: members.MemberInput, allow_lab: bool) -> tuple[int, str | None] | None:
    """The ASN and AS-SET if both are well formed (``add_member`` names them otherwise)."""
    try:
        number = validate.asn(data.asn, "asn", allow_lab=allow_lab)
        return number, validate.as_set(data.as_set, "as_set") if data.as_set else None
    except ValidationError:
        return None


def _checked_registry(
    session: Session, settings: Settings, data: members.MemberInput, allow_lab: bool
) -> RegistryCheck | None:
    """``check_registry`` for ``data``; None when its ASN or AS-SET is malformed (the
    input's check names them). A registry that cannot be asked refuses the AS-SET."""
    given = _syntax_ok(data, allow_lab)
    if given is None:
        return None
    number, as_set = given
    try:
        dumps = registry_dumps(session)
    except SourceUnavailable as exc:
        field = "as_set" if as_set else "asn"
        raise ValidationError(field, as_set or number, f"cannot be checked: {exc.reason}") from None
    return check_registry(settings, number, as_set, dumps)


@dataclass(frozen=True)
class Onboarded:
    """A member just onboarded, and what the registry said about it."""

    member: members.MemberView
    registry: RegistryCheck


def onboard(
    session: Session,
    settings: Settings,
    data: members.MemberInput,
    *,
    allow_lab: bool = False,
    actor: str,
) -> Onboarded:
    """Check ``data`` against the registry, add the member (``members.add_member``) and fetch
    its registry data from the same source.

    Every refusal, of the input and of the registry, is raised at once as one
    ``ValidationError`` (``errors`` names each field); a member refused for any
    reason is not written. A sync that fails right after (the registry went
    away) leaves the member without registry data, as a failed nightly sync
    would, and the build preview says so.
    """
    problems = Problems()
    registry = problems.check(_checked_registry, session, settings, data, allow_lab)
    with transaction(session):  # the outermost: nothing is kept if anything was refused
        try:
            view = members.add_member(session, data, allow_lab=allow_lab, actor=actor)
        except (ValidationError, Conflict) as exc:
            for error in _as_field_errors(exc):
                problems.add(error)
        problems.raise_any()
    if registry is None:  # a malformed ASN or AS-SET: add_member has refused it above
        raise AssertionError("a member with a malformed ASN or AS-SET was added")
    dumps = registry_dumps(session)
    irr.sync(session, settings, members=[members.get_member(session, view.asn)], rpsl_files=dumps)
    return Onboarded(view, registry)
