"""Failed admin logins are limited per client IP and per username, with a clear message."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


@pytest.fixture
def staff():
    return get_user_model().objects.create_user("ana", "ana@example.com", PASSWORD, is_staff=True, is_superuser=True)


def login(client, username: str, password: str, ip: str):
    return client.post(f"/{django_settings.ADMIN_URL}login/", {"username": username, "password": password,
                                                               "next": f"/{django_settings.ADMIN_URL}"},
                       REMOTE_ADDR=ip)


def test_a_username_is_locked_after_its_failures_whatever_the_ip(client, settings, staff):
    settings.RATE_LIMIT_ADMIN_LOGIN_PER_USERNAME = "3/15m"
    for n in range(3):
        assert login(client, "ana", "wrong", f"203.0.113.{n}").status_code == 200

    refused = login(client, "ANA", PASSWORD, "198.51.100.9")

    assert refused.status_code == 200
    page = refused.content.decode()
    assert "Too many failed login attempts for this username. Try again in" in page
    assert "_auth_user_id" not in client.session, "the right password does not get in while locked"


def test_an_ip_is_locked_after_its_failures_whatever_the_username(client, settings, staff):
    settings.RATE_LIMIT_ADMIN_LOGIN_PER_IP = "3/15m"
    for name in ("bob", "carol", "dave"):
        login(client, name, "wrong", "203.0.113.50")

    refused = login(client, "ana", PASSWORD, "203.0.113.50")
    elsewhere = login(client, "ana", PASSWORD, "198.51.100.9")

    assert "Too many failed login attempts from your network address" in refused.content.decode()
    assert elsewhere.status_code == 302, "another address can still log in"
    assert client.session["_auth_user_id"] == str(staff.pk)


def test_successful_logins_do_not_count(client, settings, staff):
    settings.RATE_LIMIT_ADMIN_LOGIN_PER_USERNAME = "2/15m"
    settings.RATE_LIMIT_ADMIN_LOGIN_PER_IP = "2/15m"
    for _ in range(4):
        response = login(client, "ana", PASSWORD, "203.0.113.1")
        assert response.status_code == 302
        client.logout()

    login(client, "ana", "wrong", "203.0.113.1")
    assert login(client, "ana", PASSWORD, "203.0.113.1").status_code == 302, "one failure is under the limit"
