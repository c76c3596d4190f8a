"""The settings module, loaded in a fresh interpreter with a chosen environment."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]

PRINT_SETTINGS = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps({
    "engine": settings.DATABASES["default"]["ENGINE"],
    "db_name": str(settings.DATABASES["default"]["NAME"]),
    "db_init": settings.DATABASES["default"].get("OPTIONS", {}).get("init_command", ""),
    "cache": settings.CACHES["default"]["BACKEND"],
    "layer": settings.CHANNEL_LAYERS["default"]["BACKEND"],
    "tasks": settings.TASKS["default"]["BACKEND"],
    "embedding": settings.EMBEDDING_PROVIDER,
    "llm": settings.LLM_PROVIDER,
    "debug": settings.DEBUG,
    "admin_url": settings.ADMIN_URL,
    "api_docs": settings.API_DOCS_ENABLED,
    "session_age": settings.SESSION_COOKIE_AGE,
}))
"""


def load_settings(tmp_path: Path, **env: str) -> dict:
    clean_env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE", "REDIS"))}
    clean_env.update({"DJANGO_SETTINGS_MODULE": "chatbot.settings", "DATA_DIR": str(tmp_path), "DOTENV": "0"})
    clean_env.pop("TASK_BACKEND", None)
    clean_env.pop("OPENAI_API_KEY", None)
    clean_env.update(env)
    result = subprocess.run(
        [sys.executable, "-c", PRINT_SETTINGS], cwd=BASE_DIR, env=clean_env, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise AssertionError(result.stderr)
    return json.loads(result.stdout)


def test_it_runs_on_embedded_defaults_with_no_settings(tmp_path):
    loaded = load_settings(tmp_path)

    assert loaded["engine"] == "django.db.backends.sqlite3"
    assert loaded["db_name"] == str(tmp_path / "db.sqlite3")
    assert "journal_mode=WAL" in loaded["db_init"]
    assert loaded["cache"] == "django.core.cache.backends.locmem.LocMemCache"
    assert loaded["layer"] == "channels.layers.InMemoryChannelLayer"
    assert loaded["tasks"] == "django_tasks_db.DatabaseBackend"
    assert loaded["embedding"] == "local"
    assert loaded["llm"] == "extractive"
    assert loaded["debug"] is False


def test_it_switches_to_postgres_and_redis_by_url_alone(tmp_path):
    loaded = load_settings(
        tmp_path,
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/test",
        REDIS_URL="redis://127.0.0.1:6379/0",
    )

    assert loaded["engine"] == "django.db.backends.postgresql"
    assert loaded["db_name"] == "test"
    assert loaded["cache"] == "django.core.cache.backends.redis.RedisCache"
    assert loaded["layer"] == "channels_redis.core.RedisChannelLayer"


def test_an_api_key_makes_openai_the_default_provider(tmp_path):
    assert load_settings(tmp_path, OPENAI_API_KEY="sk-test")["llm"] == "openai"


def test_it_reads_a_dotenv_file_but_the_environment_wins(tmp_path, monkeypatch):
    env_file = BASE_DIR / ".env"
    if env_file.exists():
        pytest.skip("a developer .env exists in the checkout; not overwriting it")
    env_file.write_text("ADMIN_URL=staff-only/\nDJANGO_DEBUG=1\n")
    try:
        loaded = load_settings(tmp_path, DOTENV="1", DJANGO_DEBUG="0")
    finally:
        env_file.unlink()

    assert loaded["admin_url"] == "staff-only/"
    assert loaded["debug"] is False


def test_api_docs_are_on_only_with_debug_unless_enabled_and_logins_last_a_working_day(tmp_path):
    production, debug = load_settings(tmp_path), load_settings(tmp_path, DJANGO_DEBUG="1")
    enabled = load_settings(tmp_path, API_DOCS_ENABLED="1", SESSION_COOKIE_AGE="3600")

    assert (production["api_docs"], debug["api_docs"], enabled["api_docs"]) == (False, True, True)
    assert production["session_age"] == 12 * 3600 and enabled["session_age"] == 3600


def test_a_malformed_value_is_a_clear_error(tmp_path):
    with pytest.raises(AssertionError, match="DJANGO_DEBUG must be a boolean"):
        load_settings(tmp_path, DJANGO_DEBUG="maybe")


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    with pytest.raises(AssertionError, match="DJANGO_SECRET_KEY must be set"):
        load_settings(tmp_path, DJANGO_REQUIRE_SECRET_KEY="1")


def test_env_example_documents_every_setting():
    settings_source = (BASE_DIR / "chatbot" / "settings.py").read_text()
    read_names = set(re.findall(r'env_(?:str|bool|int|float|list|choice)\(\s*"([A-Z0-9_]+)"', settings_source))
    documented = set(re.findall(r"^#?\s*([A-Z0-9_]+)=", (BASE_DIR / ".env.example").read_text(), re.M))

    assert read_names, "no settings found; did the helpers get renamed?"
    assert read_names - documented == set()
