"""
Concurrent WebSocket conversations held by one server process.

Starts one server process (uvicorn by default) on a throwaway embedded install
with the sample knowledge base, opens N WebSocket conversations at once (the
`websockets` client, on loopback), then has every one of them ask a question
at the same moment, with the extractive provider and with a streaming fake
LLM (an OpenAI-compatible server in its own process, a token every 20 ms).

Checked for every conversation: one `start`, its tokens, `sources` and `done`
with the same message id; the tokens joined equal the answer stored for that
message id, and that answer belongs to this conversation (so no frame was lost
or sent to another conversation); with the fake LLM the answer also repeats the
conversation's own marker and no other (questions below the confidence
threshold get the fallback message, with no model and so no marker).

Reported: conversations held, answers per second, time to first token p50/p99
(at the client) both for a burst (all ask at once) and for a paced round
(every conversation asks again at a random moment within --spread seconds),
errors, server memory per idle connection and at peak.

    python -m bench.answers_concurrency [--conversations 500] [--server uvicorn] [--kb sample|10k] [--json]

`--kb 10k` runs it on the sample knowledge base plus 10,000 generated chunks
(bench/knowledge_common.py), so that the memory figures include a real index.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import threading
import time
from dataclasses import dataclass, field

import psutil

from bench.answers_common import (
    FAKE_LLM_SERVER_ENVIRONMENT,
    LOOPBACK_SERVER_ENVIRONMENT,
    django_setup,
    fake_llm_process,
    percentile,
    questions,
)
from bench.knowledge_common import KNOWLEDGE_BASES
from bench.results import Figure, run_save, run_start
from testsupport.fake_openai import ref_marker

TARGET_CONVERSATIONS = 500
TIMEOUT = 180


@dataclass
class Conversation:
    marker: str
    question: str
    conversation_id: str = ""
    frames: list[dict] = field(default_factory=list)
    sent_at: float = 0.0
    first_token_at: float | None = None
    done_at: float | None = None
    problem: str = ""

    @property
    def text(self) -> str:
        return "".join(f["text"] for f in self.frames if f["type"] == "token")


class MemorySampler:
    """Peak RSS of a process, sampled every 50 ms in a thread."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.peak = self.process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def rss(pid: int) -> int:
    return psutil.Process(pid).memory_info().rss


async def _open(url: str, conversation: Conversation, connect_slots: asyncio.Semaphore):
    from websockets.asyncio.client import connect

    async with connect_slots:
        ws = await connect(url, open_timeout=TIMEOUT, max_queue=None, ping_interval=None)
    frame = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
    conversation.conversation_id = frame["id"]
    return ws


async def _ask(ws, conversation: Conversation, go: asyncio.Event, delay: float = 0.0) -> None:
    await go.wait()
    if delay:
        await asyncio.sleep(delay)
    conversation.sent_at = time.monotonic()
    await ws.send(json.dumps({"type": "message", "text": conversation.question}))
    try:
        while True:
            frame = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
            conversation.frames.append(frame)
            if frame["type"] == "token" and conversation.first_token_at is None:
                conversation.first_token_at = time.monotonic()
            if frame["type"] in ("done", "error"):
                conversation.done_at = time.monotonic()
                if frame["type"] == "error":
                    conversation.problem = f"error frame {frame.get('code')}"
                return
    except TimeoutError:
        conversation.problem = "timed out"


async def _run_load(
    url: str,
    conversations: list[Conversation],
    server_pid: int,
    *,
    paced: list[Conversation] | None = None,
    spread: float = 0.0,
) -> dict:
    """
    Opens every conversation, then all ask at once (a burst); then, on the
    same connections, each asks again at a random moment within `spread`
    seconds (a steady load of len/spread questions per second).
    """
    connect_slots = asyncio.Semaphore(64)
    base_rss = rss(server_pid)
    sockets = await asyncio.gather(*[_open(url, c, connect_slots) for c in conversations])
    await asyncio.sleep(1.0)
    connected_rss = rss(server_pid)
    with MemorySampler(server_pid) as sampler:
        go = asyncio.Event()
        tasks = [asyncio.create_task(_ask(ws, c, go)) for ws, c in zip(sockets, conversations, strict=True)]
        await asyncio.sleep(0.2)
        go.set()
        await asyncio.gather(*tasks)
        if paced:
            for first, second in zip(conversations, paced, strict=True):
                second.conversation_id = first.conversation_id
            go = asyncio.Event()
            tasks = [
                asyncio.create_task(_ask(ws, c, go, random.uniform(0, spread)))
                for ws, c in zip(sockets, paced, strict=True)
            ]
            go.set()
            await asyncio.gather(*tasks)
    await asyncio.gather(*[ws.close() for ws in sockets])
    return {"base_rss": base_rss, "connected_rss": connected_rss, "peak_rss": sampler.peak}


