"""System checks for configuration mistakes that would only show at run time."""

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.compatibility)
def check_processes_share_state(app_configs, **kwargs) -> list[checks.CheckMessage]:
    messages = []
    on_server_database = bool(settings.DATABASE_URL) and not settings.DATABASE_URL.startswith("sqlite")
    if on_server_database and not settings.REDIS_URL:
        messages.append(
            checks.Warning(
                "DATABASE_URL names a database server but REDIS_URL is not set: rate limits "
                "and the cache stay per process.",
                hint="Set REDIS_URL when running more than one web process.",
                id="chatbot.W001",
            )
        )
    if settings.TASK_BACKEND == "immediate" and not settings.DEBUG and on_server_database:
        messages.append(
            checks.Warning(
                "TASK_BACKEND=immediate runs indexing and Sheets sync inside web requests.",
                hint="Use TASK_BACKEND=database with a `manage.py db_worker` process.",
                id="chatbot.W002",
            )
        )
    return messages


@checks.register(checks.Tags.compatibility)
def check_llm_provider(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """The openai provider with nowhere to send requests would fall back to quoting on every answer."""
    if settings.LLM_PROVIDER == "openai" and not settings.OPENAI_API_KEY and not settings.OPENAI_BASE_URL:
        return [
            checks.Error(
                "LLM_PROVIDER=openai but neither OPENAI_API_KEY nor OPENAI_BASE_URL is set.",
                hint="Set OPENAI_API_KEY for OpenAI (or Mistral...), OPENAI_BASE_URL for a local server "
                "(Ollama, vLLM, llama.cpp), or LLM_PROVIDER=extractive.",
                id="chatbot.E001",
            )
        ]
    return []
