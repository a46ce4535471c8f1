"""The public IX-F member export at ``/ixf/member-export.json``: the document ``ixp export ixf``
writes, valid against the IX-F schema, readable by anyone, cacheable for a short while."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from api.app import create_app
from ixp import ixf
from ixp.exchange import get_exchange
from ixp.settings import Settings
from tests.api.conftest import World
from tests.ixf.samples import schema_errors

PATH = "/ixf/member-export.json"


def test_anyone_gets_the_same_document_as_the_cli(
    client: TestClient, world: World, session: Session, api_settings: Settings
) -> None:
    for role in ("anonymous", "member_a", "operator"):
        response = client.get(PATH, headers=world.callers[role])
        assert response.status_code == 200
        assert response.text == ixf.export_json(
            session, get_exchange(session), ixf_id=api_settings.ixf_id
        )
    assert response.headers["content-type"] == "application/json"
    assert schema_errors(response.text) == []
    assert {m["asnum"] for m in response.json()["member_list"]} >= {world.member_a, world.member_b}


def test_it_may_be_cached_briefly(client: TestClient) -> None:
    cache = client.get(PATH).headers["cache-control"]
    assert "public" in cache
    max_age = int(cache.split("max-age=")[1].split(",")[0])
    assert 0 < max_age <= 900


def test_the_ixf_id_comes_from_the_settings(api_settings: Settings, world: World) -> None:
    settings = api_settings.model_copy(update={"ixf_id": 42})
    with TestClient(create_app(settings)) as client:
        assert client.get(PATH).json()["ixp_list"][0]["ixf_id"] == 42


def test_without_an_exchange_it_is_a_404_problem(api_settings: Settings) -> None:
    with TestClient(create_app(api_settings)) as client:
        response = client.get(PATH)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
