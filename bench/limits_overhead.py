"""
What the rate limits and token caps cost per visitor message.

Each visitor message is counted against two limits (per IP, per conversation)
before any work, a chat-model answer reserves its maximum cost on three token
counters (conversation, client address, day) and settles it afterwards, and
each WebSocket takes and gives back a place among its address's open ones.
This measures, with the local-memory cache and with Redis (when reachable),
in one run:

- limits_hit: the two rate-limit checks of one message, called directly (p50/p99);
- refusal_concurrent: `answer_refusal` (the checks as the WebSocket consumer
  and the REST view run them, through a worker thread) for N messages at
  once on one event loop: p50/p99 latency and messages/s;
- token_caps: one reservation plus its settlement (p50/p99);
- websocket_slot: taking and releasing a WebSocket's place (p50/p99).

    python -m bench.limits_overhead [--redis redis://127.0.0.1:6379/5] [--n 2000] [--concurrency 500] [--json]

Redis keys are written under a fresh prefix and expire on their own; nothing
is flushed. The machine has 2 cores shared with other work: figures are noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import sys
import tempfile
import time

from bench.answers_common import BASE_DIR, summary_ms
from bench.results import Figure, run_save, run_start

UNLIMITED = "1000000/m"


def django_setup() -> None:
    for name in ("DATABASE_URL", "REDIS_URL", "DATABASE_TEST_NAME"):
        os.environ.pop(name, None)
    os.environ.update(
        DJANGO_SETTINGS_MODULE="chatbot.settings",
        DATA_DIR=tempfile.mkdtemp(prefix="bench-limits-"),
        DOTENV="0",
        LOG_LEVEL="error",
        RATE_LIMIT_MESSAGES_PER_IP=UNLIMITED,
        RATE_LIMIT_MESSAGES_PER_CONVERSATION=UNLIMITED,
    )
    sys.path.insert(0, str(BASE_DIR))
    import django

    django.setup()


def cache_config(redis_url: str | None) -> dict:
    if redis_url is None:
        return {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": f"bench-limits-{secrets.token_hex(4)}",
        }
    }


def redis_reachable(url: str) -> bool:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
        return True
    except Exception:  # noqa: BLE001
        return False


def measure(n: int, concurrency: int) -> dict:
    from chatbot.pipeline import answer_refusal
    from core.limits import (
        MESSAGES_PER_CONVERSATION,
        MESSAGES_PER_IP,
        RateRequest,
        limits_hit,
        llm_tokens_reserve,
        llm_tokens_settle,
        websocket_slot_release,
        websocket_slot_take,
    )

    clients = [
        RateRequest(META={"REMOTE_ADDR": f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}"})
        for i in range(concurrency)
    ]
    conversations = [secrets.token_urlsafe(24) for _ in range(concurrency)]

    direct = []
    for i in range(n):
        started = time.perf_counter()
        checks = [(MESSAGES_PER_IP, None), (MESSAGES_PER_CONVERSATION, conversations[i % concurrency])]
        limits_hit(client=clients[i % concurrency], checks=checks)
        direct.append(time.perf_counter() - started)

    caps = []
    for i in range(n):
        started = time.perf_counter()
        reservation = llm_tokens_reserve(
            conversation_id=conversations[i % concurrency], client=clients[i % concurrency], tokens=1800
        )
        llm_tokens_settle(reservation=reservation, tokens=500)
        caps.append(time.perf_counter() - started)

    slots = []
    for i in range(n):
        started = time.perf_counter()
        websocket_slot_release(slot=websocket_slot_take(client=clients[i % concurrency]))
        slots.append(time.perf_counter() - started)

    async def one(i: int, wave_started: float) -> float:
        refusal = await answer_refusal(
            conversation_id=conversations[i], text="Do you ship to Canada?", client=clients[i]
        )
        assert refusal is None, refusal
        return time.perf_counter() - wave_started

    async def waves() -> tuple[list[float], float]:
        """Waves of `concurrency` messages arriving at once; each one's latency counts from its wave's start."""
        latencies: list[float] = []
        started = time.perf_counter()
        for _ in range(max(1, n // concurrency)):
            wave_started = time.perf_counter()
            latencies += await asyncio.gather(*[one(i, wave_started) for i in range(concurrency)])
        return latencies, time.perf_counter() - started

    latencies, elapsed = asyncio.run(waves())
    return {
        "limits_hit": summary_ms(direct),
        "token_caps": summary_ms(caps),
        "websocket_slot": summary_ms(slots),
        "refusal_concurrent": {
            **summary_ms(latencies),
            "concurrency": concurrency,
            "messages_per_s": round(len(latencies) / elapsed),
        },
    }


def headline(results: dict, *, n: int) -> list[Figure]:
    rows = []
    for name, figures in results.items():
        backend = {"locmem": "local-memory cache", "redis": "Redis"}.get(name, name)
        hits, caps, refusal = figures["limits_hit"], figures["token_caps"], figures["refusal_concurrent"]
        rows += [
            Figure(
                f"Two rate-limit checks of one message, {backend}",
                f"p50 {hits['p50_ms']:.3f} ms, p99 {hits['p99_ms']:.3f} ms ({n} messages)",
            ),
            Figure(
                f"LLM token-cap check and record, {backend}",
                f"p50 {caps['p50_ms']:.3f} ms, p99 {caps['p99_ms']:.3f} ms",
            ),
            Figure(
                f"{refusal['concurrency']} messages' limit checks at once, {backend}",
                f"p50 {refusal['p50_ms']:.1f} ms, p99 {refusal['p99_ms']:.1f} ms "
                f"({refusal['messages_per_s']:,} messages/s)",
            ),
        ]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/5", help="Redis to measure; skipped if unreachable")
    parser.add_argument("--n", type=int, default=2000, help="calls per measurement")
    parser.add_argument("--concurrency", type=int, default=500, help="messages checked at once on one event loop")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    run = run_start(benchmark="limits_overhead", area="Widget and limits")
    django_setup()
    from django.test import override_settings

    results = {}
    backends = {"locmem": None}
    if redis_reachable(args.redis):
        backends["redis"] = args.redis
    for name, url in backends.items():
        with override_settings(CACHES=cache_config(url)):
            results[name] = measure(args.n, args.concurrency)

    run_save(run=run, figures=results, headline=headline(results, n=args.n))
    if args.json:
        print(json.dumps(results))
        return
    print(f"Rate-limit and token-cap cost per message (n={args.n}; 2 shared cores, noisy)")
    for name, figures in results.items():
        refusal = figures["refusal_concurrent"]
        print(
            f"  {name:7} limits_hit p50 {figures['limits_hit']['p50_ms']:.3f} ms p99 "
            f"{figures['limits_hit']['p99_ms']:.3f} ms | token caps p50 {figures['token_caps']['p50_ms']:.3f} ms "
            f"p99 {figures['token_caps']['p99_ms']:.3f} ms | WebSocket place p50 "
            f"{figures['websocket_slot']['p50_ms']:.3f} ms | {refusal['concurrency']} at once: p50 "
            f"{refusal['p50_ms']:.1f} ms p99 {refusal['p99_ms']:.1f} ms, {refusal['messages_per_s']} messages/s"
        )
    if "redis" not in results:
        print(f"  redis   not reachable at {args.redis}: skipped")


if __name__ == "__main__":
    main()