def _verify(conversations: list[Conversation], *, expect_markers: bool) -> None:
    """Marks each conversation whose frames were lost, out of order or someone else's."""
    from conversations.models import Message

    ids = [c.frames[0].get("message_id") for c in conversations if c.frames]
    stored = {m.public_id: m for m in Message.objects.filter(public_id__in=[i for i in ids if i])}
    markers = {c.marker for c in conversations}
    for c in conversations:
        if c.problem:
            continue
        types = [f["type"] for f in c.frames]
        collapsed = [t for i, t in enumerate(types) if i == 0 or not (t == types[i - 1] == "token")]
        if collapsed != ["start", "token", "sources", "done"]:
            c.problem = f"frames {collapsed}"
            continue
        message_id = c.frames[0]["message_id"]
        if c.frames[-1]["message_id"] != message_id:
            c.problem = "done for another message"
            continue
        message = stored.get(message_id)
        if message is None or message.conversation_id != c.conversation_id:
            c.problem = "answer stored for another conversation"
        elif message.text != c.text:
            c.problem = "tokens lost or foreign tokens received"
        elif (
            expect_markers
            and message.provider == "openai"  # a request's acknowledgement or small talk: no model, no marker
            and (c.marker not in c.text or len(set(re.findall(r"ref-\w+", c.text)) & markers) != 1)
        ):
            c.problem = "another conversation's answer"


def _new_conversations(count: int, question_list: list[str], offset: int = 0) -> list[Conversation]:
    conversations = []
    for index in range(count):
        marker = ref_marker()
        question = question_list[(index + offset) % len(question_list)]
        conversations.append(Conversation(marker=marker, question=f"{question} {marker}"))
    return conversations


def _ttft(conversations: list[Conversation]) -> tuple[float, float]:
    values = [c.first_token_at - c.sent_at for c in conversations if c.first_token_at is not None]
    return round(percentile(values, 0.5) * 1000, 1), round(percentile(values, 0.99) * 1000, 1)


def run_mode(*, mode: str, count: int, server_kind: str, question_list: list[str], spread: float) -> dict:
    from testsupport.processes import server_process

    env = dict(LOOPBACK_SERVER_ENVIRONMENT)
    fake = None
    if mode == "fake_llm":
        fake, base_url = fake_llm_process()
        env.update(FAKE_LLM_SERVER_ENVIRONMENT, OPENAI_BASE_URL=base_url)
    try:
        with server_process(server_kind, env=env) as server:
            url = f"{server.ws_url}/ws/chat/"
            warm = [Conversation(marker="ref-warmup", question=question_list[0] + " ref-warmup")]
            asyncio.run(_run_load(url, warm, server.process.pid))
            conversations = _new_conversations(count, question_list)
            paced = _new_conversations(count, question_list, offset=7) if spread > 0 else []
            memory = asyncio.run(_run_load(url, conversations, server.process.pid, paced=paced, spread=spread))
    finally:
        if fake is not None:
            fake.terminate()
            fake.wait(10)

    _verify(conversations + paced, expect_markers=mode == "fake_llm")
    finished = [c for c in conversations if c.done_at is not None]
    wall = max(c.done_at for c in finished) - min(c.sent_at for c in conversations) if finished else float("nan")
    problems: dict[str, int] = {}
    for c in conversations + paced:
        if c.problem:
            problems[c.problem] = problems.get(c.problem, 0) + 1
    return {
        "mode": mode,
        "server": server_kind,
        "conversations": count,
        "held": sum(1 for c in conversations if c.conversation_id),
        "answers": len(conversations + paced),
        "answered_ok": len(conversations + paced) - sum(problems.values()),
        "problems": problems,
        "burst_answers_per_second": round(len(finished) / wall, 1) if finished else 0.0,
        "burst_wall_seconds": round(wall, 2),
        "burst_ttft_p50_ms": _ttft(conversations)[0],
        "burst_ttft_p99_ms": _ttft(conversations)[1],
        "paced_questions_per_second": round(count / spread, 1) if spread > 0 else None,
        "paced_ttft_p50_ms": _ttft(paced)[0] if paced else None,
        "paced_ttft_p99_ms": _ttft(paced)[1] if paced else None,
        "memory_per_connection_kib": round((memory["connected_rss"] - memory["base_rss"]) / count / 1024, 1),
        "server_rss_idle_mib": round(memory["base_rss"] / 2**20, 1),
        "server_rss_peak_mib": round(memory["peak_rss"] / 2**20, 1),
    }


