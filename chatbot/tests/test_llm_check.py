"""System check: the openai provider needs somewhere to send requests."""

from __future__ import annotations

from chatbot.checks import check_llm_provider


def test_openai_without_key_or_base_url_is_an_error(settings):
    settings.LLM_PROVIDER = "openai"
    settings.OPENAI_API_KEY = ""
    settings.OPENAI_BASE_URL = ""

    assert [message.id for message in check_llm_provider(None)] == ["chatbot.E001"]


def test_a_local_server_without_a_key_is_fine(settings):
    settings.LLM_PROVIDER = "openai"
    settings.OPENAI_API_KEY = ""
    settings.OPENAI_BASE_URL = "http://127.0.0.1:11434/v1"

    assert check_llm_provider(None) == []
