"""
A real SMTP server on loopback (aiosmtpd) that keeps what it receives, for the
notification-email tests: the app's own SMTP backend talks to it over TCP.

    with SMTPServer() as smtp:      # settings: EMAIL_BACKEND smtp, EMAIL_HOST/PORT = smtp.host/port
        ...
        smtp.messages[0]["Subject"], smtp.messages[0].get_content(), smtp.recipients[0]

The server has stored a message before it answers the client's DATA, so once
`send_mail()` returns the message is in `messages`: no waiting needed.
"""

from __future__ import annotations

import email
import email.policy
import socket
from email.message import EmailMessage

from aiosmtpd.controller import Controller


class _Collector:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.recipients: list[list[str]] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SMTPServer:
    def __init__(self) -> None:
        self.host = "127.0.0.1"
        self.port = _free_port()
        self._collector = _Collector()
        self._controller = Controller(self._collector, hostname=self.host, port=self.port)

    @property
    def messages(self) -> list[EmailMessage]:
        return self._collector.messages

    @property
    def recipients(self) -> list[list[str]]:
        return self._collector.recipients

    def __enter__(self) -> SMTPServer:
        self._controller.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._controller.stop()
