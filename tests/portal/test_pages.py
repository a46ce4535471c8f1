"""The portal's pages in-process: who sees what, forms, errors as pages, and query counts.

The browser tests (``test_browser.py``) drive the same pages in Chromium against
a live lab; these check the rules on both databases without a browser.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.orm import Session

from api.app import create_app
from api.security import CSRF_FIELD
from ixp import members
from ixp.settings import Settings
from tests.api.conftest import MEMBER_A, MEMBER_B, PASSWORD, World, add_test_member
from tests.api.test_threads import SilentBird, pool_free_request

HTML = {"accept": "text/html"}
HOSTILE = "</script><img src=x onerror=alert(1)> ٹیلی‌نیٹ"


def sign_in(client: TestClient, username: str = "alpha", **form: str) -> str:
    """Sign in through the form; returns where the browser is sent."""
    answer = client.post(
        "/signin",
        data={"username": username, "password": PASSWORD, **form},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    return answer.headers["location"]


def csrf_of(page: str) -> str:
    """The CSRF token a page's forms carry."""
    found = re.search(rf'name="{CSRF_FIELD}" value="([^"]+)"', page)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def test_a_member_lands_on_its_network_and_sees_only_its_own(client: TestClient) -> None:
    assert sign_in(client) == f"/members/{MEMBER_A}"
    own = client.get(f"/members/{MEMBER_A}")
    assert own.status_code == 200 and "Alpha Net" in own.text
    assert own.headers["content-security-policy"].startswith("default-src 'self'")
    other = client.get(f"/members/{MEMBER_B}/contacts")
    missing = client.get("/members/64999/contacts")
    assert other.status_code == missing.status_code == 404
    assert other.text == missing.text
    assert "Bravo" not in other.text and "55714" not in other.text


