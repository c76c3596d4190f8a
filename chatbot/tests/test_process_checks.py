from django.test import override_settings

from chatbot.checks import check_processes_share_state, check_web_workers_share_a_cache

POSTGRES = "postgres://chatbot@db:5432/chatbot"
SQLITE = "sqlite:////srv/chatbot/db.sqlite3"


def ids(**overrides) -> list[str]:
    with override_settings(**overrides):
        return [message.id for message in check_processes_share_state(None)]


def test_postgres_without_redis_warns_that_limits_stay_per_process():
    assert ids(DATABASE_URL=POSTGRES, REDIS_URL="", TASK_BACKEND="database") == ["chatbot.W001"]


def test_postgres_with_redis_is_clean():
    assert ids(DATABASE_URL=POSTGRES, REDIS_URL="redis://127.0.0.1:6379/0", TASK_BACKEND="database") == []


def test_sqlite_is_one_machine_and_needs_no_redis():
    assert ids(DATABASE_URL=SQLITE, REDIS_URL="", TASK_BACKEND="database") == []
    assert ids(DATABASE_URL="", REDIS_URL="", TASK_BACKEND="database") == []


def test_immediate_tasks_in_production_warn():
    assert ids(DATABASE_URL=POSTGRES, REDIS_URL="redis://x", TASK_BACKEND="immediate", DEBUG=False) == ["chatbot.W002"]


LOCAL_CACHE = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
REDIS_CACHE = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://x"}}


def worker_check_ids(**overrides) -> list[str]:
    with override_settings(**overrides):
        return [message.id for message in check_web_workers_share_a_cache(None)]


def test_several_web_workers_without_a_shared_cache_are_an_error():
    found = worker_check_ids(WEB_CONCURRENCY=2, CACHES=LOCAL_CACHE, DATABASE_URL=POSTGRES)

    assert found == ["chatbot.E002"]
    with override_settings(WEB_CONCURRENCY=2, CACHES=LOCAL_CACHE, DATABASE_URL=POSTGRES):
        (error,) = check_web_workers_share_a_cache(None)
    assert error.is_serious() and "REDIS_URL" in error.hint


def test_one_web_worker_or_a_shared_cache_is_clean():
    assert worker_check_ids(WEB_CONCURRENCY=1, CACHES=LOCAL_CACHE, DATABASE_URL=POSTGRES) == []
    assert worker_check_ids(WEB_CONCURRENCY=4, CACHES=REDIS_CACHE, DATABASE_URL=POSTGRES) == []


def test_several_web_workers_on_sqlite_warn():
    assert worker_check_ids(WEB_CONCURRENCY=2, CACHES=REDIS_CACHE, DATABASE_URL=SQLITE) == ["chatbot.W003"]
    assert worker_check_ids(WEB_CONCURRENCY=2, CACHES=LOCAL_CACHE, DATABASE_URL="") == ["chatbot.E002", "chatbot.W003"]


def test_the_worker_check_runs_with_deploy_checks_only():
    from django.core.checks.registry import registry

    assert check_web_workers_share_a_cache in registry.get_checks(include_deployment_checks=True)
    assert check_web_workers_share_a_cache not in registry.get_checks(include_deployment_checks=False)
