from django.test import override_settings

from chatbot.checks import check_processes_share_state

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
