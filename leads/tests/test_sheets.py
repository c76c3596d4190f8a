"""The gspread adapter against the HTTP-level fake of the Sheets v4 API."""

import json

import pytest

from leads.sheets import (
    HEADER,
    LeadSheet,
    SheetsConfigError,
    SheetsPermanentError,
    SheetsTransientError,
    retry_after_seconds,
    sheets_config_load,
)
from testsupport.waiting import wait_until


def row(lead_id, name="Ana", email="ana@brightside.io"):
    return [lead_id, "2026-01-01 10:00:00", name, email, "", "", "", "Detected in chat", "New", "", "no", ""]


@pytest.fixture
def sheet(fake_sheets):
    return LeadSheet(sheets_config_load())


def test_it_creates_the_worksheet_writes_the_header_and_appends(sheet, fake_sheets):
    result = sheet.upsert([row(1), row(2, "Ben", "ben@example.com")])

    assert "Leads" in fake_sheets.worksheet_titles()
    rows = fake_sheets.rows("Leads")
    assert rows[0] == HEADER
    assert [r[0] for r in rows[1:]] == ["1", "2"]
    assert result.rows == {1: 2, 2: 3} and result.appended == 2


def test_an_update_changes_the_row_in_place(sheet, fake_sheets):
    sheet.upsert([row(1), row(2)])

    result = sheet.upsert([row(1, "Ana Lopez")])

    rows = fake_sheets.rows("Leads")
    assert len(rows) == 3
    assert rows[1][:3] == ["1", "2026-01-01 10:00:00", "Ana Lopez"]
    assert result.updated == 1 and result.appended == 0 and result.rows == {1: 2}


def test_it_writes_the_header_above_rows_sales_already_has(sheet, fake_sheets):
    fake_sheets.set_rows("Leads", [[], ["9", "old"]])

    sheet.upsert([row(9, "Nine")])

    rows = fake_sheets.rows("Leads")
    assert rows[0] == HEADER and rows[1][2] == "Nine" and len(rows) == 2


def test_it_completes_the_header_of_a_sheet_written_by_an_older_version(sheet, fake_sheets):
    fake_sheets.set_rows("Leads", [HEADER[:-1], row(1)])

    sheet.upsert([row(2)])

    assert fake_sheets.rows("Leads")[0] == HEADER and HEADER[-1] == "Notes"


def test_a_header_sales_renamed_is_left_alone(sheet, fake_sheets):
    renamed = ["Lead ID", "When", "Who"]
    fake_sheets.set_rows("Leads", [renamed, row(1)])

    sheet.upsert([row(2)])

    assert fake_sheets.rows("Leads")[0] == renamed


def test_delete_removes_every_row_of_the_leads_and_nothing_else(sheet, fake_sheets):
    fake_sheets.set_rows("Leads", [HEADER, row(1), row(2), row(1), row(3)])

    removed = sheet.delete([1, 3, 99])

    assert removed == 3 and [r[0] for r in fake_sheets.rows("Leads")] == ["Lead ID", "2"]
    assert sheet.delete([1]) == 0


def test_delete_without_the_worksheet_removes_nothing_and_creates_nothing(sheet, fake_sheets):
    assert sheet.delete([1]) == 0
    assert "Leads" not in fake_sheets.worksheet_titles()


def test_delete_refuses_to_touch_a_worksheet_that_is_not_the_leads_one(sheet, fake_sheets):
    fake_sheets.set_rows("Leads", [["Budget 2026"], ["1", "12000"]])

    with pytest.raises(SheetsPermanentError, match="not the leads header"):
        sheet.delete([1])

    assert fake_sheets.rows("Leads") == [["Budget 2026"], ["1", "12000"]]


def test_a_worksheet_another_push_created_meanwhile_is_used(sheet, fake_sheets):
    def another_push_creates_it_first(method, path):
        if method == "POST" and path.endswith(":batchUpdate") and "Leads" not in fake_sheets.worksheet_titles():
            fake_sheets.set_rows("Leads", [HEADER, row(7, "Seven")])

    fake_sheets.before_request(another_push_creates_it_first)

    sheet.upsert([row(1)])

    assert [r[0] for r in fake_sheets.rows("Leads")] == ["Lead ID", "7", "1"]


