"""
The LLM token caps: per conversation, per client address and UTC day, and per
UTC day. Past a cap the extractive provider answers instead (no model call,
no cost), for that conversation or address only, and the stored answer says
why. Answers reserve their maximum cost before the model is called, so
parallel answers cannot overshoot a cap by more than one answer.
"""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from rest_framework.test import APIClient

from chatbot.pipeline import answer_stream
from conversations.models import Message, new_conversation_id
from core.limits import RateRequest, llm_tokens_used, llm_tokens_used_by_ip
from testsupport.fake_openai import Reply

pytestmark = pytest.mark.django_db(transaction=True)

RETURNS = "How long do I have to return a bike?"
RAIN = "Can I ride my e-bike in the rain?"
CANADA = "Do you ship to Canada?"


@pytest.fixture
def api():
    return APIClient()


def ask(api, message: str, conversation_id: str = ""):
    body = {"message": message, **({"conversation_id": conversation_id} if conversation_id else {})}
    return api.post("/api/chat/", body, format="json")


def costing(prompt_tokens: int, completion_tokens: int) -> Reply:
    return Reply(
        kind="stream",
        text="Returns are accepted within 30 days of delivery [1].",
        usage=(prompt_tokens, completion_tokens),
    )


def stored(body: dict) -> Message:
    return Message.objects.get(public_id=body["message_id"])


def test_past_the_conversation_cap_the_extractive_provider_answers(api, settings, tidewater_kb, openai_llm):
    settings.LLM_TOKENS_PER_CONVERSATION = 100
    openai_llm.script(costing(80, 30), costing(80, 30))

    first = ask(api, RETURNS).json()
    capped = ask(api, RAIN, first["conversation_id"])
    other_conversation = ask(api, CANADA).json()

    assert capped.status_code == 200
    assert stored(first).provider == "openai"
    message = stored(capped.json())
    assert message.provider == "extractive"
    assert "token cap reached: 110 of 100" in message.error and "LLM_TOKENS_PER_CONVERSATION" in message.error
    assert capped.json()["answered"] is True and capped.json()["sources"], "the visitor still gets a grounded answer"
    assert stored(other_conversation).provider == "openai", "other conversations keep the model"
    assert len(openai_llm.completion_requests()) == 2
    assert llm_tokens_used(conversation_id=first["conversation_id"]) == (110, 220)


def test_the_daily_cap_counts_every_conversation(api, settings, tidewater_kb, openai_llm):
    settings.LLM_TOKENS_PER_DAY = 150
    openai_llm.script(costing(80, 30), costing(80, 30))

    answers = [ask(api, question).json() for question in (RETURNS, RAIN, CANADA)]

    assert [stored(a).provider for a in answers] == ["openai", "openai", "extractive"]
    assert "LLM_TOKENS_PER_DAY" in stored(answers[2]).error
    assert len(openai_llm.completion_requests()) == 2


def test_tokens_are_estimated_when_the_model_reports_none(api, settings, tidewater_kb, openai_llm):
    settings.LLM_TOKENS_PER_CONVERSATION = 1
    openai_llm.script(Reply.cut("Returns are accepted within thirty days of delivery", after_chunks=3))

    broken = ask(api, RETURNS)
    conversation_id = broken.json()["conversation_id"]
    used, _ = llm_tokens_used(conversation_id=conversation_id)
    after = ask(api, RAIN, conversation_id).json()

    assert broken.status_code == 503 and stored(broken.json()).prompt_tokens is None, "no usage was reported"
    assert used > 50, "the prompt and the partial answer were estimated"
    assert stored(after).provider == "extractive"


def test_a_cap_of_zero_is_no_cap(api, settings, tidewater_kb, openai_llm):
    settings.LLM_TOKENS_PER_CONVERSATION = 0
    settings.LLM_TOKENS_PER_IP_PER_DAY = 0
    settings.LLM_TOKENS_PER_DAY = 0
    openai_llm.script(costing(10_000_000, 10), costing(10_000_000, 10))

    first = ask(api, RETURNS).json()
    second = ask(api, RAIN, first["conversation_id"]).json()

    assert [stored(first).provider, stored(second).provider] == ["openai", "openai"]


# --- The per-address daily budget, and parallel answers ---------------------------------------

SOMEONE = "203.0.113.80"
SOMEONE_ELSE = "198.51.100.44"


def ask_from(api, message: str, ip: str):
    return api.post("/api/chat/", {"message": message}, format="json", REMOTE_ADDR=ip)


