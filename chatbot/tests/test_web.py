"""The demo site at / and the widget script it embeds."""

import re

from django.test import Client


def test_the_demo_page_embeds_the_widget_as_a_customer_would(client: Client):
    response = client.get("/")

    assert response.status_code == 200
    html = response.content.decode()
    assert '<script src="http://testserver/static/chatbot/widget.js" async></script>' in html
    assert "Tidewater Bikes" in html
    assert "Commuter 2" in html


def test_the_demo_page_shows_the_snippet_escaped():
    html = Client().get("/", HTTP_HOST="localhost").content.decode()

    assert "&lt;script src=&quot;http://localhost/static/chatbot/widget.js&quot; async&gt;&lt;/script&gt;" in html


def test_the_widget_script_is_served_as_javascript(client: Client):
    response = client.get("/static/chatbot/widget.js")

    assert response.status_code == 200
    assert "javascript" in response["Content-Type"]
    body = b"".join(response.streaming_content).decode() if response.streaming else response.content.decode()
    assert "attachShadow" in body


def test_the_widget_never_builds_html_from_strings(client: Client):
    """Untrusted text reaches the page only through textContent and createElement."""
    response = client.get("/static/chatbot/widget.js")
    body = b"".join(response.streaming_content).decode() if response.streaming else response.content.decode()

    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in body, sink
    assert not re.search(r"setAttribute\(\s*[\"']on", body)


def test_the_favicon_browsers_ask_for_is_served(client: Client):
    response = client.get("/favicon.ico")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    assert b"".join(response.streaming_content)[:4] == b"\x00\x00\x01\x00", "an ICO file"
