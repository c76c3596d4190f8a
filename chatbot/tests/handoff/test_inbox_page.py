"""The live inbox page in admin: linked and shown to staff with the permission only; no inline script."""

from __future__ import annotations

import re

import pytest
from django.conf import settings

from chatbot.tests.handoff.support import staff_create

pytestmark = pytest.mark.django_db

INBOX = f"/{settings.ADMIN_URL}chatbot/staffinbox/"


def test_staff_with_the_permission_get_the_page_and_the_link(client):
    client.force_login(staff_create())
    page = client.get(INBOX)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-socket-path="/ws/staff/"' in html
    assert "chatbot/staff-inbox.js" in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "an inline script would break the CSP"
    assert INBOX in client.get(f"/{settings.ADMIN_URL}").content.decode()


def test_staff_without_the_permission_see_neither_the_link_nor_the_page(client):
    client.force_login(staff_create(username="bob", allowed=False))
    assert client.get(INBOX).status_code == 403
    assert INBOX not in client.get(f"/{settings.ADMIN_URL}").content.decode()


def test_an_anonymous_visitor_is_sent_to_the_login(client):
    response = client.get(INBOX)
    assert response.status_code == 302 and "login" in response["Location"]