async def ask_over_websocket(ip: str, text: str) -> list[dict]:
    from channels.testing import WebsocketCommunicator

    from chatbot.asgi import application

    communicator = WebsocketCommunicator(application, "/ws/chat/")
    communicator.scope["client"] = (ip, 50123)
    ok, _ = await communicator.connect(timeout=10)
    assert ok
    try:
        frames = [await communicator.receive_json_from(timeout=10)]
        await communicator.send_json_to({"type": "message", "text": text})
        while frames[-1]["type"] not in ("done", "error"):
            frames.append(await communicator.receive_json_from(timeout=10))
        return frames
    finally:
        await communicator.disconnect()


def test_past_its_daily_budget_an_address_gets_extractive_answers_and_others_keep_the_model(
    api, settings, tidewater_kb, openai_llm
):
    settings.LLM_TOKENS_PER_IP_PER_DAY = 150
    openai_llm.script(costing(80, 30), costing(80, 30), costing(80, 30))

    # Each question in a new conversation: a new conversation does not reset the address's budget.
    first, second, third = (ask_from(api, question, SOMEONE).json() for question in (RETURNS, RAIN, CANADA))
    other_address = ask_from(api, CANADA, SOMEONE_ELSE).json()

    assert len({first["conversation_id"], second["conversation_id"], third["conversation_id"]}) == 3
    assert [stored(a).provider for a in (first, second, third)] == ["openai", "openai", "extractive"]
    assert "token cap reached: 220 of 150 LLM tokens used today from this address" in stored(third).error
    assert "LLM_TOKENS_PER_IP_PER_DAY" in stored(third).error
    assert third["answered"] is True and third["sources"], "the address still gets a grounded answer"
    assert stored(other_address).provider == "openai", "other addresses keep the model"
    assert llm_tokens_used_by_ip(ip=SOMEONE) == 220 and llm_tokens_used_by_ip(ip=SOMEONE_ELSE) == 110


def test_the_websocket_and_the_rest_api_spend_the_same_address_budget(api, settings, tidewater_kb, openai_llm):
    settings.LLM_TOKENS_PER_IP_PER_DAY = 200
    openai_llm.script(costing(80, 30), costing(80, 30), costing(80, 30))

    over_websocket = async_to_sync(ask_over_websocket)(SOMEONE, RETURNS)
    over_rest = ask_from(api, RAIN, SOMEONE).json()
    capped = async_to_sync(ask_over_websocket)(SOMEONE, CANADA)

    assert over_websocket[-1]["type"] == "done" and over_rest["answer"]
    assert Message.objects.get(public_id=over_websocket[1]["message_id"]).provider == "openai"
    assert stored(over_rest).provider == "openai"
    message = Message.objects.get(public_id=capped[1]["message_id"])
    assert message.provider == "extractive" and "LLM_TOKENS_PER_IP_PER_DAY" in message.error
    assert llm_tokens_used_by_ip(ip=SOMEONE) == 220


async def test_parallel_answers_cannot_all_start_on_the_last_free_tokens(settings, tidewater_kb, openai_llm):
    """
    Before a model is called its answer reserves the most it can cost, so
    answers in flight count at once: past the cap, at most the one answer
    that found room overshoots it, however many run in parallel.
    """
    settings.LLM_TOKENS_PER_DAY = 150
    # Slow answers, so that all eight are asked while the first ones still stream.
    openai_llm.script(
        *[
            Reply(
                kind="stream",
                text="Returns are accepted within 30 days of delivery [1].",
                usage=(80, 30),
                chunk_delay=0.2,
            )
            for _ in range(8)
        ]
    )
    questions = [RETURNS, RAIN, CANADA, RETURNS, RAIN, CANADA, RETURNS, RAIN]

    async def answer(n: int) -> list[dict]:
        client = RateRequest(META={"REMOTE_ADDR": f"203.0.113.{n + 1}"})
        return [
            frame
            async for frame in answer_stream(conversation_id=new_conversation_id(), text=questions[n], client=client)
        ]

    answers = await asyncio.gather(*(answer(n) for n in range(8)))

    assert all(frames[-1]["type"] == "done" for frames in answers)
    _, day = await sync_to_async(llm_tokens_used)(conversation_id="-")
    model_calls = len(openai_llm.completion_requests())
    assert 1 <= model_calls <= 2, f"{model_calls} answers started on a cap of 150 tokens (110 each)"
    assert day == 110 * model_calls <= 150 + 110
