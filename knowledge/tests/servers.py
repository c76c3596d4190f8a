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
import time
from http.server import BaseHTTPRequestHandler

import numpy as np

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


class FakeEmbeddings(LoopbackServer):
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
