"""
Load benchmark: N concurrent WebSocket visitors against Gunicorn with Uvicorn
workers, Daphne measured side by side in the same run.

For each server and each provider (`extractive`; `fake-llm`: an
OpenAI-compatible streaming fake in its own process, a token every 20 ms) it:

1. connects all N visitors (the `websockets` client, on loopback) and holds
   every connection to the end;
2. paced load: visitors ask at random moments (Poisson arrivals) at an
   aggregate rate R questions/s for --duration seconds, stepping R up
   through --rates; the highest R whose p99 time to first token is within
   --target-ms and that lost no frame is the "maximum sustainable rate";
3. burst: all N visitors ask at the same moment.

Every answer is checked: one `start`, its tokens, `sources`, `done` with the
same message id; the tokens joined equal the answer stored under that id, in
this visitor's conversation (so no frame was lost or sent to another
visitor); with the fake LLM the answer also repeats this visitor's own
marker and no other. Reported: connections held, answers per second, time to
first token p50/p99 (at the client: from sending the question to the first
`token` frame), errors, and the resident memory of the server processes.

The client runs on the same machine, so it takes CPU from the server: on this
2-core machine, shared with other work, the figures are a floor and noisy.

    python -m bench.load_websockets [--visitors 1000] [--servers gunicorn,daphne]
        [--providers extractive,fake-llm] [--workers N] [--rates 5,10,20,40,60,80,120]
        [--duration 15] [--database-url postgres://... --redis-url redis://...] [--kb sample|10k] [--json]

Without --database-url it runs on a throwaway embedded install (SQLite, per
process cache) with one Gunicorn worker, the most that Gunicorn starts
without a shared cache (chatbot.E002); with it, a throwaway database is
created on that PostgreSQL server (and dropped afterwards) and Redis serves
the cache and channel layer, as in production, with --workers workers
(default 2). Per-IP limits are raised or lifted for the run (every visitor
comes from 127.0.0.1); per-conversation limits stay. `--kb 10k` puts 10,000
generated chunks under the sample knowledge base (bench/knowledge_common.py),
so that the memory figures include a real index.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import json
import os
import random
import re
import resource
import secrets
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from bench.knowledge_common import KNOWLEDGE_BASES, knowledge_base_prepare
from bench.results import Figure, run_save, run_start
from testsupport.fake_openai import ref_marker

BASE_DIR = Path(__file__).resolve().parent.parent
TIMEOUT = 120.0
CONNECT_CONCURRENCY = 64
WARMERS = 32


# --- Set-up --------------------------------------------------------------------------------------


def raise_open_files_limit(needed: int) -> int:
    """Each visitor is one socket here and one in the server: lift the soft limit to the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    return soft


def django_setup(*, database_url: str, redis_url: str, kb: str) -> int:
    """A throwaway install holding the knowledge base `kb` (see `--kb`); returns its chunk count."""
    data_dir = Path(tempfile.mkdtemp(prefix="bench-load-"))
    atexit.register(shutil.rmtree, data_dir, ignore_errors=True)
    for name in ("DATABASE_URL", "REDIS_URL", "DATABASE_TEST_NAME"):
        os.environ.pop(name, None)
    env = {"DATA_DIR": str(data_dir), "LOG_LEVEL": "warning", "HF_HUB_OFFLINE": "1", "TASK_BACKEND": "immediate"}
    if database_url:
        env["DATABASE_URL"] = _throwaway_database(database_url)
    if redis_url:
        env.update(REDIS_URL=redis_url, CACHE_KEY_PREFIX=f"bench-{secrets.token_hex(4)}")
    os.environ.update(DJANGO_SETTINGS_MODULE="chatbot.settings", DOTENV="0", **env)
    sys.path.insert(0, str(BASE_DIR))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return knowledge_base_prepare(kb=kb)


def _throwaway_database(server_url: str) -> str:
    import psycopg

    name = f"bench_load_{secrets.token_hex(4)}"
    base, _, _ = server_url.rpartition("/")
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(server_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    atexit.register(drop)
    return f"{base}/{name}"


def questions() -> list[str]:
    from bench.answers_common import questions as sample_questions

    return sample_questions()


# --- Measuring ------------------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float | None:
    ordered = sorted(values)
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))]


def ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 1)


