"""Another company's web site on its own origin (loopback), with the widget's script tag pasted in."""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class CustomerSite:
    """
    Serves `page(bot_url)` for every GET; set `bot_url` once the bot server
    runs. `allowed` is its origin; `refused` is the same server under another
    origin (localhost instead of 127.0.0.1), for origin checks.
    """

    def __init__(self, page: Callable[[str], str]) -> None:
        self.bot_url = ""
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                body = page(site.bot_url).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.allowed = f"http://127.0.0.1:{self.port}"
        self.refused = f"http://localhost:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> CustomerSite:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
