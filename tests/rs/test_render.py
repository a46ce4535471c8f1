"""Rendering: the one escaping function, determinism, and configs the real BIRD parses."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ixp.rs.codes import RPKI_ATTRIBUTE, RPKI_NAMESPACE, RpkiTag
from ixp.rs.render import bird_text, int_set, render, render_config
from tests.rs import samples
from tests.rs.birdtools import needs_bird, parses

HOSTILE = (
    'Evil "ISP"; }\nprotocol static x { route 0.0.0.0/0 blackhole; } */ /* # \r\u2028 '
    "پاکستان انٹرنیٹ \\"
)


def _semantics(text: str) -> list[str]:
    """The config without comments and descriptions: what BIRD acts on."""
    lines = []
    for line in text.splitlines():
        stripped = line.split("#", 1)[0].rstrip() if line.lstrip().startswith("#") else line
        if stripped.strip() and not stripped.strip().startswith("description "):
            lines.append(stripped)
    return lines


def test_bird_text_neutralises_everything_that_could_become_syntax() -> None:
    text = bird_text(HOSTILE)
    assert "\n" not in text and "\r" not in text and "\u2028" not in text
    assert '"' not in text
    assert "*/" not in text and "/*" not in text
    assert "پاکستان انٹرنیٹ" in text
    assert bird_text("Alpha Networks") == "Alpha Networks"
    assert len(bird_text("x" * 1000)) == 200


# Characters that display as nothing (or reorder what follows) but would be stored in the
# file: bidi marks, embeddings, overrides and isolates, zero-width and hyphenation hints.
INVISIBLE = {
    "RLM": "\u200f",
    "LRM": "\u200e",
    "ALM": "\u061c",
    "ZWSP": "\u200b",
    "BOM": "\ufeff",
    "soft hyphen": "\u00ad",
    "word joiner": "\u2060",
    "Hangul filler": "\u3164",
    "variation selector": "\ufe0f",
    **{f"U+{code:04X}": chr(code) for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))},
}
LINE_BREAKS = {"LS": "\u2028", "PS": "\u2029", "NEL": "\u0085", "CR": "\r", "VT": "\v"}
JOINERS = "\u200c\u200d"


@pytest.mark.parametrize("char", INVISIBLE.values(), ids=INVISIBLE.keys())
def test_bird_text_removes_bidi_and_invisible_characters(char: str) -> None:
    assert bird_text(f"{char}Alpha{char}Networks {char}پاکستان{char}") == "AlphaNetworks پاکستان"


@pytest.mark.parametrize("char", LINE_BREAKS.values(), ids=LINE_BREAKS.keys())
def test_bird_text_turns_line_breaks_into_spaces(char: str) -> None:
    assert bird_text(f"Alpha{char}Networks{char}") == "Alpha Networks"


def test_bird_text_keeps_joiners_only_inside_words() -> None:
    # ZWNJ is part of correct Urdu and Persian spelling: kept between letters, nowhere else.
    word = "می" + "\u200c" + "خواهم"
    assert bird_text(word) == word
    assert bird_text("\u200cAlpha\u200d \u200cNet\u200d\u200cworks\u200c") == "Alpha Networks"
    assert bird_text("a\u200c\u200fb") == "ab"


_HOSTILE_CHARS = st.sampled_from(
    [
        '"',
        "*",
        "/",
        "#",
        "\n",
        " ",
        "a",
        "ی",
        "\u0301",
        *INVISIBLE.values(),
        *LINE_BREAKS.values(),
        *JOINERS,
    ]
)


@given(st.text(st.one_of(_HOSTILE_CHARS, st.characters(exclude_categories=()))))
def test_bird_text_output_is_one_visible_line(value: str) -> None:
    text = bird_text(value)
    text.encode("utf-8")  # lone surrogates would make the file unwritable
    assert len(text) <= 200 and text == text.strip()
    assert '"' not in text and "*/" not in text and "/*" not in text
    for index, char in enumerate(text):
        assert char not in INVISIBLE.values()
        assert unicodedata.category(char) not in ("Cc", "Cs", "Zl", "Zp")
        if unicodedata.category(char) == "Cf":
            assert char in JOINERS and 0 < index < len(text) - 1, ascii(text)
    assert bird_text(text) == text


def test_int_set_renders_values_and_ranges() -> None:
    assert int_set([0, (64496, 131071, "why"), (23456, 23456)]) == "[0, 64496..131071, 23456]"
    assert int_set([]) == "[]"


def test_rendering_is_deterministic_and_the_build_id_follows_the_input() -> None:
    ctx = samples.context()
    assert render_config(ctx) == render_config(samples.context())
    changed = replace(ctx, limits=replace(ctx.limits, max_as_path_length=20))
    assert render(changed).build_id != render(ctx).build_id
    assert render_config(ctx).count(render(ctx).build_id) == 1


def test_the_policy_is_shared_functions_not_per_member_ones() -> None:
    few = render_config(samples.context(members=(samples.ALPHA,)))
    many = render_config(samples.context())
    assert few.count("\nfunction ") == many.count("\nfunction ") == 10
    assert max(len(s) for s in re.findall(r"\b[A-Za-z_][A-Za-z0-9_]*\b", many)) < 64


@needs_bird
def test_the_sample_config_parses(tmp_path: Path) -> None:
    parses(render_config(samples.context()), tmp_path)


@needs_bird
def test_hostile_names_parse_and_change_nothing_but_comments(tmp_path: Path) -> None:
    ctx = samples.context()
    hostile = samples.context(
        exchange=HOSTILE,
        members=tuple(replace(m, display_name=HOSTILE, legal_name=HOSTILE) for m in ctx.members),
    )
    text = render_config(hostile)
    parses(text, tmp_path)
    normal = render_config(ctx)
    assert _semantics(text) == _semantics(normal)
    assert "route 0.0.0.0/0 blackhole" not in "\n".join(_semantics(text))


@needs_bird
@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"rs_asn": 4_200_000_001}, id="32-bit-rs-asn"),
        pytest.param({"blackhole_v4": None, "blackhole_v6": None}, id="no-blackhole-addresses"),
        pytest.param({"collector": None}, id="no-collector"),
        pytest.param({"ipv6": None, "lan_v6": None}, id="ipv4-only"),
        pytest.param({"rpki": samples.RpkiSource((), "rtr.example.net", 3323)}, id="rtr-validator"),
        pytest.param(
            {"rpki": samples.RpkiSource(samples.ROAS, None, 3323, tag_routes=True)},
            id="rpki-tags-to-members",
        ),
    ],
)
def test_variants_parse(tmp_path: Path, changes: dict[str, object]) -> None:
    ctx = samples.context(**changes)
    if ctx.ipv6 is None:
        ctx = replace(
            ctx,
            members=tuple(
                replace(m, sessions=tuple(s for s in m.sessions if s.family == 4))
                for m in ctx.members
            ),
        )
    parses(render_config(ctx), tmp_path)


def test_32_bit_route_server_has_no_standard_control_communities() -> None:
    text = render_config(samples.context(rs_asn=4_200_000_001))
    assert "(RS_ASN, *)" not in text and "(0, RS_ASN)" not in text
    assert "(RS_ASN, 0, 0)" in text


def test_rtr_source_replaces_static_roas() -> None:
    text = render_config(samples.context(rpki=samples.RpkiSource((), "rtr.example.net", 3323)))
    assert 'remote "rtr.example.net" port 3323;' in text
    assert "rs_roa4_static" not in text and "rpki reload off" not in text


@pytest.mark.parametrize("tag_routes", [False, True])
def test_the_rpki_state_is_kept_in_an_attribute_and_sent_only_when_asked(
    tag_routes: bool,
) -> None:
    text = render_config(
        samples.context(rpki=samples.RpkiSource(samples.ROAS, None, 3323, tag_routes))
    )
    assert f"attribute int {RPKI_ATTRIBUTE};" in text
    sent = []
    for tag in RpkiTag:
        assert f"{RPKI_ATTRIBUTE} = {tag.value};" in text
        sent.append(f"bgp_large_community.add((RS_ASN, {RPKI_NAMESPACE}, {tag.value}));" in text)
    assert sent == [tag_routes] * len(RpkiTag)
