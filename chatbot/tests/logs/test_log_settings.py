"""LOG_FORMAT and LOG_LEVEL from the environment: JSON lines in production, readable text in development."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[3]
CONV_9_REF = hashlib.sha256(b"conv-9").hexdigest()[:12]  # lines carry the conversation's reference
LOG_SOME_LINES = """
import logging, django
django.setup()
from core.structured_logging import bind_conversation, bind_request_id
bind_request_id("req-7"); bind_conversation("conv-9")
log = logging.getLogger("chatbot.example")
log.debug("debug line")
log.info("lead from ana@brightside.io")
try:
    raise ValueError("no lead for +44 20 7946 0958")
except ValueError:
    log.exception("capture failed")
"""


def log_output(tmp_path: Path, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("LOG_", "DATABASE", "REDIS"))}
    clean.update({"DJANGO_SETTINGS_MODULE": "chatbot.settings", "DATA_DIR": str(tmp_path), "DOTENV": "0", **env})
    result = subprocess.run(
        [sys.executable, "-c", LOG_SOME_LINES], cwd=BASE_DIR, env=clean, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return result.stderr


def test_production_writes_one_json_object_per_line(tmp_path):
    lines = [json.loads(line) for line in log_output(tmp_path, LOG_FORMAT="json").splitlines()]

    assert [(line["level"], line["message"]) for line in lines] == [
        ("info", "lead from a***@brightside.io"),
        ("error", "capture failed"),
    ]
    assert all((line["request_id"], line["conversation_id"]) == ("req-7", CONV_9_REF) for line in lines)
    assert "ValueError: no lead for +44***58" in lines[1]["exception"]


def test_development_writes_readable_text_with_the_ids_and_masks_tracebacks_too(tmp_path):
    output = log_output(tmp_path)

    assert f"INFO chatbot.example [req=req-7 conv={CONV_9_REF}] lead from a***@brightside.io" in output
    assert "ValueError: no lead for +44***58" in output
    assert "7946" not in output and "ana@" not in output
    assert not output.lstrip().startswith("{")


def test_the_level_comes_from_log_level(tmp_path):
    debug = log_output(tmp_path, LOG_LEVEL="debug")
    errors_only = log_output(tmp_path, LOG_LEVEL="error")

    assert "debug line" in debug
    assert "lead from" not in errors_only and "capture failed" in errors_only
