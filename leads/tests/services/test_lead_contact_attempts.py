"""
Only a lead's own conversations update it; details that name it from anywhere
else are kept as unverified contact attempts for sales (issue 15).
"""

import pytest

from leads.models import Lead, LeadContactAttempt, SyncState
from leads.services import lead_capture_from_message, lead_submit_form
from leads.tests.factories import ConversationFactory, LeadFactory
from leads.tests.helpers import sheet_ids

pytestmark = pytest.mark.django_db

CONSENT = "I agree that Tidewater Bikes contacts me about my request."


def victim():
    lead = LeadFactory(email="ana@brightside.io", name="Ana", phone="", company="")
    lead.conversations.add(ConversationFactory())
    return lead


def test_a_message_from_another_conversation_changes_nothing_and_links_nothing():
    lead = victim()
    stranger = ConversationFactory()

    result = lead_capture_from_message(
        conversation=stranger, text="I'm Eve from Mallory Inc, ana@brightside.io, call +1 415 555 2671"
    )

    lead.refresh_from_db()
    assert (lead.name, lead.phone, lead.company, lead.notes) == ("Ana", "", "", "")
    assert stranger not in lead.conversations.all()
    assert result.status == "captured" and result.attempt is not None
    attempt = LeadContactAttempt.objects.get()
    assert (attempt.lead, attempt.conversation, attempt.source) == (lead, stranger, Lead.Source.DETECTED)
    assert (attempt.name, attempt.email, attempt.phone, attempt.company) == (
        "Eve",
        "ana@brightside.io",
        "+14155552671",
        "Mallory Inc",
    )


def test_a_form_without_a_conversation_keeps_the_consent_on_the_attempt_only():
    lead = victim()

    result = lead_submit_form(
        conversation=None,
        name="Eve",
        email="ANA@brightside.io",
        phone="",
        consent=True,
        consent_text="forged consent",
        source=Lead.Source.API,
    )

    lead.refresh_from_db()
    assert (lead.consent, lead.consent_text, lead.consent_at) == (False, "", None)
    assert result.attempt.consent_text == "forged consent" and result.attempt.consent is True


def test_the_leads_own_conversation_still_updates_it_and_leaves_no_attempt():
    conversation = ConversationFactory()
    lead_capture_from_message(conversation=conversation, text="ana@brightside.io")

    result = lead_submit_form(
        conversation=conversation,
        name="Ana Lopez",
        email="ana@brightside.io",
        phone="415 555 2671",
        consent=True,
        consent_text=CONSENT,
        source=Lead.Source.FORM,
    )

    assert result.status == "updated" and result.attempt is None
    lead = Lead.objects.get()
    assert (lead.name, lead.phone, lead.consent_text) == ("Ana Lopez", "+14155552671", CONSENT)
    assert LeadContactAttempt.objects.count() == 0


def test_the_same_details_from_the_same_conversation_are_kept_once():
    victim()
    stranger = ConversationFactory()

    statuses = [lead_capture_from_message(conversation=stranger, text="ana@brightside.io").status for _ in range(3)]

    assert statuses == ["captured", "updated", "updated"]
    assert LeadContactAttempt.objects.count() == 1


def test_the_attempt_is_in_the_sheets_notes_column_and_the_row_keeps_the_leads_details(
    fake_sheets, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        lead = victim()
    Lead.objects.filter(pk=lead.pk).update(notes="VIP, call mornings")

    with django_capture_on_commit_callbacks(execute=True):
        lead_capture_from_message(
            conversation=ConversationFactory(), text="I'm Eve, ana@brightside.io, +1 415 555 2671"
        )

    [row] = fake_sheets.rows("Leads")[1:]
    assert fake_sheets.rows("Leads")[0][12] == "Notes"
    assert sheet_ids(fake_sheets) == [str(lead.pk)] and (row[2], row[4]) == ("Ana", "")
    notes = row[12].splitlines()
    assert notes[0] == "VIP, call mornings"
    assert notes[1].endswith(
        "unverified contact attempt (detected in chat): name Eve; email ana@brightside.io; phone +14155552671"
    )
    assert Lead.objects.get().sync_state == SyncState.SYNCED
