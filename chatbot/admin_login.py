"""
The admin login, rate-limited: failed attempts are counted per client IP and
per username (chatbot.limits); past either limit the form refuses to check
the password at all and says when to try again.

Only failures count, so staff who log in often are never locked out by their
own successful logins; the check happens before the password is tested, so
a guesser learns nothing once locked.
"""

from __future__ import annotations

import logging
import math

from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError

from chatbot.limits import (
    ADMIN_LOGIN_PER_IP,
    ADMIN_LOGIN_PER_USERNAME,
    limit_hit,
    limit_reached,
    rate_request_from_http,
)

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
        client = rate_request_from_http(self.request)
        for limit, value, who in (
            (ADMIN_LOGIN_PER_USERNAME, username, "for this username"),
            (ADMIN_LOGIN_PER_IP, None, "from your network address"),
        ):
            retry_after = limit_reached(client=client, limit=limit, value=value)
            if retry_after is not None:
                logger.warning("admin login refused: too many failures %s", who)
                raise ValidationError(
                    self.error_messages["rate_limited"], code="rate_limited",
                    params={"who": who, "wait": _wait(retry_after)},
                )
        try:
            return super().clean()
        except ValidationError:
            limit_hit(client=client, limit=ADMIN_LOGIN_PER_IP)
            limit_hit(client=client, limit=ADMIN_LOGIN_PER_USERNAME, value=username)
            raise
