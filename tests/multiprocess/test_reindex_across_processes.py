"""
An FAQ added and then edited in the admin of one web process, indexed by the
task worker, is answered by the other web process (which never restarts).
"""

from __future__ import annotations

import asyncio
import re
import secrets
import time

import pytest
import requests
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from knowledge.models import FAQ
from tests.faults.clients import ChatClient
from testsupport.processes import server_process, worker_process

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ENV = {"LLM_PROVIDER": "extractive", "TASK_BACKEND": "database", "RATE_LIMIT_MESSAGES_PER_IP": "10000/m"}
QUESTION = "Do you rent out e-bikes for a weekend?"


class AdminSession:
    """Staff in the admin of one server, over plain HTTP with its CSRF token, as a browser would."""

    def __init__(self, base_url: str, *, username: str, password: str) -> None:
        self.base_url = base_url
        self.http = requests.Session()
        self.post("/admin/login/?next=/admin/", {"username": username, "password": password}, form="/admin/login/")

    def _csrf(self, path: str) -> str:
        page = self.http.get(f"{self.base_url}{path}", timeout=15)
        page.raise_for_status()
        return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)[1]

    def post(self, path: str, data: dict, *, form: str | None = None) -> requests.Response:
        token = self._csrf(form or path)
        response = self.http.post(
            f"{self.base_url}{path}", data={"csrfmiddlewaretoken": token, **data}, timeout=30, allow_redirects=False
        )
        assert response.status_code == 302, response.text[-2000:]
        return response


async def answer_from(ws_url: str, question: str) -> str:
    visitor = ChatClient(ws_url)
    await visitor.open()
    try:
        return (await visitor.ask(question)).text
    finally:
        await visitor.close()


def wait_for_answer(ws_url: str, question: str, marker: str, timeout: float = 60) -> tuple[str, float]:
    started = time.monotonic()
    while True:
        text = asyncio.run(answer_from(ws_url, question))
        if marker in text:
            return text, time.monotonic() - started
        assert time.monotonic() - started < timeout, f"{marker!r} not answered within {timeout}s: {text!r}"
        time.sleep(0.2)


def test_an_faq_saved_in_one_process_admin_is_answered_by_the_other_process(tidewater_kb):
    password = secrets.token_urlsafe(12)
    staff_user = get_user_model().objects.create_superuser("staff", "staff@example.com", None)
    # The servers run the production hashers, not the test suite's fast MD5 one.
    staff_user.password = PBKDF2PasswordHasher().encode(password, PBKDF2PasswordHasher().salt(), iterations=1000)
    staff_user.save()
    first_version, second_version = f"rent-{secrets.token_hex(3)}", f"rent-{secrets.token_hex(3)}"

    with (
        server_process("gunicorn", env=ENV) as editor,
        server_process("gunicorn", env=ENV) as visitor_side,
        worker_process(),
    ):
        staff = AdminSession(editor.url, username="staff", password=password)
        assert "rent" not in asyncio.run(answer_from(visitor_side.ws_url, QUESTION)).lower()

        staff.post(
            "/admin/knowledge/faq/add/",
            {
                "question": QUESTION,
                "answer": f"Yes: weekend rentals cost $89 (code {first_version}).",
                "is_active": "on",
                "_save": "Save",
            },
        )
        text, seconds = wait_for_answer(visitor_side.ws_url, QUESTION, first_version)
        print(f"new FAQ answered by the other process {seconds:.1f}s after the save")

        faq = FAQ.objects.get(question=QUESTION)
        staff.post(
            f"/admin/knowledge/faq/{faq.pk}/change/",
            {
                "question": QUESTION,
                "answer": f"Yes: weekend rentals now cost $79 (code {second_version}).",
                "is_active": "on",
                "_save": "Save",
            },
        )
        text, seconds = wait_for_answer(visitor_side.ws_url, QUESTION, second_version)
        print(f"edited FAQ answered by the other process {seconds:.1f}s after the save")

    assert "$79" in text and first_version not in text
