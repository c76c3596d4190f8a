"""
The Content-Security-Policy of every page this server renders (the demo at
`/`, the admin, the `/kb/` source pages) and of its static files.

Scripts only from this origin, never inline: an injected `<script>` or event
handler attribute does not run. Style sheets and `<style>` elements only from
this origin too; the widget styles its Shadow DOM with a constructable
stylesheet (`adoptedStyleSheets`), which CSP does not restrict. Style
*attributes* stay allowed (`style-src-attr 'unsafe-inline'`): the admin's own
JavaScript and a few of this project's admin columns set them, and an injected
style attribute cannot run code. WebSockets and `fetch()` go to this origin
only (CSP Level 3 `'self'` covers `ws:`/`wss:` on the same host).

A view that needs more sets its own header (`content_security_policy(...)`);
the middleware leaves such a response alone. Django's debug error pages
(DEBUG only) rely on inline script and style and get no policy.

The widget on a customer's site is governed by that site's policy, not this
one: see docs/widget.md ("Content-Security-Policy of a site that embeds the widget").
"""

from __future__ import annotations

from collections.abc import Callable

from asgiref.sync import iscoroutinefunction
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.decorators import sync_and_async_middleware

HEADER = "Content-Security-Policy"

DIRECTIVES: dict[str, str] = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "style-src-attr": "'unsafe-inline'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def content_security_policy(**overrides: str) -> str:
    """The policy as a header value; `style_src="'self' 'unsafe-inline'"` replaces `style-src`."""
    directives = {**DIRECTIVES, **{name.replace("_", "-"): value for name, value in overrides.items()}}
    return "; ".join(f"{name} {value}" for name, value in directives.items())


POLICY = content_security_policy()


def _with_policy(response: HttpResponse) -> HttpResponse:
    if HEADER not in response and not (settings.DEBUG and response.status_code >= 400):
        response[HEADER] = POLICY
    return response


@sync_and_async_middleware
def content_security_policy_middleware(get_response: Callable) -> Callable:
    """Adds `POLICY` to every response that has no policy of its own."""
    if iscoroutinefunction(get_response):

        async def async_middleware(request: HttpRequest) -> HttpResponse:
            return _with_policy(await get_response(request))

        return async_middleware

    def middleware(request: HttpRequest) -> HttpResponse:
        return _with_policy(get_response(request))

    return middleware
