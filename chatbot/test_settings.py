"""
Settings for the test suite: the real settings module, fed a test environment.

The environment decides the backends exactly as in production, so the same
suite runs on the embedded defaults and, with DATABASE_URL and REDIS_URL set,
on PostgreSQL and Redis.
"""

import os
import tempfile

os.environ["DOTENV"] = "0"  # a developer's .env must not change what the tests see
os.environ.setdefault("DATA_DIR", tempfile.mkdtemp(prefix="chatbot-test-"))
os.environ.setdefault("TASK_BACKEND", "immediate")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,testserver")

from chatbot.settings import *  # noqa: F403
from chatbot.settings import DATA_DIR, DATABASES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not ":memory:", so that server and worker processes started by
    # the tests can open the same test database.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}
