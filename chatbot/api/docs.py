"""
The Swagger UI at /api/docs/: on with DEBUG, or with API_DOCS_ENABLED=1.

drf-spectacular's split view serves its start-up script as a file of its own,
so the page runs under the site's Content-Security-Policy with no inline
script; only its template's small inline `<style>` needs `'unsafe-inline'`
styles, on this page alone.
"""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from drf_spectacular.views import SpectacularSwaggerSplitView

from core.csp import HEADER, content_security_policy

_swagger_ui = SpectacularSwaggerSplitView.as_view(url_name="api-schema")
DOCS_POLICY = content_security_policy(style_src="'self' 'unsafe-inline'")


def api_docs(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    if not settings.API_DOCS_ENABLED:
        raise Http404("The API docs are off (API_DOCS_ENABLED).")
    response = _swagger_ui(request, *args, **kwargs)
    response[HEADER] = DOCS_POLICY
    return response
