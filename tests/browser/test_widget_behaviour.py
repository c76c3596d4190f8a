"""
The widget against a scripted peer (tests/browser/fake_bot.py): safe Markdown,
hostile payloads in every field, bot settings, reconnection and refusal, each
produced on demand. The scenarios against the real server are in test_widget_live.py.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import screenshot
from tests.browser.fake_bot import FakeBot, FakeBotServer, ScriptedAnswer
from tests.browser.widget import Widget
from testsupport.waiting import wait_until

pytestmark = pytest.mark.browser

MARKDOWN = (
    "Our **Commuter 2** is *light* and uses `USB-C`.\n\n"
    "- 500 Wh battery\n- fenders included\n\n"
    "1. Book a ride\n2. Bring an ID\n\n"
    "> quoted line\n\n"
    "See [the range page](/kb/sources/1/#chunk-2) or https://example.com/range. Sources say so [1]."
)
HOSTILE = (
    '<img src=x onerror="window.__xss=1"> <script>window.__xss=2</script>\n\n'
    "[click me](javascript:window.__xss=3) [data](data:text/html,<script>window.__xss=4</script>) "
    "[spaced]( javascript:window.__xss=5) [tab](java\tscript:window.__xss=6) "
    '<a href="javascript:window.__xss=7">raw anchor</a> **<b onclick="window.__xss=8">bold</b>** [1] [2]'
)


@pytest.fixture
def fake():
    bot = FakeBot()
    server = FakeBotServer(bot)
    with server as running:
        running.server = server
        yield running


def open_widget(page, fake: FakeBot, path: str = "/") -> Widget:
    widget = Widget(page)
    page.goto(fake.url + path)
    widget.open()
    widget.wait_connected()
    return widget


def test_it_renders_the_markdown_subset_as_elements(page, fake):
    fake.answers["markdown?"] = ScriptedAnswer(
        text=MARKDOWN,
        sources=[{"n": 1, "title": "Product range", "url": "/kb/sources/1/#chunk-2", "snippet": "The Commuter 2"}],
    )
    widget = open_widget(page, fake)

    widget.ask("markdown?")

    bubble = widget.last_answer().locator(".bubble")
    assert bubble.locator("strong").first.inner_text() == "Commuter 2"
    assert bubble.locator("em").inner_text() == "light"
    assert bubble.locator("code").inner_text() == "USB-C"
    assert bubble.locator("ul > li").all_inner_texts() == ["500 Wh battery", "fenders included"]
    assert bubble.locator("ol > li").all_inner_texts() == ["Book a ride", "Bring an ID"]
    assert bubble.locator("blockquote").inner_text() == "quoted line"
    links = bubble.locator("a:not(.cite)")
    assert links.nth(0).get_attribute("href") == f"{fake.url}/kb/sources/1/#chunk-2"
    assert links.nth(1).get_attribute("href") == "https://example.com/range"
    cite = bubble.locator("a.cite")
    assert cite.inner_text() == "[1]"
    assert cite.get_attribute("href") == f"{fake.url}/kb/sources/1/#chunk-2"
    assert cite.get_attribute("rel") == "noopener noreferrer"
    source = widget.last_answer().locator(".sources a")
    assert source.inner_text() == "[1] Product range"
    assert source.get_attribute("target") == "_blank"
    screenshot(page, "markdown")


TABLE_AND_LIST = (
    "Here's what I found:\n\n"
    "| Destination | Bikes | Parts and accessories |\n|---|---|---|\n"
    "| Canada | 6-10 business days | 4-8 business days [1] |\n\n"
    "- Bikes ship free to any address in the contiguous US.\n"
    "- Alaska, Hawaii and Canada: a flat **$149** per bike. [2]"
)


def test_it_renders_a_pipe_table_with_its_header_and_a_list_after_it(page, fake):
    fake.answers["table?"] = ScriptedAnswer(
        text=TABLE_AND_LIST,
        sources=[
            {"n": 1, "title": "Delivery times", "url": "/kb/sources/1/#chunk-1", "snippet": ""},
            {"n": 2, "title": "Shipping costs", "url": "/kb/sources/1/#chunk-2", "snippet": ""},
        ],
    )
    widget = open_widget(page, fake)

    widget.ask("table?")

    bubble = widget.last_answer().locator(".bubble")
    assert bubble.locator("p").first.inner_text() == "Here's what I found:"
    table = bubble.locator(".table-wrap > table")
    assert table.locator("thead th").all_inner_texts() == ["Destination", "Bikes", "Parts and accessories"]
    assert table.locator("tbody tr").count() == 1
    assert table.locator("tbody td").all_inner_texts() == ["Canada", "6-10 business days", "4-8 business days [1]"]
    assert table.locator("tbody td a.cite").get_attribute("href") == f"{fake.url}/kb/sources/1/#chunk-1"
    assert bubble.locator("ul > li").all_inner_texts() == [
        "Bikes ship free to any address in the contiguous US.",
        "Alaska, Hawaii and Canada: a flat $149 per bike. [2]",
    ]
    assert bubble.locator("ul strong").inner_text() == "$149"
    assert "|" not in bubble.inner_text() and "---" not in bubble.inner_text()
    screenshot(page, "table")


def test_table_cells_are_text_and_pipes_without_a_rule_stay_literal(page, fake):
    fake.answers["cells?"] = ScriptedAnswer(
        text=(
            '| Name | Note |\n|---|---|\n| <img src=x onerror="window.__xss=1"> | [x](javascript:window.__xss=2) |\n\n'
            "| just | pipes |"
        )
    )
    widget = open_widget(page, fake)

    widget.ask("cells?")

    bubble = widget.last_answer().locator(".bubble")
    assert bubble.locator("td").all_inner_texts() == [
        '<img src=x onerror="window.__xss=1">',
        "[x](javascript:window.__xss=2)",
    ]
    assert bubble.locator("p").last.inner_text() == "| just | pipes |"
    assert widget.shadow_count(".bubble img, .bubble a") == 0
    assert page.evaluate("() => window.__xss") is None


def test_hostile_text_in_answers_sources_and_settings_stays_inert(page, fake):
    fake.bot = dict(
        fake.bot,
        title='<img src=x onerror="window.__xss=9">',
        greeting="<b>hi</b> [x](javascript:alert(1))",
        colors={"primary": "red;background:url(javascript:alert(1))", "background": "#fff", "text": "#000"},
    )
    fake.answers["xss?"] = ScriptedAnswer(
        text=HOSTILE,
        sources=[
            {
                "n": 1,
                "title": '<img src=x onerror="window.__xss=10">',
                "url": "javascript:window.__xss=11",
                "snippet": "<b>s</b>",
            },
            {"n": 2, "title": "Data", "url": "data:text/html,hi", "snippet": ""},
            {"n": 3, "title": "Safe", "url": "/kb/sources/3/", "snippet": ""},
        ],
    )
    widget = open_widget(page, fake)

    widget.ask("xss?")
    widget.last_answer().locator(".bubble").click()
    page.wait_for_timeout(300)

    text = widget.last_answer().locator(".bubble").inner_text()
    assert '<img src=x onerror="window.__xss=1">' in text
    assert "<script>window.__xss=2</script>" in text
    assert "[click me](javascript:window.__xss=3)" in text
    assert widget.shadow_count("img, script, b, iframe, object") == 0
    hrefs = page.evaluate(
        "() => [...document.querySelector('chat-assistant-widget').shadowRoot.querySelectorAll('[href]')]"
        ".map(a => a.getAttribute('href'))"
    )
    assert hrefs == [f"{fake.url}/kb/sources/3/"]
    assert widget.locator(".title").inner_text() == '<img src=x onerror="window.__xss=9">'
    assert widget.locator(".sources li").first.inner_text() == '[1] <img src=x onerror="window.__xss=10">'
    primary = page.evaluate(
        "() => getComputedStyle(document.querySelector('chat-assistant-widget').shadowRoot"
        ".querySelector('.launcher')).backgroundColor"
    )
    assert primary == "rgb(15, 118, 110)"  # the bad colour is ignored: the default stays
    assert page.evaluate("() => window.__xss") is None
    assert page.dialogs == []
    assert page.errors == []


def test_tokens_show_up_as_they_stream(page, fake):
    fake.answers["slow?"] = ScriptedAnswer(
        text="one two three four five six seven eight nine ten " * 3, chunk=4, delay=0.03, first_token_delay=0.3
    )
    widget = open_widget(page, fake)
    widget.record_answer_lengths()

    widget.ask("slow?")

    lengths = [n for n in widget.answer_lengths() if n > 0]
    assert len(set(lengths)) > 10
    assert lengths == sorted(lengths)
    assert widget.saw_typing_indicator()
    assert widget.shadow_count(".typing") == 0


def test_it_stops_following_the_stream_when_the_visitor_scrolls_up_to_read(page, fake):
    fake.answers["long?"] = ScriptedAnswer(text="A line of the answer.\n\n" * 60, chunk=25, delay=0.03)
    widget = open_widget(page, fake)
    for n in range(3):
        widget.ask(f"filler {n}?")
    messages = widget.locator(".messages")

    widget.input.fill("long?")
    widget.input.press("Enter")
    widget.answers.nth(3).locator("p").first.wait_for()
    messages.evaluate("list => { list.scrollTop = 0; list.dispatchEvent(new Event('scroll')); }")
    widget.finished_answers.nth(3).wait_for(state="attached")

    assert messages.evaluate("list => list.scrollTop") == 0
    widget.ask("and now?")
    assert messages.evaluate("list => list.scrollHeight - list.scrollTop - list.clientHeight") < 48


def test_bot_settings_set_title_colours_greeting_and_consent(page, fake):
    fake.bot = dict(
        fake.bot,
        title="Ask Tidewater",
        greeting="Welcome aboard!",
        colors={"primary": "#facc15", "background": "#0b1020", "text": "#f8fafc"},
        consent_text="Tidewater may call me back.",
    )
    widget = open_widget(page, fake)

    assert widget.locator(".title").inner_text() == "Ask Tidewater"
    assert widget.launcher.get_attribute("aria-label") == "Close chat: Ask Tidewater"
    assert widget.locator(".greeting .bubble").inner_text() == "Welcome aboard!"
    styles = page.evaluate(
        """() => { const r = document.querySelector('chat-assistant-widget').shadowRoot;
          const s = (sel, p) => getComputedStyle(r.querySelector(sel))[p];
          return [s('.header', 'backgroundColor'), s('.header', 'color'), s('.panel', 'backgroundColor')]; }"""
    )
    assert styles == ["rgb(250, 204, 21)", "rgb(17, 24, 39)", "rgb(11, 16, 32)"]
    widget.locator(".contact-open").click()
    assert widget.contact_form.locator(".consent").inner_text() == "Tidewater may call me back."


def test_the_contact_form_checks_input_and_sends_the_consent_text(page, fake):
    fake.answers["can you fix my boat?"] = ScriptedAnswer(text="I could not find that.", answered=False)
    widget = open_widget(page, fake)

    widget.ask("can you fix my boat?")
    form = widget.contact_form
    form.wait_for(state="visible")
    form.locator("button[type=submit]").click()
    assert form.locator(".form-error").inner_text() == "Please give an email address or a phone number."
    form.locator("input[name=email]").fill("not-an-email")
    form.locator("button[type=submit]").click()
    assert form.locator(".form-error").inner_text() == "Please check the email address."
    form.locator("input[name=email]").fill("ana@example.com")
    form.locator("button[type=submit]").click()
    assert form.locator(".form-error").inner_text() == "Please tick the box to agree to be contacted."
    assert [f for f in widget.frames_out if f.get("type") == "lead"] == []

    form.locator("input[name=name]").fill("Ana")
    form.locator("input[name=consent]").check()
    form.locator("button[type=submit]").click()
    widget.locator(".thanks").wait_for()

    lead = [f for f in fake.received if f["type"] == "lead"]
    assert lead == [
        {
            "type": "lead",
            "name": "Ana",
            "email": "ana@example.com",
            "phone": "",
            "consent": True,
            "consent_text": "I agree to be contacted (fake).",
        }
    ]


def test_the_contact_form_is_offered_when_the_visitor_asks_for_a_person(page, fake):
    fake.answers["can a person call me?"] = ScriptedAnswer(text="Sure, leave your details.", offer_contact=True)
    widget = open_widget(page, fake)

    widget.ask("can a person call me?")

    widget.contact_form.wait_for(state="visible")
    assert widget.last_answer().get_attribute("data-answered") == "true"
    assert widget.contact_form.locator("input[name=phone]").get_attribute("type") == "tel"


def test_details_typed_in_the_chat_are_confirmed_after_the_answer_and_close_an_open_form(page, fake):
    fake.answers["can you fix my boat?"] = ScriptedAnswer(text="I could not find that.", answered=False)
    fake.answers["A quote for 10 bikes please, ana@example.com"] = ScriptedAnswer(
        text="Thanks, we have your request for a quote.", lead="captured"
    )
    widget = open_widget(page, fake)
    widget.ask("can you fix my boat?")
    widget.contact_form.wait_for(state="visible")

    widget.ask("A quote for 10 bikes please, ana@example.com")
    widget.locator(".thanks").wait_for()

    assert widget.message_kinds() == ["greeting", "visitor", "answer", "visitor", "answer", "thanks"]
    assert widget.shadow_count("form.contact") == 0


def test_a_server_error_on_the_contact_form_is_shown_in_the_form(page, fake):
    widget = open_widget(page, fake)
    widget.locator(".contact-open").click()
    form = widget.contact_form
    assert (
        page.evaluate("() => document.querySelector('chat-assistant-widget').shadowRoot.activeElement.name") == "name"
    )
    form.locator("input[name=email]").fill("ana@refused.example")
    form.locator("input[name=consent]").check()

    form.locator("button[type=submit]").click()

    form.locator(".form-error").filter(has_text="not accepted").wait_for()
    assert form.locator(".form-error").inner_text() == "That address is not accepted here."
    assert form.locator("button[type=submit]").is_enabled()
    assert widget.shadow_count(".thanks") == 0


def test_feedback_is_sent_and_shown_as_pressed(page, fake):
    widget = open_widget(page, fake)
    widget.ask("hello?")

    widget.last_answer().locator("button[aria-label='Not helpful']").click()

    wait_until(lambda: any(f.get("type") == "feedback" for f in fake.received), describe=lambda: fake.received)
    feedback = [f for f in fake.received if f["type"] == "feedback"]
    assert feedback == [{"type": "feedback", "message_id": widget.frames("done")[0]["message_id"], "rating": -1}]
    assert widget.last_answer().locator("button[aria-label='Not helpful']").get_attribute("aria-pressed") == "true"
    assert widget.last_answer().locator("button[aria-label='Helpful']").get_attribute("aria-pressed") == "false"


def test_it_reconnects_after_a_drop_and_sends_what_was_typed_meanwhile(page, fake):
    widget = open_widget(page, fake)
    widget.ask("first?")
    conversation = widget.conversation_id()

    fake.server.call(fake.drop_all())
    widget.status.wait_for(state="visible")
    assert "Reconnecting" in widget.status.inner_text()
    widget.input.fill("typed during the drop")
    widget.input.press("Enter")
    widget.finished_answers.nth(0).wait_for(state="attached")
    page.wait_for_function(
        "() => document.querySelector('chat-assistant-widget').shadowRoot.querySelectorAll("
        "'.msg.assistant:not(.greeting)').length >= 2 && !document.querySelector('chat-assistant-widget')"
        ".shadowRoot.querySelector('.msg.pending')",
        timeout=20_000,
    )
    widget.finished_answers.last.wait_for(state="attached")

    assert widget.status.is_hidden()
    assert len(fake.connections) >= 2
    assert fake.connections[-1]["conversation"] == conversation
    assert [f["text"] for f in fake.received if f["type"] == "message"] == ["first?", "typed during the drop"]
    texts = widget.locator(".msg.visitor .bubble").all_inner_texts()
    assert texts == ["first?", "typed during the drop"]


def test_reconnection_backs_off_exponentially(page, fake):
    page.add_init_script(
        """(() => { const Real = window.WebSocket; window.__wsOpened = [];
          window.WebSocket = function (url, protocols) { window.__wsOpened.push(performance.now());
            return new Real(url, protocols); };
          window.WebSocket.prototype = Real.prototype; window.WebSocket.OPEN = 1; })();"""
    )
    widget = open_widget(page, fake)
    fake.reject_connections = True

    fake.server.call(fake.drop_all())
    page.wait_for_function("() => window.__wsOpened.length >= 5", timeout=15_000)

    opened = page.evaluate("() => window.__wsOpened")
    gaps = [later - earlier for earlier, later in zip(opened[1:], opened[2:], strict=False)]
    for attempt, gap in enumerate(gaps[:3], start=1):
        ceiling = 500 * 2**attempt
        assert ceiling / 2 - 50 <= gap <= ceiling + 1000, (attempt, gaps)
    assert gaps[2] > gaps[0], gaps
    assert "Reconnecting" in widget.status.inner_text()

    fake.reject_connections = False
    widget.locator(".status button").click()
    widget.status.wait_for(state="hidden")


def test_data_server_overrides_the_address_taken_from_the_script_url(page, fake):
    fake.pages["/cdn"] = (
        "<!doctype html><title>CDN copy</title>"
        f"<script src='http://localhost:{fake.port}/static/chatbot/widget.js' "
        f"data-server='{fake.url}/' async></script>"
    )
    sockets = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    widget = open_widget(page, fake, "/cdn")

    widget.ask("where am I connected?")

    assert [url.partition("?")[0] for url in sockets] == [f"ws://127.0.0.1:{fake.port}/ws/chat/"]
    assert widget.last_answer().locator(".bubble").inner_text() == "You asked: where am I connected?"


def test_a_refused_origin_shows_why_and_stops_retrying(page, fake):
    fake.refuse_origins.add(fake.url)
    widget = Widget(page)
    page.goto(fake.url)
    widget.open()

    widget.status.wait_for(state="visible")
    page.wait_for_timeout(2_500)

    assert widget.status.inner_text() == "The assistant is not available on this website."
    assert len(fake.connections) == 1
    assert widget.input.is_disabled()
