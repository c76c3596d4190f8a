"""
An OpenAI-compatible chat completions server on loopback, for tests and benchmarks.

It speaks plain HTTP/1.1 on a raw asyncio socket, so that it can misbehave the
way real providers do at the byte level: a 429 with a retry hint, a 500, a
request that never gets an answer (held until the client gives up, so the
client's timeout fires however fast the machine is), a stream that stalls
half-way (held the same way) and a stream that stops half-way without its
terminating chunk (the connection is aborted).

    with FakeOpenAI() as llm:                       # a thread with its own event loop
        llm.script(Reply.error(429, retry_after=0.05), Reply.stream("Hello [1]."))
        ... OPENAI_BASE_URL=llm.base_url ...
        llm.requests[-1].body["messages"]           # what the client sent

Without a script, every request gets `default_reply(body)`: a short answer that
cites passage [1] and repeats any `ref-...` marker found in the visitor's
message, which lets load tests check that each answer reached the right
conversation. `responder=` replaces it.

Also a process of its own for benchmarks and manual runs:

    python -m testsupport.fake_openai --port 8911 --chunk-delay 0.02
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import itertools
import json
import re
import secrets
import string
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

TOKEN_RE = re.compile(r"\S+\s*|\s+")
REF_RE = re.compile(r"\bref-[A-Za-z0-9_-]+")


def ref_marker() -> str:
    """A `ref-...` marker of letters only: a run of digits would read as a phone
    number, which the pipeline strips from the question before the model sees it."""
    return "ref-" + "".join(secrets.choice(string.ascii_lowercase) for _ in range(12))


@dataclass(frozen=True)
class Reply:
    """One scripted behaviour, used for the next request."""

    kind: str  # "stream" | "status" | "hang" | "stall" | "cut"
    text: str = ""
    status: int = 200
    retry_after: float | None = None
    chunk_delay: float | None = None
    cut_after: int = 0  # "cut", "stall": content chunks sent before the connection is aborted or held
    hang_seconds: float = 60.0  # "hang", "stall": the longest the fake waits for the client to give up
    usage: tuple[int, int] | None = None  # (prompt_tokens, completion_tokens) overrides
    resume: threading.Event | None = None  # "stall": setting it sends the rest of the stream

    @classmethod
    def stream(cls, text: str, *, chunk_delay: float | None = None) -> Reply:
        return cls(kind="stream", text=text, chunk_delay=chunk_delay)

    @classmethod
    def error(cls, status: int, *, retry_after: float | None = None) -> Reply:
        """An HTTP error (429, 500, 503...), with `retry-after`/`retry-after-ms` headers when given."""
        return cls(kind="status", status=status, retry_after=retry_after)

    @classmethod
    def hang(cls, seconds: float = 60.0) -> Reply:
        """No answer: the request is held until the client closes it (or `seconds` pass)."""
        return cls(kind="hang", hang_seconds=seconds)

    @classmethod
    def stall(
        cls, text: str, *, after_chunks: int, resume: threading.Event | None = None, seconds: float = 60.0
    ) -> Reply:
        """
        A stream that sends `after_chunks` pieces of `text`, then nothing until
        the client leaves (the connection is then aborted) or, when given,
        `resume` is set (the rest of the stream follows).
        """
        return cls(kind="stall", text=text, cut_after=after_chunks, hang_seconds=seconds, resume=resume)

    @classmethod
    def cut(cls, text: str, *, after_chunks: int) -> Reply:
        return cls(kind="cut", text=text, cut_after=after_chunks)


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    received_at: float = field(default_factory=time.monotonic)
    client_gave_up: bool = False  # "hang" or "stall": the client closed the connection while held

    @property
    def messages(self) -> list[dict]:
        return self.body.get("messages", []) if isinstance(self.body, dict) else []


def default_reply(body: dict) -> str:
    messages = body.get("messages") or [{}]
    last = str(messages[-1].get("content", ""))
    refs = " ".join(dict.fromkeys(REF_RE.findall(last)))
    suffix = f" (about {refs})" if refs else ""
    return (
        f"According to our documentation, this is covered in the first passage [1]{suffix}. "
        "Anything else I can help with?"
    )


def split_tokens(text: str) -> list[str]:
    """Word-sized pieces, whitespace kept, so that joining them gives the text back."""
    return TOKEN_RE.findall(text) or [""]


class FakeOpenAI:
    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        chunk_delay: float = 0.0,
        first_token_delay: float = 0.0,
        model: str = "fake-gpt",
        responder: Callable[[dict], str] = default_reply,
        record: bool = True,
    ) -> None:
        self.host = host
        self.port = port
        self.chunk_delay = chunk_delay
        self.first_token_delay = first_token_delay
        self.model = model
        self.responder = responder
        self.record = record
        self.requests: list[RecordedRequest] = []
        self._script: collections.deque[Reply] = collections.deque()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None
        self._open_writers: set[asyncio.StreamWriter] = set()

    # --- control -------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def script(self, *replies: Reply) -> None:
        """Queues behaviours for the next requests, in order; then the default reply again."""
        with self._lock:
            self._script.extend(replies)

    def completion_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def _next_reply(self, body: dict) -> Reply:
        with self._lock:
            if self._script:
                return self._script.popleft()
        return Reply.stream(self.responder(body))

    # --- running in a thread (tests) -----------------------------------------------

    def start(self) -> FakeOpenAI:
        ready = threading.Event()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(self._listen())
            ready.set()
            self._loop.run_forever()
            self._loop.close()

        self._thread = threading.Thread(target=run, name="fake-openai", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("fake OpenAI server did not start")
        return self

    def stop(self) -> None:
        if self._loop is None:
            return

        async def shutdown() -> None:
            assert self._server is not None
            self._server.close()
            for writer in list(self._open_writers):
                writer.transport.abort()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread:
            self._thread.join(5)
        self._loop = None

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._handle, self.host, self.port, backlog=2048)
        self.port = self._server.sockets[0].getsockname()[1]

    async def serve_forever(self, *, announce: bool = False) -> None:
        await self._listen()
        if announce:
            print(f"fake OpenAI listening on {self.base_url}", flush=True)
        assert self._server is not None
        async with self._server:
            await self._server.serve_forever()

    # --- HTTP --------------------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._open_writers.add(writer)
        try:
            while True:
                request = await self._read_request(reader)
                if request is None:
                    return
                if self.record:
                    self.requests.append(request)
                keep_open = await self._respond(request, reader, writer)
                if not keep_open:
                    return
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            # CancelledError: the server is shutting down; ending quietly keeps the log clean.
            return
        finally:
            self._open_writers.discard(writer)
            if not writer.transport.is_closing():
                writer.close()

    async def _read_request(self, reader: asyncio.StreamReader) -> RecordedRequest | None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            return None
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if ":" in line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        raw = await reader.readexactly(int(headers.get("content-length", "0") or 0))
        try:
            body: Any = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            body = raw.decode("utf-8", "replace")
        return RecordedRequest(method=method, path=path, headers=headers, body=body)

    async def _respond(
        self, request: RecordedRequest, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        if request.method == "GET" and request.path.rstrip("/").endswith("/models"):
            await self._send_json(writer, 200, {"object": "list", "data": [{"id": self.model, "object": "model"}]})
            return True
        if request.method != "POST" or not request.path.endswith("/chat/completions"):
            await self._send_json(writer, 404, {"error": {"message": "not found", "type": "invalid_request_error"}})
            return True
        if not isinstance(request.body, dict):
            await self._send_json(
                writer, 400, {"error": {"message": "body must be JSON", "type": "invalid_request_error"}}
            )
            return True

        reply = self._next_reply(request.body)
        if reply.kind == "status":
            extra = {}
            if reply.retry_after is not None:
                extra["retry-after-ms"] = str(int(reply.retry_after * 1000))
                extra["retry-after"] = str(max(1, round(reply.retry_after)))
            error_type = "rate_limit_exceeded" if reply.status == 429 else "server_error"
            await self._send_json(
                writer, reply.status, {"error": {"message": f"scripted {reply.status}", "type": error_type}}, extra
            )
            return True
        if reply.kind == "hang":
            await self._hold(request, reader, writer, reply)
            return False
        if request.body.get("stream"):
            return await self._send_stream(request, reader, writer, reply)
        await self._send_completion(writer, request.body, reply)
        return True

    @staticmethod
    async def _hold(
        request: RecordedRequest, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, reply: Reply
    ) -> bool:
        """
        Sends nothing until the client closes the connection (its timeout) or
        the reply's `resume` is set. True when resumed; otherwise the
        connection is aborted.
        """
        client_leaves = asyncio.ensure_future(reader.read())
        waits = {client_leaves}
        if reply.resume is not None:
            waits.add(asyncio.ensure_future(_event_set(reply.resume)))
        try:
            done, _ = await asyncio.wait(waits, timeout=reply.hang_seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()
        if client_leaves in done:
            request.client_gave_up = True
        elif reply.resume is not None and reply.resume.is_set():
            return True
        writer.transport.abort()
        return False

    async def _send_json(
        self, writer: asyncio.StreamWriter, status: int, payload: dict, extra_headers: dict[str, str] | None = None
    ) -> None:
        data = json.dumps(payload).encode()
        headers = {"content-type": "application/json", "content-length": str(len(data)), **(extra_headers or {})}
        writer.write(self._head(status, headers) + data)
        await writer.drain()

    @staticmethod
    def _head(status: int, headers: dict[str, str]) -> bytes:
        reasons = {
            200: "OK",
            400: "Bad Request",
            404: "Not Found",
            429: "Too Many Requests",
            500: "Internal Server Error",
            502: "Bad Gateway",
            503: "Service Unavailable",
        }
        lines = [f"HTTP/1.1 {status} {reasons.get(status, 'Status')}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def _usage(self, body: dict, completion: str, reply: Reply) -> dict:
        if reply.usage:
            prompt_tokens, completion_tokens = reply.usage
        else:
            prompt_chars = sum(len(str(m.get("content", ""))) for m in body.get("messages", []))
            prompt_tokens = max(1, prompt_chars // 4)
            completion_tokens = len(split_tokens(completion))
        return {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }

    async def _send_completion(self, writer: asyncio.StreamWriter, body: dict, reply: Reply) -> None:
        payload = {
            "id": f"chatcmpl-{next(self._ids)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", self.model),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": reply.text}, "finish_reason": "stop"}],
            "usage": self._usage(body, reply.text, reply),
        }
        await self._send_json(writer, 200, payload)

    async def _send_stream(
        self, request: RecordedRequest, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, reply: Reply
    ) -> bool:
        body = request.body
        writer.write(
            self._head(
                200, {"content-type": "text/event-stream", "transfer-encoding": "chunked", "cache-control": "no-cache"}
            )
        )
        await writer.drain()
        completion_id = f"chatcmpl-{next(self._ids)}"
        created = int(time.time())
        model = body.get("model", self.model)
        delay = self.chunk_delay if reply.chunk_delay is None else reply.chunk_delay

        def chunk(delta: dict, finish: str | None = None) -> dict:
            return {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }

        async def send_event(data: str) -> None:
            event = f"data: {data}\n\n".encode()
            writer.write(f"{len(event):x}\r\n".encode() + event + b"\r\n")
            await writer.drain()

        if self.first_token_delay:
            await asyncio.sleep(self.first_token_delay)
        await send_event(json.dumps(chunk({"role": "assistant", "content": ""})))
        for index, piece in enumerate(split_tokens(reply.text)):
            if reply.kind == "cut" and index >= reply.cut_after:
                writer.transport.abort()
                return False
            if (
                reply.kind == "stall"
                and index == reply.cut_after
                and not await self._hold(request, reader, writer, reply)
            ):
                return False
            if delay and index:
                await asyncio.sleep(delay)
            await send_event(json.dumps(chunk({"content": piece})))
        await send_event(json.dumps(chunk({}, "stop")))
        if (body.get("stream_options") or {}).get("include_usage"):
            final = {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [],
                "usage": self._usage(body, reply.text, reply),
            }
            await send_event(json.dumps(final))
        await send_event("[DONE]")
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        return True


async def _event_set(event: threading.Event) -> None:
    """Returns once a thread sets `event` (polled: a thread blocked in `wait` could not be cancelled)."""
    while not event.is_set():
        await asyncio.sleep(0.02)


def main() -> None:
    parser = argparse.ArgumentParser(description="An OpenAI-compatible fake chat completions server.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--chunk-delay", type=float, default=0.0, help="seconds between streamed tokens")
    parser.add_argument("--first-token-delay", type=float, default=0.0, help="seconds before the first token")
    args = parser.parse_args()
    server = FakeOpenAI(
        host=args.host,
        port=args.port,
        chunk_delay=args.chunk_delay,
        first_token_delay=args.first_token_delay,
        record=False,
    )
    try:
        asyncio.run(server.serve_forever(announce=True))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
