"""
An HTTP-level fake of the Google Sheets v4 API and Google's OAuth token endpoint.

The real `gspread` client and `google-auth` talk to it over loopback: the
service-account JSON it hands out has a `token_uri` pointing here (and a real
RSA key, whose JWT assertions the fake verifies), and the app sends Sheets
calls here when `SHEETS_API_BASE_URL` is the fake's URL.

It keeps spreadsheets in memory and implements what a spreadsheet mirror uses:
spreadsheet metadata, `values.get`, `values.batchGet`, `values.update`, `values.append`,
`values.batchUpdate` and `spreadsheets.batchUpdate` (`addSheet`,
`deleteDimension`). Faults are planned per request: HTTP errors (500, 503,
429 with `Retry-After`), timeouts that hang until the client gives up (either
after applying the write, as a real server may, or before), a whole outage,
or a seeded random mix. Each request is recorded with the fault it got, so a
test can prove that the faults it planned happened.

    with FakeSheets() as sheets:
        sheets.fail_next(3, status=429, retry_after=2)
        ...
        assert sheets.rows("Leads")[0][0] == "Lead ID"
"""

from __future__ import annotations

import base64
import json
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from testsupport.waiting import client_gone

SCOPE_SPREADSHEETS = "https://www.googleapis.com/auth/spreadsheets"
# google-auth always addresses the assertion to Google's endpoint, whatever the token_uri.
TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"


