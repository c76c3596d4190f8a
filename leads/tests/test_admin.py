"""The sales desk in Django admin."""

import csv
import io

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from conversations.models import Message
from leads.models import Lead, SyncState
from leads.tests.factories import (
    ConversationFactory,
    LeadFactory,
    MessageFactory,
    UserFactory,
)
from leads.tests.helpers import sheet_ids

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:leads_lead_changelist")


def sales_user(*codenames):
    user = UserFactory(username="sam")
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="leads", codename__in=codenames))
    return user


@pytest.fixture
def sales_client(client):
    client.force_login(sales_user("view_lead", "change_lead", "view_leadnotification"))
    return client


def test_a_staff_user_without_lead_permissions_cannot_see_leads(client):
    LeadFactory(email="secret@example.com")
    client.force_login(UserFactory(username="support"))

    assert client.get(CHANGELIST).status_code == 403
    assert client.get(reverse("admin:leads_lead_change", args=[Lead.objects.get().pk])).status_code == 403
    index = client.get(reverse("admin:index"))
    assert b"secret@example.com" not in index.content and CHANGELIST.encode() not in index.content


def test_the_list_shows_what_sales_works_with(sales_client):
    owner = UserFactory(username="olivia", first_name="Olivia")
    LeadFactory(
        name="Ana", email="ana@brightside.io", status=Lead.Status.QUALIFIED, owner=owner, source=Lead.Source.FORM
    )

    page = sales_client.get(CHANGELIST).content.decode()

    for column in ("Status", "Owner", "Source", "Created at", "Last activity", "Sheet"):
        assert column in page
    assert "ana@brightside.io" in page and "Qualified" in page and "olivia" in page and "Contact form" in page


def test_it_filters_searches_and_drills_down_by_date(sales_client):
    LeadFactory(name="Ana", email="ana@brightside.io", status=Lead.Status.NEW)
    LeadFactory(name="Ben", email="ben@example.com", status=Lead.Status.WON, company="Northwind")

    by_status = sales_client.get(CHANGELIST, {"status__exact": "won"}).content.decode()
    by_search = sales_client.get(CHANGELIST, {"q": "northwind"}).content.decode()
    lead = Lead.objects.get(name="Ana")
    by_day = sales_client.get(
        CHANGELIST,
        {
            "created_at__year": lead.created_at.year,
            "created_at__month": lead.created_at.month,
            "created_at__day": lead.created_at.day,
        },
    )

    assert "ben@example.com" in by_status and "ana@brightside.io" not in by_status
    assert "ben@example.com" in by_search and "ana@brightside.io" not in by_search
    assert by_day.status_code == 200 and b"ana@brightside.io" in by_day.content


def test_the_list_query_count_does_not_grow_with_the_leads(sales_client, django_assert_max_num_queries):
    owner = UserFactory(username="olivia")
    for _ in range(30):
        lead = LeadFactory(owner=owner)
        lead.conversations.add(ConversationFactory())

    # One of them reads the bot settings for the admin's title (then cached a few seconds per process).
    with django_assert_max_num_queries(13):
        assert sales_client.get(CHANGELIST).status_code == 200


def test_the_lead_page_shows_its_conversation_transcripts_escaped(sales_client):
    conversation = ConversationFactory()
    MessageFactory(conversation=conversation, text="Do you have <b>cargo</b> bikes?")
    MessageFactory(conversation=conversation, role=Message.Role.ASSISTANT, text="Yes, the Hauler 2.")
    MessageFactory(conversation=conversation, text="ana@brightside.io")
    lead = LeadFactory(email="ana@brightside.io")
    lead.conversations.add(conversation)

    page = sales_client.get(reverse("admin:leads_lead_change", args=[lead.pk])).content.decode()

    assert "Do you have &lt;b&gt;cargo&lt;/b&gt; bikes?" in page
    assert "Yes, the Hauler 2." in page
    assert page.index("Do you have") < page.index("Yes, the Hauler 2.")


def test_assign_to_me_and_mark_contacted_update_the_sheet(
    sales_client, fake_sheets, django_capture_on_commit_callbacks
):
    leads = LeadFactory.create_batch(2)
    ids = [str(lead.pk) for lead in leads]

    with django_capture_on_commit_callbacks(execute=True):
        sales_client.post(CHANGELIST, {"action": "assign_to_me", "_selected_action": ids})
    with django_capture_on_commit_callbacks(execute=True):
        sales_client.post(CHANGELIST, {"action": "mark_contacted", "_selected_action": ids})

    assert set(Lead.objects.values_list("owner__username", "status")) == {("sam", "contacted")}
    assert set(Lead.objects.values_list("sync_state", flat=True)) == {SyncState.SYNCED}
    rows = fake_sheets.rows("Leads")
    assert sorted(sheet_ids(fake_sheets)) == sorted(ids)
    assert {(row[8], row[9]) for row in rows[1:]} == {("Contacted", "sam")}


def test_a_user_who_may_only_view_gets_no_bulk_edits(client):
    client.force_login(sales_user("view_lead"))
    lead = LeadFactory()

    client.post(CHANGELIST, {"action": "mark_contacted", "_selected_action": [str(lead.pk)]})

    lead.refresh_from_db()
    assert lead.status == Lead.Status.NEW


def test_resync_puts_a_lead_back_into_the_sheet(sales_client, fake_sheets, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        lead = LeadFactory()
    fake_sheets.set_rows("Leads", [fake_sheets.rows("Leads")[0]])  # someone deleted the row

    with django_capture_on_commit_callbacks(execute=True):
        response = sales_client.post(CHANGELIST, {"action": "resync", "_selected_action": [str(lead.pk)]}, follow=True)

    assert b"queued for the Google Sheet" in response.content
    assert sheet_ids(fake_sheets) == [str(lead.pk)]


def test_export_csv_neutralises_formulas(sales_client):
    LeadFactory(
        name='=HYPERLINK("http://evil")', email="ana@brightside.io", phone="+442079460958", company="Brightside"
    )

    response = sales_client.post(CHANGELIST, {"action": "export_csv", "_selected_action": [str(Lead.objects.get().pk)]})

    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:6] == ["ID", "Created", "Name", "Email", "Phone", "Company"]
    assert rows[1][2] == '\'=HYPERLINK("http://evil")' and rows[1][4] == "+442079460958"


def test_an_edit_in_admin_is_validated_and_mirrored(sales_client, fake_sheets, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        lead = LeadFactory(name="Ana", email="ana@brightside.io")
    LeadFactory(email="taken@example.com")
    url = reverse("admin:leads_lead_change", args=[lead.pk])
    form = {
        "name": "Ana Lopez",
        "email": "ana@brightside.io",
        "phone": "(415) 555-2671",
        "company": "",
        "interest": "",
        "status": "qualified",
        "owner": "",
        "notes": "",
        "notifications-TOTAL_FORMS": "0",
        "notifications-INITIAL_FORMS": "0",
    }

    refused = sales_client.post(url, {**form, "email": "TAKEN@example.com"})
    with django_capture_on_commit_callbacks(execute=True):
        saved = sales_client.post(url, form)

    assert b"A lead with this email address already exists." in refused.content
    assert saved.status_code == 302
    lead.refresh_from_db()
    assert (lead.name, lead.phone, lead.status, lead.sync_state) == (
        "Ana Lopez",
        "+14155552671",
        "qualified",
        SyncState.SYNCED,
    )
    assert fake_sheets.rows("Leads")[1][2] == "Ana Lopez"
