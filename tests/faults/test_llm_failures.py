"""
The model misbehaves behind a real server (Gunicorn with Uvicorn workers,
`LLM_PROVIDER=openai`, the real `openai` client): it never answers, it fails
with 500s, its stream is cut half-way. The visitor always gets a complete
answer or a clear error, nothing said is lost, and the WebSocket stays open.
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request

import pytest

from conversations.models import Message
from tests.faults.clients import ChatClient, db_call
from testsupport.fake_openai import FakeOpenAI, Reply
from testsupport.processes import server_process
from testsupport.waiting import await_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

LONG_REPLY = (
    "Yes. We deliver to all 50 US states and to Canada [1]. Alaska, Hawaii and Canada pay a flat fee of "
    "one hundred and forty-nine dollars per bike, and delivery usually takes five to eight working days "
    "depending on where you live; we will email you a tracking link as soon as your bike leaves our depot."
)


@pytest.fixture
def llm():
    with FakeOpenAI(chunk_delay=0.005) as fake:
        yield fake


@pytest.fixture
def llm_timeout() -> float:
    """Generous, so that a busy machine never turns a slow answer into a timeout; the timeout test sets 1 s."""
    return 30.0


@pytest.fixture
def server(tidewater_kb, llm, llm_timeout):
    env = {
        "LLM_PROVIDER": "openai",
        "OPENAI_BASE_URL": llm.base_url,
        "OPENAI_API_KEY": "sk-test",
        "LLM_TIMEOUT": str(llm_timeout),
        "LLM_CONNECT_TIMEOUT": "10",
        "LLM_MAX_RETRIES": "1",
    }
    with server_process("gunicorn", env=env) as running:
        yield running


def stored(message_id: str) -> Message:
    return Message.objects.get(public_id=message_id)


@pytest.mark.parametrize("llm_timeout", [1.0])
async def test_a_model_that_never_answers_is_replaced_by_quoting_the_knowledge_base(server, llm):
    llm.script(Reply.hang(), Reply.hang())  # each held for a minute, unless the server gives up first
    visitor = ChatClient(server.ws_url)
    await visitor.open()

    answer = await visitor.ask("Do you ship to Canada?")

    assert answer.kinds() == ["start", "token", "sources", "done"]
    assert answer.last["answered"] is True and "Canada" in answer.text
    assert len(llm.completion_requests()) == 2, "one attempt and one retry"
    await await_until(
        lambda: all(request.client_gave_up for request in llm.completion_requests()),
        describe="the server did not cut both hung calls at LLM_TIMEOUT",
    )
    message = await db_call(stored, answer.message_id)
    assert (message.provider, message.text) == ("extractive", answer.text)
    assert "APITimeoutError" in message.error
    await visitor.close()


async def test_a_model_failing_with_500s_is_retried_and_then_replaced(server, llm):
    llm.script(
        Reply.error(500), Reply.stream("We ship to Canada for a flat $149 [1]."), Reply.error(500), Reply.error(503)
    )
    visitor = ChatClient(server.ws_url)
    await visitor.open()

    recovered = await visitor.ask("Do you ship to Canada?")
    replaced = await visitor.ask("Can I ride my e-bike in the rain?")

    assert recovered.done and recovered.text == "We ship to Canada for a flat $149 [1]."
    assert [item["n"] for item in recovered.frames[-2]["items"]] == [1]
    assert replaced.done and replaced.last["answered"] is True and "rain" in replaced.text
    assert len(llm.completion_requests()) == 4
    first, second = await asyncio.gather(db_call(stored, recovered.message_id), db_call(stored, replaced.message_id))
    assert (first.provider, first.error) == ("openai", "")
    assert second.provider == "extractive" and "HTTP 503" in second.error
    await visitor.close()


async def test_a_stream_cut_half_way_ends_with_an_error_keeps_the_partial_answer_and_the_connection(server, llm):
    llm.script(Reply.cut(LONG_REPLY, after_chunks=30))
    visitor = ChatClient(server.ws_url)
    await visitor.open()

    cut = await visitor.ask("Do you ship to Canada?")
    following = await visitor.ask("Can I ride my e-bike in the rain?")

    assert cut.kinds() == ["start", "token", "error"]
    assert cut.last["code"] == "llm_unavailable" and cut.last["message_id"] == cut.message_id
    assert cut.text and LONG_REPLY.startswith(cut.text) and cut.text != LONG_REPLY
    message = await db_call(stored, cut.message_id)
    assert message.text == cut.text, "the partial answer is stored as the visitor saw it"
    assert message.answered is None and message.error.startswith("llm_unavailable")
    assert following.done and following.last["answered"] is True, "the WebSocket is still usable"
    await visitor.close()


def test_a_stream_cut_half_way_through_rest_answers_503_with_the_partial_answer(server, llm):
    llm.script(Reply.cut(LONG_REPLY, after_chunks=30))
    request = urllib.request.Request(
        f"{server.url}/api/chat/",
        data=json.dumps({"message": "Do you ship to Canada?"}).encode(),
        headers={"Content-Type": "application/json", "Accept": "application/json"},
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as failure:
        urllib.request.urlopen(request, timeout=30)

    assert failure.value.code == 503
    body = json.loads(failure.value.read())
    assert body["code"] == "llm_unavailable" and LONG_REPLY.startswith(body["partial_answer"])
    assert stored(body["message_id"]).text == body["partial_answer"]
