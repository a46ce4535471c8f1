"""``ixp member ...``: onboarding and maintaining members.

Every command that names one member prints that member (``--json``: one object
of ``MemberView``'s fields, the same for add, show, set, suspend and remove);
``member list --json`` prints a list of them. ``member macs approve|reject``
print the decided proposal (``MacProposalView``), ``member macs pending`` a list.
``member rules list|add|remove`` print ``RuleView``s (``add --preview``: the
``Preview`` of what would change).
"""

from __future__ import annotations

import dataclasses
import sys

import typer

from ixp import macreview, rsrules
from ixp import members as service
from ixp.cli.common import JsonOption, cli_session, emit, handles_errors, printable_lines, say
from ixp.models import MacProposalStatus
from ixp.rs.snippets import PLATFORMS, member_snippet
from ixp.settings import get_settings

member_app = typer.Typer(
    help="Members: add, show, list, change, suspend, remove.", no_args_is_help=True
)

_COLUMNS = ("asn", "name", "status", "as_set_v4", "ipv4", "ipv6", "max_prefix_v4", "max_prefix_v6")

macs_app = typer.Typer(
    help="Router MACs members proposed: list what waits, approve or reject.",
    no_args_is_help=True,
)
member_app.add_typer(macs_app, name="macs")

_PROPOSAL_COLUMNS = ("asn", "name", "status", "in_use", "macs", "proposed_by", "proposed_at")

rules_app = typer.Typer(
    help="A member's route-server filtering rules: list, add (with a preview), remove.",
    no_args_is_help=True,
)
member_app.add_typer(rules_app, name="rules")

_RULE_COLUMNS = ("id", "text", "equivalent", "inactive")


def _sessions(member: service.MemberView) -> str:
    """A member's route servers and the families of its sessions: ``rs1-isb(v4 v6)``."""

    def families(rs: service.RouteServerSessions) -> str:
        return " ".join(f for f, on in (("v4", rs.ipv4_enabled), ("v6", rs.ipv6_enabled)) if on)

    return ", ".join(f"{rs.name}({families(rs)})" for rs in member.route_servers)


@member_app.command("add")
@handles_errors
def member_add(
    asn: str = typer.Option(..., help="The member's ASN."),
    name: str = typer.Option(..., help="Display name."),
    max_prefix_v4: int = typer.Option(..., help="IPv4 max-prefix limit."),
    max_prefix_v6: int = typer.Option(..., help="IPv6 max-prefix limit."),
    legal_name: str = typer.Option(None, help="Legal name (default: the display name)."),
    as_set: str = typer.Option(None, help="AS-SET for both families (RPSL name)."),
    as_set_v4: str = typer.Option(None, help="AS-SET for IPv4 only."),
    as_set_v6: str = typer.Option(None, help="AS-SET for IPv6 only."),
    ipv4: str = typer.Option(None, help="IPv4 address on the peering LAN."),
    ipv6: str = typer.Option(None, help="IPv6 address on the peering LAN."),
    auto_ip: bool = typer.Option(False, "--auto-ip", help="Allocate the addresses not given."),
    mac: list[str] = typer.Option([], help="MAC address of the member's router (repeatable)."),
    speed: int = typer.Option(None, help="Port speed in Mbit/s."),
    status: str = typer.Option("active", help="onboarding, active, suspended or departed."),
    max_prefix_action: str = typer.Option("restart", help="restart, disable, block or warn."),
    peeringdb_id: int = typer.Option(None, help="PeeringDB network id."),
    noc_email: str = typer.Option(None, help="NOC e-mail."),
    noc_phone: str = typer.Option(None, help="NOC phone."),
    peering_email: str = typer.Option(None, help="Peering contact e-mail."),
    blackholing: bool = typer.Option(False, help="Allow RFC 7999 blackholing."),
    as_json: bool = JsonOption,
) -> None:
    """Onboard a member: checks everything, then writes it in one transaction."""
    settings = get_settings()
    data = service.MemberInput(
        asn=asn,
        name=name,
        legal_name=legal_name,
        as_set=as_set,
        as_set_v4=as_set_v4,
        as_set_v6=as_set_v6,
        ipv4=ipv4,
        ipv6=ipv6,
        auto_ip=auto_ip,
        max_prefix_v4=max_prefix_v4,
        max_prefix_v6=max_prefix_v6,
        macs=mac,
        speed_mbps=speed,
        status=status,
        max_prefix_action=max_prefix_action,
        peeringdb_id=peeringdb_id,
        noc_email=noc_email,
        noc_phone=noc_phone,
        peering_email=peering_email,
        blackholing=blackholing,
    )
    with cli_session(settings) as session:
        member = service.add_member(
            session, data, allow_lab=settings.allow_lab_asns, actor=settings.actor
        )
    emit(as_json, member, "Member added", _COLUMNS)


