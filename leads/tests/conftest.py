"""Fixtures for the leads tests: the Sheets fake, a webhook receiver, factories."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from testsupport.fake_sheets import FakeSheets


@pytest.fixture
def fake_sheets(settings) -> Iterator[FakeSheets]:
    """
    The Sheets API fake on loopback, with the app's SHEETS_* settings pointing
    at it. The timeout is generous: a busy machine must not turn a slow answer
    into a failure. A test about timeouts sets a short one and plans them with
    `time_out_next`, which the fake holds until the client gives up.
    """
    with FakeSheets() as fake:
        for name, value in fake.settings().items():
            setattr(settings, name, value)
        settings.SHEETS_WORKSHEET = "Leads"
        settings.SHEETS_TIMEOUT = 10.0
        settings.LEADS_SYNC_RETRY_BASE = 0.2
        settings.LEADS_SYNC_RETRY_MAX = 1.0
        yield fake


@pytest.fixture
def mirror_off(settings) -> None:
    settings.SHEETS_CREDENTIALS_JSON = ""
    settings.SHEETS_CREDENTIALS_FILE = ""
    settings.SHEETS_SPREADSHEET_ID = ""


@dataclass
class Receiver:
    """A loopback HTTP server that records what is POSTed to it and answers planned statuses."""

    url: str = ""
    received: list[dict] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)


@pytest.fixture
def webhook_receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with lock:
                status = receiver.statuses.pop(0) if receiver.statuses else 204
                receiver.received.append({"headers": dict(self.headers), "body": body, "status": status})
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/leads"
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
