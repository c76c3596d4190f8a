"""
The Google Sheets mirror: a small adapter around gspread.

One worksheet holds one row per lead, keyed by the lead id in column A. An
upsert always reads that column first, so a row is updated in place when it
exists and appended only when it does not: a retry after a timed-out append
that did reach Google finds the row instead of adding a second one. Should a
lead id appear twice anyway (an append committed after its client gave up and
the retry had already looked), the extra rows are deleted on the next push.
The header row is written when missing, and completed when it is the header of
an older version (fewer columns). `delete()` removes erased leads' rows.

Errors come out typed: `SheetsTransientError` (5xx, 429 with its Retry-After,
timeouts, connection errors: retry later) and `SheetsPermanentError` (bad
credentials, missing spreadsheet, a worksheet that is not ours: retrying will
not help until someone fixes the configuration).

The Sheets endpoint is `SHEETS_API_BASE_URL`; anything but Google's own is
reached through a requests transport adapter mounted on the authorised session,
which is how tests point the real client at a loopback fake. The OAuth token
endpoint is the `token_uri` of the service-account JSON.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import gspread
import requests
from django.conf import settings
from google.auth import exceptions as google_auth_exceptions
from google.auth.transport.requests import AuthorizedSession
from google.oauth2 import service_account
from gspread.utils import absolute_range_name
from requests.adapters import HTTPAdapter

from core.retry import retry_after_seconds

GOOGLE_SHEETS_BASE_URL = "https://sheets.googleapis.com"
SCOPES = ("https://www.googleapis.com/auth/spreadsheets",)
HEADER = [
    "Lead ID",
    "Created",
    "Name",
    "Email",
    "Phone",
    "Company",
    "Interest",
    "Source",
    "Status",
    "Owner",
    "Consent",
    "Consent given at",
    "Notes",
]
LAST_COLUMN = "M"
_SERVICE_ACCOUNT_KEYS = {"client_email", "private_key", "token_uri"}


class SheetsError(Exception):
    """Anything that kept a push from reaching the sheet."""


class SheetsTransientError(SheetsError):
    """Worth retrying: the API was down, slow or rate-limiting us."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SheetsPermanentError(SheetsError):
    """Retrying will not help until the configuration or the sheet is fixed."""


class SheetsConfigError(SheetsPermanentError):
    """The SHEETS_* settings are present but unusable."""


@dataclass(frozen=True)
class SheetsConfig:
    credentials_info: dict[str, Any]
    spreadsheet_id: str
    worksheet: str
    timeout: float
    api_base_url: str


def sheets_mirror_enabled() -> bool:
    """The mirror is on when credentials and a spreadsheet are configured."""
    return bool(
        (settings.SHEETS_CREDENTIALS_JSON or settings.SHEETS_CREDENTIALS_FILE) and settings.SHEETS_SPREADSHEET_ID
    )


def credentials_info_load() -> dict[str, Any]:
    """The service-account JSON from SHEETS_CREDENTIALS_JSON (wins) or SHEETS_CREDENTIALS_FILE."""
    if settings.SHEETS_CREDENTIALS_JSON:
        source, raw = "SHEETS_CREDENTIALS_JSON", settings.SHEETS_CREDENTIALS_JSON
    else:
        source = "SHEETS_CREDENTIALS_FILE"
        try:
            raw = Path(settings.SHEETS_CREDENTIALS_FILE).read_text()
        except OSError as exc:
            raise SheetsConfigError(
                f"{source}: cannot read {settings.SHEETS_CREDENTIALS_FILE}: {exc.strerror}"
            ) from None
    try:
        info = json.loads(raw)
    except ValueError as exc:
        raise SheetsConfigError(f"{source} is not valid JSON: {exc}") from None
    if not isinstance(info, dict) or not info.keys() >= _SERVICE_ACCOUNT_KEYS:
        missing = sorted(_SERVICE_ACCOUNT_KEYS - (info.keys() if isinstance(info, dict) else set()))
        raise SheetsConfigError(f"{source} is not a service-account key (missing {', '.join(missing)})")
    return info


def sheets_config_load() -> SheetsConfig | None:
    """None when the mirror is off; SheetsConfigError when it is on but broken."""
    if not sheets_mirror_enabled():
        return None
    return SheetsConfig(
        credentials_info=credentials_info_load(),
        spreadsheet_id=settings.SHEETS_SPREADSHEET_ID,
        worksheet=settings.SHEETS_WORKSHEET,
        timeout=settings.SHEETS_TIMEOUT,
        api_base_url=settings.SHEETS_API_BASE_URL.rstrip("/"),
    )


