"""Filtering rules through /api/v1/members/{asn}/rules: a member's NOC manages its own.

A member's own users read, add, replace and remove their member's rules; operators any
member's; another member's rules answer 404 exactly as a member that does not exist.
Every change is checked as a whole (every bad field named) and audited under the
caller's user name; the preview says what would change and saves nothing.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from api.security import CSRF_FIELD
from ixp.models import AuditEntry
from tests.api.conftest import MEMBER_A, MEMBER_B, World
from tests.dbsnapshot import snapshot
from tests.portal.test_pages import csrf_of, sign_in

PROBLEM = "application/problem+json"
RULES = f"/api/v1/members/{MEMBER_A}/rules"


def _rows(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row but the tokens' (a request records when its token was last used)."""
    rows = snapshot(engine)
    del rows["api_tokens"]
    return rows


def test_a_member_adds_lists_and_removes_its_own_rules(
    client: TestClient, world: World, session: Session
) -> None:
    noc = world.callers["member_a"]
    added = client.post(RULES, headers=noc, json={"action": "do-not-announce", "peer": MEMBER_B})
    assert added.status_code == 201, added.text
    rule = added.json()
    assert rule["text"] == "do not announce to AS55714 (Bravo Wireless) in IPv4 and IPv6"
    assert rule["equivalent"] == "38195:0:55714"
    assert (rule["asn"], rule["peer"], rule["family"], rule["inactive"]) == (
        MEMBER_A, MEMBER_B, "both", None
    )  # fmt: skip
    second = client.post(
        RULES, headers=noc, json={"action": "prepend", "peer": None, "family": "ipv4", "prepend": 3}
    )
    assert second.status_code == 201, second.text
    listed = client.get(RULES, headers=noc).json()
    assert [r["id"] for r in listed] == [rule["id"], second.json()["id"]]

    removed = client.delete(f"{RULES}?rule={rule['id']}", headers=noc)
    assert removed.status_code == 200 and removed.json() == [rule]
    assert [r["id"] for r in client.get(RULES, headers=noc).json()] == [second.json()["id"]]
    emptied = client.delete(RULES, headers=noc)
    assert [r["id"] for r in emptied.json()] == [second.json()["id"]]
    assert client.get(RULES, headers=noc).json() == []
    actions = session.scalars(
        select(AuditEntry.action).where(
            AuditEntry.entity == "rs-rules", AuditEntry.actor == "alpha"
        )
    ).all()
    assert actions == ["add", "add", "remove", "remove"]


def test_put_replaces_the_set_and_names_every_bad_field(
    client: TestClient, world: World, engine: Engine
) -> None:
    noc = world.callers["member_a"]
    good = [
        {"action": "announce-only", "peer": MEMBER_B, "family": "ipv6"},
        {"action": "do-not-accept", "peer": MEMBER_B},
    ]
    replaced = client.put(RULES, headers=noc, json={"rules": good})
    assert replaced.status_code == 200, replaced.text
    assert [r["action"] for r in replaced.json()] == ["announce-only", "do-not-accept"]

    before = _rows(engine)
    bad = [
        {"action": "do-not-announce", "peer": MEMBER_B},
        {"action": "announce-only", "peer": MEMBER_B},
        {"action": "prepend", "peer": MEMBER_A, "prepend": 5},
    ]
    refused = client.put(RULES, headers=noc, json={"rules": bad})
    assert refused.status_code == 422 and refused.headers["content-type"] == PROBLEM
    errors = {(e["field"], e["value"]) for e in refused.json()["errors"]}
    assert errors == {
        ("rules[2].peer", MEMBER_A),
        ("rules[2].prepend", 5),
        ("rules[1].peer", MEMBER_B),
    }
    assert _rows(engine) == before


def test_the_wire_types_are_strict(client: TestClient, world: World) -> None:
    noc = world.callers["member_a"]
    for body in (
        {"action": "do-not-announce", "peer": str(MEMBER_B)},
        {"action": "block", "peer": MEMBER_B},
        {"action": "do-not-announce", "peer": MEMBER_B, "colour": "red"},
        {"action": "prepend", "peer": MEMBER_B, "prepend": "2"},
    ):
        answer = client.post(RULES, headers=noc, json=body)
        assert answer.status_code == 422, body
        assert answer.headers["content-type"] == PROBLEM
    assert client.get(RULES, headers=noc).json() == []


def test_preview_says_what_changes_and_saves_nothing(
    client: TestClient, world: World, engine: Engine
) -> None:
    noc = world.callers["member_a"]
    before = _rows(engine)
    answer = client.post(
        f"{RULES}/preview",
        headers=noc,
        json={"rules": [{"action": "do-not-accept", "peer": MEMBER_B, "family": "ipv6"}]},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "asn": MEMBER_A,
        "rules": ["do not accept routes from AS55714 (Bravo Wireless) in IPv6"],
        "changes": [
            {
                "peers": [MEMBER_B],
                "text": "AS55714 (Bravo Wireless) will no longer send you its IPv6 routes",
            }
        ],
    }
    assert _rows(engine) == before