def headline(results: list[dict]) -> list[Figure]:
    rows = []
    for row in results:
        paced = (
            f"paced {row['paced_questions_per_second']} questions/s: first token p50 {row['paced_ttft_p50_ms']} "
            f"ms, p99 {row['paced_ttft_p99_ms']} ms; "
            if row["paced_questions_per_second"]
            else ""
        )
        rows.append(
            Figure(
                f"{row['conversations']} conversations on one {row['server']} process, "
                f"{row['mode'].replace('_', ' ')}, "
                f"{row['kb_chunks']:,}-chunk knowledge base",
                f"{row['held']}/{row['conversations']} held, {row['answered_ok']}/{row['answers']} answers correct; "
                f"{paced}burst (all at once): {row['burst_answers_per_second']} answers/s, first token p50 "
                f"{row['burst_ttft_p50_ms']} ms, p99 {row['burst_ttft_p99_ms']} ms; "
                f"{row['memory_per_connection_kib']} KiB per idle connection; "
                f"server RSS {row['server_rss_idle_mib']} MiB "
                f"idle, {row['server_rss_peak_mib']} MiB peak",
                target="every conversation held, no answer lost",
                met=row["held"] == row["conversations"] and not row["problems"],
            )
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=TARGET_CONVERSATIONS)
    parser.add_argument("--server", choices=["uvicorn", "daphne"], default="uvicorn")
    parser.add_argument("--modes", default="extractive,fake_llm", help="comma-separated: extractive, fake_llm")
    parser.add_argument(
        "--spread",
        type=float,
        default=25.0,
        help="seconds over which the second question of every conversation is spread (0: no second round)",
    )
    parser.add_argument(
        "--kb",
        choices=sorted(KNOWLEDGE_BASES),
        default="sample",
        help="the sample knowledge base alone, or on top of 10,000 generated chunks",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    run = run_start(benchmark="answers_concurrency", area="Answers", variant=args.kb)

    django_setup(kb=args.kb)
    from knowledge.models import Chunk

    chunks = Chunk.objects.count()
    question_list = questions()
    results = [
        {
            **run_mode(
                mode=mode.strip(),
                count=args.conversations,
                server_kind=args.server,
                question_list=question_list,
                spread=args.spread,
            ),
            "kb": args.kb,
            "kb_chunks": chunks,
        }
        for mode in args.modes.split(",")
        if mode.strip()
    ]
    run_save(run=run, figures={"results": results}, headline=headline(results))
    if args.json:
        print(json.dumps(results))
        return
    print(
        f"One {args.server} process, embedded SQLite, {chunks:,}-chunk knowledge base; client on the same 2 shared "
        "cores"
    )
    print("(figures are noisy: other engineers share this machine)")
    for row in results:
        verdict = "no frame lost or misrouted" if not row["problems"] else f"PROBLEMS {row['problems']}"
        print(
            f"\n  {row['mode']}: {row['held']}/{row['conversations']} conversations held open, "
            f"{row['answered_ok']}/{row['answers']} answers correct ({verdict})"
        )
        print(
            f"    burst (all ask at once): {row['burst_answers_per_second']} answers/s, all in "
            f"{row['burst_wall_seconds']} s; first token p50 {row['burst_ttft_p50_ms']} ms, "
            f"p99 {row['burst_ttft_p99_ms']} ms"
        )
        if row["paced_questions_per_second"]:
            print(
                f"    paced ({row['paced_questions_per_second']} questions/s): first token p50 "
                f"{row['paced_ttft_p50_ms']} ms, p99 {row['paced_ttft_p99_ms']} ms"
            )
        print(
            f"    memory {row['memory_per_connection_kib']} KiB per idle connection; server RSS "
            f"{row['server_rss_idle_mib']} MiB idle, {row['server_rss_peak_mib']} MiB peak"
        )


if __name__ == "__main__":
    main()
