"""
The widget in headless Chromium against the real server: a daphne process on
the test database, the sample knowledge base ingested through `manage.py
ingest`, the extractive provider answering. Issue 6's scenarios, one test each.

The knowledge base is ingested once for the module (module-scoped, through
django_db_blocker) and the database is flushed afterwards, as a transactional
test would, so that no other test sees these rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import call_command

from chatbot.models import BotSettings
from conversations.models import Conversation
from knowledge.models import FAQ
from leads.models import Lead
from tests.browser.conftest import module_rows, orm, screenshot
from tests.browser.sites import HostSite, host_site_running
from tests.browser.widget import Widget
from testsupport.processes import free_port, server_process

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SAMPLE_KB = Path(__file__).resolve().parents[2] / "sample_kb"
XSS_QUESTION = "Which promo code works for the spring sale?"
XSS_ANSWER = (
    'The spring sale promo code is SPRINGRIDE. <img src=x onerror="window.__xss=1"> '
    "[Terms](javascript:window.__xss=2) <script>window.__xss=3</script>"
)
HOSTILE_CSS = """
* { color: rgb(255, 0, 0) !important; font-family: serif !important; font-size: 30px !important; }
button { display: none !important; }
div { border: 9px solid lime !important; position: static !important; }
chat-assistant-widget { display: none !important; opacity: 0 !important; }
"""


def brightside_page(bot_url: str) -> str:
    """Another company's site, hostile CSS included, with the script tag pasted in."""
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Brightside Cycles</title>"
        f"<style>{HOSTILE_CSS}</style></head><body>"
        "<h1>Brightside Cycles</h1><div class='panel' id='host-panel'>Our own panel</div>"
        "<div class='messages' id='host-messages'>Our own messages</div>"
        f'<script src="{bot_url}/static/chatbot/widget.js" async></script>'
        "</body></html>"
    )


@pytest.fixture(scope="module")
def customer_site() -> Iterator[HostSite]:
    """Allowed at http://127.0.0.1:<port>, refused as http://localhost:<port> (another origin)."""
    site = HostSite(brightside_page)
    site.allowed, site.refused = site.url, f"http://localhost:{site.port}"
    with host_site_running(site):
        yield site


def _load_knowledge(allowed_origin: str) -> None:
    call_command("ingest", str(SAMPLE_KB), verbosity=0)
    FAQ.objects.create(question=XSS_QUESTION, answer=XSS_ANSWER)
    bot, _ = BotSettings.objects.get_or_create(pk=BotSettings.SINGLETON_PK)
    bot.allowed_origins = allowed_origin
    bot.save()


@pytest.fixture(scope="module")
def transactional_db(django_db_setup) -> None:
    """
    Replaces pytest-django's fixture of this name for this module only. The
    name is what makes pytest-django create the test database for these tests;
    the body deliberately neither wraps nor flushes each test, because the
    tests share one ingested knowledge base with a server process
    (`knowledge` loads it and flushes the database after the module).
    """


@pytest.fixture(scope="module")
def knowledge(transactional_db, django_db_blocker, customer_site) -> Iterator[None]:
    with module_rows(django_db_blocker, _load_knowledge, customer_site.allowed):
        yield


@pytest.fixture(scope="module")
def bot(knowledge, customer_site):
    with server_process("daphne") as server:
        customer_site.bot_url = server.url
        yield server


@pytest.fixture
def db_reader(django_db_blocker):
    """Reads rows the server process wrote (in a thread: see conftest.orm)."""

    def read(function, *args, **kwargs):
        with django_db_blocker.unblock():
            return orm(function, *args, **kwargs)

    return read


def open_demo(page, bot) -> Widget:
    widget = Widget(page)
    page.goto(bot.url + "/")
    widget.open()
    widget.wait_connected()
    return widget


def test_a_visitor_gets_a_streamed_answer_with_a_working_source_link(page, bot):
    widget = open_demo(page, bot)
    widget.record_answer_lengths()

    widget.ask("Do you ship to Canada?")

    answer = widget.last_answer()
    assert "Canada" in answer.locator(".bubble").inner_text()
    assert widget.frames("done")[-1]["answered"] is True
    tokens = widget.frames("token")
    assert len(tokens) > 1, "the answer should arrive in several token frames"
    lengths = [n for n in widget.answer_lengths() if n > 0]
    assert len(set(lengths)) > 1 and lengths == sorted(lengths), "the text should grow as tokens arrive"
    links = answer.locator(".sources a")
    assert links.count() >= 1
    first = links.first
    href = first.get_attribute("href")
    assert href.startswith(bot.url + "/kb/")
    screenshot(page, "answer-desktop")
    with page.expect_popup() as popup_info:
        first.click()
    source_page = popup_info.value
    source_page.wait_for_load_state()
    assert source_page.url == href
    assert "We deliver to all 50 US states and to Canada" in source_page.locator("body").inner_text()
    assert page.errors == []