@lru_cache(maxsize=1)
def _key_pair() -> tuple[str, Any]:
    """One RSA key per test process: generating one costs ~100 ms."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return pem, key.public_key()


def _b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def column_letter(index: int) -> str:
    """1 -> A, 27 -> AA."""
    letters = ""
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _column_index(letters: str) -> int:
    index = 0
    for char in letters.upper():
        index = index * 26 + ord(char) - 64
    return index


_CELL_RE = re.compile(r"^([A-Za-z]*)(\d*)$")


@dataclass
class RecordedRequest:
    method: str
    path: str
    status: int
    fault: str = ""
    client_gave_up: bool = False  # a hung request: the client closed the connection (its timeout)


@dataclass
class Fault:
    kind: str  # "status" | "timeout"
    remaining: int
    status: int = 500
    retry_after: float | None = None
    apply: bool = True
    matches: Callable[[str, str], bool] = lambda method, path: True


@dataclass
class Worksheet:
    sheet_id: int
    title: str
    rows: list[list[str]] = field(default_factory=list)
    row_count: int = 1000
    column_count: int = 26


@dataclass
class Spreadsheet:
    spreadsheet_id: str
    title: str
    worksheets: list[Worksheet] = field(default_factory=list)

    def worksheet(self, title: str) -> Worksheet | None:
        return next((ws for ws in self.worksheets if ws.title == title), None)


class ApiError(Exception):
    def __init__(self, status: int, message: str, reason: str = "INVALID_ARGUMENT") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.reason = reason


class FakeSheets:
    """The fake server; a context manager that starts and stops it."""

    def __init__(
        self,
        *,
        spreadsheet_id: str = "test-spreadsheet",
        title: str = "Tidewater leads",
        worksheets: tuple[str, ...] = ("Sheet1",),
        hang_seconds: float = 60.0,
    ) -> None:
        self.spreadsheet_id = spreadsheet_id
        self.hang_seconds = hang_seconds
        self.client_email = "mirror@tidewater-test.iam.gserviceaccount.com"
        self.requests: list[RecordedRequest] = []
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._faults: list[Fault] = []
        self._chaos: tuple[random.Random, float, tuple[str, ...]] | None = None
        self._outage_status: int | None = None
        self._tokens: set[str] = set()
        self._hooks: list[Callable[[str, str], None]] = []
        self._spreadsheets: dict[str, Spreadsheet] = {}
        self._next_sheet_id = 1
        self.add_spreadsheet(spreadsheet_id, title=title, worksheets=worksheets)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle --------------------------------------------------------------

    def start(self) -> FakeSheets:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-sheets", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeSheets:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the fake first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def token_uri(self) -> str:
        return f"{self.url}/token"

    def service_account_info(self) -> dict[str, str]:
        """A service-account JSON whose token endpoint is this fake."""
        pem, _ = _key_pair()
        return {
            "type": "service_account",
            "project_id": "tidewater-test",
            "private_key_id": "fake-key-1",
            "private_key": pem,
            "client_email": self.client_email,
            "client_id": "1234567890",
            "token_uri": self.token_uri,
        }

    def settings(self) -> dict[str, Any]:
        """The Django settings that point the app's mirror at this fake."""
        return {
            "SHEETS_CREDENTIALS_JSON": json.dumps(self.service_account_info()),
            "SHEETS_CREDENTIALS_FILE": "",
            "SHEETS_SPREADSHEET_ID": self.spreadsheet_id,
            "SHEETS_API_BASE_URL": self.url,
        }

    def environment(self) -> dict[str, str]:
        """The same, as environment variables for a server or worker process."""
        return {key: str(value) for key, value in self.settings().items()}

    # --- data ----------------------------------------------------------------------

    def add_spreadsheet(
        self, spreadsheet_id: str, *, title: str = "Spreadsheet", worksheets: tuple[str, ...] = ("Sheet1",)
    ) -> None:
        with self._lock:
            spreadsheet = Spreadsheet(spreadsheet_id=spreadsheet_id, title=title)
            for name in worksheets:
                spreadsheet.worksheets.append(Worksheet(sheet_id=self._new_sheet_id(), title=name))
            self._spreadsheets[spreadsheet_id] = spreadsheet

    def rows(self, worksheet: str, *, spreadsheet_id: str | None = None) -> list[list[str]]:
        """The worksheet's rows as Sheets would show them (trailing blanks trimmed)."""
        with self._lock:
            sheet = self._spreadsheets[spreadsheet_id or self.spreadsheet_id].worksheet(worksheet)
            if sheet is None:
                return []
            return _trimmed([list(row) for row in sheet.rows])

    def set_rows(self, worksheet: str, rows: list[list[Any]], *, spreadsheet_id: str | None = None) -> None:
        with self._lock:
            spreadsheet = self._spreadsheets[spreadsheet_id or self.spreadsheet_id]
            sheet = spreadsheet.worksheet(worksheet)
            if sheet is None:
                sheet = Worksheet(sheet_id=self._new_sheet_id(), title=worksheet)
                spreadsheet.worksheets.append(sheet)
            sheet.rows = [[_display(value) for value in row] for row in rows]

    def worksheet_titles(self, *, spreadsheet_id: str | None = None) -> list[str]:
        with self._lock:
            return [ws.title for ws in self._spreadsheets[spreadsheet_id or self.spreadsheet_id].worksheets]

    def before_request(self, hook: Callable[[str, str], None]) -> None:
        """Calls `hook(method, path)` before each API call is handled, e.g. to change the sheet under it."""
        with self._lock:
            self._hooks.append(hook)

    def expire_tokens(self) -> None:
        with self._lock:
            self._tokens.clear()

    # --- faults ----------------------------------------------------------------------

    def fail_next(
        self,
        count: int = 1,
        *,
        status: int = 500,
        retry_after: float | None = None,
        method: str | None = None,
        path_contains: str | None = None,
    ) -> None:
        """The next `count` matching API calls answer `status` (with `Retry-After` if given)."""
        self._add_fault(
            Fault(
                kind="status",
                remaining=count,
                status=status,
                retry_after=retry_after,
                matches=_matcher(method, path_contains),
            )
        )

    def time_out_next(
        self, count: int = 1, *, apply: bool = True, method: str | None = None, path_contains: str | None = None
    ) -> None:
        """
        The next `count` matching API calls never answer: each hangs until its
        client gives up (or `hang_seconds` pass), so the client's timeout fires
        however fast the machine is. With `apply` the write takes effect first,
        as when a real server commits and the response is lost: the case that
        duplicates rows for a client that appends again without looking.
        """
        self._add_fault(Fault(kind="timeout", remaining=count, apply=apply, matches=_matcher(method, path_contains)))

    def outage(self, status: int = 503) -> None:
        """Every API call fails with `status` until `recover()`."""
        with self._lock:
            self._outage_status = status

    def chaos(self, *, rate: float, kinds: tuple[str, ...] = ("500", "429", "timeout"), seed: int = 0) -> None:
        """Each API call fails with probability `rate`, choosing among `kinds`, reproducibly."""
        with self._lock:
            self._chaos = (random.Random(seed), rate, kinds)

    def recover(self) -> None:
        with self._lock:
            self._outage_status = None
            self._chaos = None
            self._faults.clear()

    def injected(self, *, since: int = 0) -> Counter[str]:
        """How many requests, from `requests[since]` on, got each fault ("status 429", "timeout after apply", ...)."""
        with self._lock:
            return Counter(request.fault for request in self.requests[since:] if request.fault)

    def api_calls(self, method: str | None = None, path_contains: str | None = None) -> list[RecordedRequest]:
        with self._lock:
            return [
                r
                for r in self.requests
                if r.path != "/token"
                and (method is None or r.method == method)
                and (path_contains is None or path_contains in r.path)
            ]

    def _add_fault(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def _new_sheet_id(self) -> int:
        self._next_sheet_id += 1
        return self._next_sheet_id * 1000 + 7

    def _pick_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            if self._outage_status is not None:
                return Fault(kind="status", remaining=1, status=self._outage_status)
            for fault in self._faults:
                if fault.remaining > 0 and fault.matches(method, path):
                    fault.remaining -= 1
                    return fault
            if self._chaos is not None:
                rng, rate, kinds = self._chaos
                if rng.random() < rate:
                    kind = rng.choice(kinds)
                    if kind == "timeout":
                        return Fault(kind="timeout", remaining=1, apply=rng.random() < 0.5)
                    status = int(kind)
                    return Fault(kind="status", remaining=1, status=status, retry_after=1 if status == 429 else None)
        return None

    # --- the API --------------------------------------------------------------------------

    def issue_token(self, form: dict[str, list[str]]) -> dict[str, Any]:
        if form.get("grant_type") != ["urn:ietf:params:oauth:grant-type:jwt-bearer"]:
            raise ApiError(400, "unsupported_grant_type", "invalid_grant")
        assertion = (form.get("assertion") or [""])[0]
        try:
            header_b64, payload_b64, signature_b64 = assertion.split(".")
            _, public_key = _key_pair()
            public_key.verify(
                _b64decode(signature_b64),
                f"{header_b64}.{payload_b64}".encode(),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
            claims = json.loads(_b64decode(payload_b64))
        except Exception:  # noqa: BLE001  any malformed or forged assertion
            raise ApiError(400, "Invalid JWT Signature.", "invalid_grant") from None
        if claims.get("iss") != self.client_email or claims.get("aud") != TOKEN_AUDIENCE:
            raise ApiError(400, "Invalid JWT: bad issuer or audience.", "invalid_grant")
        if SCOPE_SPREADSHEETS not in str(claims.get("scope", "")).split():
            raise ApiError(400, "Invalid OAuth scope.", "invalid_scope")
        token = f"ya29.fake-{time.monotonic_ns()}"
        with self._lock:
            self._tokens.add(token)
        return {"access_token": token, "expires_in": 3600, "token_type": "Bearer"}

    def authorized(self, header: str | None) -> bool:
        with self._lock:
            return bool(header) and header.removeprefix("Bearer ").strip() in self._tokens

    def handle_api(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> dict[str, Any]:
        match = re.match(r"^/v4/spreadsheets/([^/:]+)(.*)$", path)
        if not match:
            raise ApiError(404, f"Unknown path {path}", "NOT_FOUND")
        spreadsheet_id, rest = unquote(match[1]), match[2]
        with self._lock:
            spreadsheet = self._spreadsheets.get(spreadsheet_id)
            if spreadsheet is None:
                raise ApiError(404, "Requested entity was not found.", "NOT_FOUND")
            if method == "GET" and rest == "":
                return self._metadata(spreadsheet)
            if method == "POST" and rest == ":batchUpdate":
                return self._batch_update(spreadsheet, body)
            if method == "POST" and rest == "/values:batchUpdate":
                responses = [
                    self._values_update(spreadsheet, item["range"], item.get("values", []))
                    for item in body.get("data", [])
                ]
                return {
                    "spreadsheetId": spreadsheet_id,
                    "responses": responses,
                    "totalUpdatedRows": sum(r["updatedRows"] for r in responses),
                }
            if method == "GET" and rest == "/values:batchGet":
                return {
                    "spreadsheetId": spreadsheet_id,
                    "valueRanges": [self._values_get(spreadsheet, name) for name in query.get("ranges", [])],
                }
            values_match = re.match(r"^/values/(.+?)(:append)?$", rest)
            if values_match:
                range_name = unquote(values_match[1])
                if values_match[2] and method == "POST":
                    return self._values_append(spreadsheet, range_name, body.get("values", []))
                if method == "GET":
                    return self._values_get(spreadsheet, range_name)
                if method == "PUT":
                    return self._values_update(spreadsheet, range_name, body.get("values", []))
        raise ApiError(404, f"Unknown method {method} {path}", "NOT_FOUND")

    def _metadata(self, spreadsheet: Spreadsheet) -> dict[str, Any]:
        return {
            "spreadsheetId": spreadsheet.spreadsheet_id,
            "properties": {"title": spreadsheet.title, "locale": "en_US", "timeZone": "Etc/GMT"},
            "sheets": [
                {
                    "properties": {
                        "sheetId": ws.sheet_id,
                        "title": ws.title,
                        "index": index,
                        "sheetType": "GRID",
                        "gridProperties": {"rowCount": ws.row_count, "columnCount": ws.column_count},
                    }
                }
                for index, ws in enumerate(spreadsheet.worksheets)
            ],
        }

    def _batch_update(self, spreadsheet: Spreadsheet, body: dict[str, Any]) -> dict[str, Any]:
        replies: list[dict[str, Any]] = []
        for request in body.get("requests", []):
            if "addSheet" in request:
                properties = request["addSheet"].get("properties", {})
                title = properties.get("title") or f"Sheet{len(spreadsheet.worksheets) + 1}"
                if spreadsheet.worksheet(title) is not None:
                    raise ApiError(400, f'A sheet with the name "{title}" already exists.')
                grid = properties.get("gridProperties", {})
                sheet = Worksheet(
                    sheet_id=self._new_sheet_id(),
                    title=title,
                    row_count=grid.get("rowCount", 1000),
                    column_count=grid.get("columnCount", 26),
                )
                spreadsheet.worksheets.append(sheet)
                replies.append(
                    {
                        "addSheet": {
                            "properties": {
                                "sheetId": sheet.sheet_id,
                                "title": title,
                                "index": len(spreadsheet.worksheets) - 1,
                                "sheetType": "GRID",
                                "gridProperties": {"rowCount": sheet.row_count, "columnCount": sheet.column_count},
                            }
                        }
                    }
                )
            elif "deleteDimension" in request:
                target = request["deleteDimension"]["range"]
                sheet = next((ws for ws in spreadsheet.worksheets if ws.sheet_id == target["sheetId"]), None)
                if sheet is None or target.get("dimension") != "ROWS":
                    raise ApiError(400, "Invalid deleteDimension range.")
                del sheet.rows[target["startIndex"] : target["endIndex"]]
                replies.append({})
            else:
                raise ApiError(400, f"Unsupported request {sorted(request)}")
        return {"spreadsheetId": spreadsheet.spreadsheet_id, "replies": replies}

    def _resolve(self, spreadsheet: Spreadsheet, range_name: str) -> tuple[Worksheet, int, int, int | None, int | None]:
        """A1 range -> (worksheet, first row, first column, last row, last column), 1-based."""
        if "!" in range_name:
            sheet_part, cells = range_name.rsplit("!", 1)
        elif spreadsheet.worksheet(range_name.strip("'").replace("''", "'")) is not None:
            sheet_part, cells = range_name, ""
        else:
            sheet_part, cells = spreadsheet.worksheets[0].title, range_name
        title = sheet_part[1:-1].replace("''", "'") if sheet_part.startswith("'") else sheet_part
        sheet = spreadsheet.worksheet(title)
        if sheet is None:
            raise ApiError(400, f"Unable to parse range: {range_name}")
        if not cells:
            return sheet, 1, 1, None, None
        start, _, end = cells.partition(":")
        start_match, end_match = _CELL_RE.match(start), _CELL_RE.match(end or start)
        if not start_match or not end_match:
            raise ApiError(400, f"Unable to parse range: {range_name}")
        first_col = _column_index(start_match[1]) if start_match[1] else 1
        first_row = int(start_match[2]) if start_match[2] else 1
        last_col = _column_index(end_match[1]) if end_match[1] else None
        last_row = int(end_match[2]) if end_match[2] else None
        return sheet, first_row, first_col, last_row, last_col

    def _values_get(self, spreadsheet: Spreadsheet, range_name: str) -> dict[str, Any]:
        sheet, first_row, first_col, last_row, last_col = self._resolve(spreadsheet, range_name)
        rows = sheet.rows[first_row - 1 : last_row]
        values = _trimmed([row[first_col - 1 : last_col] for row in rows])
        result: dict[str, Any] = {"range": range_name, "majorDimension": "ROWS"}
        if values:
            result["values"] = values
        return result

    def _values_update(self, spreadsheet: Spreadsheet, range_name: str, values: list[list[Any]]) -> dict[str, Any]:
        sheet, first_row, first_col, _, _ = self._resolve(spreadsheet, range_name)
        for offset, row in enumerate(values):
            self._write_row(sheet, first_row + offset, first_col, row)
        width = max((len(row) for row in values), default=0)
        return {
            "spreadsheetId": spreadsheet.spreadsheet_id,
            "updatedRange": _a1(
                sheet.title, first_row, first_col, first_row + len(values) - 1, first_col + max(width, 1) - 1
            ),
            "updatedRows": len(values),
            "updatedColumns": width,
            "updatedCells": sum(len(row) for row in values),
        }

    def _values_append(self, spreadsheet: Spreadsheet, range_name: str, values: list[list[Any]]) -> dict[str, Any]:
        sheet, _, first_col, _, _ = self._resolve(spreadsheet, range_name)
        last_used = len(_trimmed(sheet.rows))
        start = last_used + 1
        for offset, row in enumerate(values):
            self._write_row(sheet, start + offset, first_col, row)
        width = max((len(row) for row in values), default=1)
        return {
            "spreadsheetId": spreadsheet.spreadsheet_id,
            "tableRange": _a1(sheet.title, 1, first_col, max(last_used, 1), first_col + width - 1),
            "updates": {
                "spreadsheetId": spreadsheet.spreadsheet_id,
                "updatedRange": _a1(sheet.title, start, first_col, start + len(values) - 1, first_col + width - 1),
                "updatedRows": len(values),
                "updatedColumns": width,
                "updatedCells": sum(len(row) for row in values),
            },
        }

    @staticmethod
    def _write_row(sheet: Worksheet, row_number: int, first_col: int, values: list[Any]) -> None:
        while len(sheet.rows) < row_number:
            sheet.rows.append([])
        row = sheet.rows[row_number - 1]
        needed = first_col - 1 + len(values)
        row.extend([""] * (needed - len(row)))
        for offset, value in enumerate(values):
            row[first_col - 1 + offset] = _display(value)
        sheet.row_count = max(sheet.row_count, len(sheet.rows))


def _matcher(method: str | None, path_contains: str | None) -> Callable[[str, str], bool]:
    def matches(request_method: str, path: str) -> bool:
        return (method is None or request_method == method.upper()) and (path_contains is None or path_contains in path)

    return matches


def _display(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _trimmed(rows: list[list[str]]) -> list[list[str]]:
    trimmed = []
    for row in rows:
        cells = list(row)
        while cells and cells[-1] == "":
            cells.pop()
        trimmed.append(cells)
    while trimmed and not trimmed[-1]:
        trimmed.pop()
    return trimmed


def _a1(title: str, first_row: int, first_col: int, last_row: int, last_col: int) -> str:
    quoted = "'" + title.replace("'", "''") + "'"
    return f"{quoted}!{column_letter(first_col)}{first_row}:{column_letter(last_col)}{last_row}"


class _Handler(BaseHTTPRequestHandler):
    fake: FakeSheets
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, the client's
    # delayed ACK adds 40 ms to every call.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._handle("GET")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_POST(self) -> None:
        self._handle("POST")

    def _handle(self, method: str) -> None:
        fake = self.fake
        url = urlsplit(self.path)
        path, query = url.path, parse_qs(url.query)
        length = int(self.headers.get("Content-Length") or 0)
        raw_body = self.rfile.read(length) if length else b""

        if path == "/token" and method == "POST":
            try:
                payload = fake.issue_token(parse_qs(raw_body.decode()))
                self._respond(200, payload, record=(method, path, ""))
            except ApiError as error:
                self._respond(
                    error.status, {"error": error.reason, "error_description": error.message}, record=(method, path, "")
                )
            return

        for hook in list(fake._hooks):
            hook(method, path)
        fault = fake._pick_fault(method, path)
        if fault is not None and fault.kind == "status":
            headers = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after is not None else {}
            reason = "RESOURCE_EXHAUSTED" if fault.status == 429 else "UNAVAILABLE"
            self._respond(
                fault.status,
                {"error": {"code": fault.status, "message": "Injected fault", "status": reason}},
                headers=headers,
                record=(method, path, f"status {fault.status}"),
            )
            return
        if fault is not None and fault.kind == "timeout" and not fault.apply:
            self._hang(method, path, "timeout before apply")
            return

        if not fake.authorized(self.headers.get("Authorization")):
            self._respond(
                401,
                {
                    "error": {
                        "code": 401,
                        "message": "Request had invalid authentication credentials.",
                        "status": "UNAUTHENTICATED",
                    }
                },
                record=(method, path, ""),
            )
            return
        try:
            body = json.loads(raw_body) if raw_body else {}
            payload, status = fake.handle_api(method, path, query, body), 200
        except ApiError as error:
            payload, status = (
                {"error": {"code": error.status, "message": error.message, "status": error.reason}},
                error.status,
            )
        except (ValueError, KeyError, TypeError) as error:
            payload, status = (
                {"error": {"code": 400, "message": f"Invalid request: {error}", "status": "INVALID_ARGUMENT"}},
                400,
            )

        if fault is not None and fault.kind == "timeout":
            self._hang(method, path, "timeout after apply")
            return
        self._respond(status, payload, record=(method, path, ""))

    def _hang(self, method: str, path: str, label: str) -> None:
        record = RecordedRequest(method, path, 0, label)
        with self.fake._lock:
            self.fake.requests.append(record)
        gave_up = client_gone(self.connection, timeout=self.fake.hang_seconds, stopping=self.fake._stopping)
        with self.fake._lock:
            record.client_gave_up = gave_up
        self.close_connection = True

    def _respond(
        self, status: int, payload: Any, *, headers: dict[str, str] | None = None, record: tuple[str, str, str]
    ) -> None:
        with self.fake._lock:
            self.fake.requests.append(RecordedRequest(record[0], record[1], status, record[2]))
        body = json.dumps(payload).encode()
        try:
            self.send_response(status, HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "")
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
