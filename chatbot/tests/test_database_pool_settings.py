"""
On PostgreSQL each process pools its connections unless told otherwise;
a pool and persistent connections exclude each other.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
PRINT_DATABASE = """
import json, django
from django.conf import settings
django.setup()
default = settings.DATABASES["default"]
print(json.dumps({"pool": default.get("OPTIONS", {}).get("pool"), "conn_max_age": default["CONN_MAX_AGE"]}))
"""


def load(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE", "REDIS"))}
    clean.update(
        {
            "DJANGO_SETTINGS_MODULE": "chatbot.settings",
            "DATA_DIR": str(tmp_path),
            "DOTENV": "0",
            "DATABASE_URL": "postgres://chatbot:secret@db.invalid:5432/chatbot",
            **env,
        }
    )
    return subprocess.run(
        [sys.executable, "-c", PRINT_DATABASE], cwd=BASE_DIR, env=clean, capture_output=True, text=True
    )


def test_postgresql_gets_a_pool_of_connections_per_process_by_default(tmp_path):
    loaded = json.loads(load(tmp_path).stdout)

    assert loaded == {"pool": {"min_size": 2, "max_size": 10, "timeout": 5, "reconnect_timeout": 3}, "conn_max_age": 0}


def test_a_pool_size_of_zero_allows_persistent_connections_instead(tmp_path):
    loaded = json.loads(load(tmp_path, DATABASE_POOL_MAX_SIZE="0", DATABASE_CONN_MAX_AGE="60").stdout)

    assert loaded == {"pool": None, "conn_max_age": 60}


def test_asking_for_both_a_pool_and_persistent_connections_stops_with_a_clear_error(tmp_path):
    result = load(tmp_path, DATABASE_CONN_MAX_AGE="60")

    assert result.returncode != 0
    assert "DATABASE_POOL_MAX_SIZE=0" in result.stderr and "ImproperlyConfigured" in result.stderr
