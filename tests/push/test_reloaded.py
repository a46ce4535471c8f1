"""Which sessions a push makes BIRD ask for routes again: those whose import filter changes.

The health check waits for exactly these members to send their routes again, so
a session named here that BIRD does not reload would hold a good push until its
timeout, and one left out could be confirmed before its routes came back through
the new filter. The configuration is the committed build of the test exchange.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ixp.push.diff import RsDiff, diff_configs, reloaded_sessions
from ixp.rs.preview import configured_members

CONFIG = (Path(__file__).resolve().parents[1] / "data" / "rs" / "rs1.conf").read_text(
    encoding="utf-8"
)
SESSIONS = ("AS10101_v4_1", "AS10101_v6_1", "AS20202_v4_1", "AS20202_v6_1")


def reloaded(new: str) -> tuple[str, ...]:
    return reloaded_sessions(configured_members(CONFIG), configured_members(new))


def changed(old: str, new: str) -> str:
    assert CONFIG.count(old) == 1, old
    return CONFIG.replace(old, new)


def test_the_sessions_are_those_of_the_committed_build() -> None:
    assert set(SESSIONS) <= {s for m in configured_members(CONFIG).values() for s in m.sessions}


def test_nothing_changed_reloads_nothing() -> None:
    assert reloaded(CONFIG) == ()


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        # A prefix more in the IPv4 filter: the IPv4 session's filter names that set.
        (
            "\t45.21.0.0/24{24,24},\n",
            "\t45.21.0.0/24{24,24},\n\t45.22.0.0/24{24,24},\n",
            ("AS10101_v4_1",),
        ),
        # Origins are named by both families' filters.
        (
            "define AS20202_ORIGINS = [20202];",
            "define AS20202_ORIGINS = [20202, 20203];",
            ("AS20202_v4_1", "AS20202_v6_1"),
        ),
        # The filter's own arguments (third-party next hops allowed now).
        (
            "rs_import(10101, 2001:7f8:ff::11, false,",
            "rs_import(10101, 2001:7f8:ff::11, true,",
            ("AS10101_v6_1",),
        ),
        # Its filtering rules (the communities added on import).
        (
            "define AS10101_RULES_V6 = add(---empty---, (RS_ASN, 0, 20202));",
            "define AS10101_RULES_V6 = add(---empty---, (RS_ASN, 0, 30303));",
            ("AS10101_v6_1",),
        ),
    ],
)
def test_a_changed_import_filter_reloads_that_session(
    old: str, new: str, expected: tuple[str, ...]
) -> None:
    assert reloaded(changed(old, new)) == expected


@pytest.mark.parametrize(
    ("old", "new"),
    [
        # Max-prefix: BIRD takes a new import limit without asking for routes again.
        ("import limit 100 action restart;", "import limit 200 action restart;"),
        # The export side: BIRD sends again, it does not ask.
        ("define AS20202_REFUSED_V4 = [30303];", "define AS20202_REFUSED_V4 = [30303, 10101];"),
        (
            'description "AS10101 Alpha Networks";\n\tneighbor 185.1.0.11',
            'description "AS10101 Alpha Networks Ltd";\n\tneighbor 185.1.0.11',
        ),
        # The same elements in another order make the same filter.
        (
            "define AS10101_ORIGINS = [10101, 10102, 10103];",
            "define AS10101_ORIGINS = [10103, 10101, 10102];",
        ),
    ],
)
def test_other_changes_reload_nothing(old: str, new: str) -> None:
    assert reloaded(changed(old, new)) == ()


def test_a_new_or_readdressed_session_is_not_a_reload() -> None:
    readdressed = changed("neighbor 185.1.0.11 as 10101;", "neighbor 185.1.0.21 as 10101;")
    assert reloaded(readdressed) == ()


ROA_V4 = "\troute 45.20.0.0/22 max 22 as 10102;\n"


def diffed(new: str) -> RsDiff:
    return diff_configs("rs1", CONFIG, new, names={}, max_bytes=100_000)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        # A ROA more inside AS10101's registered 45.20.0.0/22: its IPv4 session only.
        (ROA_V4, ROA_V4 + "\troute 45.20.0.0/22 max 24 as 10101;\n", ("AS10101_v4_1",)),
        # A ROA gone: the routes it made valid may be unknown now.
        ("\troute 31.10.0.0/16 max 24 as 10101;\n", "", ("AS10101_v4_1",)),
        # 62.40.0.0/18 is registered by two members.
        (
            ROA_V4,
            ROA_V4 + "\troute 62.40.8.0/21 max 24 as 20202;\n",
            ("AS10101_v4_1", "AS20202_v4_1"),
        ),
        (
            "\troute 2a0a:1000::/32 max 48 as 10101;\n",
            "\troute 2a0a:1000::/32 max 40 as 10101;\n",
            ("AS10101_v6_1",),
        ),
        # A ROA no member's registered prefix overlaps decides no route here.
        (ROA_V4, ROA_V4 + "\troute 193.0.0.0/21 max 24 as 3333;\n", ()),
    ],
)
def test_changed_roas_reload_the_sessions_whose_prefixes_they_overlap(
    old: str, new: str, expected: tuple[str, ...]
) -> None:
    diff = diffed(changed(old, new))
    assert diff.roas_changed
    assert (diff.roa_reloads, diff.reloaded) == (expected, ())


def test_a_session_birds_reloads_itself_is_not_reloaded_twice() -> None:
    both = changed(ROA_V4, ROA_V4 + "\troute 62.40.8.0/21 max 24 as 20202;\n").replace(
        "define AS20202_ORIGINS = [20202];", "define AS20202_ORIGINS = [20202, 20203];"
    )
    diff = diffed(both)
    assert diff.reloaded == ("AS20202_v4_1", "AS20202_v6_1")
    assert diff.roa_reloads == ("AS10101_v4_1",)


def test_the_same_configuration_reloads_nothing() -> None:
    diff = diffed(CONFIG)
    assert (diff.roas_changed, diff.reloaded, diff.roa_reloads) == (False, (), ())
