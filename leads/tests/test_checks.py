"""Configuration mistakes in the leads settings surface as system checks."""

import json

from leads.checks import check_leads_settings


def ids(settings, **overrides):
    for name, value in overrides.items():
        setattr(settings, name, value)
    return sorted(message.id for message in check_leads_settings(None))


def test_the_defaults_pass(settings):
    assert (
        ids(
            settings,
            SHEETS_CREDENTIALS_JSON="",
            SHEETS_CREDENTIALS_FILE="",
            SHEETS_SPREADSHEET_ID="",
            LEADS_WEBHOOK_URL="",
            LEADS_NOTIFY_EMAILS=[],
            LEADS_DEFAULT_REGION="US",
        )
        == []
    )


def test_an_unknown_region_is_an_error(settings):
    assert "leads.E001" in ids(settings, LEADS_DEFAULT_REGION="XX")


def test_unreadable_or_malformed_credentials_are_reported(settings, tmp_path):
    assert "leads.W005" in ids(
        settings,
        SHEETS_CREDENTIALS_JSON="",
        SHEETS_CREDENTIALS_FILE=str(tmp_path / "nope"),
        SHEETS_SPREADSHEET_ID="abc",
    )
    assert "leads.W005" in ids(settings, SHEETS_CREDENTIALS_FILE="", SHEETS_CREDENTIALS_JSON="{oops")


def test_credentials_without_a_spreadsheet_and_the_reverse_are_reported(settings):
    key = json.dumps({"client_email": "x@y.iam.gserviceaccount.com", "private_key": "k", "token_uri": "t"})
    assert "leads.W001" in ids(
        settings, SHEETS_CREDENTIALS_JSON=key, SHEETS_CREDENTIALS_FILE="", SHEETS_SPREADSHEET_ID=""
    )
    assert "leads.W003" in ids(
        settings, SHEETS_CREDENTIALS_JSON="", SHEETS_CREDENTIALS_FILE="", SHEETS_SPREADSHEET_ID="abc"
    )


def test_a_webhook_without_a_secret_or_with_a_bad_url_is_reported(settings):
    assert "leads.W004" in ids(settings, LEADS_WEBHOOK_URL="https://crm.example.com/hook", LEADS_WEBHOOK_SECRET="")
    assert "leads.W006" in ids(settings, LEADS_WEBHOOK_URL="crm.example.com/hook", LEADS_WEBHOOK_SECRET="x")


def test_a_webhook_on_an_address_the_fetch_guard_refuses_is_reported(settings):
    hook = dict(LEADS_WEBHOOK_SECRET="x", FETCH_ALLOWED_NETWORKS=[])
    for url in ("http://127.0.0.1:9000/hook", "http://localhost/hook", "http://[::1]/hook", "http://10.0.0.5/h"):
        assert "leads.W008" in ids(settings, LEADS_WEBHOOK_URL=url, FETCH_ALLOW_PRIVATE_ADDRESSES=False, **hook)
    assert "leads.W008" not in ids(
        settings, LEADS_WEBHOOK_URL="http://10.0.0.5/h", FETCH_ALLOW_PRIVATE_ADDRESSES=True, **hook
    )
    assert "leads.W008" in ids(
        settings, LEADS_WEBHOOK_URL="http://169.254.169.254/", FETCH_ALLOW_PRIVATE_ADDRESSES=True, **hook
    )
    assert "leads.W008" not in ids(
        settings, LEADS_WEBHOOK_URL="https://crm.example.com/hook", FETCH_ALLOW_PRIVATE_ADDRESSES=False, **hook
    )


def test_a_malformed_notification_address_is_reported(settings):
    assert "leads.W007" in ids(settings, LEADS_NOTIFY_EMAILS=["sales@tidewater.test", "sales at tidewater"])
