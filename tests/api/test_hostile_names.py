"""Hostile member names: every JSON answer carries them intact, as data, never as markup.

A member's name is free text in any script; it can hold quotes, backslashes,
angle brackets and ampersands. Every readable route of the app is called as an
operator with such a member in the database: each answer must parse as JSON,
carry the name exactly as stored, and be sent so that no browser would render
it (``nosniff`` and a policy that loads nothing).
"""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.api.conftest import World, add_test_member
from tests.api.test_authorization import routes, url_for

HOSTILE = "</script><img src=x onerror=alert(1)> \"Q\" 'q' \\ & ٹیلی‌نیٹ {{7*7}}"
HOSTILE_ASN = 38193


def strings(value: Any) -> list[str]:
    """Every string anywhere in a JSON value."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


def test_every_json_answer_carries_a_hostile_name_intact(
    client: TestClient, world: World, session: Session
) -> None:
    add_test_member(session, HOSTILE_ASN, HOSTILE, 23)
    build = client.post("/api/v1/builds", json={}, headers=world.callers["operator"])
    assert build.status_code == 201 and build.json()["ok"], build.text
    carried = []
    for method, path in routes():
        if method != "GET":
            continue
        url = url_for(path, session, asn=HOSTILE_ASN, build=build.json()["id"])
        response = client.get(url, headers=world.callers["operator"])
        assert response.headers["x-content-type-options"] == "nosniff", url
        if response.status_code != 200:
            continue
        if response.headers["content-type"].startswith("text/html"):
            assert "<img src=x" not in response.text, url  # a page escapes it (tests/portal)
            continue
        assert response.headers["content-type"].startswith("application/json"), url
        assert response.headers["content-security-policy"].startswith("default-src 'none'")
        names = [s for s in strings(json.loads(response.text)) if "onerror" in s]
        assert all(HOSTILE in s for s in names), (url, names)
        if names:
            carried.append(path)
    assert {
        "/api/v1/members",
        "/api/v1/members/{asn}",
        "/api/v1/builds/{build_id}",
        "/ixf/member-export.json",
    } <= set(carried)
