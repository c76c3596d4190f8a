"""POST /api/chat/ served by a real server process: SSE tokens arrive while the model writes; JSON works too."""

from __future__ import annotations

import json
import threading
import urllib.request

import pytest

from testsupport.fake_openai import FakeOpenAI, Reply
from testsupport.processes import server_process

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ANSWER = "We deliver to all 50 US states and to Canada, for a flat fee of $149 per bike [1]."


def test_an_sse_answer_arrives_token_by_token(tidewater_kb):
    """The model stops after a few words until the client has read them: nothing is buffered to the end."""
    rest = threading.Event()
    with (
        FakeOpenAI() as llm,
        server_process(
            "uvicorn", env={"LLM_PROVIDER": "openai", "OPENAI_BASE_URL": llm.base_url, "OPENAI_API_KEY": "sk-test"}
        ) as server,
    ):
        llm.script(Reply.stall(ANSWER, after_chunks=4, resume=rest))
        request = urllib.request.Request(
            f"{server.url}/api/chat/",
            data=json.dumps({"message": "Do you ship to Canada?"}).encode(),
            headers={"Content-Type": "application/json", "Accept": "text/event-stream"},
            method="POST",
        )
        frames: list[dict] = []
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.headers["Content-Type"].startswith("text/event-stream")
            for line in response:
                if line.startswith(b"data: "):
                    frames.append(json.loads(line[6:]))
                    if frames[-1]["type"] == "token" and not rest.is_set():
                        rest.set()  # a token reached the client while the model was still writing

    types = [frame["type"] for frame in frames]
    assert types[:2] == ["conversation", "start"] and types[-2:] == ["sources", "done"]
    assert rest.is_set() and "".join(frame["text"] for frame in frames if frame["type"] == "token") == ANSWER


def test_a_json_answer_from_a_server_process(tidewater_kb):
    with server_process("uvicorn", env={"LLM_PROVIDER": "extractive"}) as server:
        request = urllib.request.Request(
            f"{server.url}/api/chat/",
            data=json.dumps({"message": "Do you ship to Canada?"}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            body = json.loads(response.read())

    assert body["answered"] is True
    assert "Canada" in body["answer"]
    assert body["sources"][0]["n"] == 1