def test_contact_details_left_in_the_form_become_a_lead(page, bot, db_reader):
    widget = open_demo(page, bot)

    widget.ask("Can you recommend a good pizza recipe?")

    assert widget.frames("done")[-1]["answered"] is False
    form = widget.contact_form
    form.wait_for(state="visible")
    consent_text = form.locator(".consent").inner_text()
    form.locator("input[name=name]").fill("Ana Rivera")
    form.locator("input[name=email]").fill("ana.rivera@example.com")
    form.locator("button[type=submit]").click()
    assert form.locator(".form-error").inner_text() == "Please tick the box to agree to be contacted."
    form.locator("input[name=consent]").check()
    form.locator("button[type=submit]").click()
    widget.locator(".thanks").wait_for()
    screenshot(page, "lead-captured")

    conversation_id = widget.conversation_id()
    lead = db_reader(
        lambda: (
            Lead.objects.filter(email="ana.rivera@example.com")
            .values("name", "consent", "consent_text", "conversations__id")
            .first()
        )
    )
    assert lead == {
        "name": "Ana Rivera",
        "consent": True,
        "consent_text": consent_text,
        "conversations__id": conversation_id,
    }


def test_a_quote_request_typed_in_the_chat_is_confirmed_after_its_answer(page, bot, db_reader):
    widget = open_demo(page, bot)
    widget.ask("Can you recommend a good pizza recipe?")
    widget.contact_form.wait_for(state="visible")

    widget.ask("I'd like a quote for 10 bikes for my delivery company, my email is ops@quickdrop.example")
    widget.locator(".thanks").wait_for()

    assert widget.message_kinds() == ["greeting", "visitor", "answer", "visitor", "answer", "thanks"]
    assert "fleet" in widget.last_answer().locator(".bubble").inner_text().lower()
    assert [frame["type"] for frame in widget.frames_in[-2:]] == ["done", "lead"]
    interest = db_reader(lambda: Lead.objects.get(email="ops@quickdrop.example").interest)
    assert interest == "I'd like a quote for 10 bikes for my delivery company"
    screenshot(page, "quote-request")


def test_asking_for_a_person_shows_the_phone_and_hours_and_the_contact_form(page, bot):
    widget = open_demo(page, bot)

    widget.ask("Can I talk to a real person?")

    bubble = widget.last_answer().locator(".bubble")
    items = bubble.locator("ul > li").all_inner_texts()
    assert any("+1 503-555-0142" in item and "8 am to 5 pm" in item for item in items)
    widget.contact_form.wait_for(state="visible")


def test_a_reload_restores_the_conversation(page, bot):
    widget = open_demo(page, bot)
    widget.ask("Can I return my bike?")
    conversation_id = widget.conversation_id()
    answer_text = widget.last_answer().locator(".bubble").inner_text()
    source_titles = widget.last_answer().locator(".sources a").all_inner_texts()

    page.reload()
    widget.panel.wait_for(state="visible")
    widget.locator(".msg.visitor").first.wait_for()

    assert widget.conversation_id() == conversation_id
    assert widget.locator(".msg.visitor .bubble").all_inner_texts() == ["Can I return my bike?"]
    assert widget.answers.count() == 1
    assert widget.last_answer().locator(".bubble").inner_text() == answer_text
    assert widget.last_answer().locator(".sources a").all_inner_texts() == source_titles
    assert widget.last_answer().locator(".feedback button").count() == 2


def test_the_widget_reconnects_when_the_server_restarts(page, knowledge, db_reader):
    port = free_port()
    with server_process("daphne", port=port) as first:
        widget = open_demo(page, first)
        widget.ask("Do you ship to Canada?")
        conversation_id = widget.conversation_id()
        first.stop()
        widget.status.wait_for(state="visible")
        assert "Reconnecting" in widget.status.inner_text()
        screenshot(page, "reconnecting")

    with server_process("daphne", port=port):
        widget.status.wait_for(state="hidden", timeout=30_000)
        widget.ask("How much does shipping to Alaska cost?")

    assert widget.conversation_id() == conversation_id
    assert "$149" in widget.last_answer().locator(".bubble").inner_text()
    roles = db_reader(
        lambda: list(Conversation.objects.get(pk=conversation_id).messages.values_list("role", flat=True))
    )
    assert roles == ["visitor", "assistant", "visitor", "assistant"]


def test_an_xss_payload_in_an_answer_stays_inert(page, bot):
    widget = open_demo(page, bot)

    widget.ask(XSS_QUESTION)
    bubble = widget.last_answer().locator(".bubble")
    bubble.click()
    page.wait_for_timeout(300)

    text = bubble.inner_text()
    assert "SPRINGRIDE" in text
    assert '<img src=x onerror="window.__xss=1">' in text
    assert widget.shadow_count(".bubble img, .bubble script") == 0
    assert widget.shadow_count("a[href^='javascript:' i]") == 0
    assert page.evaluate("() => window.__xss") is None
    assert page.dialogs == []
    screenshot(page, "xss-inert")


