"""
The documented production settings (deploy/production.env), served by
Gunicorn with Uvicorn workers as in the image, behind a TLS proxy: HSTS and
secure cookies, HTTPS redirects, the admin at ADMIN_URL, request size limits,
and health probes that still answer from inside the container.
"""

from __future__ import annotations

import json
import re
import select
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from knowledge.models import Document
from testsupport.processes import RunningProcess, server_process

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

BASE_DIR = Path(__file__).resolve().parents[3]
HOST = "assistant.example.com"
ADMIN = "/staff-7f3a/"
UPLOAD_MAX_BYTES = 1024 * 1024
REQUEST_MAX_BYTES = 2 * 1024 * 1024
API_MAX_BYTES = 64 * 1024
BEHIND_TLS = {"Host": HOST, "X-Forwarded-Proto": "https"}
PASSWORD = "correct horse battery staple"


def production_settings() -> dict[str, str]:
    env = {}
    for line in (BASE_DIR / "deploy" / "production.env").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            env[name] = value
    # The test's own database (testsupport.processes) and Redis (from the environment, when set).
    env.pop("DATABASE_URL")
    env.pop("REDIS_URL")
    env.update(
        {
            "ADMIN_URL": ADMIN.strip("/") + "/",
            "UPLOAD_MAX_BYTES": str(UPLOAD_MAX_BYTES),
            "REQUEST_MAX_BYTES": str(REQUEST_MAX_BYTES),
            "DATA_UPLOAD_MAX_MEMORY_SIZE": str(API_MAX_BYTES),
        }
    )
    return env


@pytest.fixture(scope="module")
def server(django_db_setup) -> Iterator[RunningProcess]:
    with server_process("gunicorn", env=production_settings()) as running:
        yield running


def get(server: RunningProcess, path: str, headers: dict | None = None, **kwargs) -> requests.Response:
    return requests.get(
        server.url + path, headers={**BEHIND_TLS, **(headers or {})}, allow_redirects=False, timeout=20, **kwargs
    )


def post(server: RunningProcess, path: str, headers: dict | None = None, **kwargs) -> requests.Response:
    return requests.post(
        server.url + path, headers={**BEHIND_TLS, **(headers or {})}, allow_redirects=False, timeout=20, **kwargs
    )


def set_cookies(response: requests.Response) -> dict[str, str]:
    """Each Set-Cookie header as sent, by cookie name."""
    return {header.split("=", 1)[0]: header for header in response.raw.headers.getlist("Set-Cookie")}


def cookie_value(header: str) -> str:
    return header.split(";", 1)[0].split("=", 1)[1]


def csrf_token(page: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]


def admin_login(server: RunningProcess) -> dict[str, str]:
    """Logs in through the form as a browser on https would; returns the request headers of the session."""
    # Hashed as the server's settings expect (the test settings use a faster hasher).
    get_user_model().objects.create(
        username="ana",
        email="ana@example.com",
        is_staff=True,
        is_superuser=True,
        password=PBKDF2PasswordHasher().encode(PASSWORD, "test-salt", iterations=1000),
    )
    page = get(server, f"{ADMIN}login/")
    csrf = cookie_value(set_cookies(page)["csrftoken"])
    response = post(
        server,
        f"{ADMIN}login/",
        headers={"Cookie": f"csrftoken={csrf}", "Referer": f"https://{HOST}{ADMIN}login/"},
        data={"username": "ana", "password": PASSWORD, "csrfmiddlewaretoken": csrf_token(page.text), "next": ADMIN},
    )
    assert response.status_code == 302, response.text[:500]
    cookies = set_cookies(response)
    return {
        "Cookie": f"sessionid={cookie_value(cookies['sessionid'])}; csrftoken={cookie_value(cookies['csrftoken'])}",
        "Referer": f"https://{HOST}{ADMIN}",
    }, cookies


def test_probes_answer_plain_http_from_inside_the_container(server):
    health = requests.get(f"{server.url}/healthz", timeout=10, allow_redirects=False)
    ready = requests.get(f"{server.url}/readyz", timeout=10, allow_redirects=False)

    assert health.status_code == 200 and health.json() == {"status": "ok"}
    assert ready.status_code in (200, 503) and "checks" in ready.json(), "not a 400 (host) or a 301 (https)"


