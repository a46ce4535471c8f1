"""Request bodies of the filtering-rule endpoints: ``ixp.rsrules.RuleInput`` typed for the wire.

Types are strict and unknown fields refused, as for members. What the types cannot
say (the peer is a current member, the rules do not contradict each other) the
service checks, naming every bad field at once (``rules[2].peer`` in a set).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from ixp.models import RuleAction, RuleFamily
from ixp.rsrules import MAX_RULES, RuleInput
from ixp.validate import MAX_ASN


class RuleBody(BaseModel):
    """One filtering rule of a member, as ``ixp member rules add`` takes it."""

    model_config = ConfigDict(extra="forbid")

    action: RuleAction = Field(
        description="do-not-announce: the peer does not get your routes; announce-only: only "
        "the peers of such rules get them; prepend: your ASN is prepended 1-3 times towards the "
        "peer; do-not-accept: you do not get the peer's routes."
    )
    peer: StrictInt | None = Field(
        None, ge=1, le=MAX_ASN - 1, description="The peer's ASN; null: every peer."
    )
    family: RuleFamily = RuleFamily.both
    prepend: StrictInt | None = Field(
        None, description="How many times to prepend (1-3); only for the prepend action."
    )

    def to_input(self) -> RuleInput:
        """The rule as the service takes it."""
        return RuleInput(self.action.value, self.peer, self.family.value, self.prepend)


class RuleSet(BaseModel):
    """A member's whole set of filtering rules (an empty list: none)."""

    model_config = ConfigDict(extra="forbid")

    rules: list[RuleBody] = Field(max_length=MAX_RULES)

    def to_inputs(self) -> list[RuleInput]:
        """The rules as the service takes them."""
        return [rule.to_input() for rule in self.rules]
