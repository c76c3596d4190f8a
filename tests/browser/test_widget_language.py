"""
The widget in the visitor's language, in headless Chromium.

Against the scripted peer (fake_bot.py): the UI language comes from the host
page's <html lang>, else the browser's languages, else English, and
data-lang on the script tag wins; the server is told it. Against the real
server (daphne on the test database, a few FAQs): a French page gets the
bot's default greeting in French, and a French question the knowledge base
does not cover gets the fallback in French.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from chatbot.models import DEFAULT_FALLBACK, BotSettings
from chatbot.tests.support import TIDEWATER_FAQS, knowledge_base_load
from core.language import gettext_in
from tests.browser.conftest import DESKTOP, module_rows, screenshot
from tests.browser.fake_bot import FakeBot, FakeBotServer, ScriptedAnswer
from tests.browser.sites import HostSite, host_site_running
from tests.browser.widget import Widget
from testsupport.processes import server_process

pytestmark = pytest.mark.browser


def host_page(bot_url: str, *, lang: str | None = None, script_attrs: str = "") -> str:
    html_lang = f" lang='{lang}'" if lang else ""
    return (
        f"<!doctype html><html{html_lang}><head><meta charset='utf-8'><title>Host page</title></head><body>"
        f"<h1>Host page</h1><script src='{bot_url}/static/chatbot/widget.js' {script_attrs} async></script>"
        "</body></html>"
    )


@pytest.fixture
def fake():
    with FakeBotServer(FakeBot()) as running:
        yield running


def open_page(page, fake: FakeBot, html: str) -> Widget:
    fake.pages["/host.html"] = html
    widget = Widget(page)
    page.goto(fake.url + "/host.html")
    widget.open()
    return widget


def ui_texts(widget: Widget) -> dict[str, str | None]:
    return {
        "placeholder": widget.input.get_attribute("placeholder"),
        "send": widget.locator("button.send").get_attribute("aria-label"),
        "close": widget.locator("button.close").get_attribute("aria-label"),
        "footer": widget.locator(".footer-note").inner_text(),
        "lang": widget.locator(".root").get_attribute("lang"),
    }


def test_a_french_page_gets_the_widget_in_french_and_tells_the_server(page, fake):
    bot_requests: list[str] = []
    page.on("request", lambda request: bot_requests.append(request.url) if "/api/bot/" in request.url else None)
    widget = open_page(page, fake, host_page(fake.url, lang="fr-FR"))
    widget.wait_connected()

    assert ui_texts(widget) == {
        "placeholder": "Posez une question…",
        "send": "Envoyer le message",
        "close": "Fermer la discussion",
        "footer": "Les réponses proviennent de notre base de connaissances et peuvent être incomplètes.",
        "lang": "fr",
    }
    assert fake.connections[-1]["lang"] == "fr"
    assert bot_requests and all(url.endswith("/api/bot/?lang=fr") for url in bot_requests)
    screenshot(page, "language-french")
    assert page.errors == []


@contextmanager
def browser_page(browser, locale: str):
    """A page in a browser whose languages are `locale`'s."""
    context = browser.new_context(viewport=DESKTOP, locale=locale)
    try:
        yield context.new_page()
    finally:
        context.close()


def test_without_a_page_language_the_browsers_is_used(browser, fake):
    with browser_page(browser, "es-ES") as page:
        widget = open_page(page, fake, host_page(fake.url))
        widget.wait_connected()

        assert ui_texts(widget)["placeholder"] == "Haga una pregunta…"
        assert fake.connections[-1]["lang"] == "es"


def test_a_page_language_without_strings_falls_back_to_the_browser_then_english(browser, fake):
    with browser_page(browser, "nl-NL") as page:
        assert ui_texts(open_page(page, fake, host_page(fake.url, lang="it")))["placeholder"] == "Stel een vraag…"
    with browser_page(browser, "it-IT") as page:
        assert ui_texts(open_page(page, fake, host_page(fake.url, lang="it")))["placeholder"] == "Ask a question…"


def test_data_lang_on_the_script_tag_wins_over_the_page(page, fake):
    widget = open_page(page, fake, host_page(fake.url, lang="fr", script_attrs="data-lang='de'"))

    assert ui_texts(widget)["placeholder"] == "Stellen Sie eine Frage…"


def test_the_contact_form_and_its_checks_speak_german(page, fake):
    fake.answers["Wie ist das Wetter?"] = ScriptedAnswer(text="Leider nicht.", answered=False)
    widget = open_page(page, fake, host_page(fake.url, lang="de"))
    widget.wait_connected()

    widget.ask("Wie ist das Wetter?")
    form = widget.contact_form
    form.wait_for(state="visible")
    form.locator("button[type=submit]").click()

    assert form.locator("label.field span").all_inner_texts() == ["Name", "E-Mail", "Telefon"]
    assert form.locator("button[type=submit]").inner_text() == "Meine Daten senden"
    assert form.locator(".form-error").inner_text() == "Bitte geben Sie eine E-Mail-Adresse oder eine Telefonnummer an."
    assert widget.last_answer().locator(".feedback").get_attribute("aria-label") == "War diese Antwort hilfreich?"


def test_a_refused_site_is_told_so_in_its_language(page, fake):
    fake.refuse_origins.add(fake.url)
    widget = open_page(page, fake, host_page(fake.url, lang="fr"))

    widget.status.wait_for(state="visible")

    assert widget.status.inner_text().strip() == "L'assistant n'est pas disponible sur ce site."


# --- Against the real server ------------------------------------------------------------


@pytest.fixture(scope="module")
def french_site() -> Iterator[HostSite]:
    """Another company's French-language site on its own origin, with the script tag pasted in."""
    with host_site_running(HostSite(lambda bot_url: host_page(bot_url, lang="fr"))) as site:
        yield site


@pytest.fixture(scope="module")
def transactional_db(django_db_setup) -> None:
    """
    Replaces pytest-django's fixture for this module (as test_widget_live.py
    does): the tests share one knowledge base with a server process, which
    `live_bot` loads and flushes once.
    """


def _load(allowed_origin: str) -> None:
    knowledge_base_load(faqs=TIDEWATER_FAQS)
    bot, _ = BotSettings.objects.get_or_create(pk=BotSettings.SINGLETON_PK)
    bot.allowed_origins = allowed_origin
    bot.save()


@pytest.fixture(scope="module")
def live_bot(transactional_db, django_db_blocker, french_site):
    with module_rows(django_db_blocker, _load, french_site.url), server_process("daphne") as server:
        french_site.bot_url = server.url
        yield server


@pytest.mark.slow
def test_a_french_page_on_the_real_server_greets_and_falls_back_in_french(page, live_bot, french_site):
    widget = Widget(page)
    page.goto(french_site.url + "/")
    widget.open()
    widget.wait_connected()

    greeting = widget.locator(".msg.greeting .bubble")
    assert greeting.inner_text().startswith("Bonjour\u00a0! Posez-moi vos questions")
    assert widget.locator(".title").inner_text() == "Discutez avec nous"

    widget.ask("Quelle est la capitale de l'Australie ?")

    assert widget.last_answer().locator(".bubble").inner_text() == gettext_in("fr", DEFAULT_FALLBACK)
    assert widget.frames("done")[-1]["answered"] is False
    widget.contact_form.wait_for(state="visible")
    assert widget.contact_form.locator(".consent").inner_text().startswith("J'accepte que mes coordonnées")
    screenshot(page, "language-french-live")
    assert page.errors == []