def test_it_refuses_to_write_into_a_worksheet_that_is_not_the_leads_one(sheet, fake_sheets):
    fake_sheets.set_rows("Leads", [["Budget 2026"], ["Q1", "12000"]])

    with pytest.raises(SheetsPermanentError, match="not the leads header"):
        sheet.upsert([row(1)])

    assert fake_sheets.rows("Leads") == [["Budget 2026"], ["Q1", "12000"]]


def test_a_timed_out_append_that_reached_google_is_not_appended_again(settings, fake_sheets):
    settings.SHEETS_TIMEOUT = 2
    sheet = LeadSheet(sheets_config_load())
    fake_sheets.time_out_next(1, apply=True, method="POST", path_contains=":append")

    with pytest.raises(SheetsTransientError, match="did not answer"):
        sheet.upsert([row(1)])
    wait_until(
        lambda: fake_sheets.api_calls("POST", ":append")[0].client_gave_up,
        describe="the fake holds the append for a minute unless the client cuts it",
    )

    sheet.upsert([row(1, "Ana again")])

    rows = fake_sheets.rows("Leads")
    assert [r[0] for r in rows[1:]] == ["1"] and rows[1][2] == "Ana again"


def test_it_removes_extra_rows_of_one_lead(sheet, fake_sheets):
    fake_sheets.set_rows("Leads", [HEADER, row(1), row(2), row(1), row(3), row(1)])

    result = sheet.upsert([row(1, "Kept")])

    ids = [r[0] for r in fake_sheets.rows("Leads")[1:]]
    assert ids == ["1", "2", "3"] and result.duplicates_removed == 2
    assert fake_sheets.rows("Leads")[1][2] == "Kept"


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_are_transient(sheet, fake_sheets, status):
    fake_sheets.fail_next(1, status=status)

    with pytest.raises(SheetsTransientError, match=str(status)) as error:
        sheet.upsert([row(1)])
    assert error.value.retry_after is None


def test_a_429_carries_its_retry_after(sheet, fake_sheets):
    fake_sheets.fail_next(1, status=429, retry_after=7)

    with pytest.raises(SheetsTransientError) as error:
        sheet.upsert([row(1)])

    assert error.value.retry_after == 7


def test_a_403_is_permanent(sheet, fake_sheets):
    fake_sheets.fail_next(1, status=403)

    with pytest.raises(SheetsPermanentError, match="403"):
        sheet.upsert([row(1)])


def test_a_missing_spreadsheet_is_permanent(settings, fake_sheets):
    settings.SHEETS_SPREADSHEET_ID = "no-such-sheet"

    with pytest.raises(SheetsPermanentError, match="404"):
        LeadSheet(sheets_config_load()).upsert([row(1)])


def test_expired_tokens_are_refreshed(sheet, fake_sheets):
    sheet.upsert([row(1)])
    fake_sheets.expire_tokens()

    sheet.upsert([row(2)])

    assert [r[0] for r in fake_sheets.rows("Leads")[1:]] == ["1", "2"]
    assert len([r for r in fake_sheets.requests if r.path == "/token" and r.status == 200]) == 2


def test_credentials_can_come_from_a_file(settings, fake_sheets, tmp_path):
    key_file = tmp_path / "service-account.json"
    key_file.write_text(settings.SHEETS_CREDENTIALS_JSON)
    settings.SHEETS_CREDENTIALS_JSON = ""
    settings.SHEETS_CREDENTIALS_FILE = str(key_file)

    LeadSheet(sheets_config_load()).upsert([row(1)])

    assert fake_sheets.rows("Leads")[1][0] == "1"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("{not json", "not valid JSON"),
        (json.dumps({"type": "service_account"}), "missing client_email, private_key, token_uri"),
    ],
)
def test_unusable_credentials_are_a_clear_configuration_error(settings, value, message):
    settings.SHEETS_CREDENTIALS_JSON = value
    settings.SHEETS_SPREADSHEET_ID = "abc"

    with pytest.raises(SheetsConfigError, match=message):
        sheets_config_load()


def test_without_credentials_the_mirror_is_off(mirror_off):
    assert sheets_config_load() is None


def test_retry_after_reads_seconds_and_http_dates():
    assert retry_after_seconds("12") == 12
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0
    assert retry_after_seconds("soon") is None
