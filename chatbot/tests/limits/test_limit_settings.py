"""Every limit is a setting with a default; a malformed rate stops the start with a clear message."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django_ratelimit.core import _split_rate

from core.limits import ALL_LIMITS

BASE_DIR = Path(__file__).resolve().parents[3]
ENV_EXAMPLE = (BASE_DIR / ".env.example").read_text()


@pytest.mark.parametrize("limit", ALL_LIMITS, ids=lambda limit: limit.group)
def test_each_limit_reads_a_documented_setting_with_a_sensible_default(limit):
    count, seconds = _split_rate(getattr(settings, limit.setting))

    assert re.search(rf"^#\s*{limit.setting}=\d+/\d*[smhd]$", ENV_EXAMPLE, re.M), f"{limit.setting} in .env.example"
    assert count >= 1 and seconds >= 60


def test_the_token_caps_have_defaults():
    assert settings.LLM_TOKENS_PER_CONVERSATION > settings.LLM_CONTEXT_TOKENS + settings.LLM_MAX_TOKENS
    assert settings.LLM_TOKENS_PER_DAY > settings.LLM_TOKENS_PER_CONVERSATION


@pytest.mark.parametrize("value", ["twenty", "20", "0/m", "20/w"])
def test_a_malformed_rate_is_refused_at_start(tmp_path, value):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE", "REDIS"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "chatbot.settings",
            "DATA_DIR": str(tmp_path),
            "DOTENV": "0",
            "RATE_LIMIT_MESSAGES_PER_IP": value,
        }
    )
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"], cwd=BASE_DIR, env=env, capture_output=True, text=True
    )

    assert result.returncode != 0
    assert "RATE_LIMIT_MESSAGES_PER_IP must be a rate like 20/m" in result.stderr
