"""Another company's site on its own loopback origin, where a page pastes in the widget's script tag."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class HostSite:
    """
    Serves `page(bot_url)` at every path, with `headers(bot_url)` added;
    `bot_url` is set once the bot server runs (the script tag points at it).
    """

    def __init__(self, page: Callable[[str], str], headers: Callable[[str], dict[str, str]] | None = None) -> None:
        self.bot_url = ""
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = page(site.bot_url).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                for name, value in (headers(site.bot_url) if headers else {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"


@contextmanager
def host_site_running(site: HostSite) -> Iterator[HostSite]:
    thread = threading.Thread(target=site.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        site.server.shutdown()
        site.server.server_close()
