"""Without Sheets credentials the sales desk says "not configured", not "pending" (issue 15)."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from leads.models import Lead, SyncState
from leads.tests.factories import LeadFactory, UserFactory
from leads.tests.helpers import sheet_ids
from leads.tests.test_admin import sales_user

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:leads_lead_changelist")


@pytest.fixture
def sales_client(client):
    client.force_login(sales_user("view_lead", "change_lead"))
    return client


def test_the_list_filter_and_page_say_not_configured_without_credentials(mirror_off, sales_client):
    lead = LeadFactory(email="ana@brightside.io")

    listing = sales_client.get(CHANGELIST).content.decode()
    filtered = sales_client.get(CHANGELIST, {"sheet": "not configured"}).content.decode()
    page = sales_client.get(reverse("admin:leads_lead_change", args=[lead.pk])).content.decode()

    assert ">not configured</span>" in listing and ">pending</span>" not in listing
    assert "Not configured" in listing  # the filter's choice
    assert "ana@brightside.io" in filtered
    assert "Not configured. No Google Sheets credentials" in page


def test_with_credentials_the_states_are_the_real_ones(fake_sheets, sales_client):
    LeadFactory(email="ana@brightside.io")
    Lead.objects.update(sync_state=SyncState.PENDING)

    listing = sales_client.get(CHANGELIST).content.decode()
    pending = sales_client.get(CHANGELIST, {"sheet": "pending"}).content.decode()

    assert "not configured" not in listing.lower()
    assert "ana@brightside.io" in pending


def test_leads_saved_while_not_configured_are_pushed_once_credentials_are_set(settings, mirror_off):
    lead = LeadFactory(email="ana@brightside.io")
    assert Lead.objects.get().sync_state == SyncState.PENDING

    from testsupport.fake_sheets import FakeSheets

    with FakeSheets() as fake:
        for name, value in fake.settings().items():
            setattr(settings, name, value)
        out = StringIO()
        call_command("sync_leads", "--json", stdout=out)

        assert json.loads(out.getvalue())["synced"] == 1
        assert sheet_ids(fake) == [str(lead.pk)]


def test_a_staff_user_without_lead_permissions_still_sees_nothing(client, mirror_off):
    client.force_login(UserFactory(username="support"))

    assert client.get(CHANGELIST, {"sheet": "not configured"}).status_code == 403
