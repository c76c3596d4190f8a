"""System checks for configuration mistakes that would only show at run time."""

from django.conf import settings
from django.core import checks

PER_PROCESS_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
}


@checks.register(checks.Tags.compatibility)
def check_processes_share_state(app_configs, **kwargs) -> list[checks.CheckMessage]:
    messages: list[checks.CheckMessage] = []
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


@checks.register(checks.Tags.caches, deploy=True)
def check_web_workers_share_a_cache(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """
    Several web workers need a cache they share: rate limits, open-WebSocket
    counts and LLM token budgets are counters in it, and with one cache per
    worker every limit is multiplied by the number of workers (two workers
    without Redis accepted 118 of 140 messages against a 60/min limit).

    A deploy check, also run by Gunicorn before it starts its workers
    (gunicorn.conf.py), rather than in every manage.py command: a
    WEB_CONCURRENCY in a developer's shell says nothing about this app's server.
    """
    workers = settings.WEB_CONCURRENCY
    messages: list[checks.CheckMessage] = []
    if workers > 1 and settings.CACHES["default"]["BACKEND"] in PER_PROCESS_CACHES:
        messages.append(
            checks.Error(
                f"WEB_CONCURRENCY={workers} web workers without a shared cache: each worker would keep its own "
                "rate-limit counters, open-WebSocket counts and LLM token budgets, multiplying every limit "
                f"by {workers}.",
                hint="Set REDIS_URL (docker-compose.yml does), or run one worker (WEB_CONCURRENCY=1).",
                id="chatbot.E002",
            )
        )
    on_sqlite = not settings.DATABASE_URL or settings.DATABASE_URL.startswith("sqlite")
    if workers > 1 and on_sqlite:
        messages.append(
            checks.Warning(
                f"WEB_CONCURRENCY={workers} web workers on SQLite: writes from different workers wait for "
                "each other (one writer at a time), and the database lives on this machine only.",
                hint="Use PostgreSQL (DATABASE_URL) for more than one web worker.",
                id="chatbot.W003",
            )
        )
    return messages
