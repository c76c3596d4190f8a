"""
Schemathesis against `/api/schema/` of a real server process: whatever it
sends (valid requests, wrong types, missing fields, odd strings and headers),
no endpoint answers with a 5xx. The run is bounded (examples per operation)
and seeded, so it is the same run every time (a few hundred requests).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from testsupport.processes import server_process

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

MAX_EXAMPLES = 100
TIMEOUT_SECONDS = 240


def test_no_generated_request_makes_the_api_answer_5xx(tidewater_kb, tmp_path: Path):
    report = tmp_path / "schemathesis.json"
    # Generous limits: the point is to reach the handlers, not to count 429s.
    env = {
        "LLM_PROVIDER": "extractive",
        "LEADS_API_RATE": "10000/m",
        "RATE_LIMIT_MESSAGES_PER_IP": "10000/m",
        "RATE_LIMIT_MESSAGES_PER_CONVERSATION": "10000/m",
        "RATE_LIMIT_READS_PER_IP": "10000/m",
        "RATE_LIMIT_READS_PER_CONVERSATION": "10000/m",
        "RATE_LIMIT_FEEDBACK_PER_IP": "10000/m",
        "RATE_LIMIT_FEEDBACK_PER_CONVERSATION": "10000/m",
        "RATE_LIMIT_LEADS_PER_CONVERSATION": "10000/m",
    }
    with server_process("gunicorn", env=env) as server:
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "schemathesis.cli",
                "run",
                f"{server.url}/api/schema/",
                "--checks",
                "not_a_server_error",
                "--phases",
                "examples,coverage,fuzzing",
                "--max-examples",
                str(MAX_EXAMPLES),
                "--seed",
                "7",
                "--workers",
                "2",
                "--request-timeout",
                "20",
                "--generation-database",
                "none",
                "--report",
                "json",
                "--report-json-path",
                str(report),
                "--no-color",
                "--warnings",
                "off",
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,  # its caches land there
        )
        server_log = server.log()

    output = run.stdout[-6000:] + run.stderr[-2000:]
    assert run.returncode == 0, f"{output}\n--- server log ---\n{server_log[-4000:]}"
    summary = json.loads(report.read_text())
    print(f"schemathesis: {summary['test_cases']['generated']} requests in {summary['running_time']:.1f}s")
    assert summary["operations"]["tested"] == summary["operations"]["total"] >= 5, summary["operations"]
    assert summary["test_cases"]["generated"] >= 300 and summary["failures"] == [] and summary["errors"] == []
    assert "Traceback" not in server_log, server_log[-4000:]
