"""The leads webhook goes through the fetch guard like every server-side request."""

import pytest

from leads.models import LeadNotification
from leads.services import lead_capture_from_message
from testsupport.web import closed_port

pytestmark = pytest.mark.django_db


@pytest.fixture
def webhook(settings, mirror_off, webhook_receiver):
    settings.FETCH_ALLOW_PRIVATE_ADDRESSES = False
    settings.FETCH_ALLOWED_NETWORKS = []
    settings.LEADS_WEBHOOK_URL = webhook_receiver.url
    settings.LEADS_WEBHOOK_SECRET = "s3cret"
    settings.LEADS_WEBHOOK_TIMEOUT = 2
    return webhook_receiver


def capture(on_commit) -> LeadNotification:
    with on_commit(execute=True):
        lead_capture_from_message(conversation=None, text="I'm Ana, ana@brightside.io")
    return LeadNotification.objects.get(channel="webhook")


def test_a_webhook_on_a_loopback_address_is_not_sent(webhook, django_capture_on_commit_callbacks):
    notification = capture(django_capture_on_commit_callbacks)

    assert webhook.received == []
    assert (notification.state, notification.last_error) == (
        LeadNotification.State.FAILED,
        "webhook could not be reached",
    )


def test_the_intranet_opt_in_lets_it_through(settings, webhook, django_capture_on_commit_callbacks):
    settings.FETCH_ALLOW_PRIVATE_ADDRESSES = True

    notification = capture(django_capture_on_commit_callbacks)

    assert notification.state == LeadNotification.State.SENT and len(webhook.received) == 1


def test_a_webhook_that_cannot_be_reached_says_the_same_and_is_retried(
    settings, webhook, django_capture_on_commit_callbacks
):
    settings.FETCH_ALLOW_PRIVATE_ADDRESSES = True
    settings.LEADS_WEBHOOK_URL = f"http://127.0.0.1:{closed_port()}/hooks/leads"

    notification = capture(django_capture_on_commit_callbacks)

    assert (notification.state, notification.last_error) == (
        LeadNotification.State.PENDING,
        "webhook could not be reached",
    )
