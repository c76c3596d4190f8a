"""/api/docs/ is off unless enabled (API_DOCS_ENABLED, on with DEBUG); an admin login lasts SESSION_COOKIE_AGE."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings

pytestmark = pytest.mark.django_db


def test_the_api_docs_are_not_found_when_off(client, settings):
    settings.API_DOCS_ENABLED = False

    assert client.get("/api/docs/").status_code == 404
    assert client.get("/api/docs/?script=").status_code == 404
    assert client.get("/api/schema/").status_code == 200, "the schema itself stays public"


def test_the_api_docs_are_served_when_enabled(client, settings):
    settings.API_DOCS_ENABLED = True

    assert client.get("/api/docs/").status_code == 200


def test_an_admin_login_lasts_twelve_hours_not_two_weeks(client, admin_user):
    response = client.post(
        f"/{django_settings.ADMIN_URL}login/",
        {
            "username": admin_user.username,
            "password": "password",
            "next": f"/{django_settings.ADMIN_URL}",
        },
    )

    assert response.status_code == 302
    cookie = response.cookies[django_settings.SESSION_COOKIE_NAME]
    assert cookie["max-age"] == 12 * 3600
    assert client.session.get_expiry_age() == 12 * 3600
