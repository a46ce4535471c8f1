"""Filtering rules in the configuration: data for the shared functions, never new functions,
nothing changed for members without rules, and what BIRD makes of it on import."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from ixp.bird import BirdClient
from ixp.rs.render import render_config, tag_list
from ixp.rs.types import DroppedRule, FamilyRules, MemberRules
from tests.rs import samples
from tests.rs.birdtools import needs_bird, parses, running_bird
from tests.rs.test_render import HOSTILE, _semantics

RULES = MemberRules(
    v4=FamilyRules(((0, 0), (1, 20202), (102, 20202)), (3356,)),
    v6=FamilyRules((), (), refuse_all=True),
)
ALPHA = replace(samples.ALPHA, rules=RULES)


def with_rules(**changes: object) -> str:
    return render_config(samples.context(members=(samples.TIER1, ALPHA, samples.BRAVO), **changes))


def member_block(config: str, asn: int) -> str:
    """Everything the configuration says about one member (from its comment to the next)."""
    start = config.index(f"\n# AS{asn} ")
    after = re.compile(r"\n# AS\d+ |\n# -{10}").search(config, start + 1)
    return config[start : after.start() if after else None]


def test_tags_become_one_lclist_constant() -> None:
    assert tag_list([]) == "---empty---"
    assert tag_list([(0, 0), (1, 20202)]) == (
        "add(add(---empty---, (RS_ASN, 0, 0)), (RS_ASN, 1, 20202))"
    )


def test_rules_are_sets_and_arguments_not_functions() -> None:
    config = with_rules()
    assert config.count("\nfunction ") == render_config(samples.context()).count("\nfunction ")
    block = member_block(config, 10101)
    assert "define AS10101_RULES_V4 = " in block and "define AS10101_REFUSED_V4 = [3356];" in block
    assert "rs_apply_rules(AS10101_RULES_V4);" in block
    assert "export where !(bgp_path.first ~ AS10101_REFUSED_V4) &&" in block
    assert "AS10101_RULES_V6" not in block and "export none;" in block
    assert max(len(s) for s in re.findall(r"\b[A-Za-z_][A-Za-z0-9_]*\b", config)) < 64


def test_members_without_rules_are_configured_byte_for_byte_as_before() -> None:
    before, after = render_config(samples.context()), with_rules()
    for member in (samples.TIER1, samples.BRAVO):
        assert member_block(after, member.asn) == member_block(before, member.asn)


def test_dropped_rules_are_comments_of_their_member_through_the_one_escaping_function() -> None:
    dropped = (DroppedRule(10101, "announce only to AS40404 in IPv4", HOSTILE),)
    config = with_rules(dropped_rules=dropped)
    block = member_block(config, 10101)
    assert "# Filtering rule left out: announce only to AS40404 in IPv4: Evil 'ISP';" in block
    assert _semantics(config) == _semantics(with_rules())


@needs_bird
def test_a_config_with_rules_parses(tmp_path: Path) -> None:
    parses(with_rules(dropped_rules=(DroppedRule(10101, "x", HOSTILE),)), tmp_path)
    ipv4_only = replace(RULES, v4=FamilyRules((), (), refuse_all=True), v6=FamilyRules())
    alpha = replace(samples.ALPHA, rules=ipv4_only)
    parses(render_config(samples.context(members=(alpha, samples.BRAVO))), tmp_path)


def _injector(config: str, member: str, family: int, prefix: str) -> str:
    """A static route fed through a member session's own import line (as in test_policy_bird)."""
    block = config[config.index(f"protocol bgp {member} ") :]
    match = re.search(r"import where (rs_import\(.*?\));", block, re.DOTALL)
    assert match is not None
    neighbor = re.search(r"neighbor (\S+) as (\d+);", block)
    assert neighbor is not None
    return (
        f"protocol static case_{member} {{\n"
        f"\tipv{family} {{ table master{family}; import keep filtered on;\n"
        f"\t\timport where {match.group(1)}; }};\n"
        f"\troute {prefix} unreachable {{ bgp_path.prepend({neighbor.group(2)}); "
        f"bgp_next_hop = {neighbor.group(1)}; }};\n}}\n"
    )


def _text(bird: BirdClient, command: str) -> str:
    return "\n".join(line.text for line in bird.command(command))


@needs_bird
def test_on_import_the_rules_tag_the_members_routes_and_mark_them_for_export(
    tmp_path: Path,
) -> None:
    config = with_rules()
    text = (
        config
        + _injector(config, "AS10101_v4_1", 4, "31.10.0.0/16")
        + _injector(config, "AS10101_v6_1", 6, "2a0a:1000::/32")
        + _injector(config, "AS20202_v4_1", 4, "62.40.0.0/18")
    )
    path = tmp_path / "rs.conf"
    path.write_text(text, encoding="utf-8")
    with running_bird(path) as socket, BirdClient(str(socket)) as bird:
        (tagged,) = bird.routes("protocol case_AS10101_v4_1")
        (plain,) = bird.routes("protocol case_AS10101_v6_1")
        (bravo,) = bird.routes("protocol case_AS20202_v4_1")
        marked = _text(bird, "show route protocol case_AS10101_v4_1 all")
        unmarked = _text(bird, "show route protocol case_AS20202_v4_1 all")
    rs = samples.RS_ASN
    assert {f"{rs}:0:0", f"{rs}:1:20202", f"{rs}:102:20202"} <= set(tagged.large_communities)
    assert not any(c.startswith((f"{rs}:0:", f"{rs}:1:")) for c in plain.large_communities)
    assert not any(c.startswith((f"{rs}:0:", f"{rs}:1:")) for c in bravo.large_communities)
    assert "rs_export_check: 1" in marked and "rs_export_check" not in unmarked


@pytest.mark.parametrize("family", [4, 6])
def test_family_rules_default_to_none(family: int) -> None:
    assert MemberRules().family(family) == FamilyRules()
    assert samples.ALPHA.rules == MemberRules()
