"""A member's route-server filtering rules, as ``ixp member rules`` manages them.

A member's own users manage their member's rules; operators any member's. Another
member's rules are 404, exactly as a member that does not exist. Every change is
checked as a whole (each bad field named, ``rules[i].peer`` in a set) and audited
under the caller's user name; the next build compiles the rules.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from api.deps import Db, User, own_asn
from api.routers.members import Asn
from api.schemas.problem import errors
from api.schemas.rules import RuleBody, RuleSet
from ixp import rsrules
from ixp.rsrules import Preview, RuleView

router = APIRouter(prefix="/api/v1/members/{asn}/rules", tags=["members"])


@router.get("", summary="Filtering rules", responses=errors(404, 422))
def list_rules(asn: Asn, user: User, db: Db) -> list[RuleView]:
    """The member's rules in the order they were made, each in words, with the communities it
    stands for and, if the next build leaves it out, why."""
    return rsrules.list_rules(db, own_asn(user, asn))


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Add a filtering rule",
    responses=errors(404, 422),
)
def add_rule(asn: Asn, body: RuleBody, user: User, db: Db) -> RuleView:
    """Add one rule, checked against the member's other rules: a repeated or contradicting
    rule is a 422 naming the rule it clashes with."""
    return rsrules.add_rule(db, own_asn(user, asn), body.to_input(), actor=user.username)


@router.put("", summary="Replace the filtering rules", responses=errors(404, 422))
def replace_rules(asn: Asn, body: RuleSet, user: User, db: Db) -> list[RuleView]:
    """Make ``rules`` the member's whole set, all or nothing; an empty list removes every rule."""
    return rsrules.replace_rules(db, own_asn(user, asn), body.to_inputs(), actor=user.username)


@router.delete("", summary="Remove filtering rules", responses=errors(404, 422))
def remove_rules(
    asn: Asn,
    user: User,
    db: Db,
    rule: Annotated[
        int | None,
        Query(ge=1, le=2**31 - 1, description="Only this rule (its id); without it, every rule."),
    ] = None,
) -> list[RuleView]:
    """Remove one rule (``?rule=<id>``) or all of them; the answer is what was removed."""
    number = own_asn(user, asn)
    if rule is not None:
        return [rsrules.remove_rule(db, number, rule, actor=user.username)]
    return rsrules.remove_all_rules(db, number, actor=user.username)


@router.post("/preview", summary="Preview filtering rules", responses=errors(404, 422))
def preview_rules(asn: Asn, body: RuleSet, user: User, db: Db) -> Preview:
    """What making ``rules`` the member's whole set would change at the next build, peer by
    peer, in words; checked as a replacement is, and nothing is saved."""
    return rsrules.preview(db, own_asn(user, asn), body.to_inputs())