@member_app.command("show")
@handles_errors
def member_show(asn: str = typer.Argument(..., help="ASN"), as_json: bool = JsonOption) -> None:
    """Everything about one member."""
    with cli_session() as session:
        member = service.show_member(session, asn)
    if as_json:
        emit(True, member, "", ())
        return
    fields = [(f.name, getattr(member, f.name)) for f in dataclasses.fields(member)]
    rows = [
        {"field": name, "value": _sessions(member) if name == "route_servers" else value}
        for name, value in fields
    ]
    emit(False, rows, f"AS{member.asn}", ("field", "value"))


@member_app.command("list")
@handles_errors
def member_list(
    status: str = typer.Option(None, help="Only members with this status."),
    as_json: bool = JsonOption,
) -> None:
    """All members of the exchange, by ASN."""
    with cli_session() as session:
        emit(as_json, service.show_members(session, status=status), "Members", _COLUMNS)


@member_app.command("set")
@handles_errors
def member_set(
    asn: str = typer.Argument(..., help="ASN of the member to change."),
    name: str = typer.Option(None, help="Display name."),
    legal_name: str = typer.Option(None, help="Legal name."),
    as_set: str = typer.Option(None, help="AS-SET for both families."),
    as_set_v4: str = typer.Option(None, help="AS-SET for IPv4."),
    as_set_v6: str = typer.Option(None, help="AS-SET for IPv6."),
    ipv4: str = typer.Option(None, help="New IPv4 address ('' removes it)."),
    ipv6: str = typer.Option(None, help="New IPv6 address ('' removes it)."),
    mac: list[str] = typer.Option(None, help="Replace the MAC addresses (repeatable)."),
    max_prefix_v4: int = typer.Option(None, help="IPv4 max-prefix limit."),
    max_prefix_v6: int = typer.Option(None, help="IPv6 max-prefix limit."),
    max_prefix_action: str = typer.Option(None, help="restart, disable, block or warn."),
    status: str = typer.Option(None, help="onboarding, active, suspended or departed."),
    peeringdb_id: int = typer.Option(None, help="PeeringDB network id."),
    noc_email: str = typer.Option(None, help="NOC e-mail."),
    noc_phone: str = typer.Option(None, help="NOC phone."),
    peering_email: str = typer.Option(None, help="Peering contact e-mail."),
    blackholing: bool = typer.Option(None, "--blackholing/--no-blackholing", help="RFC 7999."),
    announcement_control: bool = typer.Option(
        None, "--announcement-control/--no-announcement-control", help="Honour control communities."
    ),
    third_party_next_hop: bool = typer.Option(
        None, "--third-party-next-hop/--no-third-party-next-hop", help="Allow other next hops."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Change the given fields of a member; the others stay as they are."""
    settings = get_settings()
    given = {
        "name": name,
        "legal_name": legal_name,
        "as_set": as_set,
        "as_set_v4": as_set_v4,
        "as_set_v6": as_set_v6,
        "ipv4": ipv4,
        "ipv6": ipv6,
        "macs": mac or None,
        "max_prefix_v4": max_prefix_v4,
        "max_prefix_v6": max_prefix_v6,
        "max_prefix_action": max_prefix_action,
        "status": status,
        "peeringdb_id": peeringdb_id,
        "noc_email": noc_email,
        "noc_phone": noc_phone,
        "peering_email": peering_email,
        "blackholing": blackholing,
        "announcement_control": announcement_control,
        "third_party_next_hop": third_party_next_hop,
    }
    changes = {k: v for k, v in given.items() if v is not None}
    with cli_session(settings) as session:
        member = service.update_member(session, asn, changes, actor=settings.actor)
    emit(as_json, member, "Member changed", _COLUMNS)


@member_app.command("suspend")
@handles_errors
def member_suspend(asn: str = typer.Argument(..., help="ASN"), as_json: bool = JsonOption) -> None:
    """Suspend a member: its sessions are left out of the next build."""
    settings = get_settings()
    with cli_session(settings) as session:
        member = service.suspend_member(session, asn, actor=settings.actor)
    emit(as_json, member, "Member suspended", _COLUMNS)


@member_app.command("remove")
@handles_errors
def member_remove(asn: str = typer.Argument(..., help="ASN"), as_json: bool = JsonOption) -> None:
    """Remove a member and free its addresses (the audit log keeps its record)."""
    settings = get_settings()
    with cli_session(settings) as session:
        member = service.remove_member(session, asn, actor=settings.actor)
    emit(as_json, member, "Member removed", _COLUMNS)


@member_app.command("snippet")
@handles_errors
def member_snippet_command(
    asn: str = typer.Argument(..., help="The member's ASN."),
    platform: str = typer.Option(..., "--platform", help=f"One of: {', '.join(PLATFORMS)}."),
) -> None:
    """Print the member's router configuration for its sessions with the route servers."""
    with cli_session() as session:
        sys.stdout.write(printable_lines(member_snippet(session, asn, platform)))


@macs_app.command("pending")
@handles_errors
def macs_pending(as_json: bool = JsonOption) -> None:
    """Proposed MAC lists waiting for review, oldest first, beside the MACs in use."""
    with cli_session() as session:
        pending, _ = macreview.proposal_page(session, status=MacProposalStatus.open)
    emit(as_json, pending, "MAC changes waiting for review", _PROPOSAL_COLUMNS)


@macs_app.command("approve")
@handles_errors
def macs_approve(
    asn: str = typer.Argument(..., help="ASN of the member whose proposal to apply."),
    as_json: bool = JsonOption,
) -> None:
    """Apply the member's proposed MACs, checked again: a MAC taken since changes nothing."""
    settings = get_settings()
    with cli_session(settings) as session:
        proposal = macreview.approve(session, asn, actor=settings.actor)
    emit(as_json, proposal, "MAC change approved", _PROPOSAL_COLUMNS)


@macs_app.command("reject")
@handles_errors
def macs_reject(
    asn: str = typer.Argument(..., help="ASN of the member whose proposal to refuse."),
    reason: str = typer.Option(..., help="Why, for the member to read."),
    as_json: bool = JsonOption,
) -> None:
    """Refuse the member's proposed MACs; its MACs stay as they are."""
    settings = get_settings()
    with cli_session(settings) as session:
        proposal = macreview.reject(session, asn, reason, actor=settings.actor)
    emit(as_json, proposal, "MAC change rejected", (*_PROPOSAL_COLUMNS[:5], "reason"))


@rules_app.command("list")
@handles_errors
def rules_list(
    asn: str = typer.Argument(..., help="The member's ASN."), as_json: bool = JsonOption
) -> None:
    """The member's filtering rules in words, with the communities each stands for."""
    with cli_session() as session:
        rules = rsrules.list_rules(session, asn)
    emit(as_json, rules, f"AS{asn}: filtering rules", _RULE_COLUMNS)


def _say_changes(preview: rsrules.Preview) -> None:
    """What the next build changes, a line per change."""
    if not preview.changes:
        say("No peer gets different routes at the next build.")
        return
    say("At the next build:")
    for change in preview.changes:
        say(f"  {change.text}")


@rules_app.command("add")
@handles_errors
def rules_add(
    asn: str = typer.Argument(..., help="The member's ASN."),
    action: str = typer.Argument(
        ..., help="do-not-announce, announce-only, prepend or do-not-accept."
    ),
    peer: str = typer.Argument(
        ..., help=f"The peer's ASN, or '{rsrules.ALL_PEERS}' for every peer."
    ),
    family: str = typer.Option("both", help="ipv4, ipv6 or both."),
    prepend: int = typer.Option(None, help="How many times to prepend (1-3), for prepend."),
    preview: bool = typer.Option(False, "--preview", help="Say what would change; save nothing."),
    as_json: bool = JsonOption,
) -> None:
    """Add a rule, checked against the member's other rules; says what the next build changes."""
    settings = get_settings()
    given = rsrules.RuleInput(action, peer, family, prepend)
    with cli_session(settings) as session:
        changes = rsrules.preview_add(session, asn, given)
        if preview:
            if as_json:
                emit(True, changes, "", ())
            else:
                _say_changes(changes)
            return
        rule = rsrules.add_rule(session, asn, given, actor=settings.actor)
    emit(as_json, rule, "Rule added", _RULE_COLUMNS)
    if not as_json:
        _say_changes(changes)


@rules_app.command("remove")
@handles_errors
def rules_remove(
    asn: str = typer.Argument(..., help="The member's ASN."),
    rule_id: int = typer.Argument(..., help="The rule's id (see rules list)."),
    as_json: bool = JsonOption,
) -> None:
    """Remove one of the member's rules."""
    settings = get_settings()
    with cli_session(settings) as session:
        rule = rsrules.remove_rule(session, asn, rule_id, actor=settings.actor)
    emit(as_json, rule, "Rule removed", _RULE_COLUMNS)
