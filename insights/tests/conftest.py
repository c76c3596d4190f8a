"""Fixtures for the insights tests: staff users with and without the insights permissions, and the chat fixtures."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User

from chatbot.tests.conftest import extractive, fake_llm, openai_llm, tidewater_kb  # noqa: F401 (fixtures)


def _staff(username: str, *codenames: str) -> User:
    user = User.objects.create_user(username=username, password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="insights", codename__in=codenames))
    return User.objects.get(pk=user.pk)  # a fresh instance: permissions are cached per instance


@pytest.fixture
def analyst(client):
    """Staff who may see insights, logged in."""
    user = _staff("analyst", "view_insights")
    client.force_login(user)
    return user


@pytest.fixture
def tester(client):
    """Staff who may see insights and test the bot, logged in."""
    user = _staff("tester", "view_insights", "test_bot")
    client.force_login(user)
    return user


@pytest.fixture
def plain_staff(client):
    """Staff without any insights permission, logged in."""
    user = _staff("plain")
    client.force_login(user)
    return user
