"""
Loopback network peers for tests of server-side fetches: a web site whose pages
can be slow, missing, enormous or redirects, and a bare TCP port that shows
whether anything connected to it. They stand in for the network only; the
project's code runs unchanged.

    with PageServer() as site:                    # http://127.0.0.1:<port>
        site.pages["/a"] = Page(b"<p>hi</p>")
        site.pages["/old"] = Page.redirect("/a")
        ... site.url("/a") ...; site.hits            # the paths requested, in order

`PageServer(host="127.0.0.2")` listens on another loopback address (Linux routes
all of 127/8 to the loopback interface), which lets a test allow one loopback
address and not the other. `PageServer(tls=TestCertificates(...).server_context())`
speaks HTTPS with a certificate from a throwaway CA (`client_context()` trusts it).
"""

from __future__ import annotations

import datetime
import socket
import ssl
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from testsupport.waiting import client_gone


@dataclass
class Page:
    body: bytes | Callable[[], Iterator[bytes]] = b""
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    delay: float = 0.0  # seconds before the headers are sent
    declare_length: bool = True
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False  # no answer at all until the client gives up (its timeout)

    @classmethod
    def redirect(cls, location: str, *, status: int = 302) -> Page:
        return cls(b"", status=status, headers={"Location": location})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class LoopbackServer:
    """A threading HTTP server on a loopback address, stopped on exit."""

    def __init__(
        self,
        handler: type[BaseHTTPRequestHandler],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: ssl.SSLContext | None = None,
    ):
        self.server = _Server((host, port), handler)
        self.server.owner = self
        self.scheme = "https" if tls is not None else "http"
        self.server_names: list[str | None] = []  # TLS: the SNI each client sent
        if tls is not None:
            tls.sni_callback = lambda sslobj, name, context: self.server_names.append(name)
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def host(self) -> str:
        return self.server.server_address[0]

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


class _SiteHandler(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        site: PageServer = self.server.owner
        site.hits.append(self.path)
        site.host_headers.append(self.headers.get("Host", ""))
        page = site.pages.get(self.path)
        if page is None:
            page = Page(b"<html><body><h1>Not found</h1></body></html>", status=404)
        if page.hang:
            client_gone(self.connection, timeout=120)
            self.close_connection = True
            return
        if page.delay:
            time.sleep(page.delay)
        try:
            self.send_response(page.status)
            self.send_header("Content-Type", page.content_type)
            for name, value in page.headers.items():
                self.send_header(name, value)
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


class PageServer(LoopbackServer):
    """`site.pages["/path"] = Page(...)`; `site.url("/path")`; `site.hits` lists requested paths."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, tls: ssl.SSLContext | None = None):
        super().__init__(_SiteHandler, host=host, port=port, tls=tls)
        self.pages: dict[str, Page] = {}
        self.hits: list[str] = []
        self.host_headers: list[str] = []

    def url(self, path: str) -> str:
        return self.base_url + path


class TcpPort:
    """
    A listening TCP port that never accepts, so that every connection made to it
    waits in the kernel's backlog: `connections()` takes them out (without
    blocking) and says how many there were. Stands in for a non-web service
    (Redis, a database, a metadata endpoint) that a fetch must never reach.
    With `reply`, a thread accepts instead and answers that and closes, the way
    Redis answers an HTTP request.
    """

    def __init__(self, *, host: str = "127.0.0.1", reply: bytes | None = None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind((host, 0))
        self.sock.listen(16)
        self.reply = reply
        self.accepted = 0
        self._thread = threading.Thread(target=self._serve, daemon=True) if reply is not None else None

    @property
    def port(self) -> int:
        return self.sock.getsockname()[1]

    def url(self, scheme: str = "http", path: str = "/") -> str:
        host, port = self.sock.getsockname()[:2]
        return f"{scheme}://{host}:{port}{path}"

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.sock.accept()
            except OSError:
                return
            with connection:
                self.accepted += 1
                connection.settimeout(5)
                try:
                    connection.recv(4096)
                    connection.sendall(self.reply or b"")
                except OSError:
                    pass

    def connections(self) -> int:
        """Connections made so far (for a port without `reply`: taken from the backlog now)."""
        if self._thread is not None:
            return self.accepted
        self.sock.setblocking(False)
        while True:
            try:
                connection, _ = self.sock.accept()
            except BlockingIOError:
                break
            connection.close()
            self.accepted += 1
        self.sock.setblocking(True)
        return self.accepted

    def __enter__(self) -> TcpPort:
        if self._thread is not None:
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


def closed_port(host: str = "127.0.0.1") -> int:
    """A port on `host` that nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class TestCertificates:
    """A throwaway certificate authority and one server certificate for `hostnames`."""

    __test__ = False  # not a pytest test class

    def __init__(self, *hostnames: str):
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        now = datetime.datetime.now(datetime.UTC)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test CA")])
        ca = (
            x509.CertificateBuilder()
            .subject_name(ca_name)
            .issuer_name(ca_name)
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    key_cert_sign=True,
                    crl_sign=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        key = ec.generate_private_key(ec.SECP256R1())
        leaf = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostnames[0])]))
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name) for name in hostnames]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        pem = serialization.Encoding.PEM
        self.ca_pem = ca.public_bytes(pem).decode()
        self._chain = leaf.public_bytes(pem) + ca.public_bytes(pem)
        self._key = key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        with tempfile.TemporaryDirectory() as folder:
            chain, key = Path(folder) / "chain.pem", Path(folder) / "key.pem"
            chain.write_bytes(self._chain)
            key.write_bytes(self._key)
            context.load_cert_chain(chain, key)
        return context

    def client_context(self) -> ssl.SSLContext:
        """Verifies certificates and host names like the default context, trusting only this CA."""
        return ssl.create_default_context(cadata=self.ca_pem)
