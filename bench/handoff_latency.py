"""
Live handoff latency: a staff member's message to the visitor's widget, across
two server processes on PostgreSQL + Redis (issue 11: p99 <= 200 ms).

Two Gunicorn servers (one Uvicorn worker each) share a throwaway PostgreSQL
database and Redis (cache and channel layer). --conversations visitors hold a
WebSocket on the first; one staff member, logged in by an admin session,
holds /ws/staff/ on the second and has taken every conversation over. Staff
then send --messages messages, round-robin over the conversations, at
--rate messages per second (paced, each message timed on its own). Measured
for each: from the staff client sending the `message` frame to the visitor
client receiving its `agent_message` frame (one clock: both clients are in
this process). Every message must arrive once, at its own visitor, and be
stored before it is sent (checked in the database afterwards).

    python -m bench.handoff_latency [--conversations 50] [--messages 1000] [--rate 20]
        [--database-url postgres://postgres@127.0.0.1:5432/postgres] [--redis-url redis://127.0.0.1:6379/6] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import time

from bench.load_websockets import django_setup, percentile
from bench.results import Figure, run_save, run_start

TARGET_P99_MS = 200.0


def staff_session() -> str:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission
    from django.test import Client

    alice = get_user_model().objects.create_user(
        username=f"bench-{secrets.token_hex(3)}", first_name="Alice", password=secrets.token_hex(8), is_staff=True
    )
    alice.user_permissions.add(
        Permission.objects.get(codename="handle_conversation", content_type__app_label="conversations")
    )
    client = Client()
    client.force_login(alice)
    return client.cookies["sessionid"].value


def conversations_create(count: int) -> list[str]:
    from conversations.models import Conversation, Message

    ids = []
    for _ in range(count):
        conversation = Conversation.objects.create()
        Message.objects.create(conversation=conversation, role=Message.Role.VISITOR, text="Can I talk to a person?")
        ids.append(conversation.pk)
    return ids


async def measure(*, visitor_url: str, staff_url: str, cookie: str, ids: list[str], messages: int, rate: float) -> dict:
    from tests.faults.clients import ChatClient, StaffClient

    staff = StaffClient(staff_url, session_cookie=cookie, timeout=60)
    await staff.open()
    visitors = {}
    for conversation_id in ids:
        visitor = ChatClient(visitor_url, timeout=60)
        visitor.conversation_id = conversation_id
        await visitor.open()
        visitors[conversation_id] = visitor
    for conversation_id in ids:
        await staff.take(conversation_id)
        assert (await visitors[conversation_id].recv())["type"] == "agent_joined"

    sent: dict[str, float] = {}
    latencies: dict[str, float] = {}
    wrong: list[str] = []

    async def listen(conversation_id: str, visitor) -> None:
        while True:
            frame = await visitor.recv()
            if frame["type"] != "agent_message":
                continue
            arrived = time.perf_counter()
            text = frame["text"]
            if not text.startswith(f"{conversation_id}:") or text in latencies:
                wrong.append(text)
                continue
            latencies[text] = arrived - sent[text]

    async def drain_staff() -> None:
        while True:
            await staff.recv()

    listeners = [asyncio.create_task(listen(cid, visitor)) for cid, visitor in visitors.items()]
    draining = asyncio.create_task(drain_staff())
    started = time.perf_counter()
    for n in range(messages):
        conversation_id = ids[n % len(ids)]
        text = f"{conversation_id}:{n}"
        due = started + n / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)  # pacing the load, not waiting for a result
        sent[text] = time.perf_counter()
        await staff.send({"type": "message", "conversation": conversation_id, "text": text})
    deadline = time.perf_counter() + 30
    while len(latencies) < messages and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
    wall = time.perf_counter() - started
    for task in [*listeners, draining]:
        task.cancel()
    await asyncio.gather(*listeners, draining, return_exceptions=True)
    for visitor in visitors.values():
        await visitor.close()
    await staff.close()
    values = sorted(latencies.values())
    return {
        "messages": messages,
        "delivered": len(latencies),
        "misrouted_or_repeated": len(wrong),
        "rate": rate,
        "wall_s": round(wall, 2),
        "p50_ms": round(percentile(values, 0.50) * 1000, 1) if values else None,
        "p90_ms": round(percentile(values, 0.90) * 1000, 1) if values else None,
        "p99_ms": round(percentile(values, 0.99) * 1000, 1) if values else None,
        "max_ms": round(values[-1] * 1000, 1) if values else None,
    }


def stored_count(ids: list[str]) -> int:
    from conversations.models import Message

    return Message.objects.filter(conversation_id__in=ids, role=Message.Role.AGENT, author__isnull=False).count()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=50)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=20.0, help="staff messages per second, paced")
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/6")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    run = run_start(benchmark="handoff_latency", area="Load")
    django_setup(database_url=args.database_url, redis_url=args.redis_url, kb="sample")

    from bench.answers_common import LOOPBACK_SERVER_ENVIRONMENT
    from testsupport.processes import server_process

    cookie = staff_session()
    ids = conversations_create(args.conversations)
    env = {**LOOPBACK_SERVER_ENVIRONMENT, "WEB_CONCURRENCY": "1"}
    with server_process("gunicorn", env=env) as visitor_server, server_process("gunicorn", env=env) as staff_server:
        result = asyncio.run(
            measure(
                visitor_url=visitor_server.ws_url,
                staff_url=staff_server.ws_url,
                cookie=cookie,
                ids=ids,
                messages=args.messages,
                rate=args.rate,
            )
        )
    from django.db import close_old_connections

    close_old_connections()
    result["stored"] = stored_count(ids)
    result["conversations"] = args.conversations
    ok = result["delivered"] == result["stored"] == args.messages and not result["misrouted_or_repeated"]
    figure = Figure(
        f"Staff message to the visitor's widget, two Gunicorn processes, PostgreSQL + Redis "
        f"({args.conversations} conversations, {args.rate:g} messages/s)",
        f"p50 {result['p50_ms']} ms, p90 {result['p90_ms']} ms, p99 {result['p99_ms']} ms, max {result['max_ms']} ms; "
        f"{result['delivered']}/{args.messages} delivered once, {result['stored']} stored",
        target=f"p99 ≤ {TARGET_P99_MS:g} ms, every message delivered once",
        met=ok and result["p99_ms"] is not None and result["p99_ms"] <= TARGET_P99_MS,
    )
    run_save(run=run, figures=result, headline=[figure])
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{figure.figure}: {figure.measured} (target {figure.target}: {'met' if figure.met else 'NOT met'})")


if __name__ == "__main__":
    main()
