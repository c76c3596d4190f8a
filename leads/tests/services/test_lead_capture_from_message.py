import pytest
from django.db import IntegrityError, transaction

from leads.models import Lead, SyncState
from leads.services import lead_capture_from_message
from leads.tests.factories import ConversationFactory, LeadFactory, MessageFactory

pytestmark = pytest.mark.django_db


def test_it_turns_the_issue_example_into_one_clean_lead():
    conversation = ConversationFactory()
    MessageFactory(conversation=conversation, text="Do you do fleet pricing for 20 cargo bikes?")
    text = "I'm Ana from Brightside, mail me at ana@brightside.io or call +44 20 7946 0958"
    MessageFactory(conversation=conversation, text=text)

    result = lead_capture_from_message(conversation=conversation, text=text)

    assert result.status == "captured"
    lead = Lead.objects.get()
    assert (lead.name, lead.company, lead.email, lead.phone) == (
        "Ana",
        "Brightside",
        "ana@brightside.io",
        "+442079460958",
    )
    assert lead.source == Lead.Source.DETECTED
    assert lead.interest == "Do you do fleet pricing for 20 cargo bikes?"
    assert list(lead.conversations.all()) == [conversation]
    assert lead.status == Lead.Status.NEW
    assert lead.sync_state == SyncState.PENDING


def test_it_returns_none_when_the_message_has_no_contact_details():
    assert lead_capture_from_message(conversation=ConversationFactory(), text="What's the range?") is None
    assert Lead.objects.count() == 0


def test_it_merges_a_second_message_with_the_same_email_in_the_same_conversation():
    conversation = ConversationFactory()
    lead_capture_from_message(conversation=conversation, text="ana@brightside.io")

    result = lead_capture_from_message(
        conversation=conversation, text="It's Ana again: ANA@Brightside.io, +1 415 555 2671"
    )

    assert result.status == "updated" and result.attempt is None
    lead = Lead.objects.get()
    assert lead.phone == "+14155552671"
    assert list(lead.conversations.all()) == [conversation]


def test_it_merges_a_message_with_the_same_phone_in_another_format():
    conversation = ConversationFactory()
    lead_capture_from_message(conversation=conversation, text="call me at (415) 555-2671")

    result = lead_capture_from_message(conversation=conversation, text="+1 415.555.2671, tom@example.com")

    assert result.status == "updated"
    assert Lead.objects.get().email == "tom@example.com"


def test_email_wins_when_email_and_phone_belong_to_two_leads():
    conversation = ConversationFactory()
    by_email = LeadFactory(email="ana@brightside.io", phone="")
    by_email.conversations.add(conversation)
    by_phone = LeadFactory(email="", phone="+14155552671")

    result = lead_capture_from_message(conversation=conversation, text="ana@brightside.io / 415 555 2671")

    assert result.lead.pk == by_email.pk
    by_email.refresh_from_db()
    by_phone.refresh_from_db()
    assert by_email.phone == "" and by_phone.phone == "+14155552671"
    assert f"phone +14155552671, which is on lead #{by_phone.pk}" in by_email.notes


def test_a_different_value_goes_to_the_notes_instead_of_overwriting():
    conversation = ConversationFactory()
    lead = LeadFactory(email="ana@brightside.io", name="Ana", phone="+442079460958")
    lead.conversations.add(conversation)

    lead_capture_from_message(conversation=conversation, text="I'm Anna Smith, ana@brightside.io, +1 415 555 2671")

    lead.refresh_from_db()
    assert (lead.name, lead.phone) == ("Ana", "+442079460958")
    assert "phone +14155552671" in lead.notes and "name Anna Smith" in lead.notes


def test_an_update_that_changes_nothing_visible_does_not_resync():
    conversation = ConversationFactory()
    lead_capture_from_message(conversation=conversation, text="ana@brightside.io")
    Lead.objects.update(sync_state=SyncState.SYNCED)

    lead_capture_from_message(conversation=conversation, text="again: ana@brightside.io")

    assert Lead.objects.get().sync_state == SyncState.SYNCED


def test_the_database_refuses_a_second_lead_with_the_same_email_in_other_case():
    LeadFactory(email="ana@brightside.io")

    with pytest.raises(IntegrityError), transaction.atomic():
        Lead.objects.create(email="ANA@brightside.io")


def test_the_database_refuses_a_second_lead_with_the_same_phone_but_allows_many_without():
    LeadFactory(email="", phone="+14155552671")
    LeadFactory(email="a@example.com", phone="")
    LeadFactory(email="b@example.com", phone="")

    with pytest.raises(IntegrityError), transaction.atomic():
        Lead.objects.create(phone="+14155552671")