class ServerMemory:
    """Resident memory of a server: its process and every child (Gunicorn's workers), peak sampled in a thread."""

    def __init__(self, pid: int) -> None:
        self.root = psutil.Process(pid)
        self.peak = self.now()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def processes(self) -> list[psutil.Process]:
        return [self.root, *self.root.children(recursive=True)]

    def connections(self, port: int) -> list[int]:
        """Established connections to `port` held by each process that holds any (Gunicorn: per worker)."""
        counts = []
        for process in self.processes():
            try:
                held = [
                    c
                    for c in process.net_connections(kind="tcp")
                    if c.status == psutil.CONN_ESTABLISHED and c.laddr and c.laddr.port == port
                ]
            except psutil.Error:
                continue
            if held:
                counts.append(len(held))
        return sorted(counts, reverse=True)

    def now(self) -> int:
        total = 0
        for process in self.processes():
            try:
                total += process.memory_info().rss
            except psutil.NoSuchProcess:
                pass
        return total

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self.peak = max(self.peak, self.now())

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class Question:
    visitor: Visitor
    text: str
    marker: str
    frames: list[dict] = field(default_factory=list)
    sent_at: float = 0.0
    first_token_at: float | None = None
    done_at: float | None = None
    problem: str = ""
    server_ttft_ms: int | None = None  # as the server stored it: from receiving the message to its first token

    @property
    def ttft(self) -> float | None:
        return None if self.first_token_at is None else self.first_token_at - self.sent_at

    @property
    def answer(self) -> str:
        return "".join(frame["text"] for frame in self.frames if frame["type"] == "token")


@dataclass
class Visitor:
    ws: object = None
    conversation_id: str = ""
    busy: bool = False
    closed: bool = False


async def open_visitor(url: str, slots: asyncio.Semaphore) -> Visitor:
    from websockets.asyncio.client import connect

    visitor = Visitor()
    async with slots:
        visitor.ws = await connect(url, open_timeout=TIMEOUT, ping_interval=None, max_queue=None)
    frame = json.loads(await asyncio.wait_for(visitor.ws.recv(), TIMEOUT))
    visitor.conversation_id = frame["id"]
    return visitor


async def ask(question: Question) -> None:
    visitor = question.visitor
    visitor.busy = True
    question.sent_at = time.perf_counter()
    try:
        await visitor.ws.send(json.dumps({"type": "message", "text": question.text}))
        while True:
            frame = json.loads(await asyncio.wait_for(visitor.ws.recv(), TIMEOUT))
            if frame["type"] == "lead" and not question.frames:
                continue
            question.frames.append(frame)
            if frame["type"] == "token" and question.first_token_at is None:
                question.first_token_at = time.perf_counter()
            if frame["type"] in ("done", "error"):
                question.done_at = time.perf_counter()
                if frame["type"] == "error":
                    question.problem = f"error frame: {frame.get('code')}"
                return
    except TimeoutError:
        question.problem = "lost: no done frame within the timeout"
    except Exception as exc:  # noqa: BLE001 - a dropped connection is a finding, not a crash
        question.problem = f"connection: {type(exc).__name__}"
        visitor.closed = True
    finally:
        visitor.busy = False


def verify(asked: list[Question], *, expect_markers: bool) -> None:
    """Marks each question whose frames were lost, out of order or another visitor's."""
    from conversations.models import Message

    ids = [q.frames[0].get("message_id") for q in asked if q.frames and q.frames[0].get("message_id")]
    stored = {}
    for start in range(0, len(ids), 500):
        stored.update(
            {
                m.public_id: m
                for m in Message.objects.filter(public_id__in=ids[start : start + 500]).only(
                    "public_id", "conversation_id", "text", "time_to_first_token_ms", "provider"
                )
            }
        )
    markers = {q.marker for q in asked}
    for q in asked:
        if q.problem:
            continue
        kinds = [f["type"] for f in q.frames]
        collapsed = [k for i, k in enumerate(kinds) if i == 0 or not (k == kinds[i - 1] == "token")]
        if collapsed != ["start", "token", "sources", "done"]:
            q.problem = f"frames {collapsed}"
            continue
        message_id = q.frames[0]["message_id"]
        message = stored.get(message_id)
        q.server_ttft_ms = message.time_to_first_token_ms if message is not None else None
        if q.frames[-1].get("message_id") != message_id:
            q.problem = "misrouted: done of another message"
        elif message is None or message.conversation_id != q.visitor.conversation_id:
            q.problem = "misrouted: answer stored in another conversation"
        elif message.text != q.answer:
            q.problem = "lost or foreign tokens"
        elif (
            expect_markers
            and message.provider == "openai"  # a request's acknowledgement or small talk: no model, no marker
            and (set(re.findall(r"ref-\w+", q.answer)) & markers != {q.marker})
        ):
            q.problem = "misrouted: another visitor's answer"