def test_the_public_is_sent_to_sign_in_and_comes_back(client: TestClient) -> None:
    answer = client.get(f"/members/{MEMBER_A}/macs?x=1", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/signin?next=%2Fmembers%2F{MEMBER_A}%2Fmacs%3Fx%3D1"
    form = client.get(answer.headers["location"])
    assert 'name="next" value="/members/58421/macs?x=1"' in form.text
    assert sign_in(client, next=f"/members/{MEMBER_A}/macs?x=1") == f"/members/{MEMBER_A}/macs?x=1"


def test_sign_in_never_sends_the_browser_to_another_site(client: TestClient) -> None:
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example", "x"):
        assert sign_in(client, next=target) == f"/members/{MEMBER_A}"


def test_a_failed_sign_in_says_so_next_to_the_form(client: TestClient) -> None:
    answer = client.post("/signin", data={"username": "alpha", "password": "wrong password"})
    assert answer.status_code == 422
    assert 'role="alert" id="signin-error"' in answer.text
    assert "wrong user name or password" in answer.text
    assert 'aria-describedby="signin-error"' in answer.text
    assert 'value="alpha"' in answer.text


def test_too_many_failures_show_when_to_try_again(client: TestClient) -> None:
    for _ in range(5):
        client.post("/signin", data={"username": "alpha", "password": "wrong password"})
    answer = client.post("/signin", data={"username": "alpha", "password": PASSWORD})
    assert answer.status_code == 429
    assert answer.headers["retry-after"] == "900"
    assert "Try again in 15 minutes." in answer.text


def test_a_sign_in_form_posted_from_another_site_is_refused(client: TestClient) -> None:
    answer = client.post(
        "/signin",
        data={"username": "alpha", "password": PASSWORD},
        headers={"origin": "https://evil.example"},
    )
    assert answer.status_code == 403 and "ixp_session" not in answer.headers.get("set-cookie", "")


def test_contacts_form_shows_every_bad_field_next_to_its_input(
    client: TestClient, session: Session
) -> None:
    sign_in(client)
    form = client.get(f"/members/{MEMBER_A}/contacts")
    bad = {"noc_email": "not an address", "peering_email": "also@not@one", "noc_phone": "x" * 65}
    answer = client.post(
        f"/members/{MEMBER_A}/contacts",
        data={**bad, "url": "https://alpha.example", CSRF_FIELD: csrf_of(form.text)},
    )
    assert answer.status_code == 422
    for name in bad:
        field = re.search(rf'<input id="f-{name}".*?</div>', answer.text, re.S)
        assert field and 'aria-invalid="true"' in field.group(0), name
        assert f'aria-describedby="e-{name}"' in field.group(0)
        assert f'<p class="error" id="e-{name}">' in field.group(0)
    assert 'aria-invalid="true"' not in answer.text.split('id="f-url"')[1].split("</div>")[0]
    assert 'value="not an address"' in answer.text
    session.expire_all()
    assert members.show_member(session, MEMBER_A).noc_email == f"noc@as{MEMBER_A}.example.net"


def test_contacts_are_saved_and_emptied_fields_cleared(
    client: TestClient, session: Session
) -> None:
    sign_in(client)
    token = csrf_of(client.get(f"/members/{MEMBER_A}/contacts").text)
    answer = client.post(
        f"/members/{MEMBER_A}/contacts",
        data={"noc_email": "noc@alpha.example", "noc_phone": "+92 51 1234567", CSRF_FIELD: token},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert "Your contacts are saved." in client.get(answer.headers["location"]).text
    session.expire_all()
    view = members.show_member(session, MEMBER_A)
    saved = (view.noc_email, view.noc_phone, view.url)
    assert saved == ("noc@alpha.example", "+92 51 1234567", None)


def test_a_form_without_its_csrf_token_is_refused_as_a_page(client: TestClient) -> None:
    sign_in(client)
    answer = client.post(f"/members/{MEMBER_A}/contacts", data={"noc_email": "a@b.example"})
    assert answer.status_code == 403
    assert answer.headers["content-type"].startswith("text/html")
    assert "CSRF token is missing or wrong" in answer.text


def test_a_token_is_shown_once_and_revoked(client: TestClient, world: World) -> None:
    sign_in(client)
    token = csrf_of(client.get("/tokens").text)
    made = client.post("/tokens", data={"name": "nms", CSRF_FIELD: token})
    assert made.status_code == 201
    secret = re.search(r'<code id="token-secret">(ixp_[^<]+)</code>', made.text)
    assert secret
    bearer = {"Authorization": f"Bearer {secret.group(1)}"}
    assert client.get("/api/v1/auth/me", headers=bearer).status_code == 200
    listed = client.get("/tokens").text
    assert secret.group(1) not in listed and "nms" in listed
    token_id = re.search(r'<tr id="token-(\d+)">\s*<td dir="auto">nms</td>', listed)
    assert token_id
    revoked = client.post(f"/tokens/{token_id.group(1)}/revoke", data={CSRF_FIELD: token})
    assert revoked.status_code == 200 and "revoked" in revoked.text
    client.cookies.clear()
    assert client.get("/api/v1/auth/me", headers=bearer).status_code == 401


def test_an_empty_token_name_is_shown_next_to_its_input(client: TestClient) -> None:
    sign_in(client)
    token = csrf_of(client.get("/tokens").text)
    answer = client.post("/tokens", data={"name": "", CSRF_FIELD: token})
    assert answer.status_code == 422 and '<p class="error" id="e-name">' in answer.text


def test_signing_out_ends_the_session(client: TestClient) -> None:
    sign_in(client)
    token = csrf_of(client.get(f"/members/{MEMBER_A}").text)
    answer = client.post("/signout", data={CSRF_FIELD: token}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    assert client.get(f"/members/{MEMBER_A}", follow_redirects=False).status_code == 303


def test_browsers_get_pages_for_errors_and_programs_keep_problems(client: TestClient) -> None:
    page = client.get("/no/such/page", headers=HTML)
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    for path in ("/api/v1/nothing", "/lg/nothing/status", f"/api/v1/members/{MEMBER_A}"):
        problem = client.get(path, headers=HTML)
        assert problem.headers["content-type"] == "application/problem+json", path
    assert client.get("/no/such/page").headers["content-type"] == "application/problem+json"


def test_a_bad_asn_in_a_page_address_is_a_page(client: TestClient) -> None:
    sign_in(client, "op")
    answer = client.get("/members/not-a-number")
    assert answer.status_code == 422 and answer.headers["content-type"].startswith("text/html")


def test_hostile_names_are_escaped_on_every_page(client: TestClient, session: Session) -> None:
    add_test_member(session, 38193, HOSTILE, 23)
    sign_in(client, "op")
    for path in ("/", "/members/38193", "/members/38193/router"):
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert "<img src=x" not in answer.text, path
        assert "&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt; ٹیلی‌نیٹ" in answer.text, path


def test_the_home_page_lists_the_members_of_the_ixf_export(client: TestClient) -> None:
    export = client.get("/ixf/member-export.json").json()
    home = client.get("/")
    assert home.status_code == 200
    for entry in export["member_list"]:
        assert f"AS{entry['asnum']}" in home.text
    assert "Reachability has not been measured yet." in home.text
    assert "How to join" in home.text


@contextmanager
def counted(client: TestClient) -> Iterator[list[str]]:
    """The SQL statements the app runs inside the block."""
    statements: list[str] = []
    engine = client.app.state.engine  # type: ignore[attr-defined]

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_the_member_page_runs_a_fixed_number_of_queries(
    client: TestClient, session: Session
) -> None:
    sign_in(client, "op")
    with counted(client) as few:
        assert client.get(f"/members/{MEMBER_A}").status_code == 200
    for host in range(30, 60):
        add_test_member(session, 38100 + host, f"Member {host}", host)
    with counted(client) as many:
        assert client.get(f"/members/{MEMBER_A}").status_code == 200
    # the user, the exchange, the member and its rows (5, as the API's show_member), sessions
    assert len(few) == len(many) <= 9, many


def test_the_mac_form_names_every_refused_mac(client: TestClient) -> None:
    sign_in(client)
    token = csrf_of(client.get(f"/members/{MEMBER_A}/macs").text)
    taken = "02:00:00:00:00:16"  # member B's (tests.api.conftest: host 22)
    answer = client.post(
        f"/members/{MEMBER_A}/macs", data={"macs": f"zz:zz\n{taken}", CSRF_FIELD: token}
    )
    assert answer.status_code == 422
    errors = re.search(r'<ul class="error" id="e-macs">(.*?)</ul>', answer.text, re.S)
    assert (
        errors
        and "zz:zz" in errors.group(1)
        and f"{taken} is already used by AS" in errors.group(1)
    )
    good = client.post(
        f"/members/{MEMBER_A}/macs",
        data={"macs": "02:00:00:00:01:21, 02:00:00:00:01:22", CSRF_FIELD: token},
    )
    assert good.status_code == 200 and "Waiting for review since" in good.text


def test_a_silent_bird_holds_up_only_the_routes_page(
    api_settings: Settings, world: World, silent_bird: SilentBird
) -> None:
    """The accepted-routes page waits for BIRD on the threads kept for that, as the API
    does: the worker's one handler thread still serves everyone else."""
    settings = api_settings.model_copy(update={"web_threads": 1, "bird_timeout_seconds": 20.0})
    with (
        TestClient(create_app(settings), raise_server_exceptions=False) as client,
        ThreadPoolExecutor(1) as pool,
    ):
        operator = world.callers["operator"]
        waiting = pool.submit(client.get, f"/members/{MEMBER_A}/routes/accepted", headers=operator)
        assert silent_bird.accepted.wait(10), "the page never reached BIRD"
        me = pool_free_request(client, world)
        assert not waiting.done()
        silent_bird.released.set()
        page = waiting.result(30)
    assert me == 200
    assert page.status_code == 503 and "A route server cannot be reached right now" in page.text
