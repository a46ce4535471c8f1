"""The portal in a real browser: Debian's Chromium driven by Playwright, against a live lab.

The lab exchange (``tests.lab.exchange``) runs with real BGP sessions: Alpha
announces two registered routes, a bogon and a prefix outside its AS-SET (as in
``tests/api/test_live_api.py``); the monitor stores the sessions once; the app
runs under uvicorn on a loopback port. Alpha's NOC signs in, sees its sessions
and why two routes were filtered and what to do, cannot open Bravo's pages,
fixes its contacts, makes and revokes a token and signs out. The operator lands on
the dashboard, onboards a member through the form (an AS-SET the registry does not
know is refused at its field; a good member saves and shows its router snippet and
what the next build adds), reads the members table and a member's registry, RPKI
and history, acknowledges an alert, reads the next-build preview and builds; a
member's user is refused every operator page. Every page is photographed at phone
and desktop widths (``tests/artifacts/screenshots``) and checked with axe-core: no
serious or critical accessibility violation.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from api.app import create_app
from api.pages.render import STATIC
from ixp import accounts, db
from ixp.exchange import get_exchange, get_route_server
from ixp.lab.exabgp import Route
from ixp.lab.lab import Lab
from ixp.monitor import reach
from ixp.monitor.service import Monitor
from ixp.settings import Settings
from ixp.traffic import store
from tests.api.test_live_api import ALPHA_ACCEPTED, ALPHA_FILTERED, BRAVO_ACCEPTED
from tests.api.test_serve import free_port
from tests.lab.exchange import (
    ALPHA,
    BRAVO,
    DELTA,
    RS4,
    RS_NAME,
    build_exchange,
    exchange_settings,
)
from tests.lab.harness import require_lab

pytestmark = [pytest.mark.netns, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE = STATIC.parent / "assets" / "node_modules" / "axe-core" / "axe.min.js"
VENDOR = STATIC / "vendor"
SCREENSHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}
PASSWORD = "correct horse battery"
# Onboarded in the browser: Alpha's customer, whose route objects the lab registry holds.
NEW_MEMBER = 38011


def missing_component() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not CHROMIUM.exists():
        return "Debian's chromium is not installed (make test installs it)"
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed (the test extra)"
    if not AXE.exists() or not (VENDOR / "htmx.min.js").exists():
        return "the portal's npm assets are missing (make assets)"
    return None


@dataclass(frozen=True)
class Portal:
    """The app's address and a running Chromium."""

    base: str
    browser: Any


