"""The looking glass's answers as JSON: route lists are kept encoded, item by item, and
joined into the body; the body is the JSON the plain structure would give."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from ixp.lg import VERSION, Cached, EncodedList, Page, body

AT = dt.datetime(2026, 12, 1, 22, 0, 0, tzinfo=dt.UTC)
ROUTES = [
    {"network": f"203.0.{n}.0/24", "bgp": {"as_path": ["38193"], "communities": [[38193, n]]}}
    for n in range(5)
] + [{"network": "2400:fc00::/32", "description": "پاکستان انٹرنیٹ ایکسچینج"}]


def answer(value: dict[str, Any]) -> Cached[dict[str, Any]]:
    return Cached(value, AT, AT + dt.timedelta(seconds=30), from_cache=True)


def plain(value: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """What the body holds, built from the plain values."""
    return {
        "api": {
            "Version": VERSION,
            "result_from_cache": True,
            "cache_status": {
                "cached_at": {
                    "date": "2026-12-01T22:00:00.000000Z",
                    "timezone_type": "UTC",
                    "timezone": "UTC",
                }
            },
        },
        **value,
        "ttl": "2026-12-01T22:00:30.000000Z",
        "cached_at": "2026-12-01T22:00:00.000000Z",
        **extra,
    }


def compact(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def test_a_whole_route_list_is_the_json_of_its_routes() -> None:
    text = body(answer({"routes": EncodedList.of(ROUTES)}))
    assert text == compact(plain({"routes": ROUTES}))
    assert "انٹرنیٹ".encode() in text  # UTF-8, not \\u escapes


@pytest.mark.parametrize(
    ("offset", "limit", "expected"),
    [(0, 2, ROUTES[:2]), (4, 100, ROUTES[4:]), (2, None, ROUTES[2:]), (9, 3, [])],
)
def test_a_page_holds_its_slice_and_says_where_it_lies(
    offset: int, limit: int | None, expected: list[dict[str, Any]]
) -> None:
    text = body(answer({"routes": EncodedList.of(ROUTES)}), Page(offset, limit))
    pagination = {"offset": offset, "limit": limit, "total": len(ROUTES)}
    assert json.loads(text) == plain({"routes": expected}, pagination=pagination)


def test_answers_without_a_route_list_are_encoded_as_they_are() -> None:
    status = {"status": {"router_id": "198.51.100.1", "message": "Daemon is up and running"}}
    assert body(answer(status)) == compact(plain(status))