def test_plain_http_is_redirected_to_https_and_unknown_hosts_are_refused(server):
    plain = requests.get(f"{server.url}{ADMIN}login/", headers={"Host": HOST}, allow_redirects=False, timeout=10)
    foreign = get(server, f"{ADMIN}login/", headers={"Host": "evil.example"})

    assert plain.status_code == 301 and plain.headers["Location"] == f"https://{HOST}{ADMIN}login/"
    assert foreign.status_code == 400


def test_behind_tls_responses_carry_hsts_and_secure_cookies(server):
    page = get(server, f"{ADMIN}login/")
    _, cookies = admin_login(server)

    assert page.status_code == 200
    assert page.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert page.headers["X-Content-Type-Options"] == "nosniff" and page.headers["X-Frame-Options"] == "DENY"
    assert "; Secure" in set_cookies(page)["csrftoken"]
    session = cookies["sessionid"]
    assert "; Secure" in session and "; HttpOnly" in session and "SameSite=Lax" in session


def test_the_admin_is_at_admin_url_only(server):
    assert get(server, f"{ADMIN}login/").status_code == 200
    assert get(server, "/admin/login/").status_code == 404


def read_response(sock: socket.socket) -> tuple[int, dict]:
    data = b""
    while b"\r\n\r\n" not in data or len(data.split(b"\r\n\r\n", 1)[1]) < 20:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1])
    return status, json.loads(body[: body.rindex(b"}") + 1])


def test_a_body_declared_over_the_limit_is_refused_before_it_is_sent(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(
            f"POST {ADMIN}login/ HTTP/1.1\r\nHost: {HOST}\r\nX-Forwarded-Proto: https\r\n"
            f"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: {10**11}\r\n\r\n".encode()
        )
        status, body = read_response(sock)

    assert status == 413
    assert body == {
        "code": "too_large",
        "message": "The request body is over the 2 MB limit.",
        "max_bytes": REQUEST_MAX_BYTES,
    }


def test_a_streamed_body_is_cut_off_at_the_limit(server):
    chunk = b"x" * 65536
    sent = 0
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(
            f"POST {ADMIN}login/ HTTP/1.1\r\nHost: {HOST}\r\nX-Forwarded-Proto: https\r\n"
            f"Content-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
        )
        while sent < 20 * REQUEST_MAX_BYTES and not select.select([sock], [], [], 0.002)[0]:
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sent += len(chunk)
        status, body = read_response(sock)

    assert status == 413 and body["code"] == "too_large"
    assert sent < 20 * REQUEST_MAX_BYTES, "the server answered before the body ended (kernel buffers hold the rest)"


def test_an_api_body_over_data_upload_max_memory_size_is_refused(server):
    response = post(server, "/api/chat/", json={"message": "x" * (2 * API_MAX_BYTES)})

    assert response.status_code == 413
    assert response.json()["message"] == "The request body is over the 64 KB limit."


def test_an_upload_over_upload_max_bytes_is_refused_with_a_clear_message(server):
    session, _ = admin_login(server)
    form = get(server, f"{ADMIN}knowledge/document/upload/", headers=session)
    files = [("files", ("price-list.pdf", b"%PDF-1.4 " + b"0" * (UPLOAD_MAX_BYTES + 1000), "application/pdf"))]

    uploaded = post(
        server,
        f"{ADMIN}knowledge/document/upload/",
        headers=session,
        files=files,
        data={"csrfmiddlewaretoken": csrf_token(form.text)},
    )
    flashed = "; ".join(header.split(";", 1)[0] for header in set_cookies(uploaded).values())
    listing = get(
        server, uploaded.headers["Location"], headers={**session, "Cookie": f"{session['Cookie']}; {flashed}"}
    )

    assert uploaded.status_code == 302
    assert "Over the 1 MB limit, marked failed: price-list.pdf" in listing.text
    document = Document.objects.get(identifier="price-list.pdf")
    assert document.size_bytes > UPLOAD_MAX_BYTES
    assert bytes(document.content) == b"", "the oversized file is not stored (its indexing task then fails it)"