def test_it_is_usable_on_a_360_pixel_wide_phone(browser, bot):
    context = browser.new_context(
        viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True, device_scale_factor=2
    )
    try:
        page = context.new_page()
        widget = open_demo(page, bot)
        widget.ask("Can I ride my e-bike in the rain?")

        box = widget.panel.bounding_box()
        assert box["x"] == 0 and box["width"] == 360
        assert box["height"] == 740
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 360
        for part in (widget.input, widget.locator(".send"), widget.locator(".close"), widget.last_answer()):
            part_box = part.bounding_box()
            assert part_box["x"] >= 0 and part_box["x"] + part_box["width"] <= 360, part
        assert widget.locator(".send").bounding_box()["width"] >= 40  # a thumb-sized target
        assert "IPX5" in widget.last_answer().inner_text()
        screenshot(page, "phone-360")
        widget.locator(".close").tap()
        widget.panel.wait_for(state="hidden")
        assert widget.launcher.is_visible()
    finally:
        context.close()


def test_keyboard_and_screen_reader_use(page, bot):
    widget = Widget(page)
    page.goto(bot.url + "/")
    active = "() => document.querySelector('chat-assistant-widget').shadowRoot.activeElement?.className || ''"

    widget.launcher.focus()
    page.keyboard.press("Enter")
    widget.panel.wait_for(state="visible")
    widget.wait_connected()
    assert (
        page.evaluate("() => document.querySelector('chat-assistant-widget').shadowRoot.activeElement.tagName")
        == "TEXTAREA"
    )
    assert widget.launcher.get_attribute("aria-expanded") == "true"
    page.keyboard.type("What is the top assisted speed?")
    page.keyboard.press("Enter")
    widget.finished_answers.first.wait_for(state="attached")
    live = widget.locator(".live")
    page.wait_for_function(
        "() => document.querySelector('chat-assistant-widget')"
        ".shadowRoot.querySelector('.live').textContent.length > 20"
    )

    assert "20 mph" in live.text_content()
    assert widget.panel.get_attribute("role") == "dialog"
    assert widget.locator(".messages").get_attribute("role") == "log"
    assert widget.input.get_attribute("aria-label") == "Your message"
    assert widget.locator(".send").get_attribute("aria-label") == "Send message"
    assert widget.last_answer().locator("button[aria-label='Helpful']").count() == 1

    page.keyboard.press("Escape")
    widget.panel.wait_for(state="hidden")
    assert "launcher" in page.evaluate(active)
    assert widget.launcher.get_attribute("aria-expanded") == "false"


def test_another_company_site_embeds_it_from_an_allowed_origin(page, bot, customer_site):
    widget = Widget(page)
    page.goto(customer_site.allowed + "/")
    widget.launcher.wait_for(state="visible")
    launcher_style = page.evaluate(
        """() => { const b = document.querySelector('chat-assistant-widget').shadowRoot.querySelector('.launcher');
          const s = getComputedStyle(b); return [s.display, s.width, s.color]; }"""
    )
    widget.open()
    widget.wait_connected()

    widget.ask("Do you offer gift cards?")

    assert launcher_style[:2] == ["flex", "60px"]
    font_size = page.evaluate(
        "() => getComputedStyle(document.querySelector('chat-assistant-widget').shadowRoot"
        ".querySelector('.bubble')).fontSize"
    )
    assert font_size == "14px", "the host page's CSS must not reach inside the widget"
    assert page.evaluate("() => getComputedStyle(document.getElementById('host-panel')).position") == "static"
    assert page.evaluate("() => getComputedStyle(document.getElementById('host-messages')).display") == "block"
    assert widget.last_answer().locator(".sources a").count() >= 1
    status = page.evaluate(f"() => fetch('{bot.url}/api/bot/').then(r => r.status, () => 'blocked')")
    assert status == 200
    screenshot(page, "customer-site")


def test_a_site_that_is_not_allowed_is_refused_with_a_clear_message(page, bot, customer_site):
    widget = Widget(page)
    page.goto(customer_site.refused + "/")
    widget.open()

    widget.status.wait_for(state="visible")
    page.wait_for_timeout(1_500)

    assert widget.status.inner_text() == "The assistant is not available on this website."
    errors = widget.frames("error")
    assert [frame["code"] for frame in errors] == ["origin_not_allowed"]
    assert customer_site.refused in errors[0]["message"]
    assert widget.input.is_disabled()
    assert widget.frames("conversation") == []
    status = page.evaluate(f"() => fetch('{bot.url}/api/bot/').then(r => r.status, () => 'blocked')")
    assert status == "blocked"