def summarise(asked: list[Question], wall: float) -> dict:
    ttfts = [q.ttft for q in asked if q.ttft is not None and not q.problem]
    server_ttfts = [q.server_ttft_ms / 1000 for q in asked if q.server_ttft_ms is not None and not q.problem]
    problems: dict[str, int] = {}
    for q in asked:
        if q.problem:
            problems[q.problem] = problems.get(q.problem, 0) + 1
    answered = sum(1 for q in asked if q.done_at is not None and not q.problem)
    return {
        "questions": len(asked),
        "answers_ok": answered,
        "errors": problems,
        "answers_per_second": round(answered / wall, 1) if wall > 0 else None,
        "ttft_p50_ms": ms(percentile(ttfts, 0.5)),
        "ttft_p99_ms": ms(percentile(ttfts, 0.99)),
        "ttft_max_ms": ms(max(ttfts) if ttfts else None),
        "wall_seconds": round(wall, 2),
        "server_ttft_p50_ms": ms(percentile(server_ttfts, 0.5)),
        "server_ttft_p99_ms": ms(percentile(server_ttfts, 0.99)),
        "slowest": [
            {
                "question": q.text,
                "ttft_ms": ms(q.ttft),
                "server_ttft_ms": q.server_ttft_ms,
                "sent_at": round(q.sent_at, 3),
            }
            for q in sorted(asked, key=lambda q: -(q.ttft or 0))[:3]
        ],
    }


# --- Workloads -----------------------------------------------------------------------------------


class Workload:
    def __init__(self, visitors: list[Visitor], question_list: list[str], seed: int) -> None:
        self.visitors = visitors
        self.question_list = question_list
        self.random = random.Random(seed)

    def _question(self, visitor: Visitor) -> Question:
        marker = ref_marker()
        return Question(visitor=visitor, text=f"{self.random.choice(self.question_list)} {marker}", marker=marker)

    async def paced(self, *, rate: float, duration: float) -> tuple[list[Question], float]:
        """Poisson arrivals at `rate` questions/s, each from a random visitor not waiting for an answer."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        tasks, asked = [], []
        next_at = started
        while True:
            next_at += self.random.expovariate(rate)
            if next_at - started > duration:
                break
            await asyncio.sleep(max(0.0, next_at - loop.time()))
            idle = [v for v in self.visitors if not v.busy and not v.closed]
            if not idle:
                continue
            question = self._question(self.random.choice(idle))
            question.visitor.busy = True
            asked.append(question)
            tasks.append(asyncio.create_task(ask(question)))
        await asyncio.gather(*tasks)
        return asked, loop.time() - started

    async def burst(self) -> tuple[list[Question], float]:
        asked = [self._question(v) for v in self.visitors if not v.closed]
        started = time.perf_counter()
        await asyncio.gather(*[ask(q) for q in asked])
        return asked, time.perf_counter() - started


async def measure(
    *,
    url: str,
    memory: ServerMemory,
    visitors_wanted: int,
    rates: list[float],
    duration: float,
    target_ms: float,
    expect_markers: bool,
    question_list: list[str],
    seed: int,
) -> dict:
    from asgiref.sync import sync_to_async

    slots = asyncio.Semaphore(CONNECT_CONCURRENCY)
    # Warm-up on connections of their own, enough that every server process
    # gets some: each loads the embedding model and the index (~0.5 s) before
    # anything is measured.
    warmers = await asyncio.gather(*[open_visitor(url, slots) for _ in range(WARMERS)])
    warm_workload = Workload(warmers, question_list, seed)
    warm, _ = await warm_workload.burst()
    more, _ = await warm_workload.paced(rate=10, duration=2)
    warm += more
    await asyncio.gather(*[v.ws.close() for v in warmers])
    await asyncio.sleep(1.0)
    rss_idle = memory.now()

    started = time.perf_counter()
    opened = await asyncio.gather(*[open_visitor(url, slots) for _ in range(visitors_wanted)], return_exceptions=True)
    connect_seconds = time.perf_counter() - started
    visitors = [v for v in opened if isinstance(v, Visitor)]
    await asyncio.sleep(1.0)
    rss_connected = memory.now()
    per_process = memory.connections(int(url.rsplit(":", 1)[1].split("/", 1)[0]))
    workload = Workload(visitors, question_list, seed)
    steps, sustainable = [], None
    for rate in rates:
        asked, wall = await workload.paced(rate=rate, duration=duration)
        await sync_to_async(verify, thread_sensitive=False)(asked, expect_markers=expect_markers)
        step = {"rate": rate, **summarise(asked, wall)}
        steps.append(step)
        within = step["ttft_p99_ms"] is not None and step["ttft_p99_ms"] <= target_ms and not step["errors"]
        if within:
            sustainable = rate
        else:
            break
    asked, wall = await workload.burst()
    await sync_to_async(verify, thread_sensitive=False)(asked, expect_markers=expect_markers)
    burst = summarise(asked, wall)

    held = sum(1 for v in visitors if not v.closed and v.ws.close_code is None)
    await asyncio.gather(*[v.ws.close() for v in visitors], return_exceptions=True)
    return {
        "visitors": visitors_wanted,
        "connected": len(visitors),
        "held_to_the_end": held,
        "connect_errors": sorted({type(e).__name__ for e in opened if not isinstance(e, Visitor)}),
        "connect_seconds": round(connect_seconds, 2),
        "connections_per_process": per_process,
        "warmup_questions": len(warm),
        "paced": steps,
        "max_sustainable_rate": sustainable,
        "target_ttft_p99_ms": target_ms,
        "burst": burst,
        "rss_idle_mib": round(rss_idle / 2**20, 1),
        "rss_connected_mib": round(rss_connected / 2**20, 1),
        "kib_per_connection": round((rss_connected - rss_idle) / max(1, len(visitors)) / 1024, 1),
        "rss_peak_mib": round(memory.peak / 2**20, 1),
        "server_processes": len(memory.processes()),
    }


def run_one(*, server: str, provider: str, args: argparse.Namespace, question_list: list[str]) -> dict:
    from bench.answers_common import (
        FAKE_LLM_SERVER_ENVIRONMENT,
        LOOPBACK_SERVER_ENVIRONMENT,
        fake_llm_process,
    )
    from testsupport.processes import server_process

    env = {**LOOPBACK_SERVER_ENVIRONMENT, "WEB_CONCURRENCY": str(args.workers)}
    fake = None
    if provider == "fake-llm":
        fake, base_url = fake_llm_process()
        env.update(FAKE_LLM_SERVER_ENVIRONMENT, OPENAI_BASE_URL=base_url)
    try:
        with server_process(server, env=env) as running:
            memory = ServerMemory(running.process.pid)
            try:
                result = asyncio.run(
                    measure(
                        url=f"{running.ws_url}/ws/chat/",
                        memory=memory,
                        visitors_wanted=args.visitors,
                        rates=args.rates,
                        duration=args.duration,
                        target_ms=args.target_ms,
                        expect_markers=provider == "fake-llm",
                        question_list=question_list,
                        seed=args.seed,
                    )
                )
            finally:
                memory.close()
    finally:
        if fake is not None:
            fake.terminate()
            fake.wait(10)
    label = f"gunicorn ({args.workers} Uvicorn workers)" if server == "gunicorn" else f"{server} (1 process)"
    return {"server": server, "server_label": label, "provider": provider, **result}


def use_uvloop() -> None:
    """The client's event loop costs CPU that the server shares: uvloop (installed with Uvicorn) costs less."""
    try:
        import uvloop
    except ImportError:
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


