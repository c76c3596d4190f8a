"""
Root test configuration.

A pass with DATABASE_URL or REDIS_URL set exists to test those services: if
one cannot be reached the whole run stops with an error instead of skipping.
"""

import pytest
from django.conf import settings


def _unreachable_services() -> list[str]:
    problems = []
    if settings.DATABASE_URL:
        import psycopg

        try:
            params = settings.DATABASES["default"]
            psycopg.connect(
                host=params["HOST"],
                port=params["PORT"] or 5432,
                user=params["USER"],
                password=params["PASSWORD"] or None,
                dbname=params["NAME"],
                connect_timeout=5,
            ).close()
        except Exception as exc:  # noqa: BLE001
            problems.append(f"PostgreSQL at DATABASE_URL: {exc}")
    if settings.REDIS_URL:
        import redis

        try:
            redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=5).ping()
        except Exception as exc:  # noqa: BLE001
            problems.append(f"Redis at REDIS_URL: {exc}")
    return problems


def pytest_sessionstart(session: pytest.Session) -> None:
    problems = _unreachable_services()
    if problems:
        pytest.exit("Configured services are unreachable:\n  " + "\n  ".join(problems), returncode=3)


def pytest_report_header(config: pytest.Config) -> list[str]:
    database = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    cache = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    layer = settings.CHANNEL_LAYERS["default"]["BACKEND"].rsplit(".", 1)[-1]
    return [f"backends: database={database} cache={cache} channel_layer={layer}"]


@pytest.fixture(autouse=True)
def _isolated_cache():
    """
    Each test starts with an empty cache (rate-limit counters live there) and
    without the process's few-second copy of the bot settings, which would
    otherwise outlive the test database's rows.
    """
    from django.core.cache import cache

    from chatbot.selectors import bot_settings_cache_clear

    cache.clear()
    bot_settings_cache_clear()
    yield


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """
    Before the test database is dropped, closes what other threads left open:
    the PostgreSQL connection pool and connections held by sync_to_async's
    worker threads. Otherwise dropping it fails with "being accessed by other
    users" and the database outlives the run.
    """
    yield
    from django.db import connection, connections

    with django_db_blocker.unblock():
        for alias in connections:
            connections[alias].close()
            if hasattr(connections[alias], "close_pool"):
                connections[alias].close_pool()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            connection.close()
            if hasattr(connection, "close_pool"):
                connection.close_pool()
