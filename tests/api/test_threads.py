"""A worker runs its database handlers on one thread; a wait on BIRD must not hold it.

The looking glass and a member's routes read BIRD, which may say nothing for
seconds on a large route server. Here BIRD's control socket is a real socket
that accepts and then stays silent: while a looking-glass request waits on it,
the same worker, with a single handler thread, still answers everyone else.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from api.app import create_app
from ixp.exchange import get_route_server
from ixp.settings import Settings
from tests.api.conftest import World

RS = "rs1-isb"


class SilentBird:
    """A control socket that accepts connections and answers nothing until released."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.accepted = threading.Event()
        self.released = threading.Event()
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(str(path))
        self._listener.listen()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        connection, _ = self._listener.accept()
        with connection:
            self.accepted.set()
            self.released.wait(30)

    def close(self) -> None:
        self.released.set()
        self._thread.join(30)
        self._listener.close()


@pytest.fixture
def silent_bird(tmp_path: Path, world: World, session: Session) -> Iterator[SilentBird]:
    bird = SilentBird(tmp_path / "bird.ctl")
    get_route_server(session, RS).control_socket = str(bird.path)
    session.commit()
    yield bird
    bird.close()


def test_a_silent_bird_does_not_hold_up_the_workers_only_handler_thread(
    api_settings: Settings, world: World, silent_bird: SilentBird
) -> None:
    settings = api_settings.model_copy(
        update={"web_threads": 1, "web_lg_public": True, "bird_timeout_seconds": 20.0}
    )
    with (
        TestClient(create_app(settings), raise_server_exceptions=False) as client,
        ThreadPoolExecutor(1) as pool,
    ):
        waiting = pool.submit(client.get, f"/lg/{RS}/status")
        assert silent_bird.accepted.wait(10), "the looking glass never reached BIRD"
        me = pool_free_request(client, world)
        assert not waiting.done(), "BIRD has not answered: the looking glass must still wait"
        silent_bird.released.set()
        assert waiting.result(30).status_code == 503
    assert me == 200


def pool_free_request(client: TestClient, world: World) -> int:
    """A database request made while the looking glass waits; its status (it must come
    back well before BIRD's 20 s timeout)."""
    with ThreadPoolExecutor(1) as other:
        answer = other.submit(client.get, "/api/v1/auth/me", headers=world.callers["operator"])
        return answer.result(5).status_code
