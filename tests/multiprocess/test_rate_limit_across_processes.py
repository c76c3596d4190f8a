"""
Rate limits count in Redis, so two web processes share every bucket: a
conversation or a client over its limit is refused by whichever process it
reaches next, over the WebSocket and over REST alike.

The rates are per day, so that no window boundary can fall inside the test
and reset a count half-way.
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request

import pytest

from tests.faults.clients import ChatClient
from testsupport.processes import server_process

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

QUESTION = "Do you ship to Canada?"


def post_chat(base_url: str, message: str) -> tuple[int, dict, str | None]:
    request = urllib.request.Request(
        f"{base_url}/api/chat/",
        data=json.dumps({"message": message}).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read()), None
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read()), error.headers.get("Retry-After")


@pytest.fixture
def two_servers_limiting(tidewater_kb, request):
    env = {"LLM_PROVIDER": "extractive", **request.param}
    with server_process("gunicorn", env=env) as first, server_process("gunicorn", env=env) as second:
        yield first, second


@pytest.mark.parametrize(
    "two_servers_limiting",
    [{"RATE_LIMIT_MESSAGES_PER_CONVERSATION": "4/d", "RATE_LIMIT_MESSAGES_PER_IP": "100000/d"}],
    indirect=True,
)
async def test_a_conversation_over_its_limit_is_refused_by_either_process(two_servers_limiting):
    first, second = two_servers_limiting
    visitor = ChatClient(first.ws_url)
    await visitor.open()
    answers = [await visitor.ask(QUESTION) for _ in range(2)]
    await visitor.close()
    await visitor.open(second.ws_url)
    answers += [await visitor.ask(QUESTION) for _ in range(2)]

    refused_here = await visitor.ask(QUESTION)
    await visitor.close()
    await visitor.open(first.ws_url)
    refused_there = await visitor.ask(QUESTION)
    still_open = await visitor.ask(QUESTION)
    someone_else = ChatClient(second.ws_url)
    await someone_else.open()
    other_answer = await someone_else.ask(QUESTION)
    await asyncio.gather(visitor.close(), someone_else.close())

    assert all(answer.done for answer in answers), [a.last for a in answers]
    for refused in (refused_here, refused_there, still_open):
        assert refused.kinds() == ["error"] and refused.last["code"] == "rate_limited", refused.frames
        assert refused.last["retry_after"] >= 1
    assert other_answer.done, "another conversation has its own count"


@pytest.mark.parametrize(
    "two_servers_limiting",
    [{"RATE_LIMIT_MESSAGES_PER_IP": "5/d", "RATE_LIMIT_MESSAGES_PER_CONVERSATION": "100000/d"}],
    indirect=True,
)
async def test_a_client_over_its_ip_limit_is_refused_by_both_processes_over_rest_and_websocket(two_servers_limiting):
    first, second = two_servers_limiting
    accepted = [await asyncio.to_thread(post_chat, server.url, QUESTION) for server in (first, second, first)]
    visitor = ChatClient(second.ws_url)
    await visitor.open()
    accepted_ws = [await visitor.ask(QUESTION) for _ in range(2)]

    refused_rest = [await asyncio.to_thread(post_chat, server.url, QUESTION) for server in (first, second)]
    refused_ws = await visitor.ask(QUESTION)
    await visitor.close()

    assert [status for status, _, _ in accepted] == [200, 200, 200]
    assert all(answer.done for answer in accepted_ws)
    for status, body, retry_after in refused_rest:
        assert (status, body["code"]) == (429, "rate_limited")
        assert int(retry_after) >= 1 and body["retry_after"] >= 1
    assert refused_ws.kinds() == ["error"] and refused_ws.last["code"] == "rate_limited", refused_ws.frames
