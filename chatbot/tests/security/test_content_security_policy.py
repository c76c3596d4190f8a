"""
The Content-Security-Policy on the demo, the admin, the /kb/ source pages and
static files: scripts from this origin only and never inline, and pages that
carry no inline script or `<style>` to be blocked. (That the widget and the
admin still work under it is tests/browser/test_csp_live.py.)
"""

from __future__ import annotations

import re

import pytest
from django.conf import settings as django_settings

from knowledge.tests.factories import FAQFactory, TextDocumentFactory

pytestmark = pytest.mark.django_db


def directives(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in header.split(";"))


def inline_scripts_and_styles(html: str) -> list[str]:
    scripts = [tag for tag in re.findall(r"<script\b[^>]*>", html) if "src=" not in tag]
    return scripts + re.findall(r"<style\b[^>]*>", html)


@pytest.fixture
def pages(client, admin_user) -> dict:
    document = TextDocumentFactory(title="Returns", text="# Returns\n\nThirty days.")
    faq = FAQFactory(question="Do you price match?", answer="Yes, within 14 days.")
    admin = f"/{django_settings.ADMIN_URL}"
    anonymous = {
        name: client.get(path)
        for name, path in {
            "demo": "/",
            "source": f"/kb/sources/{document.pk}/",
            "faq": f"/kb/faqs/{faq.pk}/",
            "admin login": f"{admin}login/",
            "widget.js": "/static/chatbot/widget.js",
        }.items()
    }
    client.force_login(admin_user)
    staff = {
        name: client.get(path)
        for name, path in {
            "admin index": admin,
            "document list": f"{admin}knowledge/document/",
            "document change": f"{admin}knowledge/document/{document.pk}/change/",
            "kb search": f"{admin}knowledge/document/search/?query=returns",
        }.items()
    }
    return anonymous | staff


def test_every_page_and_static_file_carries_the_policy(pages):
    for name, response in pages.items():
        assert response.status_code == 200, name
        policy = directives(response)
        assert policy["script-src"] == "'self'", name
        assert policy["style-src"] == "'self'", name
        assert policy["default-src"] == "'self'" and policy["object-src"] == "'none'", name
        assert policy["frame-ancestors"] == "'none'" and policy["base-uri"] == "'self'", name
        assert "unsafe-eval" not in response["Content-Security-Policy"], name


def test_the_pages_carry_no_inline_script_or_style_element(pages):
    for name, response in pages.items():
        if response["Content-Type"].startswith("text/html"):
            assert inline_scripts_and_styles(response.content.decode()) == [], name


def test_the_api_docs_page_runs_its_script_from_a_file(client, settings):
    settings.API_DOCS_ENABLED = True

    page = client.get("/api/docs/")
    script = client.get("/api/docs/?script=")

    assert page.status_code == 200
    assert [tag for tag in re.findall(r"<script\b[^>]*>", page.content.decode()) if "src=" not in tag] == []
    assert directives(page)["script-src"] == "'self'"
    assert directives(page)["style-src"] == "'self' 'unsafe-inline'", "the Swagger template's own <style>"
    assert script.status_code == 200 and "/api/schema/" in script.content.decode()
