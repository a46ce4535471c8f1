"""``RsContext`` -> BIRD 2 configuration text, through the Jinja2 templates in ``templates/``.

The environment is strict (an undefined variable is an error, never an empty
string) and does not HTML-escape: BIRD is not HTML. Free text (names, AS-SET
names, the RTR host) may only enter a template through ``text``
(``bird_text``), the one escaping function, and only inside ``#`` comments or
double-quoted strings. Prefix and set literals are formatted here so the
templates hold loops and conditions only.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import jinja2

from ixp.rs import bogons, codes
from ixp.rs.types import PrefixRule, RoaLike, RsContext

# Characters that display as nothing although Unicode does not class them as format
# controls (Cf): combining grapheme joiner, Hangul fillers, Khmer inherent vowels,
# Mongolian free variation selectors and the variation selectors.
_INVISIBLE = frozenset(
    "\u034f\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180f\u3164\uffa0"
    + "".join(map(chr, range(0xFE00, 0xFE10)))
    + "".join(map(chr, range(0xE0100, 0xE01F0)))
)
# Zero-width non-joiner and joiner: part of correct spelling in Urdu, Persian and Indic
# scripts, so they are kept where they can do that work (between two letters).
_JOINERS = "\u200c\u200d"
_MAX_TEXT = 200


def _visible_letter(char: str) -> bool:
    return unicodedata.category(char)[0] in "LM" and char not in _INVISIBLE


def _invisible(text: str, index: int) -> bool:
    """Whether ``text[index]`` displays as nothing and must go (a joiner inside a word stays)."""
    char = text[index]
    if char in _JOINERS:
        inside = 0 < index < len(text) - 1
        return not (
            inside and _visible_letter(text[index - 1]) and _visible_letter(text[index + 1])
        )
    return unicodedata.category(char) == "Cf" or char in _INVISIBLE


def bird_text(value: object) -> str:
    """Free text made safe for a BIRD ``#`` comment or ``"..."`` string, and other comments.

    BIRD strings have no escape sequences: a string ends at the next ``"`` and may
    not span lines, and a comment ends at the newline. So double quotes become
    single quotes, every control and line or paragraph separator becomes a space,
    comment delimiters are broken apart, and the result is one trimmed line.

    Characters that display as nothing are removed: every format control (Unicode
    category Cf: the bidi marks RLM, LRM and ALM, the embeddings, overrides and
    isolates, zero-width space, word joiner, BOM, soft hyphen, tag characters) and
    the few other invisible ones in ``_INVISIBLE``. Left in, they make a comment or
    a description read differently from what it holds (a bidi override can make
    text appear reordered, a zero-width character can make two names look alike).
    They are removed rather than turned into spaces because the text looks the
    same without them. Letters of any script are kept as they are.
    """
    text = str(value)
    if text.isascii() and text.isprintable():
        # Printable ASCII holds no control, separator or invisible character: the loop
        # below would only turn double quotes into single ones (most names take this path).
        return _finished(text.replace('"', "'"))
    chars = []
    for index, char in enumerate(text):
        if _invisible(text, index):
            continue
        if unicodedata.category(char) in ("Cc", "Cs", "Zl", "Zp"):
            chars.append(" ")
        else:
            chars.append("'" if char == '"' else char)
    return _finished("".join(chars))


def _finished(text: str) -> str:
    """One trimmed line with comment delimiters broken apart, cut at the limit."""
    text = " ".join(text.split())
    text = text.replace("*/", "* /").replace("/*", "/ *")
    # Cut at the limit without leaving a trailing space or a joiner that has lost its word.
    return text[:_MAX_TEXT].rstrip(" " + _JOINERS)


def prefix_pattern(rule: PrefixRule) -> str:
    """A registered prefix as a BIRD prefix pattern: ``193.0.0.0/21{21,24}``."""
    return f"{rule.prefix}{{{rule.length},{rule.max_length}}}"


def prefix_set(patterns: Iterable[str]) -> str:
    """A BIRD prefix set literal, one pattern per line (``[]`` when empty)."""
    items = list(patterns)
    if not items:
        return "[]"
    return "[\n\t" + ",\n\t".join(items) + "\n]"


# Members' sets kept as text, by value: every route server of a build, and the next
# build in a long-running process (the API), renders the same sets again, and
# formatting them is most of a render (300,000 prefixes at a large exchange). About
# two builds' worth of sets; a set found again costs one hash of its values.
_SETS_KEPT = 4096


def rule_set(rules: Iterable[PrefixRule]) -> str:
    """A member's registered prefixes as a BIRD prefix set."""
    return _rule_set(tuple(rules))


