"""
The Content-Security-Policy in headless Chromium against the real server
(daphne on the test database): the widget on the demo page, the admin and the
/kb/ pages work under it and the browser reports no violation; and a customer
site whose own policy allows only what docs/widget.md says it must (the bot host
in script-src and connect-src, no inline style) runs the widget as well.

Violations are collected twice: `securitypolicyviolation` events (they cross
the widget's shadow root) and the console errors Chromium writes for them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from chatbot.models import BotSettings
from knowledge.models import FAQ
from tests.browser.conftest import module_rows
from tests.browser.sites import HostSite, host_site_running
from tests.browser.widget import Widget
from testsupport.processes import server_process

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "correct horse battery staple"
WATCH_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
}, true);
"""


def strict_page(bot_url: str) -> str:
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Strict Cycles</title></head>"
        f"<body><h1>Strict Cycles</h1><script src='{bot_url}/static/chatbot/widget.js' async></script>"
        "</body></html>"
    )


def strict_policy(bot_url: str) -> dict[str, str]:
    """What docs/widget.md says a host page's policy must allow, and nothing more."""
    bot_ws = bot_url.replace("http://", "ws://")
    return {
        "Content-Security-Policy": "; ".join(
            [
                "default-src 'self'",
                f"script-src 'self' {bot_url}",
                f"connect-src 'self' {bot_url} {bot_ws}",
                "style-src 'self'",
                "img-src 'self'",
                "object-src 'none'",
                "base-uri 'none'",
            ]
        )
    }


@pytest.fixture(scope="module")
def strict_site() -> Iterator[HostSite]:
    with host_site_running(HostSite(strict_page, strict_policy)) as site:
        yield site


def _load(allowed_origin: str) -> int:
    FAQ.objects.create(question="Do you ship to Canada?", answer="Yes, we deliver to Canada within 7 days.")
    faq = FAQ.objects.create(question="Do you price match?", answer="Yes, within 14 days of purchase.")
    bot, _ = BotSettings.objects.get_or_create(pk=BotSettings.SINGLETON_PK)
    bot.allowed_origins = allowed_origin
    bot.save()
    get_user_model().objects.create(
        username="staff",
        is_staff=True,
        is_superuser=True,
        password=PBKDF2PasswordHasher().encode(PASSWORD, "test-salt", iterations=1000),
    )
    return faq.pk


@pytest.fixture(scope="module")
def transactional_db(django_db_setup) -> None:
    """Module-wide rows shared with a server process (see test_widget_live.py for why)."""


@pytest.fixture(scope="module")
def faq_id(transactional_db, django_db_blocker, strict_site) -> Iterator[int]:
    with module_rows(django_db_blocker, _load, strict_site.url) as faq_id:
        yield faq_id


@pytest.fixture(scope="module")
def bot(faq_id, strict_site):
    with server_process("daphne") as server:
        strict_site.bot_url = server.url
        yield server


@pytest.fixture
def watched(page):
    """The page, with every CSP violation it reports collected in `page.csp_console`/`violations()`."""
    page.csp_console = []
    page.add_init_script(WATCH_VIOLATIONS)
    page.on(
        "console",
        lambda message: page.csp_console.append(message.text) if "Content Security Policy" in message.text else None,
    )
    return page


def violations(page) -> list[str]:
    return page.evaluate("() => window.__cspViolations || []") + page.csp_console


def test_the_widget_on_the_demo_page_works_under_the_policy(watched, bot):
    widget = Widget(watched)
    response = watched.goto(bot.url + "/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    widget.open()
    widget.wait_connected()

    widget.ask("Do you ship to Canada?")

    assert "Canada" in widget.last_answer().locator(".bubble").inner_text()
    launcher = watched.evaluate(
        "() => { const s = getComputedStyle(document.querySelector('chat-assistant-widget').shadowRoot"
        ".querySelector('.launcher')); return [s.width, s.borderRadius]; }"
    )
    assert launcher == ["60px", "50%"], "the widget's styles apply"
    assert violations(watched) == []
    assert watched.errors == []


def test_a_kb_page_is_styled_under_the_policy(watched, bot, faq_id):
    watched.goto(f"{bot.url}/kb/faqs/{faq_id}/")

    assert "within 14 days" in watched.locator("body").inner_text()
    assert watched.evaluate("() => getComputedStyle(document.body).maxWidth") == "736px"
    assert violations(watched) == []


def test_the_admin_works_under_the_policy(watched, bot):
    admin = f"{bot.url}/{settings.ADMIN_URL}"
    watched.goto(admin)
    watched.fill("#id_username", "staff")
    watched.fill("#id_password", PASSWORD)
    watched.click("input[type=submit]")
    watched.wait_for_url(admin)
    assert "Site administration" in watched.locator("h1").inner_text()

    watched.goto(f"{admin}knowledge/faq/")
    watched.click("#action-toggle")  # actions.js: selects every row and counts them
    assert watched.locator(".action-counter").inner_text().startswith("2 of 2 selected")
    watched.locator("#nav-filter").fill("faq")  # nav_sidebar.js filters the sidebar as one types
    watched.wait_for_function(
        "() => document.querySelector('#nav-sidebar .model-botsettings')?.style.display === 'none'"
    )
    watched.goto(f"{admin}knowledge/faq/add/")
    watched.fill("#id_question", "Do you sell gift cards?")
    watched.fill("#id_answer", "Yes, from $25.")
    watched.click("input[name=_save]")
    watched.locator(".messagelist .success").wait_for()

    assert violations(watched) == []
    assert watched.errors == []


def test_a_customer_site_with_the_documented_policy_runs_the_widget(watched, bot, strict_site):
    widget = Widget(watched)
    watched.goto(strict_site.url + "/")
    widget.open()
    widget.wait_connected()

    widget.ask("Do you ship to Canada?")

    assert "Canada" in widget.last_answer().locator(".bubble").inner_text()
    assert violations(watched) == []
