"""POST /api/leads/."""

import pytest

from leads.models import Lead
from leads.tests.factories import ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db

URL = "/api/leads/"
CONSENT = "I agree that Tidewater Bikes contacts me about my request."


def post(client, **data):
    body = {"name": "Ana", "email": "ana@brightside.io", "consent": True, "consent_text": CONSENT, **data}
    return client.post(URL, body, content_type="application/json")


def test_it_creates_a_lead_with_201_then_updates_it_with_200(client):
    conversation = ConversationFactory()
    MessageFactory(conversation=conversation, text="Do you ship to Canada?")

    created = post(client, company="Brightside", conversation_id=conversation.pk)
    updated = post(client, email="ANA@brightside.io", phone="+44 20 7946 0958")

    assert created.status_code == 201 and created.json()["status"] == "captured"
    assert updated.status_code == 200 and updated.json() == {"id": created.json()["id"], "status": "updated"}
    lead = Lead.objects.get()
    assert (lead.source, lead.company, lead.phone, lead.consent_text) == (
        "api", "Brightside", "+442079460958", CONSENT)
    assert lead.interest == "Do you ship to Canada?"
    assert list(lead.conversations.all()) == [conversation]


def test_the_message_field_becomes_the_interest(client):
    post(client, message="Quote for 8 cargo bikes, delivery in May")

    assert Lead.objects.get().interest == "Quote for 8 cargo bikes, delivery in May"


@pytest.mark.parametrize(("data", "field"), [
    ({"email": "", "phone": ""}, "email"),
    ({"email": "not-an-email"}, "email"),
    ({"email": "", "phone": "123"}, "phone"),
    ({"consent": False}, "consent"),
    ({"conversation_id": "no-such-conversation"}, "conversation_id"),
    ({"consent": "maybe"}, "consent"),
])
def test_bad_input_is_a_400_with_field_errors(client, data, field):
    response = post(client, **data)

    assert response.status_code == 400
    assert response.json()[field] and isinstance(response.json()[field][0], str)
    assert Lead.objects.count() == 0


def test_it_is_rate_limited_per_client(client, settings):
    settings.LEADS_API_RATE = "2/m"

    codes = [post(client, email=f"visitor{n}@example.com").status_code for n in range(3)]

    assert codes == [201, 201, 429]