@lru_cache(maxsize=_SETS_KEPT)
def _rule_set(rules: tuple[PrefixRule, ...]) -> str:
    return prefix_set(prefix_pattern(r) for r in rules)


def blackhole_set(rules: Iterable[PrefixRule], family: int) -> str:
    """A member's prefixes with every more-specific allowed (blackhole routes, RFC 7999)."""
    return _blackhole_set(tuple(rules), family)


@lru_cache(maxsize=_SETS_KEPT)
def _blackhole_set(rules: tuple[PrefixRule, ...], family: int) -> str:
    longest = 32 if family == 4 else 128
    return prefix_set(f"{r.prefix}{{{r.length},{longest}}}" for r in rules)


def bogon_set(entries: Iterable[bogons.BogonPrefix]) -> str:
    """Special-purpose prefixes as a BIRD prefix set (``P+`` or exact)."""
    return prefix_set(e.prefix if e.exact else f"{e.prefix}+" for e in entries)


def int_set(values: Iterable[int | tuple[int, ...]]) -> str:
    """A BIRD int set of single values and ``(first, last, ...)`` ranges: ``[0, 64496..131071]``."""
    return _int_set(tuple(values))


@lru_cache(maxsize=_SETS_KEPT)
def _int_set(values: tuple[int | tuple[int, ...], ...]) -> str:
    parts = []
    for value in values:
        first, last = (value[0], value[1]) if isinstance(value, tuple) else (value, value)
        parts.append(str(first) if first == last else f"{first}..{last}")
    return "[" + ", ".join(parts) + "]"


def tag_list(tags: Iterable[tuple[int, int]]) -> str:
    """Large communities ``(RS_ASN, field, peer)`` as a BIRD lclist constant.

    BIRD 2 has no literal for a list of communities, but a ``define`` evaluates its
    expression once, at parse time: ``add(add(---empty---, c1), c2)``, one level per
    community (``---empty---`` is the empty lclist).
    """
    text = "---empty---"
    for field, peer in tags:
        text = f"add({text}, (RS_ASN, {field}, {peer}))"
    return text


def roa_routes(roas: Iterable[RoaLike], family: int) -> str:
    """A family's ROAs as the routes of a static ``roa4``/``roa6`` protocol."""
    v6 = family == 6
    return "\n".join(
        f"\troute {r.prefix} max {r.max_length} as {r.asn};"
        for r in roas
        if (":" in r.prefix) == v6
    )


@dataclass(frozen=True)
class Rendered:
    """A configuration and its build id (a hash of everything it is made of)."""

    text: str
    build_id: str


# Stands in for the build id while the body is hashed. It contains a double quote,
# which bird_text never lets through, so no free text can collide with it.
_BUILD_ID_SLOT = '"build-id"'


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The strict Jinja environment shared by the BIRD config and the member snippets.

    The templates are the top-level ``templates/`` folder of the source tree,
    which the build ships inside the package as ``ixp.templates`` (see
    ``setup.py``), so an installed wheel finds them where an editable checkout does.
    """
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(importlib.resources.files("ixp.templates"))),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        text=bird_text,
        rule_set=rule_set,
        blackhole_set=blackhole_set,
        bogon_set=bogon_set,
        int_set=int_set,
        tag_list=tag_list,
        roa_routes=roa_routes,
    )
    return env


def render(context: RsContext) -> Rendered:
    """The complete BIRD 2 configuration of one route server, with its build id.

    The id is the hash of the rendered body: the body is a deterministic function
    of the context, and hashing text is far faster than serialising a context
    with a million prefixes.
    """
    template = environment().get_template("bird/main.conf.j2")
    body = template.render(
        ctx=context,
        build_id=_BUILD_ID_SLOT,
        codes=codes,
        reject_codes=codes.REJECT_CODES,
        bogons=bogons,
    )
    digest = hashlib.sha256(body.encode()).hexdigest()[:16]
    return Rendered(body.replace(_BUILD_ID_SLOT, digest, 1), digest)


def render_config(context: RsContext) -> str:
    """The complete BIRD 2 configuration text of one route server."""
    return render(context).text