def test_another_members_rules_are_not_found_and_operators_manage_any(
    client: TestClient, world: World, engine: Engine
) -> None:
    other = world.callers["member_b"]
    before = _rows(engine)
    body = {"action": "do-not-accept", "peer": MEMBER_B}
    for method, url, payload in (
        ("GET", RULES, None),
        ("POST", RULES, body),
        ("PUT", RULES, {"rules": [body]}),
        ("DELETE", RULES, None),
        ("POST", f"{RULES}/preview", {"rules": []}),
    ):
        answer = client.request(method, url, headers=other, json=payload)
        assert answer.status_code == 404, (method, url)
        assert answer.json()["detail"] == f"member: {MEMBER_A} does not exist"
    assert _rows(engine) == before
    added = client.post(RULES, headers=world.callers["operator"], json=body)
    assert added.status_code == 201 and added.json()["created_by"] == "op"
    assert client.get(RULES, headers=world.callers["member_a"]).json() == [added.json()]
    removed = client.delete(f"{RULES}?rule={added.json()['id']}", headers=other)
    assert removed.status_code == 404


# -- the portal's form ----------------------------------------------------------------------------

PAGE = f"/members/{MEMBER_A}/rules"


def _form(client: TestClient, **fields: str) -> dict[str, str]:
    """The rule form's fields with the page's CSRF token (a browser session needs it)."""
    return {CSRF_FIELD: csrf_of(client.get(PAGE).text), **fields}


def test_the_form_previews_first_and_saves_only_when_asked(
    client: TestClient, engine: Engine
) -> None:
    sign_in(client)
    page = client.get(PAGE)
    assert page.status_code == 200
    assert "None: every peer gets your routes" in page.text
    assert f'<option value="{MEMBER_B}">AS{MEMBER_B} Bravo Wireless</option>' in page.text
    before = _rows(engine)
    rule = {"action": "do-not-announce", "peer": str(MEMBER_B), "family": "ipv4", "prepend": ""}
    shown = client.post(f"{PAGE}/preview", data=_form(client, **rule))
    assert shown.status_code == 200
    assert "Before you save: do not announce to AS55714 (Bravo Wireless) in IPv4" in shown.text
    assert "AS55714 (Bravo Wireless) will no longer receive your IPv4 routes" in shown.text
    assert _rows(engine) == before
    token = csrf_of(shown.text)
    saved = client.post(PAGE, data={CSRF_FIELD: token, **rule}, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == f"{PAGE}?done=saved"
    listed = client.get(saved.headers["location"])
    assert "The rule is saved." in listed.text
    assert "do not announce to AS55714 (Bravo Wireless) in IPv4" in listed.text
    assert "<code>38195:0:55714</code>" in listed.text


def test_every_bad_field_is_marked_at_its_input(client: TestClient, engine: Engine) -> None:
    sign_in(client)
    before = _rows(engine)
    bad = {"action": "prepend", "peer": str(MEMBER_A), "family": "ipv9", "prepend": ""}
    for url in (f"{PAGE}/preview", PAGE):
        answer = client.post(url, data=_form(client, **bad))
        assert answer.status_code == 422
        for field in ("peer", "family", "prepend"):
            assert f'aria-invalid="true" aria-describedby="e-{field}"' in answer.text, field
        assert "is your own ASN" in answer.text and "must be 1, 2 or 3" in answer.text
        assert 'aria-invalid="true" aria-describedby="e-action"' not in answer.text
    assert _rows(engine) == before


def test_a_rule_is_removed_from_the_list(client: TestClient, world: World) -> None:
    added = client.post(
        RULES, headers=world.callers["member_a"], json={"action": "do-not-accept", "peer": None}
    ).json()
    sign_in(client)
    page = client.get(PAGE)
    assert 'aria-label="Remove the rule: do not accept routes from any peer in IPv4 and IPv6"' in (
        page.text
    )
    removed = client.post(
        f"{PAGE}/remove",
        data={CSRF_FIELD: csrf_of(page.text), "rule": str(added["id"])},
        follow_redirects=False,
    )
    assert removed.status_code == 303
    assert "The rule is removed." in client.get(removed.headers["location"]).text
    assert client.get(RULES, headers=world.callers["member_a"]).json() == []


def test_another_members_rules_page_is_the_404_of_no_member(client: TestClient) -> None:
    sign_in(client, "bravo")
    other = client.get(PAGE)
    missing = client.get("/members/64999/rules")
    assert other.status_code == missing.status_code == 404
    assert other.text == missing.text