def _errors_counted(row: dict) -> int:
    """Questions of every step and of the burst that were lost, misrouted or refused."""
    return sum(sum(step["errors"].values()) for step in row["paced"]) + sum(row["burst"]["errors"].values())


def _errors(errors: dict) -> str:
    return f", errors {errors}" if errors else ""


def print_report(results: list[dict], args: argparse.Namespace, backends: str) -> None:
    print(
        f"Load benchmark: {args.visitors} WebSocket visitors, {backends}; client on the same machine "
        f"({os.cpu_count()} cores, shared: figures are noisy)"
    )
    for row in results:
        errors = _errors_counted(row)
        verdict = "no lost or misrouted frame" if not errors else f"{errors} ERRORS"
        print(
            f"\n  {row['server_label']}, {row['provider']}: {row['held_to_the_end']}/{row['visitors']} "
            f"connections held to the end ({row['connect_seconds']} s to connect all; per server process: "
            f"{row['connections_per_process']}); {verdict}"
        )
        for step in row["paced"]:
            print(
                f"    paced {step['rate']:>6g} questions/s: {step['answers_per_second']} answers/s, first token "
                f"p50 {step['ttft_p50_ms']} ms, p99 {step['ttft_p99_ms']} ms (server's own: p50 "
                f"{step['server_ttft_p50_ms']}, p99 {step['server_ttft_p99_ms']}){_errors(step['errors'])}"
            )
        rate = row["max_sustainable_rate"]
        sustained = "none of the rates tried" if rate is None else f"{rate:g} questions/s"
        print(f"    max sustainable rate with p99 first token <= {row['target_ttft_p99_ms']:g} ms: {sustained}")
        burst = row["burst"]
        print(
            f"    burst ({burst['questions']} at once): {burst['answers_per_second']} answers/s, all in "
            f"{burst['wall_seconds']} s; first token p50 {burst['ttft_p50_ms']} ms, p99 {burst['ttft_p99_ms']} ms"
            f"{_errors(burst['errors'])}"
        )
        print(
            f"    memory: {row['rss_idle_mib']} MiB idle, {row['rss_connected_mib']} MiB with every visitor "
            f"connected ({row['kib_per_connection']} KiB each), {row['rss_peak_mib']} MiB peak, "
            f"{row['server_processes']} server processes"
        )


