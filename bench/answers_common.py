"""
Shared set-up of the answers benchmarks: a throwaway embedded install (SQLite
in a temporary DATA_DIR) holding the sample knowledge base (alone, or on top
of 10,000 generated chunks), so a run never touches the developer's data.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.knowledge_common import knowledge_base_prepare

BASE_DIR = Path(__file__).resolve().parent.parent
QUERIES = BASE_DIR / "bench" / "data" / "tidewater" / "queries.jsonl"
# The streaming fake model sends a token every 20 ms, about a hosted model's pace.
FAKE_CHUNK_DELAY = 0.02
# Every benchmark visitor comes from 127.0.0.1: the per-IP limits would refuse all
# but the first few; per-conversation limits stay as configured.
LOOPBACK_SERVER_ENVIRONMENT = {
    "LLM_PROVIDER": "extractive",
    "LOG_LEVEL": "warning",
    "RATE_LIMIT_MESSAGES_PER_IP": "1000000/m",
    "RATE_LIMIT_READS_PER_IP": "1000000/m",
    "WEBSOCKET_CONNECTIONS_PER_IP": "0",
}
FAKE_LLM_SERVER_ENVIRONMENT = {
    "LLM_PROVIDER": "openai",
    "OPENAI_API_KEY": "sk-bench",
    "LLM_TIMEOUT": "120",
    "LLM_TOKENS_PER_DAY": "0",
    "LLM_TOKENS_PER_CONVERSATION": "0",
    "LLM_TOKENS_PER_IP_PER_DAY": "0",
}
FALLBACK_QUESTIONS = [
    "How long do I have to return a bike?",
    "Do you ship to Canada?",
    "How much is the Cargo Long?",
    "Can I ride my e-bike in the rain?",
    "What warranty do the bikes have?",
]


def django_setup(*, provider: str = "extractive", kb: str = "sample") -> Path:
    """Configures Django on a fresh temporary install with the knowledge base `kb` (see `--kb`); returns DATA_DIR."""
    data_dir = Path(tempfile.mkdtemp(prefix="bench-answers-"))
    atexit.register(shutil.rmtree, data_dir, ignore_errors=True)
    for name in ("DATABASE_URL", "REDIS_URL", "DATABASE_TEST_NAME"):
        os.environ.pop(name, None)
    os.environ.update(
        DJANGO_SETTINGS_MODULE="chatbot.settings",
        DATA_DIR=str(data_dir),
        DOTENV="0",
        TASK_BACKEND="immediate",
        HF_HUB_OFFLINE="1",
        LLM_PROVIDER=provider,
        LOG_LEVEL="warning",
    )
    sys.path.insert(0, str(BASE_DIR))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    knowledge_base_prepare(kb=kb)
    return data_dir


def questions() -> list[str]:
    if QUERIES.exists():
        return [json.loads(line)["text"] for line in QUERIES.read_text().splitlines() if line.strip()]
    return FALLBACK_QUESTIONS


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def summary_ms(values: list[float]) -> dict[str, float]:
    """p50/p99/mean in milliseconds of durations given in seconds."""
    return {
        "p50_ms": round(percentile(values, 0.50) * 1000, 2),
        "p99_ms": round(percentile(values, 0.99) * 1000, 2),
        "mean_ms": round(statistics.fmean(values) * 1000, 2) if values else float("nan"),
        "n": len(values),
    }


def fake_llm_process() -> tuple[subprocess.Popen, str]:
    """Starts testsupport.fake_openai in its own process; returns it and its base URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "testsupport.fake_openai", "--port", "0", "--chunk-delay", str(FAKE_CHUNK_DELAY)],
        cwd=BASE_DIR,
        stdout=subprocess.PIPE,
        text=True,
    )
    line = process.stdout.readline()
    base_url = line.strip().rsplit(" ", 1)[-1]
    if not base_url.startswith("http"):
        process.kill()
        raise RuntimeError(f"fake LLM did not start: {line!r}")
    return process, base_url
