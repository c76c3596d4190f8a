"""
Loopback HTTP peers for the knowledge tests: a web site whose pages can be
slow, missing or enormous (`testsupport.web`), and an OpenAI-compatible
/v1/embeddings server. They stand in for the network only; the project's code
runs unchanged.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler

import numpy as np

from testsupport.waiting import client_gone
from testsupport.web import LoopbackServer, Page, PageServer

__all__ = ["FakeEmbeddings", "Page", "PageServer", "bag_of_words_vector"]


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

    def do_POST(self) -> None:
        fake: FakeEmbeddings = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        record = {
            "path": self.path,
            "body": body,
            "authorization": self.headers.get("Authorization"),
            "client_gave_up": False,
        }
        fake.requests.append(record)
        hold = fake.hold_for(body)
        if hold is not None:
            hold.wait()
        if fake.failures:
            status = fake.failures.pop(0)
            if status == "hang":
                record["client_gave_up"] = client_gone(self.connection, timeout=fake.hang_seconds)
                self.close_connection = True
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
        self._json(
            200,
            {
                "object": "list",
                "data": data,
                "model": body.get("model"),
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            },
        )

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


class Hold:
    """Embedding requests held until `release()`; `arrived` is set as soon as one is held."""

    def __init__(self, *, matches: Callable[[list[str]], bool], limit: int | None, seconds: float) -> None:
        self.matches = matches
        self.limit = limit
        self.seconds = seconds
        self.held = 0
        self.arrived = threading.Event()
        self.released = threading.Event()

    def take(self, texts: list[str]) -> bool:
        if self.released.is_set() or (self.limit is not None and self.held >= self.limit) or not self.matches(texts):
            return False
        self.held += 1
        self.arrived.set()
        return True

    def wait(self) -> None:
        self.released.wait(self.seconds)

    def release(self) -> None:
        self.released.set()


class FakeEmbeddings(LoopbackServer):
    """
    An OpenAI-compatible embeddings endpoint. `failures` scripts the next calls:
    an HTTP status (error) or "hang" (no answer until the client gives up).
    `hold()` keeps matching requests waiting until the test releases them, so
    a test can act while an embedding call is provably in flight.
    """

    def __init__(self, *, dimension: int = 64, hang_seconds: float = 60.0):
        super().__init__(_EmbeddingsHandler)
        self.dimension = dimension
        self.hang_seconds = hang_seconds
        self.requests: list[dict] = []
        self.failures: list = []
        self._holds: list[Hold] = []
        self._lock = threading.Lock()

    def hold(
        self,
        *,
        matches: Callable[[list[str]], bool] = lambda texts: True,
        limit: int | None = None,
        seconds: float = 120.0,
    ) -> Hold:
        """Holds the next `limit` (default: every) request whose input `matches`, for at most `seconds`."""
        hold = Hold(matches=matches, limit=limit, seconds=seconds)
        with self._lock:
            self._holds.append(hold)
        return hold

    def hold_for(self, body: dict) -> Hold | None:
        value = body.get("input")
        texts = [value] if isinstance(value, str) else list(value or [])
        with self._lock:
            return next((hold for hold in self._holds if hold.take(texts)), None)

    @property
    def openai_base_url(self) -> str:
        return self.base_url + "/v1"

    def embedded_texts(self) -> list[str]:
        texts: list[str] = []
        for request in self.requests:
            value = request["body"].get("input")
            texts.extend([value] if isinstance(value, str) else value or [])
        return texts