@lru_cache(maxsize=4)
def _credentials(info_json: str) -> service_account.Credentials:
    """
    One credentials object per key and process. Parsing the RSA key costs ~30 ms
    and an access token lasts an hour; google-auth refreshes it when it expires
    (or on a 401), so reusing the object saves both on every push.
    """
    return service_account.Credentials.from_service_account_info(json.loads(info_json), scopes=SCOPES)


class _RebaseAdapter(HTTPAdapter):
    """Sends requests meant for Google's Sheets host to another base URL."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base_url = base_url

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        request.url = self.base_url + (request.url or "")[len(GOOGLE_SHEETS_BASE_URL) :]
        return super().send(request, *args, **kwargs)


@dataclass(frozen=True)
class UpsertResult:
    rows: dict[int, int]  # lead id -> row number
    appended: int
    updated: int
    duplicates_removed: int


class LeadSheet:
    """The worksheet that mirrors the leads."""

    def __init__(self, config: SheetsConfig) -> None:
        self.config = config
        try:
            credentials = _credentials(json.dumps(config.credentials_info, sort_keys=True))
        except (ValueError, KeyError) as exc:
            raise SheetsConfigError(f"The service-account key is unusable: {exc}") from None
        session = AuthorizedSession(credentials, refresh_timeout=config.timeout)
        if config.api_base_url != GOOGLE_SHEETS_BASE_URL:
            session.mount(GOOGLE_SHEETS_BASE_URL + "/", _RebaseAdapter(config.api_base_url))
        self._client = gspread.Client(auth=credentials, session=session)
        self._client.set_timeout(config.timeout)
        self._http = self._client.http_client
        self._range_prefix = absolute_range_name(config.worksheet)

    def upsert(self, rows: Sequence[list[Any]]) -> UpsertResult:
        """
        Writes each row (column A is the lead id) in place when its id is in the
        sheet, appends it otherwise, and writes the header row when missing.
        """
        return self._call(self._upsert, rows)

    def delete(self, lead_ids: Sequence[int]) -> int:
        """Removes every row of these leads; how many rows went (0 when already gone)."""
        return self._call(self._delete, lead_ids)

    def rows(self) -> list[list[str]]:
        """Every row of the worksheet, header included (for `sync_leads --check`)."""
        return self._call(self._read_range, "A:" + LAST_COLUMN)

    def _upsert(self, rows: Sequence[list[Any]]) -> UpsertResult:
        read = self._read_ids_and_header()
        assert read is not None, "a missing worksheet is created"
        ids_column, header = read
        header_missing = not ids_column or not ids_column[0]
        self._check_header(ids_column)
        positions = _positions(ids_column)

        duplicates = sorted(
            (number for lead_id in (str(row[0]) for row in rows) for number in positions.get(lead_id, [])[1:]),
            reverse=True,
        )
        if duplicates:
            self._delete_rows(duplicates)
            return dataclasses.replace(self._upsert(rows), duplicates_removed=len(duplicates))

        updates: list[dict[str, Any]] = []
        if header_missing or (header != HEADER and header == HEADER[: len(header)]):
            updates.append({"range": self._range(f"A1:{LAST_COLUMN}1"), "values": [HEADER]})
        result_rows: dict[int, int] = {}
        to_append: list[list[Any]] = []
        for row in rows:
            found = positions.get(str(row[0]))
            if found:
                number = found[0]
                updates.append({"range": self._range(f"A{number}:{LAST_COLUMN}{number}"), "values": [row]})
                result_rows[int(row[0])] = number
            else:
                to_append.append(row)
        if updates:
            self._http.values_batch_update(
                self.config.spreadsheet_id, body={"valueInputOption": "RAW", "data": updates}
            )
        if to_append:
            response = self._http.values_append(
                self.config.spreadsheet_id,
                self._range(f"A1:{LAST_COLUMN}1"),
                params={"valueInputOption": "RAW", "insertDataOption": "INSERT_ROWS"},
                body={"values": to_append},
            )
            first_row = _first_row_of(response.get("updates", {}).get("updatedRange", ""))
            for offset, row in enumerate(to_append):
                if first_row is not None:
                    result_rows[int(row[0])] = first_row + offset
        return UpsertResult(
            rows=result_rows,
            appended=len(to_append),
            updated=len(rows) - len(to_append),
            duplicates_removed=0,
        )

    def _range(self, cells: str) -> str:
        return f"{self._range_prefix}!{cells}"

    def _read_range(self, cells: str) -> list[list[str]]:
        response = self._http.values_get(self.config.spreadsheet_id, self._range(cells))
        return response.get("values", [])

    def _delete(self, lead_ids: Sequence[int]) -> int:
        read = self._read_ids_and_header(create=False)
        if read is None:
            return 0  # no worksheet, so no row
        ids_column, _ = read
        self._check_header(ids_column)
        positions = _positions(ids_column)
        numbers = sorted((number for lead_id in lead_ids for number in positions.get(str(lead_id), [])), reverse=True)
        if numbers:
            self._delete_rows(numbers)
        return len(numbers)

    def _check_header(self, ids_column: list[str]) -> None:
        if ids_column and ids_column[0] and ids_column[0] != HEADER[0]:
            raise SheetsPermanentError(
                f"Row 1 of worksheet {self.config.worksheet!r} is not the leads header "
                f"(A1 is {ids_column[0]!r}); choose another SHEETS_WORKSHEET or restore the header."
            )

    def _read_ids_and_header(self, *, create: bool = True) -> tuple[list[str], list[str]] | None:
        """Column A and row 1 in one call; a missing worksheet is created (or, without `create`, None)."""
        ranges = [self._range("A:A"), self._range(f"A1:{LAST_COLUMN}1")]
        try:
            response = self._http.values_batch_get(self.config.spreadsheet_id, ranges)
        except gspread.exceptions.APIError as exc:
            if exc.response.status_code == 400 and "Unable to parse range" in str(exc):
                if not create:
                    return None
                self._add_worksheet()
                return self._read_ids_and_header(create=False) or ([], [])
            raise
        value_ranges = response.get("valueRanges", [])
        column = value_ranges[0].get("values", []) if value_ranges else []
        header_rows = value_ranges[1].get("values", []) if len(value_ranges) > 1 else []
        ids = [str(row[0]).strip() if row else "" for row in column]
        header = [str(value) for value in header_rows[0]] if header_rows else []
        return ids, header

    def _add_worksheet(self) -> None:
        try:
            self._http.batch_update(
                self.config.spreadsheet_id,
                {
                    "requests": [
                        {
                            "addSheet": {
                                "properties": {
                                    "title": self.config.worksheet,
                                    "gridProperties": {"rowCount": 1000, "columnCount": len(HEADER)},
                                }
                            }
                        }
                    ]
                },
            )
        except gspread.exceptions.APIError as exc:
            # Another worker's push created it between our read and our add.
            if not (exc.response.status_code == 400 and "already exists" in str(exc)):
                raise

    def _delete_rows(self, numbers_descending: list[int]) -> None:
        metadata = self._http.fetch_sheet_metadata(self.config.spreadsheet_id)
        sheet_id = next(
            sheet["properties"]["sheetId"]
            for sheet in metadata["sheets"]
            if sheet["properties"]["title"] == self.config.worksheet
        )
        self._http.batch_update(
            self.config.spreadsheet_id,
            {
                "requests": [
                    {
                        "deleteDimension": {
                            "range": {
                                "sheetId": sheet_id,
                                "dimension": "ROWS",
                                "startIndex": number - 1,
                                "endIndex": number,
                            }
                        }
                    }
                    for number in numbers_descending
                ]
            },
        )

    def _call(self, function: Any, *args: Any) -> Any:
        try:
            return function(*args)
        except gspread.exceptions.APIError as exc:
            status = exc.response.status_code
            message = f"Sheets API {status}: {_api_message(exc)}"
            if status == 429 or status == 408 or status >= 500:
                raise SheetsTransientError(
                    message, retry_after=retry_after_seconds(exc.response.headers.get("Retry-After"))
                ) from None
            raise SheetsPermanentError(message) from None
        except requests.Timeout:
            raise SheetsTransientError(f"Sheets API did not answer within {self.config.timeout:g}s") from None
        except requests.ConnectionError as exc:
            raise SheetsTransientError(f"Cannot reach the Sheets API: {_short(exc)}") from None
        except (requests.RequestException, ValueError) as exc:
            raise SheetsTransientError(f"Garbled answer from the Sheets API: {_short(exc)}") from None
        except google_auth_exceptions.RefreshError as exc:
            if getattr(exc, "retryable", False):
                raise SheetsTransientError(f"Google token endpoint failed: {_short(exc)}") from None
            raise SheetsPermanentError(f"Google refused the service-account credentials: {_short(exc)}") from None
        except google_auth_exceptions.TransportError as exc:
            raise SheetsTransientError(f"Cannot reach Google's token endpoint: {_short(exc)}") from None


def _positions(ids_column: list[str]) -> dict[str, list[int]]:
    """Lead id -> the row numbers holding it, below the header."""
    positions: dict[str, list[int]] = {}
    for number, value in enumerate(ids_column, start=1):
        if number > 1 and value:
            positions.setdefault(value, []).append(number)
    return positions


def _api_message(exc: gspread.exceptions.APIError) -> str:
    try:
        return str(exc.response.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return _short(exc)


def _short(exc: BaseException, limit: int = 300) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= limit else text[:limit] + "…"


def _first_row_of(updated_range: str) -> int | None:
    cells = updated_range.rsplit("!", 1)[-1].split(":", 1)[0]
    digits = "".join(char for char in cells if char.isdigit())
    return int(digits) if digits else None
