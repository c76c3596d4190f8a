import pytest
from django.core.exceptions import ValidationError

from leads.models import Lead
from leads.services import lead_submit_form
from leads.tests.factories import ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db

CONSENT = "I agree that Tidewater Bikes contacts me about my request."


def submit(**overrides):
    values = {
        "conversation": None,
        "name": "Ana Lopez",
        "email": "ana@brightside.io",
        "phone": "",
        "consent": True,
        "consent_text": CONSENT,
        "source": Lead.Source.FORM,
    }
    values.update(overrides)
    return lead_submit_form(**values)


def test_it_records_the_consent_text_and_time():
    result = submit(phone="+44 20 7946 0958")

    lead = result.lead
    assert result.status == "captured"
    assert (lead.source, lead.consent, lead.consent_text) == (Lead.Source.FORM, True, CONSENT)
    assert lead.consent_at is not None and lead.phone == "+442079460958"


def test_it_takes_the_interest_from_the_conversation():
    conversation = ConversationFactory()
    MessageFactory(conversation=conversation, text="Can I get a quote for 12 cargo bikes?")

    lead = submit(conversation=conversation).lead

    assert lead.interest == "Can I get a quote for 12 cargo bikes?"
    assert list(lead.conversations.all()) == [conversation]


def test_a_second_submission_from_the_same_conversation_updates_the_lead():
    conversation = ConversationFactory()
    submit(conversation=conversation)

    result = submit(
        conversation=conversation,
        email="Ana@Brightside.IO",
        phone="415 555 2671",
        company="Brightside",
        source=Lead.Source.API,
    )

    assert result.status == "updated"
    lead = Lead.objects.get()
    assert (lead.phone, lead.company, lead.source) == ("+14155552671", "Brightside", Lead.Source.FORM)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"email": "", "phone": ""}, "email", "email address or a phone number"),
        ({"email": "ana@"}, "email", "valid email"),
        ({"email": "", "phone": "12345"}, "phone", "valid phone"),
        ({"consent": False}, "consent", "agree to be contacted"),
        ({"consent_text": ""}, "consent_text", "consent wording"),
        ({"name": "x" * 201}, "name", "under 200"),
    ],
)
def test_bad_input_is_a_clear_error_and_creates_nothing(overrides, field, message):
    with pytest.raises(ValidationError) as error:
        submit(**overrides)

    assert message in " ".join(error.value.message_dict[field])
    assert Lead.objects.count() == 0
