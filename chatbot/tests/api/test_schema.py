"""The OpenAPI schema and its browsable docs (drf-spectacular)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_the_schema_describes_every_chat_endpoint():
    response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    schema = response.json()
    assert {"/api/chat/", "/api/conversations/{conversation_id}/", "/api/feedback/", "/api/bot/"} <= set(
        schema["paths"]
    )
    chat = schema["paths"]["/api/chat/"]["post"]
    assert set(chat["responses"]["200"]["content"]) == {"application/json", "text/event-stream"}
    assert "message" in str(chat["requestBody"])


def test_the_docs_page_loads_swagger_from_our_own_static_files(settings):
    settings.API_DOCS_ENABLED = True
    response = APIClient().get("/api/docs/")
    script = APIClient().get("/api/docs/?script=")

    assert response.status_code == 200
    page = response.content.decode()
    assert "/api/schema/" in script.content.decode()
    assert "swagger-ui" in page
    assert "cdn.jsdelivr.net" not in page and "unpkg.com" not in page


def test_the_schema_generates_without_warnings(tmp_path):
    from django.core.management import call_command

    call_command("spectacular", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))

    assert "ChatAnswer" in (tmp_path / "schema.yaml").read_text()
