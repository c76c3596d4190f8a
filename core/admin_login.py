"""
The admin login, rate-limited in sliding windows (core.limits): failed
attempts count per client address, and per username from that address.
Past either limit the form refuses to check the password at all and says how
long to wait, to the half minute.

Failures for a username count only against the address they came from, so
nobody can lock staff out by failing their username from elsewhere. An
attacker spreading guesses over many addresses is slowed per address only:
that is what strong passwords are for.

Only failures count, so staff who log in often are never locked out by their
own successful logins; an attempt is counted before the password is tested
(parallel guesses cannot all slip under the limit) and taken back if it
succeeds, so a guesser learns nothing once locked.
"""

from __future__ import annotations

import logging
import math

from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError

from core.limits import ADMIN_LOGIN_PER_IP, admin_login_attempt, rate_request_from_http

logger = logging.getLogger(__name__)


def _wait(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} seconds"
    return f"{math.ceil(seconds / 60)} minutes"


class RateLimitedAdminAuthenticationForm(AdminAuthenticationForm):
    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "rate_limited": "Too many failed login attempts %(who)s. Try again in %(wait)s.",
    }

    def clean(self):
        username = (self.cleaned_data.get("username") or "").strip().lower()
        attempt = admin_login_attempt(client=rate_request_from_http(self.request), username=username)
        if attempt.refused_by is not None:
            who = (
                "from your network address"
                if attempt.refused_by is ADMIN_LOGIN_PER_IP
                else "for this username from your network address"
            )
            logger.warning("admin login refused: too many failures %s", who)
            raise ValidationError(
                self.error_messages["rate_limited"],
                code="rate_limited",
                params={"who": who, "wait": _wait(attempt.retry_after)},
            )
        cleaned = super().clean()  # a ValidationError here leaves the failure counted
        attempt.take_back()  # successes do not count
        return cleaned
