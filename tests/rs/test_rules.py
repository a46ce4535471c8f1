"""Members' filtering rules: checked, stored, audited, previewed in words, compiled for the build.

The demo exchange (``tests/rs/exchange.py``): Alpha AS10101 and Bravo AS20202
(both families), Charlie AS30303 (IPv4 only), Delta AS40404 (suspended) and Echo
AS50505 (IPv4 only, no registry data: configured, everything filtered). The
route servers are AS59900.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ixp import members, rsrules
from ixp.errors import InvalidInput, NotFound, ValidationError
from ixp.exchange import get_route_server
from ixp.models import AuditEntry, RsRule, RuleAction, RuleFamily, SessionState
from ixp.rs import history
from ixp.rs.types import DroppedRule, FamilyRules
from ixp.rsrules import Rule, RuleInput
from ixp.settings import Settings
from tests.rs.birdtools import needs_bird
from tests.rs.exchange import RS_ASN

ALPHA, BRAVO, CHARLIE, DELTA, ECHO = 10101, 20202, 30303, 40404, 50505
NOT_A_MEMBER = 38999


def add(session: Session, owner: int, *rule: object) -> rsrules.RuleView:
    return rsrules.add_rule(session, owner, RuleInput(*rule), actor="alice")  # type: ignore[arg-type]


def texts(session: Session, owner: int) -> list[str]:
    return [view.text for view in rsrules.list_rules(session, owner)]


# -- storing ------------------------------------------------------------------------------------


def test_a_rule_is_stored_listed_in_words_and_audited(demo: Session) -> None:
    view = add(demo, ALPHA, "do-not-announce", BRAVO, "ipv4")
    assert view.text == "do not announce to AS20202 (Bravo Telecom) in IPv4"
    assert view.equivalent == f"{RS_ASN}:0:{BRAVO}"
    assert (view.asn, view.peer, view.peer_name, view.inactive) == (
        ALPHA,
        BRAVO,
        "Bravo Telecom",
        None,
    )
    assert view.created_by == "alice"
    assert rsrules.list_rules(demo, ALPHA) == [view]
    assert rsrules.list_rules(demo, BRAVO) == []
    (entry,) = demo.scalars(select(AuditEntry).where(AuditEntry.entity == "rs-rules"))
    assert (entry.actor, entry.action, entry.entity_key) == ("alice", "add", "AS10101")
    assert entry.before == {"rules": []}
    stored = {"id": view.id, "action": "do-not-announce", "peer": BRAVO, "family": "ipv4"}
    assert entry.after == {"rules": [{**stored, "prepend": None}]}


@pytest.mark.parametrize(
    ("rule", "text", "equivalent"),
    [
        (("do-not-announce", None, "both"), "do not announce to any peer in IPv4 and IPv6", "0:0"),
        (("announce-only", "AS20202", "ipv6"), "announce only to AS20202 (Bravo Telecom) in IPv6",
         "0:0 and 59900:1:20202"),
        (("prepend", "all", "ipv4", 2), "prepend my ASN twice towards every peer in IPv4", "102:0"),
        (("prepend", CHARLIE, "IPv4", "3"),
         "prepend my ASN 3 times towards AS30303 (Charlie Wireless) in IPv4", "103:30303"),
        (("do-not-accept", BRAVO), "do not accept routes from AS20202 (Bravo Telecom) in IPv4 and "
         "IPv6", "as if AS20202 tagged its routes 59900:0:10101"),
        (("do-not-accept", ""), "do not accept routes from any peer in IPv4 and IPv6",
         "as if every peer tagged its routes 59900:0:10101"),
    ],
)  # fmt: skip
def test_each_action_in_words_and_as_the_communities_it_stands_for(
    demo: Session, rule: tuple[object, ...], text: str, equivalent: str
) -> None:
    view = add(demo, ALPHA, *rule)
    assert view.text == text
    assert view.equivalent.endswith(equivalent) and view.equivalent.startswith(("59900:", "as if"))


def test_every_bad_field_is_named_with_its_value_in_one_error_list(demo: Session) -> None:
    with pytest.raises(InvalidInput) as caught:
        add(demo, ALPHA, "block", ALPHA, "ipv5", 2)
    errors = {(e.field, e.value): e.reason for e in caught.value.errors}
    assert errors == {
        (
            "action",
            "block",
        ): "must be one of do-not-announce, announce-only, prepend, do-not-accept",
        ("family", "ipv5"): "must be one of ipv4, ipv6, both",
        ("peer", ALPHA): "is your own ASN: name another member",
        ("prepend", 2): "is only for the prepend action",
    }
    assert rsrules.list_rules(demo, ALPHA) == []


@pytest.mark.parametrize(
    ("rule", "field", "value", "reason"),
    [
        (("prepend", BRAVO, "both", 4), "prepend", 4, "must be 1, 2 or 3"),
        (("prepend", BRAVO, "both", 0), "prepend", 0, "must be 1, 2 or 3"),
        (("prepend", BRAVO, "both", None), "prepend", None, "must be 1, 2 or 3"),
        (("prepend", BRAVO, "both", "twice"), "prepend", "twice", "must be 1, 2 or 3"),
        (("prepend", BRAVO, "both", True), "prepend", True, "must be 1, 2 or 3"),
        (("do-not-accept", NOT_A_MEMBER), "peer", NOT_A_MEMBER, "is not a member of Demo IX"),
        (("do-not-accept", "AS-BRAVO"), "peer", "AS-BRAVO", "is not an AS number"),
        (("announce-only", None), "peer", "all", "must name a peer"),
        (("announce-only", "all"), "peer", "all", "must name a peer"),
    ],
)
def test_a_bad_field_is_refused_with_the_reason(
    demo: Session, rule: tuple[object, ...], field: str, value: object, reason: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        add(demo, ALPHA, *rule)
    (error,) = caught.value.errors
    assert (error.field, error.value) == (field, value)
    assert error.reason.startswith(reason)


def test_a_departed_member_cannot_be_named_a_suspended_one_can(demo: Session) -> None:
    members.update_member(demo, CHARLIE, {"status": "departed"}, actor="test")
    with pytest.raises(ValidationError, match="is not a member of Demo IX"):
        add(demo, ALPHA, "do-not-announce", CHARLIE)
    view = add(demo, ALPHA, "do-not-announce", DELTA)
    assert view.inactive == (
        "AS40404 is suspended: the next build leaves this rule out until it is active again"
    )


CONTRADICTIONS = [
    (("do-not-announce", BRAVO, "both"), ("announce-only", BRAVO, "ipv4"),
     "contradicts the rule 'do not announce to AS20202 (Bravo Telecom) in IPv4 and IPv6'"),
    (("announce-only", BRAVO, "ipv6"), ("do-not-announce", BRAVO, "both"),
     "contradicts the rule 'announce only to AS20202 (Bravo Telecom) in IPv6'"),
    (("do-not-announce", None, "ipv4"), ("prepend", CHARLIE, "both", 1),
     "contradicts the rule 'do not announce to any peer in IPv4'"),
    (("do-not-announce", None, "ipv4"), ("announce-only", CHARLIE, "ipv4"), "contradicts"),
    (("do-not-announce", CHARLIE, "ipv4"), ("prepend", CHARLIE, "ipv4", 2), "contradicts"),
    (("announce-only", BRAVO, "both"), ("prepend", CHARLIE, "ipv4", 2),
     "contradicts the rule 'announce only to AS20202 (Bravo Telecom) in IPv4 and IPv6': "
     "AS30303 (Charlie Wireless) gets none of your routes with an 'announce only' set"),
    (("prepend", CHARLIE, "ipv4", 2), ("announce-only", BRAVO, "both"),
     "contradicts the rule 'prepend my ASN twice towards AS30303 (Charlie Wireless) in IPv4'"),
    (("prepend", BRAVO, "ipv4", 1), ("prepend", BRAVO, "both", 3),
     "is already a rule 'prepend my ASN once towards AS20202 (Bravo Telecom) in IPv4'"),
    (("do-not-accept", BRAVO, "ipv6"), ("do-not-accept", BRAVO, "both"), "is already a rule"),
    (("do-not-accept", None, "both"), ("do-not-accept", BRAVO, "ipv6"),
     "is already covered by the rule 'do not accept routes from any peer in IPv4 and IPv6'"),
    (("do-not-announce", BRAVO, "ipv4"), ("do-not-announce", None, "both"),
     "would cover the rule 'do not announce to AS20202 (Bravo Telecom) in IPv4'"),
]  # fmt: skip


@pytest.mark.parametrize(("first", "second", "reason"), CONTRADICTIONS)
def test_a_rule_that_repeats_or_contradicts_another_is_refused(
    demo: Session, first: tuple[object, ...], second: tuple[object, ...], reason: str
) -> None:
    kept = add(demo, ALPHA, *first)
    with pytest.raises(ValidationError) as caught:
        add(demo, ALPHA, *second)
    (error,) = caught.value.errors
    assert error.field == "peer" and error.reason.startswith(reason), error.reason
    assert rsrules.list_rules(demo, ALPHA) == [kept]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (("do-not-announce", BRAVO, "ipv4"), ("announce-only", BRAVO, "ipv6")),
        (("prepend", None, "both", 1), ("prepend", BRAVO, "both", 3)),
        (("announce-only", BRAVO, "both"), ("prepend", BRAVO, "both", 2)),
        (("announce-only", BRAVO, "both"), ("announce-only", CHARLIE, "ipv4")),
        (("do-not-announce", BRAVO, "both"), ("do-not-accept", BRAVO, "both")),
        (("do-not-accept", None, "ipv4"), ("do-not-accept", BRAVO, "ipv6")),
    ],
)
def test_rules_that_only_look_alike_stand_together(
    demo: Session, first: tuple[object, ...], second: tuple[object, ...]
) -> None:
    add(demo, ALPHA, *first)
    add(demo, ALPHA, *second)
    assert len(rsrules.list_rules(demo, ALPHA)) == 2


def test_replace_checks_the_whole_set_and_writes_all_or_nothing(demo: Session) -> None:
    add(demo, ALPHA, "prepend", None, "both", 1)
    given = [
        RuleInput("do-not-announce", BRAVO),
        RuleInput("announce-only", BRAVO),
        RuleInput("prepend", NOT_A_MEMBER, "both", 9),
    ]
    with pytest.raises(InvalidInput) as caught:
        rsrules.replace_rules(demo, ALPHA, given, actor="alice")
    assert [(e.field, e.value) for e in caught.value.errors] == [
        ("rules[2].peer", NOT_A_MEMBER),
        ("rules[2].prepend", 9),
        ("rules[1].peer", BRAVO),
    ]
    assert texts(demo, ALPHA) == ["prepend my ASN once towards every peer in IPv4 and IPv6"]

    views = rsrules.replace_rules(
        demo, ALPHA, [RuleInput("announce-only", BRAVO), RuleInput("announce-only", CHARLIE)],
        actor="alice",
    )  # fmt: skip
    assert [v.text for v in views] == [
        "announce only to AS20202 (Bravo Telecom) in IPv4 and IPv6",
        "announce only to AS30303 (Charlie Wireless) in IPv4 and IPv6",
    ]
    assert rsrules.list_rules(demo, ALPHA) == views
    entry = demo.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry is not None and entry.action == "replace"
    assert [r["action"] for r in entry.before["rules"]] == ["prepend"]  # type: ignore[index]
    assert rsrules.replace_rules(demo, ALPHA, [], actor="alice") == []
    assert demo.scalars(select(RsRule)).all() == []


def test_remove_takes_one_rule_and_another_members_rule_is_not_found(demo: Session) -> None:
    first = add(demo, ALPHA, "do-not-announce", BRAVO, "ipv4")
    second = add(demo, ALPHA, "do-not-accept", CHARLIE, "ipv4")
    bravos = add(demo, BRAVO, "do-not-accept", ALPHA, "ipv6")
    with pytest.raises(NotFound):
        rsrules.remove_rule(demo, ALPHA, bravos.id, actor="alice")
    assert rsrules.remove_rule(demo, ALPHA, first.id, actor="alice") == first
    assert rsrules.list_rules(demo, ALPHA) == [second]
    assert rsrules.list_rules(demo, BRAVO) == [bravos]
    entry = demo.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry is not None and (entry.action, entry.entity_key) == ("remove", "AS10101")


def test_rules_of_a_removed_member_go_with_it_those_naming_it_stay_inactive(
    demo: Session,
) -> None:
    add(demo, ALPHA, "do-not-announce", CHARLIE, "ipv4")
    add(demo, CHARLIE, "do-not-accept", ALPHA, "ipv4")
    members.remove_member(demo, CHARLIE, actor="test")
    (view,) = rsrules.list_rules(demo, ALPHA)
    assert view.text == "do not announce to AS30303 in IPv4"
    assert view.inactive == "AS30303 is no longer a member: the next build leaves this rule out"
    assert len(demo.scalars(select(RsRule)).all()) == 1


def test_an_actor_that_cannot_be_recorded_refuses_the_change(demo: Session) -> None:
    with pytest.raises(ValidationError):
        rsrules.add_rule(demo, ALPHA, RuleInput("do-not-accept", BRAVO), actor="x\ny")
    assert rsrules.list_rules(demo, ALPHA) == []


# -- preview ------------------------------------------------------------------------------------


def store_counts(session: Session, counts: dict[tuple[int, str], int]) -> None:
    """Accepted prefix counts as the monitor stores them, on both route servers."""
    for rs_name in ("rs1", "rs2"):
        rs = get_route_server(session, rs_name)
        for (asn, family), imported in counts.items():
            session.add(
                SessionState(
                    route_server_id=rs.id,
                    protocol=f"AS{asn}_v{family[-1]}_1",
                    family=family,
                    asn=asn,
                    up=True,
                    state="Established",
                    imported=imported - (rs_name == "rs2"),
                )
            )
    session.commit()


def changes(preview: rsrules.Preview) -> list[str]:
    return [change.text for change in preview.changes]


def test_preview_says_what_changes_for_which_peers_and_saves_nothing(demo: Session) -> None:
    store_counts(demo, {(ALPHA, "ipv4"): 12, (ALPHA, "ipv6"): 3, (BRAVO, "ipv6"): 40})
    preview = rsrules.preview_add(demo, ALPHA, RuleInput("do-not-announce", BRAVO, "ipv4"))
    assert changes(preview) == [
        "AS20202 (Bravo Telecom) will no longer receive your 12 IPv4 routes"
    ]
    assert preview.rules == ("do not announce to AS20202 (Bravo Telecom) in IPv4",)
    assert preview.changes[0].peers == (BRAVO,)
    assert rsrules.list_rules(demo, ALPHA) == []

    preview = rsrules.preview_add(demo, ALPHA, RuleInput("do-not-accept", BRAVO))
    assert changes(preview) == [
        "AS20202 (Bravo Telecom) will no longer send you its IPv4 and 40 IPv6 routes"
    ]
    # Charlie and Echo have no IPv6 session: only Bravo loses the IPv6 routes.
    preview = rsrules.preview_add(demo, ALPHA, RuleInput("announce-only", CHARLIE))
    assert changes(preview) == [
        "AS20202 (Bravo Telecom) will no longer receive your 12 IPv4 and 3 IPv6 routes",
        "AS50505 (Echo Unsynced) will no longer receive your 12 IPv4 routes",
    ]
    preview = rsrules.preview_add(demo, ALPHA, RuleInput("prepend", None, "ipv4", 2))
    assert changes(preview) == [
        "Every peer (3 members) will receive your 12 IPv4 routes with AS10101 prepended twice"
    ]


def test_preview_of_a_whole_set_compares_it_with_the_rules_in_force(demo: Session) -> None:
    store_counts(demo, {(ALPHA, "ipv4"): 1})
    add(demo, ALPHA, "do-not-announce", BRAVO, "ipv4")
    add(demo, ALPHA, "prepend", CHARLIE, "ipv4", 1)
    preview = rsrules.preview(demo, ALPHA, [RuleInput("prepend", CHARLIE, "ipv4", 3)])
    assert changes(preview) == [
        "AS20202 (Bravo Telecom) will receive your 1 IPv4 route again",
        "AS30303 (Charlie Wireless) will receive your 1 IPv4 route with AS10101 prepended 3 times",
    ]
    only_bravo = rsrules.preview(demo, ALPHA, [RuleInput("prepend", CHARLIE, "ipv4", 1)])
    assert [c.peers for c in only_bravo.changes] == [(BRAVO,)]
    same = [RuleInput("do-not-announce", BRAVO, "ipv4"), RuleInput("prepend", CHARLIE, "ipv4", 1)]
    assert rsrules.preview(demo, ALPHA, same).changes == ()
    with pytest.raises(ValidationError, match=r"rules\[0\].prepend"):
        rsrules.preview(demo, ALPHA, [RuleInput("prepend", CHARLIE, "ipv4", 5)])


def test_preview_names_at_most_a_few_peers(demo: Session) -> None:
    for asn in range(38101, 38109):
        members.add_member(
            demo,
            members.MemberInput(asn=asn, name=f"Peer {asn}", max_prefix_v4=10, max_prefix_v6=10,
                                auto_ip=True),
            actor="test",
        )  # fmt: skip
    preview = rsrules.preview_add(demo, ALPHA, RuleInput("announce-only", BRAVO, "ipv4"))
    (change,) = preview.changes
    assert len(change.peers) == 10
    assert change.text == (
        "AS30303 (Charlie Wireless), AS38101 (Peer 38101), AS38102 (Peer 38102), "
        "AS38103 (Peer 38103), AS38104 (Peer 38104) and 5 more peers "
        "will no longer receive your IPv4 routes"
    )


# -- compiling for the build ------------------------------------------------------------------


def rule(action: str, peer: int | None, family: str = "both", prepend: int | None = None) -> Rule:
    return Rule(RuleAction(action), peer, RuleFamily(family), prepend)


RULES = [
    rule("do-not-announce", BRAVO),
    rule("announce-only", CHARLIE, "ipv4"),
    rule("prepend", None, "ipv6", 2),
    rule("prepend", CHARLIE, "ipv4", 1),
    rule("do-not-accept", BRAVO, "ipv4"),
    rule("do-not-accept", None, "ipv6"),
]


def test_rules_compile_to_communities_on_import_and_a_refused_set_on_export() -> None:
    compiled, dropped = rsrules.compile_rules(ALPHA, RULES, lambda peer: None)
    assert compiled.v4 == FamilyRules(((0, 0), (0, BRAVO), (1, CHARLIE), (101, CHARLIE)), (BRAVO,))
    assert compiled.v6 == FamilyRules(((0, BRAVO), (102, 0)), (), refuse_all=True)
    assert dropped == ()


def test_the_same_rules_in_any_order_compile_alike() -> None:
    first = rsrules.compile_rules(ALPHA, RULES, lambda peer: None)
    for order in itertools.islice(itertools.permutations(RULES), 0, None, 37):
        assert rsrules.compile_rules(ALPHA, list(order), lambda peer: None) == first


def test_a_rule_about_a_peer_not_configured_is_left_out_and_said_so() -> None:
    rules = [
        rule("announce-only", DELTA, "ipv4"),
        rule("announce-only", BRAVO, "ipv6"),
        rule("do-not-announce", DELTA),
        rule("do-not-accept", DELTA, "ipv6"),
    ]
    compiled, dropped = rsrules.compile_rules(
        ALPHA, rules, lambda peer: "AS40404 left" if peer == DELTA else None
    )
    assert compiled.v4 == FamilyRules()  # no announce-only set left: not an empty one
    assert compiled.v6 == FamilyRules(((0, 0), (1, BRAVO)))
    assert dropped == (
        DroppedRule(ALPHA, "announce only to AS40404 in IPv4", "AS40404 left"),
        DroppedRule(ALPHA, "do not announce to AS40404 in IPv4 and IPv6", "AS40404 left"),
        DroppedRule(ALPHA, "do not accept routes from AS40404 in IPv6", "AS40404 left"),
        DroppedRule(
            ALPHA,
            "announce only to the listed peers (IPv4)",
            "none of them is configured: AS10101's IPv4 routes go to every peer",
        ),
    )


@needs_bird
def test_the_build_compiles_rules_and_reports_the_rules_it_leaves_out(
    demo: Session, demo_settings: Settings, tmp_path: Path
) -> None:
    add(demo, ALPHA, "do-not-announce", BRAVO, "ipv6")
    add(demo, ALPHA, "announce-only", DELTA, "ipv4")
    add(demo, BRAVO, "do-not-accept", ECHO, "ipv4")
    add(demo, BRAVO, "prepend", ALPHA, "both", 2)
    members.remove_member(demo, ECHO, actor="test")
    outcome = history.run_build(demo, demo_settings, tmp_path, actor="op")
    assert outcome.report is not None
    rs1 = outcome.report.route_servers[0]
    assert [(d.asn, d.rule, d.reason) for d in rs1.dropped_rules] == [
        (ALPHA, "announce only to AS40404 in IPv4",
         "AS40404 is not configured on rs1 (status is suspended)"),
        (ALPHA, "announce only to the listed peers (IPv4)",
         "none of them is configured: AS10101's IPv4 routes go to every peer"),
        (BRAVO, "do not accept routes from AS50505 in IPv4",
         "AS50505 is no longer a member of Demo IX"),
    ]  # fmt: skip
    config = (tmp_path / "rs1.conf").read_text(encoding="utf-8")
    assert "define AS10101_RULES_V6 = add(---empty---, (RS_ASN, 0, 20202));" in config
    assert "AS10101_RULES_V4" not in config and "AS20202_REFUSED" not in config
    assert (
        "define AS20202_RULES_V4 = add(---empty---, (RS_ASN, 102, 10101));" in config
        and "rs_apply_rules(AS20202_RULES_V6)" in config
    )
    assert (
        "# Filtering rule left out: announce only to AS40404 in IPv4: "
        "AS40404 is not configured on rs1 (status is suspended)." in config
    )
    mine = history.show_build(demo, outcome.record.id, only_asn=BRAVO).servers[0]
    assert [d.asn for d in mine.dropped_rules] == [BRAVO]
    assert len(history.show_build(demo, outcome.record.id).servers[0].dropped_rules) == 3
