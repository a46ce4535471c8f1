"""Alert e-mail: sent over a real SMTP conversation to the member's NOC address, once."""

from __future__ import annotations

import datetime as dt
import socketserver
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from ixp.members import MemberInput, add_member
from ixp.models import Alert
from ixp.monitor import alerts
from ixp.settings import Settings
from tests.monitor.test_checks import make_rs

T0 = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


class _Smtp(socketserver.StreamRequestHandler):
    """Just enough of RFC 5321 for smtplib: greets, accepts one message per DATA."""

    def handle(self) -> None:
        self.wfile.write(b"220 test ESMTP\r\n")
        while line := self.rfile.readline():
            verb = line.split(b" ", 1)[0].strip().upper()
            if verb == b"DATA":
                self.wfile.write(b"354 go ahead\r\n")
                body = []
                while (data := self.rfile.readline()) != b".\r\n":
                    body.append(data)
                self.server.messages.append(b"".join(body).decode())  # type: ignore[attr-defined]
                self.wfile.write(b"250 queued\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


@pytest.fixture
def smtp_server() -> Iterator[socketserver.ThreadingTCPServer]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Smtp)
    server.messages = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_new_alerts_are_mailed_to_the_noc(
    session: Session, settings: Settings, smtp_server: socketserver.ThreadingTCPServer
) -> None:
    make_rs(session)
    add_member(
        session,
        MemberInput(
            asn=38001,
            name="Alpha",
            ipv4="185.1.10.11",
            max_prefix_v4=10,
            max_prefix_v6=10,
            noc_email="noc@alpha.example",
        ),
        actor="test",
    )
    mail = settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": smtp_server.server_address[1]}
    )
    finding = alerts.Finding(
        "rpki-invalid:1:38001", alerts.Rule.rpki_invalid, "warning", None, 38001, "2 invalid"
    )
    opened = alerts.sync_alerts(session, [finding], T0)
    no_contact = Alert(key="k", rule="rs-unreachable", severity="critical", message="rs down")
    assert alerts.notify(session, [*opened, no_contact], mail, T0) == 1
    assert opened[0].notified_at == T0
    (message,) = smtp_server.messages  # type: ignore[attr-defined]
    assert "To: noc@alpha.example" in message
    assert "Subject: [ixp warning] rpki-invalid: AS38001" in message
    assert "2 invalid" in message
