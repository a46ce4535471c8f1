"""The operator's pages in-process, on both databases: the dashboard, the members table and
its filters, a member's registry, RPKI and history tabs, suspend and remove, onboarding
against the registry, alerts with acknowledge, builds and their preview, and the
looking-glass page.

The browser tests (``test_browser.py``) drive the same pages in Chromium against a
live lab; these check the rules and the query counts without a browser. Registry
data comes from an RPSL dump written here, as the demo and the lab load theirs.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from api.app import create_app
from api.security import CSRF_FIELD
from ixp import members
from ixp.bird import BirdRoute
from ixp.exchange import get_route_server
from ixp.irr import service as irr
from ixp.models import MemberStatus
from ixp.monitor import filtered, sessions
from ixp.rpki.service import load_file
from ixp.settings import Settings
from tests.api.conftest import MEMBER_A, MEMBER_B, World, add_test_member
from tests.api.test_monitor import T0, monitored, sample
from tests.portal.test_pages import counted, csrf_of, sign_in

__all__ = ["monitored"]

REGISTRY = f"""
as-set:         AS-ALPHA
members:        AS{MEMBER_A}
source:         TEST

route:          103.151.8.0/22
origin:         AS{MEMBER_A}
source:         TEST

route:          103.151.12.0/24
origin:         AS{MEMBER_A}
source:         TEST

route:          103.160.0.0/22
origin:         AS{MEMBER_B}
source:         TEST

as-set:         AS-NAYATEL
members:        AS38193
source:         TEST

route:          39.40.0.0/16
origin:         AS38193
source:         TEST