@contextmanager
def serving_app(settings: Settings) -> Iterator[str]:
    """The app under uvicorn on a free loopback port, in a thread, until the block ends."""
    port = free_port()
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="portal-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def _store_measurements(session: Any) -> None:
    """Two reachability samples, a day apart, as the monitor stores them, and two days of
    traffic between Alpha and Bravo, as the collector stores its buckets."""
    exchange = get_exchange(session)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    for days, ipv4, asns in ((1, 1_200_000, 40), (0, 1_500_000, 55)):
        figures = reach.Reach(None, ipv4, 4_000_000, 900, 10_000, asns, 120)
        reach.store_samples(session, exchange, [figures], now - dt.timedelta(days=days))
        rows = store.BucketRows(int(now.timestamp()) // 86400 * 86400 - days * 86400)
        rows.add_pair(ALPHA, BRAVO, 4, 1000 * (days + 2), 4096, (days + 2) * 10**9)
        rows.add_pair(BRAVO, ALPHA, 6, 500, 2048, 10**9 // 2)
        store.write(session, rows)
    session.commit()


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    reason = missing_component()
    if reason:
        pytest.skip(reason)
    require_lab()

    settings = exchange_settings(tmp_path_factory.mktemp("portal")).model_copy(
        update={"web_environment": "development"}
    )
    engine = db.engine_from_settings(settings)
    routes = {
        ALPHA: [Route(p) for p in (*ALPHA_ACCEPTED, *ALPHA_FILTERED)],
        BRAVO: [Route(p) for p in BRAVO_ACCEPTED],
    }
    with db.session_factory(engine)() as session:
        build_exchange(session, settings)
        for name, role, asn in (("alpha", "member", ALPHA), ("bravo", "member", BRAVO)):
            accounts.add_user(
                session, username=name, password=PASSWORD, role=role, member_asn=asn, actor="t"
            )
        accounts.add_user(session, username="op", password=PASSWORD, role="operator", actor="t")
        lab = Lab.from_database(session, settings, routes=routes)
    with running_portal(lab, settings, engine, before_monitor=_store_measurements) as portal:
        yield portal


@contextmanager
def running_portal(
    lab: Lab, settings: Settings, engine: Any, before_monitor: Callable[[Any], None] | None = None
) -> Iterator[Portal]:
    """The lab up and converged, its route server's socket recorded, one monitor check
    stored (``before_monitor`` may add data first), and the app in Chromium, until the
    block ends."""
    from playwright.sync_api import sync_playwright

    try:
        lab.up()
        lab.wait_converged(timeout=60)
        with db.session_factory(engine)() as session:
            get_route_server(session, RS_NAME).control_socket = str(lab.bird(RS_NAME).socket)
            session.commit()
            if before_monitor is not None:
                before_monitor(session)
        monitor = Monitor(settings, engine)
        try:
            assert monitor.check().unreachable == {}
        finally:
            monitor.stop()
        with serving_app(settings) as base, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                yield Portal(base, browser)
            finally:
                browser.close()
    finally:
        lab.down()
        engine.dispose()


@contextmanager
def browsing(portal: Portal, viewport: str = "desktop", *, axe: bool = False) -> Iterator[Any]:
    """A fresh browser tab (no cookies) at ``viewport``. Scripts must run without errors
    under the pages' own security policy; ``axe`` lifts that policy so axe-core can be
    injected."""
    context = portal.browser.new_context(
        viewport=VIEWPORTS[viewport], base_url=portal.base, bypass_csp=axe
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console",
        lambda message: (
            errors.append(message.text)
            if message.type == "error" and not message.text.startswith("Failed to load resource")
            else None
        ),
    )
    try:
        yield page
    finally:
        context.close()
    assert errors == [], errors


def sign_in(page: Any, username: str = "alpha") -> None:
    page.goto("/signin")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def test_a_member_signs_in_and_sees_its_sessions(portal: Portal) -> None:
    with browsing(portal) as page:
        answer = page.goto(f"/members/{ALPHA}")
        assert answer.url.startswith(f"{portal.base}/signin?next=")
        page.get_by_label("User name").fill("alpha")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{portal.base}/members/{ALPHA}")
        sessions = page.locator("li.session")
        assert sessions.count() == 2
        for family in ("IPv4", "IPv6"):
            card = sessions.filter(has_text=f"{RS_NAME} {family}")
            assert card.locator(".badge.good").inner_text() == "Up · Established"
            assert card.locator("meter").count() == 1
        ipv4 = sessions.filter(has_text=f"{RS_NAME} IPv4")
        facts = ipv4.locator("dl.facts").inner_text()
        assert "Prefixes accepted\n1" in facts and "Prefixes filtered\n2" in facts


def test_filtered_routes_say_why_and_what_to_do(portal: Portal) -> None:
    with browsing(portal) as page:
        sign_in(page)
        page.goto(f"/members/{ALPHA}/routes/filtered")
        routes = page.locator("li.route")
        assert routes.count() == len(ALPHA_FILTERED)
        for prefix, reason in ALPHA_FILTERED.items():
            route = routes.filter(has_text=prefix)
            assert route.locator(".badge.bad").first.inner_text() == reason
            assert route.locator(".remedy").first.inner_text().startswith("What to do:")
        outside = routes.filter(has_text="99.99.0.0/16").inner_text()
        assert "99.99.0.0/16 is not covered by a route object of AS-SET AS-ALPHA." in outside
        assert f"register a route object with origin AS{ALPHA} in your registry" in outside
        bogon = routes.filter(has_text="192.168.0.0/16").inner_text()
        assert "special-purpose or unallocated address space" in bogon
        page.goto(f"/members/{ALPHA}/routes/accepted")
        shown = page.locator("tbody tr td:first-child").all_inner_texts()
        assert sorted(shown) == sorted(ALPHA_ACCEPTED)
        rpki = page.locator("tbody tr td:nth-child(5)").all_inner_texts()  # from rs_rpki
        assert rpki == ["valid"] * len(ALPHA_ACCEPTED)


def test_another_members_pages_answer_404(portal: Portal) -> None:
    with browsing(portal) as page:
        sign_in(page)
        for path in (f"/members/{BRAVO}", f"/members/{BRAVO}/routes/filtered", "/members/64999"):
            answer = page.goto(path)
            assert answer.status == 404, path
            assert page.locator("h1").inner_text() == "Not found"
            assert "Bravo" not in page.content()


def test_the_contacts_form_marks_each_bad_field_at_its_input(portal: Portal) -> None:
    with browsing(portal, "phone") as page:
        sign_in(page)
        page.goto(f"/members/{ALPHA}/contacts")
        page.get_by_label("NOC e-mail").fill("not an address")
        page.get_by_label("Peering e-mail").fill("peering@alpha.example")
        page.get_by_label("Website").fill("https://alpha.example")
        page.get_by_role("button", name="Save contacts").click()
        page.wait_for_load_state()
        noc = page.get_by_label("NOC e-mail")
        assert noc.get_attribute("aria-invalid") == "true"
        assert noc.input_value() == "not an address"
        assert "is not an e-mail address" in page.locator("#e-noc_email").inner_text().lower()
        assert page.get_by_label("Peering e-mail").get_attribute("aria-invalid") is None
        page.screenshot(path=SCREENSHOTS / "contacts-errors-phone.png", full_page=True)
        noc.fill("noc@alpha.example")
        page.get_by_role("button", name="Save contacts").click()
        page.wait_for_load_state()
        assert page.get_by_role("status").inner_text() == "Your contacts are saved."
        assert page.get_by_label("NOC e-mail").input_value() == "noc@alpha.example"


def test_a_token_is_made_shown_once_and_revoked(portal: Portal) -> None:
    with browsing(portal) as page:
        sign_in(page)
        page.goto("/tokens")
        page.get_by_label("What the token is for").fill("nms")
        page.get_by_role("button", name="Make a token").click()
        page.wait_for_load_state()
        secret = page.locator("#token-secret").inner_text()
        bearer = {"Authorization": f"Bearer {secret}"}
        me = httpx.get(f"{portal.base}/api/v1/auth/me", headers=bearer, timeout=10)
        assert me.status_code == 200 and me.json()["member_asn"] == ALPHA
        page.goto("/tokens")
        assert secret not in page.content()
        row = page.locator("tr", has_text="nms")
        row.get_by_role("button", name="Revoke nms").click()
        page.locator("tr", has_text="nms").locator(".badge", has_text="revoked").wait_for()
        gone = httpx.get(f"{portal.base}/api/v1/auth/me", headers=bearer, timeout=10)
        assert gone.status_code == 401


def test_signing_out_ends_the_session(portal: Portal) -> None:
    with browsing(portal) as page:
        sign_in(page)
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url(f"{portal.base}/")
        assert page.get_by_role("link", name="Sign in").count() == 1
        page.goto(f"/members/{ALPHA}")
        assert page.url.startswith(f"{portal.base}/signin?next=")


def test_the_home_page_shows_the_exchange_and_its_reach(portal: Portal) -> None:
    with browsing(portal) as page:
        page.goto("/")
        assert page.locator("h1").inner_text() == "Lab IX"
        assert page.locator(".figure .value").first.inner_text() == "37.5%"
        page.locator("#reach-chart canvas").wait_for()
        members = page.locator("table.members tbody tr").all_inner_texts()
        assert any(f"AS{ALPHA}" in row and "Alpha Net" in row for row in members)


def test_the_operator_lands_on_the_dashboard(portal: Portal) -> None:
    with browsing(portal) as page:
        sign_in(page, "op")
        page.wait_for_url(f"{portal.base}/operator")
        sessions = page.locator("section[aria-labelledby=sessions-heading] tbody tr")
        assert sessions.filter(has_text="IPv4").count() == 1
        assert page.locator("#last-pushed").inner_text() == f"{RS_NAME}: never"
        page.locator("#reach-chart canvas").wait_for()


def test_the_operator_reads_the_traffic_chart_and_the_heat_map(portal: Portal) -> None:
    with browsing(portal, axe=True) as page:
        sign_in(page, "op")
        page.goto("/traffic")
        page.locator("#traffic-chart canvas").wait_for()
        assert page.locator(f"#cell-{ALPHA}-{BRAVO}").inner_text() == "5.0 GB"
        page.screenshot(path=SCREENSHOTS / "traffic-desktop-screen.png")
        assert violations(page) == []


def test_the_operator_onboards_a_member_checked_against_the_registry(portal: Portal) -> None:
    with browsing(portal, "phone") as page:
        sign_in(page, "op")
        page.goto("/onboarding")
        assert (
            page.get_by_label("IPv4 address on the peering LAN")
            .input_value()
            .startswith("185.1.50.")
        )
        page.get_by_label("AS number").fill(str(NEW_MEMBER))
        page.get_by_label("Name", exact=True).fill("Golf Net گالف")
        page.get_by_label("AS-SET").fill("AS-NOPE")
        page.get_by_role("button", name="Save member").click()
        page.wait_for_load_state()
        as_set = page.get_by_label("AS-SET")
        assert as_set.get_attribute("aria-invalid") == "true"
        assert "'AS-NOPE' is not in rpsl" in page.locator("#e-as_set").inner_text()
        assert page.get_by_label("AS number").get_attribute("aria-invalid") is None
        page.screenshot(path=SCREENSHOTS / "onboarding-refused-phone.png", full_page=True)
        as_set.fill("")
        page.get_by_label("Router platform").select_option("bird")
        page.get_by_role("button", name="Save member").click()
        page.wait_for_url(f"{portal.base}/onboarding/{NEW_MEMBER}?platform=bird")
        assert RS4 in page.locator("#snippet-text").inner_text()
        added = page.locator(f"#{RS_NAME}-as{NEW_MEMBER}")
        assert "45.66.0.0/20{20,24}" in added.inner_text()
        assert f"Session AS{NEW_MEMBER}_v4_1" in added.inner_text()
        page.screenshot(path=SCREENSHOTS / "onboarded-phone.png", full_page=True)


def test_the_operator_reads_the_members_table_and_a_member(portal: Portal) -> None:
    with browsing(portal) as page:
        sign_in(page, "op")
        page.goto("/members")
        alpha = page.locator(f"#as{ALPHA}")
        assert f"{RS_NAME} IPv4: up" in alpha.inner_text()
        assert "2 filtered" in alpha.inner_text()
        page.get_by_label("Name or ASN").fill("bravo")
        page.get_by_role("button", name="Show").click()
        page.wait_for_load_state()
        assert page.locator("table.roster tbody tr").count() == 1
        page.goto("/members")
        alpha.get_by_role("link", name="Alpha Net").click()
        page.wait_for_url(f"{portal.base}/members/{ALPHA}")
        page.get_by_role("link", name="Registry").click()
        assert "AS-ALPHA" in page.locator("dl.facts").first.inner_text()
        assert page.locator("td code", has_text="45.64.0.0/20").count() == 1
        page.get_by_role("link", name="RPKI").click()
        assert page.locator("tbody tr").count() >= 1
        page.get_by_role("link", name="History and actions").click()
        oldest = page.locator(".history-entry").last.inner_text()
        assert oldest.startswith("create of member by test")


def test_the_operator_acknowledges_an_alert(portal: Portal) -> None:
    with browsing(portal) as page:
        sign_in(page, "op")
        page.goto("/alerts")
        alert = page.locator(".alert-item", has_text=f"AS{ALPHA}").first
        alert.get_by_role("button", name="Acknowledge").click()
        page.wait_for_load_state()
        assert (
            "acknowledged by op"
            in page.locator(".alert-item", has_text=f"AS{ALPHA}").first.inner_text()
        )


def test_the_operator_previews_and_runs_a_build(portal: Portal) -> None:
    with browsing(portal) as page:
        sign_in(page, "op")
        page.goto("/builds/preview")
        assert page.locator("h1").inner_text() == "What the next build would change"
        assert page.locator(f"#{RS_NAME}-as{ALPHA}").count() == 1  # nothing published yet
        page.screenshot(path=SCREENSHOTS / "build-preview-first-desktop-screen.png")
        page.get_by_role("button", name="Build now").click()
        page.wait_for_url(re.compile(rf"{portal.base}/builds/\d+$"))
        assert page.locator("h1 .badge").inner_text() == "published"
        assert page.locator("tbody th", has_text="Alpha Net").count() == 1
        page.goto("/builds/preview")
        assert "Nothing changes on" in page.locator("section").first.inner_text()
        page.goto(f"/members/{DELTA}/history")
        page.get_by_role("link", name="Suspend…").click()
        page.get_by_role("button", name=f"Suspend AS{DELTA}").click()
        page.wait_for_url(f"{portal.base}/members/{DELTA}/history")
        page.goto("/builds/preview")
        delta = page.locator(f"#{RS_NAME}-as{DELTA}")
        assert "removed" in delta.locator(".badge").inner_text()
        assert "Left out: status is suspended." in delta.inner_text()
        page.screenshot(path=SCREENSHOTS / "build-preview-changed-desktop-screen.png")


def test_a_member_is_refused_the_operator_pages(portal: Portal) -> None:
    with browsing(portal) as page:
        sign_in(page)
        for path in ("/operator", "/members", "/onboarding", "/builds/preview", "/alerts"):
            assert page.goto(path).status == 403, path
            assert page.locator("h1").inner_text() == "Not allowed"
        assert page.goto(f"/members/{ALPHA}/history").status == 403
        assert page.goto(f"/members/{BRAVO}/registry").status == 404


def test_the_looking_glass_shows_paths_and_why_a_route_was_filtered(portal: Portal) -> None:
    with browsing(portal) as page:
        sign_in(page)
        page.goto("/looking-glass")
        page.get_by_label("Prefix or address").fill("99.99.0.0/16")
        page.get_by_role("button", name="Look up").click()
        page.wait_for_load_state()
        route = page.locator(".route", has_text="99.99.0.0/16")
        assert route.locator(".badge.bad").first.inner_text() == "prefix-not-in-as-set"
        assert "register a route object with origin AS" in route.inner_text()
        page.goto("/looking-glass?prefix=45.64.1.1")
        accepted = page.locator("tbody tr", has_text="45.64.0.0/20")
        assert f"AS{ALPHA}" in accepted.inner_text() and str(ALPHA) in accepted.inner_text()


PAGES = {
    "home": "/",
    "network": f"/members/{ALPHA}",
    "filtered": f"/members/{ALPHA}/routes/filtered",
    "accepted": f"/members/{ALPHA}/routes/accepted",
    "router": f"/members/{ALPHA}/router?platform=mikrotik",
    "contacts": f"/members/{ALPHA}/contacts",
    "macs": f"/members/{ALPHA}/macs",
    "tokens": "/tokens",
    "not-found": f"/members/{BRAVO}",
    "member-registry": f"/members/{ALPHA}/registry",
    "member-rpki": f"/members/{ALPHA}/rpki",
    "looking-glass": "/looking-glass?prefix=99.99.0.0/16",
}
OPERATOR_PAGES = {
    "dashboard": "/operator",
    "members-table": "/members",
    "member-history": f"/members/{ALPHA}/history",
    "member-suspend": f"/members/{ALPHA}/suspend",
    "onboarding": "/onboarding",
    "alerts": "/alerts",
    "builds": "/builds",
    "build-preview": "/builds/preview",
    "looking-glass-operator": "/looking-glass?prefix=45.64.0.0/20",
}

_SERIOUS = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations
    .filter(v => v.impact === "serious" || v.impact === "critical")
    .map(v => `${v.id} (${v.impact}): ${v.help}: ${v.nodes.map(n => n.target).join(", ")}`);
}"""


def violations(page: Any) -> list[str]:
    """Serious and critical accessibility violations axe-core finds on the page."""
    page.add_script_tag(path=str(AXE))
    found: list[str] = page.evaluate(_SERIOUS)
    return found


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_every_page_is_photographed_and_accessible(portal: Portal, viewport: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    found = {}
    with browsing(portal, viewport, axe=True) as page:
        page.goto("/signin")
        page.screenshot(path=SCREENSHOTS / f"signin-{viewport}.png", full_page=True)
        found["signin"] = violations(page)
        sign_in(page)
        for name, path in PAGES.items():
            found[name] = photographed(page, path, f"{name}-{viewport}")
    with browsing(portal, viewport, axe=True) as page:
        sign_in(page, "op")
        for name, path in OPERATOR_PAGES.items():
            found[name] = photographed(page, path, f"{name}-{viewport}")
        page.goto("/builds")
        page.get_by_role("button", name="Build now").click()
        page.wait_for_url(re.compile(rf"{portal.base}/builds/\d+$"))
        found["build"] = photographed(page, page.url, f"build-{viewport}")
    assert {name: v for name, v in found.items() if v} == {}


def photographed(page: Any, path: str, name: str) -> list[str]:
    """Open ``path``, save it as ``name`` (the whole page, and the first screen beside it
    for the README), and return its serious accessibility violations."""
    page.goto(path)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)
    page.screenshot(path=SCREENSHOTS / f"{name}-screen.png")
    return violations(page)
