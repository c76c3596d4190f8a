"""
The Google Sheets API is unreachable while visitors leave contact details:
the chat answers as usual, every lead is in the database at once, and the
task worker mirrors each one exactly once when the API is back.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from urllib.parse import urlsplit

import pytest

from leads.models import Lead, SyncState
from tests.faults.clients import ChatClient
from tests.faults.services import TcpGate
from testsupport.fake_sheets import FakeSheets
from testsupport.processes import server_process, worker_process

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

VISITORS = 6


def mirror_environment(sheets: FakeSheets, gate: TcpGate) -> dict[str, str]:
    """The app's Sheets settings with every call (token and API) going through the gate."""
    account = sheets.service_account_info()
    account["token_uri"] = f"{gate.url}/token"
    return {
        "SHEETS_CREDENTIALS_JSON": json.dumps(account),
        "SHEETS_SPREADSHEET_ID": sheets.spreadsheet_id,
        "SHEETS_API_BASE_URL": gate.url,
        "SHEETS_WORKSHEET": "Leads",
        "SHEETS_TIMEOUT": "10",
        "LEADS_SYNC_RETRY_BASE": "0.3",
        "LEADS_SYNC_RETRY_MAX": "1",
        "LLM_PROVIDER": "extractive",
    }


def wait_until(condition, *, timeout: float, describe) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, describe()
        time.sleep(0.2)


async def leave_details(visitor: ChatClient, number: int) -> tuple[float, str]:
    """Half the visitors write their details in a message, half use the contact form."""
    await visitor.open()
    started = time.monotonic()
    if number % 2:
        answer = await visitor.ask(f"I'm Visitor {number}, please call me back at visitor{number}@example.com")
        assert answer.done, answer.frames
    else:
        await visitor.send(
            {
                "type": "lead",
                "name": f"Visitor {number}",
                "email": f"visitor{number}@example.com",
                "phone": "",
                "consent": True,
            }
        )
    frame = await visitor.recv()
    assert frame["type"] == "lead", frame
    return time.monotonic() - started, frame["status"]


async def visitors_leave_details(ws_url: str) -> list[tuple[float, str]]:
    visitors = [ChatClient(ws_url) for _ in range(VISITORS)]
    try:
        return await asyncio.gather(*[leave_details(visitor, n) for n, visitor in enumerate(visitors)])
    finally:
        await asyncio.gather(*[visitor.close() for visitor in visitors])


def sync_states() -> list[dict]:
    return list(Lead.objects.values("sync_state", "sync_attempts", "sync_error"))


def test_leads_taken_while_the_sheets_api_is_down_are_kept_and_mirrored_once_it_is_back(tidewater_kb):
    with FakeSheets() as sheets:
        gate = TcpGate(target_port=urlsplit(sheets.url).port)  # down: nothing listens there yet
        env = mirror_environment(sheets, gate)
        with (
            server_process("gunicorn", env={**env, "TASK_BACKEND": "database"}) as server,
            worker_process(env=env) as worker,
        ):
            results = asyncio.run(visitors_leave_details(server.ws_url))

            assert [status for _, status in results] == ["captured"] * VISITORS
            assert max(seconds for seconds, _ in results) < 5, "the visitor never waits for Google"
            assert Lead.objects.count() == VISITORS
            wait_until(
                lambda: Lead.objects.filter(sync_state=SyncState.PENDING, sync_attempts__gte=1).count() == VISITORS,
                timeout=30,
                describe=sync_states,
            )
            assert all(state["sync_error"] for state in sync_states()), sync_states()
            assert not sheets.requests, "nothing reached the API while it was down"

            gate.up()
            wait_until(
                lambda: Lead.objects.filter(sync_state=SyncState.SYNCED).count() == VISITORS,
                timeout=60,
                describe=sync_states,
            )
            assert worker.process.poll() is None, worker.log()
        gate.down()

    rows = sheets.rows("Leads")
    assert rows[0][0] == "Lead ID"
    ids = [row[0] for row in rows[1:]]
    assert Counter(ids).most_common(1)[0][1] == 1, "a lead is twice in the sheet"
    assert sorted(ids, key=int) == [str(pk) for pk in Lead.objects.order_by("pk").values_list("pk", flat=True)]
    assert sorted(row[3] for row in rows[1:]) == sorted(f"visitor{n}@example.com" for n in range(VISITORS))
