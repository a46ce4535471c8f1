"""Hypothesis strategies for hostile JSON: random documents, mutated real files, cut-off bytes.

Shared by the property tests of every JSON reader (IX-F, ROA exports). Strings
draw from every Unicode category, lone surrogates and control characters
included, plus a few values known to trip parsers: digits of other scripts,
superscripts, NUL, numbers of thousands of digits.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

from hypothesis import strategies as st

# Strings that have broken, or could break, a reader or a database driver.
TRICKY_STRINGS = (
    "",
    " ",
    "\x00",
    "\ud800",
    "\udcff",
    "\x1b[2J",
    "\u2028",
    "\u0663\u0668\u0661\u0669\u0663",  # ARABIC-INDIC digits: 38193
    "AS\u06f3\u06f8\u06f1\u06f9\u06f3",  # EXTENDED ARABIC-INDIC digits
    "\u00b2",  # SUPERSCRIPT TWO: isdigit() is true, int() refuses it
    "203.99.160.0/\u00b2",
    "203.99.160.0/\u0661\u0669",
    "203.99.160.0/19\x00",
    "203.99.160.0/" + "9" * 4301,  # beyond the int-from-text limit
    "AS" + "9" * 4301,
    "x" * 600,
    "2001:db8::/32",
    "103.151.232.10",
    "AS-FOO",
    "2026-13-45T99:00:00Z",
)
TRICKY_INTEGERS = (0, -1, 2**31, 2**32, 2**63, 10**100, -(10**100))

hostile_text = st.text(
    alphabet=st.characters(exclude_categories=()), max_size=20
) | st.sampled_from(TRICKY_STRINGS)
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.sampled_from(TRICKY_INTEGERS)
    | st.floats(allow_nan=True, allow_infinity=True)
    | hostile_text
)


def json_values(keys: tuple[str, ...] = ()) -> st.SearchStrategy[Any]:
    """Any JSON value; object keys are drawn mostly from ``keys`` so readers look deeper."""
    key = st.sampled_from(keys) | hostile_text if keys else hostile_text
    return st.recursive(
        scalars,
        lambda children: (
            st.lists(children, max_size=4) | st.dictionaries(key, children, max_size=5)
        ),
        max_leaves=25,
    )


def _slots(value: Any) -> Iterator[tuple[Any, Any]]:
    """Every (container, key or index) in ``value``, walked without recursion."""
    pending = [value]
    while pending:
        container = pending.pop()
        if isinstance(container, dict):
            slots = list(container)
        elif isinstance(container, list):
            slots = list(range(len(container)))
        else:
            continue
        for slot in slots:
            yield container, slot
            pending.append(container[slot])


@st.composite
def mutated(draw: st.DrawFn, document: Any, keys: tuple[str, ...] = ()) -> Any:
    """``document`` with one to three values replaced by random ones, removed or duplicated."""
    result = copy.deepcopy(document)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        slots = list(_slots(result))
        if not slots:
            break
        container, slot = draw(st.sampled_from(slots))
        action = draw(st.sampled_from(["replace", "replace", "remove", "duplicate"]))
        if action == "replace":
            container[slot] = draw(json_values(keys))
        elif action == "remove":
            del container[slot]
        elif isinstance(container, list):
            container.append(copy.deepcopy(container[slot]))
        else:
            container[draw(hostile_text)] = copy.deepcopy(container[slot])
    return result


def keys_of(document: Any) -> tuple[str, ...]:
    """Every object key used anywhere in ``document``, sorted."""
    return tuple(sorted({k for c, k in _slots(document) if isinstance(c, dict)}))


@st.composite
def truncated(draw: st.DrawFn, documents: tuple[Any, ...]) -> bytes:
    """One of ``documents`` as UTF-8 JSON, cut anywhere (even inside a character)."""
    data = json.dumps(draw(st.sampled_from(documents)), ensure_ascii=False).encode()
    return data[: draw(st.integers(min_value=0, max_value=len(data)))]
