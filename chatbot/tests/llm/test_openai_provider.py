"""The `openai` provider: the real AsyncOpenAI client against the fake server on loopback."""

from __future__ import annotations

import time

import pytest

from chatbot.llm import (
    AnswerRequest,
    LLMStreamBroken,
    LLMUnavailable,
    TextDelta,
    Usage,
    provider_get,
)
from testsupport.fake_openai import Reply
from testsupport.waiting import wait_until

REQUEST = AnswerRequest(
    question="How long is the warranty?",
    passages=(),
    messages=({"role": "system", "content": "Be brief."}, {"role": "user", "content": "How long is the warranty?"}),
)


async def collect(provider) -> tuple[str, Usage | None]:
    text, usage = "", None
    async for event in provider.stream(REQUEST):
        if isinstance(event, TextDelta):
            text += event.text
        else:
            usage = event
    return text, usage


@pytest.fixture
def provider(openai_llm):
    return provider_get()


async def test_it_streams_the_reply_token_by_token_with_usage(provider, openai_llm):
    openai_llm.script(Reply.stream("Frames have a lifetime warranty [1]."))
    deltas = [event async for event in provider.stream(REQUEST) if isinstance(event, TextDelta)]

    assert len(deltas) > 3
    assert "".join(d.text for d in deltas) == "Frames have a lifetime warranty [1]."
    request = openai_llm.completion_requests()[0]
    assert request.body["stream"] is True
    assert request.body["model"] == "fake-gpt"
    assert request.body["messages"] == list(REQUEST.messages)
    assert request.headers["authorization"] == "Bearer sk-test"


async def test_it_reports_the_token_counts_the_server_sends(provider, openai_llm):
    openai_llm.script(Reply(kind="stream", text="Two years.", usage=(321, 4)))
    _, usage = await collect(provider)

    assert usage == Usage(prompt_tokens=321, completion_tokens=4)


async def test_it_sends_model_temperature_and_max_tokens_from_settings(settings, openai_llm):
    settings.LLM_MODEL = "mistral-small-latest"
    settings.LLM_TEMPERATURE = 0.7
    settings.LLM_MAX_TOKENS = 123
    await collect(provider_get())

    body = openai_llm.completion_requests()[0].body
    assert (body["model"], body["temperature"], body["max_tokens"]) == ("mistral-small-latest", 0.7, 123)


async def test_it_retries_a_429_after_the_delay_the_server_asks_for(provider, openai_llm):
    openai_llm.script(Reply.error(429, retry_after=0.4), Reply.stream("Two years."))
    text, _ = await collect(provider)

    requests = openai_llm.completion_requests()
    assert text == "Two years."
    assert len(requests) == 2
    assert requests[1].received_at - requests[0].received_at >= 0.38


async def test_it_retries_server_errors_with_backoff_then_answers(provider, openai_llm):
    openai_llm.script(Reply.error(500), Reply.error(503), Reply.stream("Two years."))
    text, _ = await collect(provider)

    assert text == "Two years."
    assert len(openai_llm.completion_requests()) == 3


async def test_it_gives_up_after_the_configured_retries(settings, openai_llm):
    settings.LLM_MAX_RETRIES = 1
    openai_llm.script(Reply.error(500), Reply.error(500), Reply.error(500))
    with pytest.raises(LLMUnavailable) as failure:
        await collect(provider_get())

    assert len(openai_llm.completion_requests()) == 2
    assert "500" in failure.value.detail


async def test_it_retries_a_request_that_times_out(settings, openai_llm):
    settings.LLM_TIMEOUT = 1
    openai_llm.script(Reply.hang(), Reply.stream("Two years."))
    text, _ = await collect(provider_get())

    assert text == "Two years."
    hung = openai_llm.completion_requests()[0]
    assert len(openai_llm.completion_requests()) == 2
    # The fake holds the hung request for a minute unless the client cuts it.
    wait_until(lambda: hung.client_gave_up, describe="the client never gave up on the hung request")


async def test_a_timeout_on_every_attempt_is_unavailable(settings, openai_llm):
    settings.LLM_TIMEOUT = 1
    settings.LLM_MAX_RETRIES = 1
    openai_llm.script(Reply.hang(), Reply.hang())
    with pytest.raises(LLMUnavailable) as failure:
        await collect(provider_get())

    assert "Timeout" in failure.value.detail
    wait_until(lambda: [request.client_gave_up for request in openai_llm.completion_requests()] == [True, True])


async def test_a_stream_cut_half_way_raises_after_the_tokens_it_gave(provider, openai_llm):
    openai_llm.script(Reply.cut("one two three four five six", after_chunks=3), Reply.stream("never asked"))
    received = []
    with pytest.raises(LLMStreamBroken):
        async for event in provider.stream(REQUEST):
            if isinstance(event, TextDelta):
                received.append(event.text)

    assert "".join(received) == "one two three "
    assert len(openai_llm.completion_requests()) == 1, "a started answer is never retried"


async def test_a_client_error_is_not_retried(provider, openai_llm):
    openai_llm.script(Reply.error(400))
    with pytest.raises(LLMUnavailable) as failure:
        await collect(provider)

    assert len(openai_llm.completion_requests()) == 1
    assert "not retryable" in failure.value.detail


async def test_it_does_not_wait_when_asked_to_wait_too_long(provider, openai_llm):
    openai_llm.script(Reply.error(429, retry_after=120))
    started = time.monotonic()
    with pytest.raises(LLMUnavailable):
        await collect(provider)

    assert time.monotonic() - started < 60, "it waited for the Retry-After of 120 s"
    assert len(openai_llm.completion_requests()) == 1


async def test_a_local_server_needs_no_api_key(settings, openai_llm):
    settings.OPENAI_API_KEY = ""
    text, _ = await collect(provider_get())

    assert text.startswith("According to our documentation")
    assert openai_llm.completion_requests()[0].headers["authorization"] == "Bearer not-needed"
