"""
Real server and worker processes for tests that cross a process boundary.

They run the production settings module against the test database that
pytest-django created, so a test must use `transactional_db` for them to see
its rows.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection

BASE_DIR = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_database_url() -> str:
    """The URL of the database pytest-django created, for child processes."""
    params = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{params['NAME']}"
    user = params.get("USER") or ""
    password = f":{params['PASSWORD']}" if params.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgres://{auth}{params['HOST']}:{params['PORT']}/{params['NAME']}"


def child_environment(**overrides: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "chatbot.settings",
            "DOTENV": "0",
            "DATABASE_URL": test_database_url(),
            "DATA_DIR": str(settings.DATA_DIR),
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.pop("DATABASE_TEST_NAME", None)
    env.update(overrides)
    return env


@dataclass
class RunningProcess:
    process: subprocess.Popen
    port: int | None
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10) -> None:
        if self.process.poll() is not None:
            return
        self.process.send_signal(sig)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=timeout)


SERVER_COMMANDS = {
    "daphne": lambda port: [
        sys.executable,
        "-m",
        "daphne",
        "-b",
        "127.0.0.1",
        "-p",
        str(port),
        "chatbot.asgi:application",
    ],
    "uvicorn": lambda port: [
        sys.executable,
        "-m",
        "uvicorn",
        "chatbot.asgi:application",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
    ],
    "gunicorn": lambda port: [
        sys.executable,
        "-m",
        "gunicorn",
        "chatbot.asgi:application",
        "-k",
        "core.uvicorn_worker.UvicornWorker",
        "-b",
        f"127.0.0.1:{port}",
    ],
}


def wait_for_http(url: str, process: subprocess.Popen, log_path: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{log_path.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout}s:\n{log_path.read_text()}")


@contextmanager
def server_process(
    kind: str = "daphne",
    *,
    port: int | None = None,
    env: dict[str, str] | None = None,
    log_dir: Path | None = None,
    args: list[str] | None = None,
) -> Iterator[RunningProcess]:
    """Starts `kind` (daphne, uvicorn or gunicorn) on a free port, with `args` added, and waits for /healthz."""
    port = port or free_port()
    log_dir = log_dir or Path(settings.DATA_DIR)
    log_path = log_dir / f"{kind}-{port}.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            SERVER_COMMANDS[kind](port) + (args or []),
            cwd=BASE_DIR,
            env=child_environment(**(env or {})),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    running = RunningProcess(process=process, port=port, log_path=log_path)
    try:
        wait_for_http(f"{running.url}/healthz", process, log_path)
        yield running
    finally:
        running.stop()


@contextmanager
def worker_process(*, env: dict[str, str] | None = None, log_dir: Path | None = None) -> Iterator[RunningProcess]:
    """Starts `manage.py db_worker` on the test database."""
    log_dir = log_dir or Path(settings.DATA_DIR)
    log_path = log_dir / f"worker-{time.monotonic_ns()}.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "db_worker",
                "--no-reload",
                "--no-startup-delay",
                "--interval",
                "0.1",
                "--queue-name",
                "*",
            ],
            cwd=BASE_DIR,
            env=child_environment(TASK_BACKEND="database", **(env or {})),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    running = RunningProcess(process=process, port=None, log_path=log_path)
    try:
        yield running
    finally:
        running.stop()