as-set:         AS-EMPTY
members:        AS38194
source:         TEST
"""
ROAS = {
    "roas": [
        {"asn": MEMBER_A, "prefix": "103.151.8.0/22", "maxLength": 24, "ta": "apnic"},
        {"asn": 64999, "prefix": "103.151.12.0/24", "maxLength": 24, "ta": "apnic"},
    ]
}


def field_error(page: str, name: str) -> str:
    """The error shown at input ``name`` (which must be marked invalid and point at it)."""
    field = re.search(rf'<(?:input|select) id="f-{name}".*?</div>', page, re.S)
    assert field, f"no field {name}"
    assert 'aria-invalid="true"' in field.group(
        0
    ) and f'aria-describedby="e-{name}"' in field.group(0)
    error = re.search(rf'<p class="error" id="e-{name}">(.*?)</p>', field.group(0), re.S)
    assert error, f"no error at {name}"
    return error.group(1)


@pytest.fixture
def registry(session: Session, api_settings: Settings, world: World, tmp_path: Path) -> Path:
    """Members A and B with registry data from a dump, A with the AS-SET AS-ALPHA; ROAs."""
    members.update_member(session, MEMBER_A, {"as_set": "AS-ALPHA"}, actor="test")
    dump = tmp_path / "registry.rpsl"
    dump.write_text(REGISTRY, encoding="utf-8")
    irr.sync(session, api_settings, rpsl_files=[dump])
    roas = tmp_path / "roas.json"
    roas.write_text(json.dumps(ROAS), encoding="utf-8")
    load_file(session, roas, settings=api_settings, actor="test")
    return dump


def test_an_operator_lands_on_the_dashboard(client: TestClient, monitored: World) -> None:
    assert sign_in(client, "op") == "/operator"
    page = client.get("/operator")
    assert page.status_code == 200
    text = page.text
    assert "Dashboard" in text and 'id="reach-history"' in text
    assert re.search(r'<dd id="last-pushed">rs1-isb: never<br>rs2-khi: never</dd>', text)
    assert "3</strong> open, <strong>3</strong> not acknowledged" in text
    assert 'href="/members?route_server=rs1-isb&amp;state=down" class="badge bad">1 down' in text


def test_the_members_table_shows_states_and_filters_without_javascript(
    client: TestClient, monitored: World
) -> None:
    sign_in(client, "op")
    table = client.get("/members").text
    assert "2 members." in table
    row_b = re.search(rf'<tr id="as{MEMBER_B}">.*?</tr>', table, re.S)
    assert row_b and "rs1-isb IPv4: down (Active)" in row_b.group(0)
    row_a = re.search(rf'<tr id="as{MEMBER_A}">.*?</tr>', table, re.S)
    assert row_a and "rs2-khi IPv6: up" in row_a.group(0)
    assert "12 accepted" in row_a.group(0) and 'badge bad">no data' in row_a.group(0)
    only_b = client.get("/members", params={"state": "down", "route_server": "rs2-khi"}).text
    assert f'id="as{MEMBER_B}"' in only_b and f'id="as{MEMBER_A}"' not in only_b
    by_name = client.get("/members", params={"q": "alpha"}).text
    assert f'id="as{MEMBER_A}"' in by_name and f'id="as{MEMBER_B}"' not in by_name
    by_asn = client.get("/members", params={"q": f"AS{MEMBER_B}"}).text
    assert f'id="as{MEMBER_B}"' in by_asn and f'id="as{MEMBER_A}"' not in by_asn
    bad = client.get("/members", params={"status": "gone", "route_server": "rs9"})
    assert bad.status_code == 422
    assert "must be one of" in field_error(bad.text, "status")
    assert "is no route server here" in field_error(bad.text, "route_server")


def test_the_members_table_runs_a_fixed_number_of_queries(
    client: TestClient, session: Session, monitored: World
) -> None:
    sign_in(client, "op")
    with counted(client) as few:
        assert client.get("/members").status_code == 200
    rs1 = get_route_server(session, "rs1-isb")
    for host in range(30, 58):
        asn = 38100 + host
        add_test_member(session, asn, f"Member {host}", host)
        sessions.record_samples(session, rs1, [sample(asn, host, "ipv4")], T0)
    session.commit()
    with counted(client) as many:
        page = client.get("/members")
    assert page.status_code == 200 and "30 members." in page.text
    # the user, the exchange, its route servers, the data versions, the count, the page,
    # then for the page's members: sessions configured, session states, registry rows,
    # ROA counts, alerts
    assert len(few) == len(many) <= 12, many
    # Nothing changed since: the page is kept; the user, the exchange and the data
    # versions are all that is read.
    with counted(client) as kept:
        again = client.get("/members")
    assert again.status_code == 200 and "30 members." in again.text
    assert len(kept) == 3, kept
    # The monitor's next round (Member 30's session goes down) shows at once.
    sessions.record_samples(session, rs1, [sample(38130, 30, "ipv4", up=False)], T0)
    session.commit()
    row = re.search(r'<tr id="as38130">.*?</tr>', client.get("/members").text, re.S)
    assert row and "rs1-isb IPv4: down (Active)" in row.group(0)


def test_registry_data_with_a_held_change_and_its_approval(
    client: TestClient, session: Session, api_settings: Settings, registry: Path
) -> None:
    tight = api_settings.model_copy(update={"irr_max_prefixes": 1})
    grown = registry.parent / "grown.rpsl"
    grown.write_text(
        REGISTRY + f"\nroute:          45.20.0.0/22\norigin:         AS{MEMBER_A}\nsource: TEST\n"
    )
    irr.sync(session, tight, members=[members.get_member(session, MEMBER_A)], rpsl_files=[grown])
    sign_in(client)
    own = client.get(f"/members/{MEMBER_A}/registry").text
    assert "AS-ALPHA" in own and "103.151.8.0/22" in own and "Newer data held" in own
    assert "Approve" not in own  # a member's user reads it, the operators decide
    client.cookies.clear()
    sign_in(client, "op")
    page = client.get(f"/members/{MEMBER_A}/registry").text
    assert "over irr_max_prefixes" in page
    approved = client.post(
        f"/members/{MEMBER_A}/registry/approve", data={CSRF_FIELD: csrf_of(page)}
    )
    assert approved.status_code == 200 and "Newer data held" not in approved.text
    assert "45.20.0.0/22" in approved.text
    history = client.get(f"/members/{MEMBER_A}/history").text
    assert '<strong>approve</strong> of irr by <span dir="auto">op</span>' in history


def test_rpki_of_each_registered_prefix(client: TestClient, registry: Path) -> None:
    sign_in(client)
    page = client.get(f"/members/{MEMBER_A}/rpki").text
    valid = re.search(r"<code>103.151.8.0/22</code></td>\s*<td><span class=\"badge (\w+)\">", page)
    invalid = re.search(
        r"<code>103.151.12.0/24</code></td>\s*<td><span class=\"badge (\w+)\">", page
    )
    assert valid and valid.group(1) == "good"
    assert invalid and invalid.group(1) == "bad" and "invalid: would be dropped" in page
    assert "AS64999" in page  # the ROA that makes it invalid


def test_suspend_and_remove_ask_first(client: TestClient, session: Session, world: World) -> None:
    sign_in(client, "op")
    confirm = client.get(f"/members/{MEMBER_B}/suspend")
    assert "the next build leaves its sessions out" in confirm.text
    suspended = client.post(
        f"/members/{MEMBER_B}/suspend", data={CSRF_FIELD: csrf_of(confirm.text)}
    )
    assert suspended.status_code == 200 and (
        '<strong>update</strong> of member by <span dir="auto">op</span>' in suspended.text
    )
    session.expire_all()
    assert members.show_member(session, MEMBER_B).status is MemberStatus.suspended
    confirm = client.get(f"/members/{MEMBER_B}/remove")
    assert "This cannot be undone." in confirm.text
    removed = client.post(f"/members/{MEMBER_B}/remove", data={CSRF_FIELD: csrf_of(confirm.text)})
    assert removed.status_code == 200 and "No member matches." in removed.text
    assert client.get(f"/members/{MEMBER_B}").status_code == 404


def test_onboarding_refuses_what_cannot_work_next_to_the_field(
    client: TestClient, session: Session, registry: Path
) -> None:
    sign_in(client, "op")
    form = client.get("/onboarding")
    assert 'value="185.1.10.3"' in form.text  # a free address proposed
    token = csrf_of(form.text)
    base = {"name": "Nayatel", "max_prefix_v4": "100", "max_prefix_v6": "20", CSRF_FIELD: token}
    refused = client.post(
        "/onboarding", data={**base, "asn": "38194", "as_set": "AS-EMPTY", "noc_email": "x"}
    )
    assert refused.status_code == 422
    assert "has no route or route6 objects" in field_error(refused.text, "as_set")
    assert "is not an e-mail address" in field_error(refused.text, "noc_email").lower()
    unknown = client.post("/onboarding", data={**base, "asn": "38193", "as_set": "AS-NOPE"})
    assert "&#39;AS-NOPE&#39; is not in rpsl" in field_error(unknown.text, "as_set")
    checked = client.post(
        "/onboarding", data={**base, "asn": "38193", "as_set": "AS-NAYATEL", "action": "check"}
    )
    assert checked.status_code == 200 and "<strong>AS-NAYATEL</strong> works" in checked.text
    assert "Free now: 2001:7f8:1::9531:1." in checked.text
    with pytest.raises(Exception, match="not a member"):
        members.show_member(session, 38193)
    saved = client.post(
        "/onboarding",
        data={**base, "asn": "38193", "as_set": "AS-NAYATEL", "platform": "junos"},
        follow_redirects=False,
    )
    assert (
        saved.status_code == 303 and saved.headers["location"] == "/onboarding/38193?platform=junos"
    )
    done = client.get(saved.headers["location"]).text
    assert "neighbor 185.1.10.1" in done or "185.1.10.1" in done
    assert "What the next build adds for it" in done
    assert "39.40.0.0/16{16,24}" in done and "AS38193_v4_1" in done


def test_an_alert_is_acknowledged_once(client: TestClient, monitored: World) -> None:
    sign_in(client, "op")
    page = client.get("/alerts").text
    alert = re.search(r'action="/alerts/(\d+)/ack"', page)
    assert alert and "Session events" in page
    token = csrf_of(page)
    done = client.post(f"/alerts/{alert.group(1)}/ack", data={CSRF_FIELD: token})
    assert done.status_code == 200 and "acknowledged by op" in done.text
    again = client.post(f"/alerts/{alert.group(1)}/ack", data={CSRF_FIELD: token})
    assert again.status_code == 409 and "already acknowledged by op" in again.text
    waiting = client.get("/alerts", params={"status": "unacknowledged"}).text
    assert f'id="alert-{alert.group(1)}"' not in waiting


def test_builds_their_preview_and_build_now(
    client: TestClient, registry: Path, session: Session
) -> None:
    sign_in(client, "op")
    preview = client.get("/builds/preview").text
    assert "No build has been published yet" in preview
    assert "103.151.8.0/22{22,24}" in preview and f"AS{MEMBER_A}_v4_1" in preview
    built = client.post("/builds", data={CSRF_FIELD: csrf_of(preview)})
    assert built.status_code == 200, built.text
    assert 'badge good">published' in built.text and "Alpha Net" in built.text
    members.update_member(session, MEMBER_A, {"max_prefix_v4": 150}, actor="test")
    after = client.get("/builds/preview").text
    assert "2 changes in all." in after  # A's sessions on both route servers
    assert "import limit 150 action restart;" in after
    listed = client.get("/builds").text
    assert "Build now" in listed and "/builds/1" in listed


def test_the_looking_glass_page_follows_web_lg_public(api_settings: Settings, world: World) -> None:
    with TestClient(create_app(api_settings), raise_server_exceptions=False) as closed:
        answer = closed.get("/looking-glass", follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/signin")
    public = api_settings.model_copy(update={"web_lg_public": True})
    with TestClient(create_app(public), raise_server_exceptions=False) as open_:
        answer = open_.get("/looking-glass", params={"prefix": "185.1.10.0/24"})
        assert answer.status_code == 200
        assert answer.text.count("cannot be reached right now.") == 2  # no reason for the public
        bad = open_.get("/looking-glass", params={"prefix": "not a prefix"})
        assert bad.status_code == 422 and 'id="e-prefix"' in bad.text


def test_filtered_routes_come_from_the_monitor_a_page_at_a_time(
    client: TestClient, session: Session, monitored: World
) -> None:
    """No BIRD answers here: the page reads what the monitor's round kept, 100 a page."""
    rs = get_route_server(session, "rs1-isb")
    protocol = f"AS{MEMBER_A}_v4_1"
    routes = [
        BirdRoute(
            "master4", f"45.{n // 256}.{n % 256}.0/24", protocol, False, "185.1.10.21",
            (MEMBER_A, 64999), large_communities=(f"{rs.asn}:1101:9",),
        )
        for n in range(150)
    ]  # fmt: skip
    filtered.record(session, rs, routes, {protocol: MEMBER_A}, T0)
    session.commit()
    sign_in(client)
    first = client.get(f"/members/{MEMBER_A}/routes/filtered")
    assert first.status_code == 200
    assert first.text.count('<li class="route">') == 100
    assert "150 in all" in first.text and "Page 1 of 2" in first.text
    assert "rs1-isb at <time" in first.text and "Filtered since" in first.text
    assert "45.0.0.0/24 is not covered by a route object of AS-SET" in first.text
    second = client.get(f"/members/{MEMBER_A}/routes/filtered?page=2")
    assert second.text.count('<li class="route">') == 50
    beyond = client.get(f"/members/{MEMBER_A}/routes/filtered?page=3")
    assert "No filtered routes on this page." in beyond.text
    assert "pass on everything you announce" not in beyond.text
