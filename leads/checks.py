"""System checks for the leads settings: mistakes show at start-up, not on the first lead."""

from urllib.parse import urlsplit

import phonenumbers
from django.conf import settings
from django.core import checks
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from core.netguard import AddressPolicy, url_refusal_without_dns
from leads.sheets import SheetsConfigError, credentials_info_load


@checks.register()
def check_leads_settings(app_configs, **kwargs) -> list[checks.CheckMessage]:
    return [*_region_messages(), *_sheets_messages(), *_webhook_messages(), *_notify_email_messages()]


def _region_messages() -> list[checks.CheckMessage]:
    messages: list[checks.CheckMessage] = []
    if settings.LEADS_DEFAULT_REGION not in phonenumbers.SUPPORTED_REGIONS:
        messages.append(
            checks.Error(
                f"LEADS_DEFAULT_REGION={settings.LEADS_DEFAULT_REGION!r} is not a region phonenumbers knows.",
                hint="Use an ISO 3166 two-letter code such as US, GB, FR, DE or ES.",
                id="leads.E001",
            )
        )
    return messages


def _sheets_messages() -> list[checks.CheckMessage]:
    messages: list[checks.CheckMessage] = []
    has_credentials = bool(settings.SHEETS_CREDENTIALS_JSON or settings.SHEETS_CREDENTIALS_FILE)
    if has_credentials:
        try:
            credentials_info_load()
        except SheetsConfigError as exc:
            messages.append(
                checks.Warning(
                    f"Google Sheets credentials are unusable: {exc}",
                    hint="Point SHEETS_CREDENTIALS_FILE at the service account's JSON key, or put the JSON "
                    "itself in SHEETS_CREDENTIALS_JSON. Leads are kept and marked failed until fixed.",
                    id="leads.W005",
                )
            )
        if not settings.SHEETS_SPREADSHEET_ID:
            messages.append(
                checks.Warning(
                    "Sheets credentials are set but SHEETS_SPREADSHEET_ID is not: the mirror is off.",
                    hint="Set SHEETS_SPREADSHEET_ID to the id in the spreadsheet's URL and share the sheet "
                    "with the service account's client_email.",
                    id="leads.W001",
                )
            )
    if settings.SHEETS_CREDENTIALS_JSON and settings.SHEETS_CREDENTIALS_FILE:
        messages.append(
            checks.Warning(
                "Both SHEETS_CREDENTIALS_JSON and SHEETS_CREDENTIALS_FILE are set; the JSON value is used.",
                id="leads.W002",
            )
        )
    if settings.SHEETS_SPREADSHEET_ID and not has_credentials:
        messages.append(
            checks.Warning(
                "SHEETS_SPREADSHEET_ID is set without credentials: the mirror is off.",
                hint="Set SHEETS_CREDENTIALS_FILE or SHEETS_CREDENTIALS_JSON.",
                id="leads.W003",
            )
        )
    return messages


def _webhook_messages() -> list[checks.CheckMessage]:
    messages: list[checks.CheckMessage] = []
    if not settings.LEADS_WEBHOOK_URL:
        return messages
    if urlsplit(settings.LEADS_WEBHOOK_URL).scheme not in {"http", "https"}:
        messages.append(
            checks.Warning(
                f"LEADS_WEBHOOK_URL={settings.LEADS_WEBHOOK_URL!r} is not an http(s) URL.",
                id="leads.W006",
            )
        )
    if not settings.LEADS_WEBHOOK_SECRET:
        messages.append(
            checks.Warning(
                "LEADS_WEBHOOK_URL is set without LEADS_WEBHOOK_SECRET: no webhook is sent unsigned.",
                hint="Set LEADS_WEBHOOK_SECRET to a long random string shared with the receiver.",
                id="leads.W004",
            )
        )
    refused = url_refusal_without_dns(url=settings.LEADS_WEBHOOK_URL, policy=AddressPolicy.from_settings())
    if refused:
        messages.append(
            checks.Warning(
                f"LEADS_WEBHOOK_URL is a {refused} address, which server-side requests may not reach: "
                "no webhook will be delivered.",
                hint="For a receiver on your own network set FETCH_ALLOW_PRIVATE_ADDRESSES=1, or list its "
                "network in FETCH_ALLOWED_NETWORKS.",
                id="leads.W008",
            )
        )
    return messages


def _notify_email_messages() -> list[checks.CheckMessage]:
    messages: list[checks.CheckMessage] = []
    for address in settings.LEADS_NOTIFY_EMAILS:
        try:
            validate_email(address)
        except ValidationError:
            messages.append(
                checks.Warning(
                    f"LEADS_NOTIFY_EMAILS contains {address!r}, which is not an email address.",
                    id="leads.W007",
                )
            )
    return messages
