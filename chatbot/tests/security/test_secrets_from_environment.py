"""
Secrets come only from the environment: none has a default in the code, and
production refuses to start without its key.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[3]
SECRET_NAME = re.compile(r"(KEY|SECRET|PASSWORD|TOKEN|CREDENTIALS_JSON)$")
PRINT_SECRETS = """
import json, re, django
from django.conf import settings
django.setup()
names = [n for n in dir(settings) if re.search(r"(KEY|SECRET|PASSWORD|TOKEN|CREDENTIALS_JSON)$", n)]
print(json.dumps({n: getattr(settings, n) for n in names if isinstance(getattr(settings, n), (str, type(None)))}))
"""


def settings_in_a_fresh_process(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not SECRET_NAME.search(k) and not k.startswith(("DJANGO_", "DATABASE", "REDIS", "SHEETS_", "OPENAI_"))
    }
    clean.update({"DJANGO_SETTINGS_MODULE": "chatbot.settings", "DATA_DIR": str(tmp_path), "DOTENV": "0", **env})
    return subprocess.run(
        [sys.executable, "-c", PRINT_SECRETS], cwd=BASE_DIR, env=clean, capture_output=True, text=True
    )


def test_no_secret_setting_has_a_default_in_the_code(tmp_path):
    result = settings_in_a_fresh_process(tmp_path)
    secrets = json.loads(result.stdout)

    assert {"OPENAI_API_KEY", "EMAIL_HOST_PASSWORD", "LEADS_WEBHOOK_SECRET", "SHEETS_CREDENTIALS_JSON"} <= set(secrets)
    assert {name: value for name, value in secrets.items() if value and name != "SECRET_KEY"} == {}
    key_file = tmp_path / "secret_key"
    assert secrets["SECRET_KEY"] == key_file.read_text().strip(), "the embedded default's key is made per install"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_secrets_are_read_from_the_environment(tmp_path):
    result = settings_in_a_fresh_process(
        tmp_path, OPENAI_API_KEY="sk-from-env-123", DJANGO_SECRET_KEY="k" * 60, LEADS_WEBHOOK_SECRET="whsec-from-env"
    )
    secrets = json.loads(result.stdout)

    assert secrets["OPENAI_API_KEY"] == "sk-from-env-123"
    assert secrets["SECRET_KEY"] == "k" * 60
    assert secrets["LEADS_WEBHOOK_SECRET"] == "whsec-from-env"
    assert not (tmp_path / "secret_key").exists()


def test_production_refuses_to_start_without_its_secret_key(tmp_path):
    result = settings_in_a_fresh_process(tmp_path, DJANGO_REQUIRE_SECRET_KEY="1")

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set in production" in result.stderr


def test_settings_py_gives_no_secret_a_default_value():
    source = (BASE_DIR / "chatbot" / "settings.py").read_text()
    defaults = re.findall(r'env_str\("([A-Z0-9_]+)",\s*"([^"]*)"', source)

    assert defaults, "settings read through env_str"
    assert [(name, value) for name, value in defaults if SECRET_NAME.search(name) and value] == []
