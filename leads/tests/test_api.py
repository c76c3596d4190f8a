"""POST /api/leads/."""

import pytest

from leads.models import Lead, LeadContactAttempt
from leads.tests.factories import ConversationFactory, LeadFactory, MessageFactory

pytestmark = pytest.mark.django_db

URL = "/api/leads/"
CONSENT = "I agree that Tidewater Bikes contacts me about my request."


def post(client, **data):
    body = {"name": "Ana", "email": "ana@brightside.io", "consent": True, "consent_text": CONSENT, **data}
    return client.post(URL, body, content_type="application/json")


def test_it_creates_a_lead_with_201_then_its_conversation_updates_it_with_200(client):
    conversation = ConversationFactory()
    MessageFactory(conversation=conversation, text="Do you ship to Canada?")

    created = post(client, company="Brightside", conversation_id=conversation.pk)
    updated = post(client, email="ANA@brightside.io", phone="+44 20 7946 0958", conversation_id=conversation.pk)

    assert created.status_code == 201 and created.json() == {"status": "captured"}
    assert updated.status_code == 200 and updated.json() == {"status": "updated"}
    lead = Lead.objects.get()
    assert (lead.source, lead.company, lead.phone, lead.consent_text) == ("api", "Brightside", "+442079460958", CONSENT)
    assert lead.interest == "Do you ship to Canada?"
    assert list(lead.conversations.all()) == [conversation]


def answer(response):
    return response.status_code, response.json()


def test_a_known_and_an_unknown_email_get_the_same_answer_without_a_lead_id(client):
    LeadFactory(email="victim@example.com").conversations.add(ConversationFactory())

    known = [answer(post(client, email="victim@example.com")) for _ in range(2)]
    unknown = [answer(post(client, email="stranger@example.com")) for _ in range(2)]
    stranger = ConversationFactory()
    known_in_a_conversation = [
        answer(post(client, email="victim@example.com", conversation_id=stranger.pk)) for _ in range(2)
    ]
    other = ConversationFactory()
    unknown_in_a_conversation = [
        answer(post(client, email="new@example.com", conversation_id=other.pk)) for _ in range(2)
    ]

    assert known == unknown == [(201, {"status": "captured"})] * 2
    assert (
        known_in_a_conversation
        == unknown_in_a_conversation
        == [(201, {"status": "captured"}), (200, {"status": "updated"})]
    )


def test_a_strangers_submission_with_a_victims_email_changes_nothing_on_the_victims_lead(client):
    victim = LeadFactory(
        email="victim@example.com", phone="", name="Vic", consent=True, consent_text="I agree.", source=Lead.Source.FORM
    )
    own = ConversationFactory()
    victim.conversations.add(own)
    before = Lead.objects.values().get(pk=victim.pk)
    stranger = ConversationFactory()

    response = post(
        client,
        email="victim@example.com",
        phone="+1 415 555 2671",
        name="Eve",
        consent_text="forged consent",
        conversation_id=stranger.pk,
    )

    assert response.status_code == 201 and "id" not in response.json()
    after = Lead.objects.values().get(pk=victim.pk)
    assert {key: after[key] for key in ("name", "phone", "consent", "consent_text", "consent_at", "notes")} == {
        key: before[key] for key in ("name", "phone", "consent", "consent_text", "consent_at", "notes")
    }
    assert list(victim.conversations.all()) == [own]
    attempt = LeadContactAttempt.objects.get()
    assert (attempt.lead_id, attempt.conversation_id, attempt.name, attempt.phone, attempt.consent_text) == (
        victim.pk,
        stranger.pk,
        "Eve",
        "+14155552671",
        "forged consent",
    )


def test_the_message_field_becomes_the_interest(client):
    post(client, message="Quote for 8 cargo bikes, delivery in May")

    assert Lead.objects.get().interest == "Quote for 8 cargo bikes, delivery in May"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"email": "", "phone": ""}, "email"),
        ({"email": "not-an-email"}, "email"),
        ({"email": "", "phone": "123"}, "phone"),
        ({"consent": False}, "consent"),
        ({"conversation_id": "no-such-conversation"}, "conversation_id"),
        ({"consent": "maybe"}, "consent"),
    ],
)
def test_bad_input_is_a_400_with_field_errors(client, data, field):
    response = post(client, **data)

    assert response.status_code == 400
    assert response.json()[field] and isinstance(response.json()[field][0], str)
    assert Lead.objects.count() == 0


def test_it_is_rate_limited_per_client(client, settings):
    settings.LEADS_API_RATE = "2/m"

    codes = [post(client, email=f"visitor{n}@example.com").status_code for n in range(3)]

    assert codes == [201, 201, 429]
