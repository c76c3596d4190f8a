"""
Loopback HTTP peers for the knowledge tests: a web site whose pages can be
slow, missing or enormous, and an OpenAI-compatible /v1/embeddings server.
They stand in for the network only; the project's code runs unchanged.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np


@dataclass
class Page:
    body: bytes | Callable[[], Iterator[bytes]] = b""
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    delay: float = 0.0  # seconds before the headers are sent
    declare_length: bool = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class _Running:
    def __init__(self, handler: type[BaseHTTPRequestHandler]):
        self.server = _Server(("127.0.0.1", 0), handler)
        self.server.owner = self
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


class _SiteHandler(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        site: PageServer = self.server.owner
        site.hits.append(self.path)
        page = site.pages.get(self.path)
        if page is None:
            page = Page(b"<html><body><h1>Not found</h1></body></html>", status=404)
        if page.delay:
            time.sleep(page.delay)
        try:
            self.send_response(page.status)
            self.send_header("Content-Type", page.content_type)
            if callable(page.body):
                self.send_header("Connection", "close")
                self.end_headers()
                for part in page.body():
                    self.wfile.write(part)
                return
            if page.declare_length:
                self.send_header("Content-Length", str(len(page.body)))
            self.end_headers()
            self.wfile.write(page.body)
        except (BrokenPipeError, ConnectionResetError):
            pass


class PageServer(_Running):
    """`site.pages["/path"] = Page(...)`; `site.url("/path")`; `site.hits` lists requested paths."""

    def __init__(self):
        super().__init__(_SiteHandler)
        self.pages: dict[str, Page] = {}
        self.hits: list[str] = []

    def url(self, path: str) -> str:
        return self.base_url + path


def bag_of_words_vector(text: str, dimension: int) -> list[float]:
    """A deterministic stand-in for a real embedding: hashed word counts, unit length."""
    vector = np.zeros(dimension, dtype=np.float32)
    for word in re.findall(r"\w+", text.lower()):
        vector[int(hashlib.md5(word.encode()).hexdigest(), 16) % dimension] += 1.0
    norm = float(np.linalg.norm(vector)) or 1.0
    return (vector / norm).tolist()


class _EmbeddingsHandler(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802
        fake: FakeEmbeddings = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        fake.requests.append({"path": self.path, "body": body, "authorization": self.headers.get("Authorization")})
        if fake.failures and isinstance(fake.failures[0], tuple):
            _, seconds = fake.failures.pop(0)
            time.sleep(seconds)
        elif fake.failures:
            status = fake.failures.pop(0)
            if status == "hang":
                time.sleep(fake.hang_seconds)
                return
            self._json(status, {"error": {"message": "scripted failure", "type": "server_error"}})
            return
        if not self.path.endswith("/embeddings"):
            self._json(404, {"error": {"message": "not found"}})
            return
        inputs = body.get("input")
        inputs = [inputs] if isinstance(inputs, str) else list(inputs)
        data = []
        for number, text in enumerate(inputs):
            vector = bag_of_words_vector(text, fake.dimension)
            if body.get("encoding_format") == "base64":
                encoded = base64.b64encode(np.asarray(vector, dtype=np.float32).tobytes()).decode()
                data.append({"object": "embedding", "index": number, "embedding": encoded})
            else:
                data.append({"object": "embedding", "index": number, "embedding": vector})
        tokens = sum(len(text.split()) for text in inputs)
        self._json(200, {"object": "list", "data": data, "model": body.get("model"),
                         "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})

    def _json(self, status: int, payload: dict) -> None:
        raw = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)
        except (BrokenPipeError, ConnectionResetError):
            pass


class FakeEmbeddings(_Running):
    """
    An OpenAI-compatible embeddings endpoint. `failures` scripts the next calls:
    an HTTP status (error), "hang" (no answer), or ("slow", seconds) (a late but good answer).
    """

    def __init__(self, *, dimension: int = 64, hang_seconds: float = 5.0):
        super().__init__(_EmbeddingsHandler)
        self.dimension = dimension
        self.hang_seconds = hang_seconds
        self.requests: list[dict] = []
        self.failures: list = []

    @property
    def openai_base_url(self) -> str:
        return self.base_url + "/v1"

    def embedded_texts(self) -> list[str]:
        texts: list[str] = []
        for request in self.requests:
            value = request["body"].get("input")
            texts.extend([value] if isinstance(value, str) else value or [])
        return texts