def headline(results: list[dict], *, visitors: int, backends: str) -> list[Figure]:
    rows = []
    for row in results:
        errors = _errors_counted(row)
        rate = row["max_sustainable_rate"]
        at_rate = next((step for step in row["paced"] if step["rate"] == rate), None)
        sustained = (
            "none of the rates tried"
            if at_rate is None
            else f"{rate:g} questions/s (first token p50 {at_rate['ttft_p50_ms']} ms, p99 {at_rate['ttft_p99_ms']} ms)"
        )
        burst = row["burst"]
        rows.append(
            Figure(
                f"{visitors:,} WebSocket visitors, {row['server_label']}, {row['provider']}, {backends}",
                f"{row['held_to_the_end']}/{row['visitors']} held to the end, {errors} lost or misrouted; "
                f"highest paced "
                f"rate with p99 first token ≤ {row['target_ttft_p99_ms']:g} ms: {sustained}; burst (all at once): "
                f"{burst['answers_per_second']} answers/s, first token p50 {burst['ttft_p50_ms']} ms, p99 "
                f"{burst['ttft_p99_ms']} ms; memory {row['rss_idle_mib']} MiB idle → {row['rss_connected_mib']} MiB "
                f"connected ({row['kib_per_connection']} KiB each), {row['rss_peak_mib']} MiB peak",
                target="every visitor held, none lost or misrouted",
                met=row["held_to_the_end"] == row["visitors"] and not errors,
            )
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--visitors", type=int, default=1000)
    parser.add_argument("--servers", default="gunicorn,daphne", help="comma-separated: gunicorn, daphne, uvicorn")
    parser.add_argument("--providers", default="extractive,fake-llm", help="comma-separated: extractive, fake-llm")
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="Gunicorn's Uvicorn workers (WEB_CONCURRENCY); default 2 with --redis-url, else 1",
    )
    parser.add_argument(
        "--rates",
        default="5,10,20,40,60,80,120",
        help="aggregate questions/s of the paced steps, ascending; stops at the first over target",
    )
    parser.add_argument("--duration", type=float, default=15.0, help="seconds of each paced step")
    parser.add_argument("--target-ms", type=float, default=300.0, help="p99 time-to-first-token target")
    parser.add_argument("--database-url", default="", help="a PostgreSQL server URL: a throwaway database on it")
    parser.add_argument("--redis-url", default="", help="Redis for the cache and channel layer (keys prefixed)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--kb",
        choices=sorted(KNOWLEDGE_BASES),
        default="sample",
        help="the sample knowledge base alone, or on top of 10,000 generated chunks",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    args.rates = [float(rate) for rate in args.rates.split(",") if rate.strip()]
    if args.workers is None:
        args.workers = 2 if args.redis_url else 1
    run = run_start(
        benchmark="load_websockets",
        area="Load",
        variant=f"{'postgres-redis' if args.database_url else 'sqlite'}-{args.kb}",
    )

    raise_open_files_limit(args.visitors * 2 + 256)
    use_uvloop()
    chunks = django_setup(database_url=args.database_url, redis_url=args.redis_url, kb=args.kb)
    question_list = questions()
    results = [
        run_one(server=server.strip(), provider=provider.strip(), args=args, question_list=question_list)
        for server in args.servers.split(",")
        if server.strip()
        for provider in args.providers.split(",")
        if provider.strip()
    ]
    backends = ("PostgreSQL + Redis" if args.database_url else "embedded SQLite") + f", {chunks:,}-chunk knowledge base"
    run_save(
        run=run,
        figures={
            "visitors": args.visitors,
            "backends": backends,
            "kb": args.kb,
            "kb_chunks": chunks,
            "results": results,
        },
        headline=headline(results, visitors=args.visitors, backends=backends),
    )
    if args.json:
        print(json.dumps({"visitors": args.visitors, "backends": backends, "results": results}))
    else:
        print_report(results, args, backends)


if __name__ == "__main__":
    main()
