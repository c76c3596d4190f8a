"""
Live handoff in two real browser contexts against a real server (daphne on
the test database): a visitor's widget on the demo page and a staff member in
the admin's live inbox exchange messages; the widget keeps the handoff through
a reload; the inbox runs under the admin's Content-Security-Policy.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.contrib.auth.models import Permission

from knowledge.models import FAQ
from tests.browser.conftest import DESKTOP, module_rows
from tests.browser.widget import Widget
from testsupport.processes import server_process

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "correct horse battery staple"


def _load() -> None:
    FAQ.objects.create(question="Do you ship to Canada?", answer="Yes, we deliver to Canada within 7 days.")
    alice = get_user_model().objects.create(
        username="alice",
        first_name="Alice",
        is_staff=True,
        password=PBKDF2PasswordHasher().encode(PASSWORD, "test-salt", iterations=1000),
    )
    alice.user_permissions.add(
        Permission.objects.get(codename="handle_conversation", content_type__app_label="conversations")
    )


@pytest.fixture(scope="module")
def transactional_db(django_db_setup) -> None:
    """Module-wide rows shared with a server process (see test_widget_live.py for why)."""


@pytest.fixture(scope="module")
def bot(transactional_db, django_db_blocker) -> Iterator:
    with module_rows(django_db_blocker, _load), server_process("daphne") as server:
        yield server


@pytest.fixture
def staff_page(browser):
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.csp = []
    page.on("console", lambda m: page.csp.append(m.text) if "Content Security Policy" in m.text else None)
    yield page
    context.close()


def staff_inbox(page, bot):
    admin = f"{bot.url}/{settings.ADMIN_URL}"
    page.goto(admin)
    page.fill("#id_username", "alice")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(admin)
    page.click("a[href$='chatbot/staffinbox/']")  # linked from the admin index
    page.locator(".inbox-status").wait_for(state="hidden")


def test_a_visitor_and_a_staff_member_talk_through_the_live_inbox(page, staff_page, bot):
    staff_inbox(staff_page, bot)
    widget = Widget(page)
    page.goto(bot.url + "/")
    widget.open()
    widget.wait_connected()

    # A person is online: the visitor is told someone will join; staff see the conversation waiting.
    widget.ask("Can I talk to a person please?")
    assert "join you" in widget.last_answer().locator(".bubble").inner_text()
    waiting = staff_page.locator(".inbox-list button", has=staff_page.locator(".badge.waiting"))
    waiting.first.click()
    staff_page.locator(".transcript li.visitor", has_text="talk to a person").wait_for()

    staff_page.click("button.take")
    widget.locator(".note").filter(has_text="Alice joined").wait_for()
    staff_page.fill("#staff-reply", "Hi, I'm Alice. How can I help?")
    staff_page.click(".composer input[type=submit]")
    agent = widget.locator(".msg.agent")
    agent.first.wait_for()
    assert agent.first.locator(".who").inner_text() == "Alice"
    assert agent.first.locator(".bubble").inner_text() == "Hi, I'm Alice. How can I help?"

    # The bot is silent while Alice holds it; she sees the visitor's message.
    widget.input.fill("Which frame size fits me?")
    widget.input.press("Enter")
    staff_page.locator(".transcript li.visitor", has_text="Which frame size").wait_for()
    assert widget.answers.count() == 1

    # A reload mid-handoff keeps it: the staff message, who is there.
    page.reload()
    widget.panel.wait_for(state="visible")
    widget.locator(".msg.agent .bubble").filter(has_text="How can I help?").wait_for()
    widget.locator(".note").filter(has_text="Alice joined").wait_for()
    staff_page.fill("#staff-reply", "The M frame fits riders from 165 cm.")
    staff_page.click(".composer input[type=submit]")
    widget.locator(".msg.agent .bubble").filter(has_text="165 cm").wait_for()
    assert widget.locator(".msg.agent").count() == 2

    # Handed back: the bot answers again.
    staff_page.click("button.release")
    widget.locator(".note").filter(has_text="Alice left").wait_for()
    widget.ask("Do you ship to Canada?")
    assert "Canada" in widget.last_answer().locator(".bubble").inner_text()
    staff_page.locator(".transcript li.assistant", has_text="Canada").wait_for()

    assert page.errors == [] and staff_page.errors == []
    assert staff_page.csp == []
