"""
Failed admin logins are limited per client address, and per username from
that address, in sliding windows, with a message that says the real wait.
Nobody can lock a user out from another address.
"""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model

from core.tests.clock import FakeClock

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
ATTACKER = "203.0.113.66"
STAFF_OFFICE = "198.51.100.9"


@pytest.fixture
def staff():
    return get_user_model().objects.create_user("ana", "ana@example.com", PASSWORD, is_staff=True, is_superuser=True)


@pytest.fixture
def clock(monkeypatch):
    # The start of a 30-second slot of a 15-minute window, so that waits read as plain seconds.
    clock = FakeClock(start=60_000_000 * 30)
    monkeypatch.setattr("core.limits.clock", clock)
    return clock


def login(client, username: str, password: str, ip: str):
    client.logout()
    return client.post(
        f"/{django_settings.ADMIN_URL}login/",
        {"username": username, "password": password, "next": f"/{django_settings.ADMIN_URL}"},
        REMOTE_ADDR=ip,
    )


def logged_in(response) -> bool:
    return response.status_code == 302 and "_auth_user_id" in response.wsgi_request.session


def test_failures_from_one_address_do_not_lock_the_user_out_from_another(client, settings, staff, clock):
    settings.RATE_LIMIT_ADMIN_LOGIN_PER_USERNAME = "5/15m"
    for _ in range(5):
        assert login(client, "ana", "wrong", ATTACKER).status_code == 200

    attacker = login(client, "ana", PASSWORD, ATTACKER)
    staff_member = login(client, "ana", PASSWORD, STAFF_OFFICE)

    assert "Too many failed login attempts for this username from your network address" in attacker.content.decode()
    assert not logged_in(attacker), "the right password does not get in from the locked address"
    assert logged_in(staff_member), "the same username from another address is not locked"


def test_the_message_says_the_real_wait_of_the_sliding_window(client, settings, staff, clock):
    settings.RATE_LIMIT_ADMIN_LOGIN_PER_USERNAME = "3/15m"
    for _ in range(3):
        login(client, "ANA", "wrong", ATTACKER)
    clock.advance(5 * 60 + 30)

    refused = login(client, "ana", PASSWORD, ATTACKER).content.decode()

    # The failures count from their 30-second slot for 15 minutes: 15.5 - 5.5 = 10 minutes left.
    assert "Try again in 10 minutes." in refused


def test_the_window_slides_failures_leave_it_one_by_one(client, settings, staff, clock):
    settings.RATE_LIMIT_ADMIN_LOGIN_PER_USERNAME = "3/15m"
    login(client, "ana", "wrong", ATTACKER)
    login(client, "ana", "wrong", ATTACKER)
    clock.advance(10 * 60)
    login(client, "ana", "wrong", ATTACKER)
    clock.advance(60)

    at_11_minutes = login(client, "ana", PASSWORD, ATTACKER)
    clock.advance(4 * 60 + 30)  # 15.5 minutes after the first two failures: they have left the window
    at_15_5_minutes = login(client, "ana", PASSWORD, ATTACKER)

    assert "Try again in 270 seconds" not in at_11_minutes.content.decode()
    assert "Try again in 5 minutes." in at_11_minutes.content.decode()
    assert logged_in(at_15_5_minutes), "one failure left in the window is under the limit"


def test_an_address_is_locked_after_its_failures_whatever_the_username(client, settings, staff, clock):
    settings.RATE_LIMIT_ADMIN_LOGIN_PER_IP = "3/15m"
    for name in ("bob", "carol", "dave"):
        login(client, name, "wrong", ATTACKER)
    clock.advance(30)

    refused = login(client, "ana", PASSWORD, ATTACKER)
    elsewhere = login(client, "ana", PASSWORD, STAFF_OFFICE)

    assert "Too many failed login attempts from your network address. Try again in 15 minutes." in (
        refused.content.decode()
    )
    assert logged_in(elsewhere), "another address can still log in"


def test_successful_and_refused_logins_do_not_count(client, settings, staff, clock):
    settings.RATE_LIMIT_ADMIN_LOGIN_PER_USERNAME = "2/15m"
    settings.RATE_LIMIT_ADMIN_LOGIN_PER_IP = "2/15m"
    for _ in range(4):
        assert logged_in(login(client, "ana", PASSWORD, ATTACKER))

    login(client, "ana", "wrong", ATTACKER)
    assert logged_in(login(client, "ana", PASSWORD, ATTACKER)), "one failure is under the limit"

    login(client, "ana", "wrong", ATTACKER)
    login(client, "ana", "wrong", ATTACKER)
    for _ in range(5):
        login(client, "ana", PASSWORD, ATTACKER)  # refused while locked
    clock.advance(15 * 60 + 30)
    assert logged_in(login(client, "ana", PASSWORD, ATTACKER)), "refused attempts did not extend the lock"
