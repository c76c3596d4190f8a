"""
What a real server process writes to its log in production mode
(LOG_FORMAT=json) while it handles chats that carry contact details: one JSON
object per line, with the request id and the conversation's reference (a
short hash: the id itself reads the transcript), and never a raw email, phone
number or secret. And what every server writes with its access log on: no
conversation id in any URL, client addresses left as they are.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets

import pytest
import requests
from websockets.asyncio.client import connect

from core.logredact import conversation_ref
from testsupport.fake_openai import FakeOpenAI
from testsupport.processes import server_process

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

TIMEOUT = 20
CHAT_EMAIL, CHAT_PHONE, CHAT_E164 = "ana.lopez@brightside.io", "+44 20 7946 0958", "+442079460958"
FORM_EMAIL, FORM_PHONE, FORM_E164 = "ben.walker@example.org", "(503) 555-0142", "+15035550142"
API_EMAIL, API_PHONE, API_E164 = "cy.nakamura@harbour.example", "+1 415 555 0199", "+14155550199"
# Lines written before Django is set up: the Gunicorn master's own, and Python warnings.
GUNICORN_MASTER = re.compile(r"^\[\d{4}-\d\d-\d\d [\d:]+ [+-]\d{4}\] \[\d+\] \[[A-Z]+\] ")
PYTHON_WARNING = re.compile(r"Warning: |^  ")
CONSENT = "I agree that Tidewater Bikes contacts me about my request."


async def until(ws, *types: str) -> list[dict]:
    frames = []
    while not frames or frames[-1]["type"] not in (*types, "error"):
        frames.append(json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT)))
    return frames


async def visit(ws_url: str) -> str:
    async with connect(f"{ws_url}/ws/chat/", open_timeout=TIMEOUT) as ws:
        conversation_id = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))["id"]
        await ws.send(
            json.dumps(
                {
                    "type": "message",
                    "text": f"Do you ship to Canada? I'm Ana from Brightside, "
                    f"mail me at {CHAT_EMAIL} or call {CHAT_PHONE}",
                }
            )
        )
        frames = await until(ws, "lead")
        assert frames[-1] == {"type": "lead", "status": "captured"}, frames
        await ws.send(
            json.dumps(
                {"type": "lead", "name": "Ben Walker", "email": FORM_EMAIL, "phone": FORM_PHONE, "consent": True}
            )
        )
        assert (await until(ws, "lead"))[-1]["type"] == "lead"
    return conversation_id


def post(url: str, body: dict) -> requests.Response:
    return requests.post(url, json=body, timeout=TIMEOUT)


async def test_json_logs_carry_the_ids_and_no_contact_details_or_secrets(tidewater_kb):
    api_key = "sk-live-" + secrets.token_hex(16)
    with (
        FakeOpenAI() as llm,
        server_process(
            "gunicorn",
            env={
                "LOG_FORMAT": "json",
                "LOG_LEVEL": "debug",
                "LLM_PROVIDER": "openai",
                "OPENAI_BASE_URL": llm.base_url,
                "OPENAI_API_KEY": api_key,
            },
        ) as server,
    ):
        conversation_id = await visit(server.ws_url)
        lead = await asyncio.to_thread(
            post,
            f"{server.url}/api/leads/",
            {
                "name": "Cy",
                "email": API_EMAIL,
                "phone": API_PHONE,
                "consent": True,
                "consent_text": CONSENT,
                "conversation_id": conversation_id,
            },
        )
        chat = await asyncio.to_thread(
            post,
            f"{server.url}/api/chat/",
            {"message": f"Can I ride in the rain? Reach me at {API_EMAIL}", "conversation_id": conversation_id},
        )
    assert lead.status_code == 201 and chat.status_code == 200
    assert len(llm.completion_requests()) == 2, "the model saw both questions, contact details included"

    log = server.log()
    for raw in (
        CHAT_EMAIL,
        CHAT_PHONE,
        CHAT_E164,
        "7946 0958",
        "79460958",
        FORM_EMAIL,
        FORM_PHONE,
        FORM_E164,
        "555-0142",
        API_EMAIL,
        API_PHONE,
        API_E164,
        api_key,
    ):
        assert raw not in log, f"{raw!r} is in the server log"

    lines = [line for line in log.splitlines() if line.strip()]
    records = [json.loads(line) for line in lines if line.startswith("{")]
    assert len(records) >= 5
    others = [line for line in lines if not line.startswith("{")]
    assert all(GUNICORN_MASTER.match(line) or PYTHON_WARNING.search(line) for line in others), others
    assert all(set(r) >= {"time", "level", "logger", "message", "request_id", "conversation_id"} for r in records)
    assert conversation_id not in log
    ours = [r for r in records if r["conversation_id"] == conversation_ref(conversation_id)]
    loggers = {r["logger"] for r in ours}
    assert {"chatbot.pipeline.save", "django.request"} & loggers, loggers
    assert any(r["logger"] == "chatbot.pipeline.save" and "stored" in r["message"] for r in ours)
    assert all(r["request_id"] != "-" for r in ours)
    assert any(r["request_id"] == chat.headers["X-Request-ID"] for r in ours), "REST lines carry the request id"
    assert any("+44***58" in r["message"] for r in records), "contact details appear masked"


CLIENT = "203.0.113.67"
ACCESS_LOG_ON = {"gunicorn": ["--access-logfile", "-"], "uvicorn": ["--access-log"], "daphne": []}


async def resume_and_read(server, conversation_id: str) -> None:
    """The two URLs that carry a conversation id: the WebSocket's resume and the REST history."""
    forwarded = {"X-Forwarded-For": CLIENT}
    async with connect(
        f"{server.ws_url}/ws/chat/?conversation={conversation_id}", open_timeout=TIMEOUT, additional_headers=forwarded
    ) as ws:
        assert json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))["id"] == conversation_id
    history = await asyncio.to_thread(
        requests.get, f"{server.url}/api/conversations/{conversation_id}/", headers=forwarded, timeout=TIMEOUT
    )
    assert history.status_code == 200


@pytest.mark.parametrize("kind", ["gunicorn", "uvicorn", "daphne"])
async def test_no_server_writes_a_conversation_id_and_client_addresses_stay_whole(kind):
    with server_process(kind, args=ACCESS_LOG_ON[kind]) as server:
        async with connect(f"{server.ws_url}/ws/chat/", open_timeout=TIMEOUT) as ws:
            conversation_id = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))["id"]
            await ws.send(json.dumps({"type": "message", "text": "Do you ship to Canada?"}))
            await until(ws, "done")
        await resume_and_read(server, conversation_id)

    log = server.log()
    assert conversation_id not in log
    ref = f"~{conversation_ref(conversation_id)}"
    assert f"/api/conversations/{ref}/" in log, "the access line is there, with the reference in the URL"
    if kind != "daphne":  # Daphne trusts no X-Forwarded-For without --proxy-headers
        assert CLIENT in log and "20***67" not in log
        assert f"/ws/chat/?conversation={ref}" in log
