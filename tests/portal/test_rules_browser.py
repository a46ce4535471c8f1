"""A filtering rule made in the browser changes what a peer receives after the next build.

The lab exchange runs live (BIRD and ExaBGP members, the configuration of a build
with no rules) and the portal under uvicorn, driven by Debian's Chromium through
Playwright, with the harness of ``test_browser.py``. Alpha's NOC opens its
filtering rules, asks not to announce its routes to Bravo in IPv4, reads the
preview ("AS38002 (Bravo Telecom) will no longer receive your 1 IPv4 route") and
saves. Nothing changes until an operator builds (``POST /api/v1/builds``) and the
configuration is loaded into the route server (what a push does); then Bravo no
longer has Alpha's IPv4 route, while Charlie still has it and Bravo keeps the
IPv6 one. The page is photographed and checked with axe-core at both widths.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from ixp import accounts, db
from ixp.lab import netns
from ixp.lab.exabgp import Route
from ixp.lab.lab import Lab
from ixp.rs import history
from ixp.settings import Settings
from tests.lab.exchange import (
    ALPHA,
    BRAVO,
    CHARLIE,
    DELTA,
    RS_NAME,
    build_exchange,
    exchange_settings,
)
from tests.lab.harness import require_lab
from tests.portal.test_browser import (
    PASSWORD,
    SCREENSHOTS,
    VIEWPORTS,
    Portal,
    browsing,
    missing_component,
    running_portal,
    sign_in,
    violations,
)

pytestmark = [pytest.mark.netns, pytest.mark.slow]

ALPHA_V4, ALPHA_V6 = Route("45.64.0.0/20"), Route("2a0b:4000::/32")
ROUTES = {
    ALPHA: [ALPHA_V4, ALPHA_V6],
    BRAVO: [Route("37.60.0.0/22")],
    CHARLIE: [Route("103.20.0.0/22")],
    DELTA: [Route("103.21.0.0/22")],
}
RULES_PAGE = f"/members/{ALPHA}/rules"


@dataclass(frozen=True)
class LiveLab:
    """The portal in Chromium, the lab behind it and the operator's API token."""

    portal: Portal
    lab: Lab
    settings: Settings
    operator: dict[str, str]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveLab]:
    reason = missing_component()
    if reason:
        pytest.skip(reason)
    require_lab()

    settings = exchange_settings(tmp_path_factory.mktemp("rules-portal")).model_copy(
        update={"web_environment": "development"}
    )
    engine = db.engine_from_settings(settings)
    with db.session_factory(engine)() as session:
        build_exchange(session, settings)
        accounts.add_user(
            session, username="alpha", password=PASSWORD, role="member", member_asn=ALPHA,
            actor="t",
        )  # fmt: skip
        op = accounts.add_user(
            session, username="op", password=PASSWORD, role="operator", actor="t"
        )
        token = accounts.create_token(session, accounts.get_user(session, op.username), "ci",
                                      actor="t")  # fmt: skip
        lab = Lab.from_database(session, settings, routes=ROUTES)
    # the monitor check stores the accepted counts the preview quotes
    with running_portal(lab, settings, engine) as portal:
        yield LiveLab(portal, lab, settings, {"Authorization": f"Bearer {token.secret}"})


def holders(lab: Lab, route: Route) -> set[int]:
    """The members holding ``route`` from Alpha now."""
    return {
        asn
        for asn in (BRAVO, CHARLIE, DELTA)
        for got in lab.member(asn).received().values()
        if got.prefix == route.prefix and got.as_path[:1] == (ALPHA,)
    }


def choose(page: Any, label: str, option: str) -> None:
    page.get_by_label(label).select_option(label=option)


def test_a_rule_set_in_the_browser_changes_what_the_peer_receives_after_the_build(
    live: LiveLab,
) -> None:
    lab = live.lab
    assert holders(lab, ALPHA_V4) == holders(lab, ALPHA_V6) == {BRAVO, CHARLIE, DELTA}
    with browsing(live.portal, "phone") as page:
        sign_in(page)
        page.goto(f"/members/{ALPHA}")
        page.get_by_role("link", name="Filtering rules").click()
        page.wait_for_url(f"{live.portal.base}{RULES_PAGE}")
        assert "None: every peer gets your routes" in page.locator("main").inner_text()
        choose(page, "What", "Do not announce my routes to")
        choose(page, "Peer", "AS38002 Bravo Telecom")
        choose(page, "Address families", "IPv4 only")
        page.get_by_role("button", name="Preview").click()
        page.wait_for_load_state()
        preview = page.locator("section.preview")
        assert "Before you save: do not announce to AS38002 (Bravo Telecom) in IPv4" in (
            preview.inner_text()
        )
        assert preview.locator("ul.changes li").all_inner_texts() == [
            "AS38002 (Bravo Telecom) will no longer receive your 1 IPv4 route"
        ]
        page.screenshot(path=SCREENSHOTS / "rules-preview-phone.png", full_page=True)
        page.get_by_role("button", name="Save this rule").click()
        page.wait_for_load_state()
        assert page.get_by_role("status").inner_text() == (
            "The rule is saved. It takes effect at the next build."
        )
        assert (
            page.locator("li.rule")
            .all_inner_texts()[0]
            .startswith("do not announce to AS38002 (Bravo Telecom) in IPv4")
        )
    # Saved is not built: the route server still sends Bravo the route.
    assert BRAVO in holders(lab, ALPHA_V4)

    built = httpx.post(f"{live.portal.base}/api/v1/builds", headers=live.operator, timeout=60)
    assert built.status_code == 201 and built.json()["ok"], built.text
    config = history.default_out_dir(live.settings) / f"{RS_NAME}.conf"
    lab.reconfigure(RS_NAME, config.read_text(encoding="utf-8"))
    netns.wait_until(
        lambda: BRAVO not in holders(lab, ALPHA_V4), timeout=30, what="Bravo to lose the route"
    )
    lab.wait_converged(timeout=60)
    assert holders(lab, ALPHA_V4) == {CHARLIE, DELTA}
    assert holders(lab, ALPHA_V6) == {BRAVO, CHARLIE, DELTA}


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_the_rules_page_is_photographed_and_accessible(live: LiveLab, viewport: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with browsing(live.portal, viewport, axe=True) as page:
        sign_in(page)
        page.goto(RULES_PAGE)
        page.wait_for_load_state("networkidle")
        page.screenshot(path=SCREENSHOTS / f"rules-{viewport}.png", full_page=True)
        found = violations(page)
        choose(page, "What", "Prepend my ASN towards")
        choose(page, "Peer", "AS38002 Bravo Telecom")
        page.get_by_role("button", name="Preview").click()  # no prepend count: marked
        page.wait_for_load_state()
        assert (
            page.get_by_label("How many times to prepend").get_attribute("aria-invalid") == "true"
        )
        found += violations(page)
    assert found == []
