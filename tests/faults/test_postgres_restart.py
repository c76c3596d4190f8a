"""
PostgreSQL restarted under a running server: while it is down, a visitor gets
a clear error and keeps the WebSocket; once it is back, the same connection
works again (the server's pooled or persistent database connections, which the
restart killed, are replaced), with nothing lost.

The cluster is the test's own (initdb + pg_ctl on a free port), never the
machine's shared one; it runs in both passes of the suite.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.faults.clients import ChatClient
from tests.faults.services import PostgresCluster
from testsupport.processes import BASE_DIR, child_environment, server_process
from testsupport.waiting import await_until

pytestmark = [pytest.mark.slow]

LOAD_KNOWLEDGE = """
import django
django.setup()
from chatbot.tests.support import TIDEWATER_FAQS, knowledge_base_load
knowledge_base_load(faqs=TIDEWATER_FAQS)
"""


@pytest.fixture(scope="module")
def cluster():
    with PostgresCluster() as running:
        yield running


@pytest.fixture(scope="module")
def app_env(cluster):
    """A migrated database with the sample FAQs indexed, on the throwaway cluster."""
    data_dir = tempfile.mkdtemp(prefix="fault-pg-data-")
    env = {
        "DATABASE_URL": cluster.create_database("chatbot"),
        "DATA_DIR": data_dir,
        "LLM_PROVIDER": "extractive",
        "TASK_BACKEND": "immediate",
    }
    for command in (["manage.py", "migrate", "--noinput", "-v", "0"], ["-c", LOAD_KNOWLEDGE]):
        subprocess.run(
            [sys.executable, *command],
            cwd=BASE_DIR,
            env=child_environment(**env),
            check=True,
            capture_output=True,
            timeout=300,
        )
    yield env
    shutil.rmtree(data_dir, ignore_errors=True)


def get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=15) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        body = error.read()
        return error.code, json.loads(body) if body.startswith(b"{") else {"raw": body[:200].decode()}


@pytest.mark.parametrize(
    "connections",
    [
        {},  # the default: a pool per process, whose connections the restart kills
        {"DATABASE_POOL_MAX_SIZE": "0", "DATABASE_CONN_MAX_AGE": "60"},  # persistent connections instead
    ],
    ids=["pooled", "persistent"],
)
async def test_a_postgres_restart_costs_visitors_one_clear_error_and_nothing_else(cluster, app_env, connections):
    with server_process("gunicorn", env={**app_env, **connections}, log_dir=Path(app_env["DATA_DIR"])) as server:
        visitor = ChatClient(server.ws_url)
        await visitor.open()
        first = await visitor.ask("Do you ship to Canada?")
        assert first.done, first.frames

        cluster.stop()
        during = await visitor.ask("Can I ride my e-bike in the rain?")
        ready_status, ready = await asyncio.to_thread(get, f"{server.url}/readyz")
        cluster.start()

        assert during.kinds() == ["start", "error"] and during.last["code"] == "server_error", during.frames
        assert "try again" in during.last["message"]
        assert ready_status == 503 and "database" in ready["failing"], ready

        again = await visitor.ask("Can I ride my e-bike in the rain?")
        assert again.done and again.last["answered"] is True, "the first question after the restart is answered"
        assert visitor.ws.close_code is None, "the WebSocket stayed open through the restart"

        ready_status, ready = await asyncio.to_thread(get, f"{server.url}/readyz")
        assert ready_status == 200, ready
        status, history = await asyncio.to_thread(get, f"{server.url}/api/conversations/{visitor.conversation_id}/")
        assert status == 200
        assert [(item["role"], item["text"]) for item in history["history"] if item["role"] == "visitor"] == [
            ("visitor", "Do you ship to Canada?"),
            ("visitor", "Can I ride my e-bike in the rain?"),
        ], "the refused message was not stored, the others were"
        assert [item["answered"] for item in history["history"] if item["role"] == "assistant"] == [True, True]
        await visitor.close()


async def test_a_visitor_connecting_while_postgres_is_down_gets_in_once_it_is_back(cluster, app_env):
    with server_process("gunicorn", env=app_env, log_dir=Path(app_env["DATA_DIR"])) as server:
        cluster.stop()
        visitor = ChatClient(server.ws_url)
        try:
            connecting = asyncio.ensure_future(visitor.open_with_retry(deadline=120))
            await await_until(lambda: visitor.refused or connecting.done())
            assert not connecting.done() and visitor.refused, "the server took the visitor without its database"
        finally:
            cluster.start()
        await connecting
        answer = await visitor.ask("What warranty do Tidewater bikes have?")
        assert answer.done and answer.last["answered"] is True, answer.frames
        await visitor.close()
