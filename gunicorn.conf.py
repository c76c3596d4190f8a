"""
Gunicorn settings for the web process, read from the project root (the
command line wins over them):

    gunicorn chatbot.asgi:application -k core.uvicorn_worker.UvicornWorker --bind 0.0.0.0:8000

The worker is Uvicorn's, with a deadline for request headers
(REQUEST_HEADERS_TIMEOUT, core.uvicorn_worker): connections that never finish
their request, WebSocket upgrades included, are dropped.

Worker count: Gunicorn's own `WEB_CONCURRENCY` (default 1). One worker per
core suits this app: a Uvicorn worker is one event loop holding thousands of
WebSockets, and the CPU work of an answer (query embedding, search) runs in
its threads. More than one worker needs REDIS_URL: Gunicorn refuses to start
them without it (`on_starting`, chatbot.E002). Behind a reverse proxy on
another address, set Gunicorn's `FORWARDED_ALLOW_IPS` to it, or per-IP rate
limits see the proxy's address.
"""

import os
from pathlib import Path

wsgi_app = "chatbot.asgi:application"
worker_class = "core.uvicorn_worker.UvicornWorker"

# WebSockets live for minutes: on SIGTERM or a reload, an answer being streamed
# gets this long to finish before its connection is cut (the widget reconnects
# and resumes the conversation).
graceful_timeout = 15
keepalive = 5

# Gunicorn 27's control socket (`gunicornc`) is one shared path per user
# (~/.gunicorn/gunicorn.ctl): several servers on one host would replace each
# other's. Nothing here uses it.
control_socket_disable = True

# The worker heartbeat file on a RAM disk: in containers /tmp may be an overlay
# on disk, where a slow fsync can make the arbiter think a worker hangs.
if Path("/dev/shm").is_dir():
    worker_tmp_dir = "/dev/shm"


def on_starting(server) -> None:
    """
    Refuses to start several workers without a shared cache (chatbot.E002):
    each would keep its own rate-limit counters, so every limit would be
    multiplied by the number of workers. The settings see the worker count
    Gunicorn uses (`-w` on the command line wins over WEB_CONCURRENCY).
    """
    os.environ["WEB_CONCURRENCY"] = str(server.cfg.workers)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatbot.settings")
    from chatbot.checks import check_web_workers_share_a_cache

    messages = check_web_workers_share_a_cache(None)
    for message in messages:
        if not message.is_serious():
            server.log.warning("%s: %s HINT: %s", message.id, message.msg, message.hint)
    errors = [message for message in messages if message.is_serious()]
    if errors:
        raise RuntimeError("\n".join(f"{error.id}: {error.msg} HINT: {error.hint}" for error in errors))


def post_worker_init(worker) -> None:
    """
    Loads the embedding model, the current index version and the language
    detector before this worker takes its first visitor, who would otherwise
    wait ~0.5 s for them. A database that cannot be reached yet only costs a
    warning: the first search then loads them instead.
    """
    from django.db import connections

    from core.language import language_detector_load
    from knowledge.selectors import search

    try:
        language_detector_load()
        search(query="warm up", k=1)
    except Exception as exc:  # noqa: BLE001 - never keep a worker from starting
        worker.log.warning("warm-up skipped: %s", exc)
    finally:
        connections.close_all()
