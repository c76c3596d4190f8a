"""POST /api/chat/ served by a real server process: SSE tokens arrive while the model writes; JSON works too."""

from __future__ import annotations

import json
import time
import urllib.request

import pytest

from testsupport.fake_openai import FakeOpenAI
from testsupport.processes import server_process

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_an_sse_answer_arrives_token_by_token(tidewater_kb):
    with FakeOpenAI(chunk_delay=0.15) as llm, server_process(
        "uvicorn", env={"LLM_PROVIDER": "openai", "OPENAI_BASE_URL": llm.base_url, "OPENAI_API_KEY": "sk-test"}
    ) as server:
        request = urllib.request.Request(
            f"{server.url}/api/chat/", data=json.dumps({"message": "Do you ship to Canada?"}).encode(),
            headers={"Content-Type": "application/json", "Accept": "text/event-stream"}, method="POST",
        )
        arrivals: list[tuple[float, dict]] = []
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.headers["Content-Type"].startswith("text/event-stream")
            for line in response:
                if line.startswith(b"data: "):
                    arrivals.append((time.monotonic(), json.loads(line[6:])))

    types = [frame["type"] for _, frame in arrivals]
    assert types[:2] == ["conversation", "start"] and types[-2:] == ["sources", "done"]
    tokens = [when for when, frame in arrivals if frame["type"] == "token"]
    assert len(tokens) > 10
    assert tokens[-1] - tokens[0] > 1.0, "tokens were sent as they came, not buffered to the end"


def test_a_json_answer_from_a_server_process(tidewater_kb):
    with server_process("uvicorn", env={"LLM_PROVIDER": "extractive"}) as server:
        request = urllib.request.Request(
            f"{server.url}/api/chat/", data=json.dumps({"message": "Do you ship to Canada?"}).encode(),
            headers={"Content-Type": "application/json"}, method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            body = json.loads(response.read())

    assert body["answered"] is True
    assert "Canada" in body["answer"]
    assert body["sources"][0]["n"] == 1
