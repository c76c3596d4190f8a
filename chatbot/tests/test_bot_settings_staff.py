"""
Settings staff change without a deploy, in admin > Bot settings: who hears
about leads (recipients, webhook URL, each with "send a test"), the site URL
that makes the email's link absolute, the widget's colours (pickers and a live
preview) and the admin's title. The environment's values stay the defaults.
"""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone

from chatbot.models import BotSettings
from chatbot.selectors import bot_settings_row_get
from leads.models import LeadNotification
from leads.services import handoff_waiting_notify, lead_capture_from_message
from leads.tests.factories import ConversationFactory, MessageFactory
from testsupport.smtp import SMTPServer

pytestmark = pytest.mark.django_db

SECRET = "s3cret"
CHANGE = reverse("admin:chatbot_botsettings_change", args=[BotSettings.SINGLETON_PK])


@pytest.fixture
def smtp(settings, mirror_off):
    with SMTPServer() as server:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = server.host, server.port
        settings.EMAIL_USE_TLS = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        settings.LEADS_NOTIFY_EMAILS = ["env-sales@tidewater.test"]
        settings.SITE_URL = ""
        yield server


@pytest.fixture
def superuser_client(client):
    client.force_login(User.objects.create_superuser("boss", "boss@tidewater.test", "pw"))
    return client


def bot_settings(**fields) -> BotSettings:
    row = bot_settings_row_get()
    for name, value in fields.items():
        setattr(row, name, value)
    row.save()
    return row


def capture(text: str, on_commit):
    with on_commit(execute=True):
        return lead_capture_from_message(conversation=ConversationFactory(), text=text)


def test_a_new_lead_is_emailed_to_the_recipients_in_bot_settings_with_an_absolute_link(
    smtp, django_capture_on_commit_callbacks
):
    bot_settings(notify_emails="sales@tidewater.test\nboss@tidewater.test", site_url="https://bot.tidewater.test/")

    lead = capture("I'm Ana, ana@brightside.io", django_capture_on_commit_callbacks).lead

    [message] = smtp.messages
    assert smtp.recipients == [["sales@tidewater.test", "boss@tidewater.test"]]
    assert f"Open it in admin: https://bot.tidewater.test/admin/leads/lead/{lead.pk}/change/" in message.get_content()
    assert LeadNotification.objects.get().state == LeadNotification.State.SENT


def test_a_visitor_waiting_for_a_person_is_emailed_to_the_recipients_in_bot_settings_with_an_absolute_link(smtp):
    bot_settings(notify_emails="sales@tidewater.test", site_url="https://bot.tidewater.test/")
    waiting = ConversationFactory(handoff_requested_at=timezone.now())
    MessageFactory(conversation=waiting, text="Can I talk to a person?")

    assert handoff_waiting_notify(conversation_id=waiting.pk) == "sent"

    [message] = smtp.messages
    assert smtp.recipients == [["sales@tidewater.test"]]
    assert f"https://bot.tidewater.test/admin/chatbot/staffinbox/#{waiting.pk}" in message.get_content()


def test_with_nothing_in_bot_settings_the_environment_decides(smtp, settings, django_capture_on_commit_callbacks):
    settings.SITE_URL = "https://assistant.example.com"

    lead = capture("ana@brightside.io", django_capture_on_commit_callbacks).lead

    assert smtp.recipients == [["env-sales@tidewater.test"]]
    assert f"https://assistant.example.com/admin/leads/lead/{lead.pk}/change/" in smtp.messages[0].get_content()


def test_the_webhook_url_in_bot_settings_replaces_the_environments(
    settings, mirror_off, webhook_receiver, django_capture_on_commit_callbacks
):
    settings.FETCH_ALLOW_PRIVATE_ADDRESSES = True
    settings.LEADS_NOTIFY_EMAILS = []
    settings.LEADS_WEBHOOK_URL = "http://127.0.0.1:9/never"
    settings.LEADS_WEBHOOK_SECRET = SECRET
    bot_settings(webhook_url=webhook_receiver.url)

    capture("ana@brightside.io", django_capture_on_commit_callbacks)

    [delivery] = webhook_receiver.received
    assert json.loads(delivery["body"])["event"] == "lead.created"


def test_send_a_test_email_sends_to_the_recipients_typed_in_the_form(superuser_client, smtp):
    response = superuser_client.post(
        reverse("admin:chatbot_botsettings_send_test_email"),
        {"notify_emails": "new-sales@tidewater.test", "site_url": "https://bot.tidewater.test"},
        follow=True,
    )

    assert "Test email sent to new-sales@tidewater.test." in response.content.decode()
    assert smtp.recipients == [["new-sales@tidewater.test"]]
    assert "https://bot.tidewater.test/admin/leads/lead/1/change/" in smtp.messages[0].get_content()
    assert bot_settings_row_get().notify_emails == "", "a test saves nothing"


def test_send_a_test_email_refuses_an_address_that_is_not_one(superuser_client, smtp):
    response = superuser_client.post(
        reverse("admin:chatbot_botsettings_send_test_email"), {"notify_emails": "sales at tidewater"}, follow=True
    )

    assert "No test sent: Not an email address: sales at tidewater" in response.content.decode()
    assert smtp.messages == []


def test_send_a_test_webhook_delivers_a_signed_test_event(superuser_client, settings, webhook_receiver):
    settings.FETCH_ALLOW_PRIVATE_ADDRESSES = True
    settings.LEADS_WEBHOOK_SECRET = SECRET

    response = superuser_client.post(
        reverse("admin:chatbot_botsettings_send_test_webhook"), {"webhook_url": webhook_receiver.url}, follow=True
    )

    assert f"Test webhook delivered to {webhook_receiver.url}." in response.content.decode()
    [delivery] = webhook_receiver.received
    assert delivery["headers"]["X-Lead-Event"] == "test"
    assert delivery["headers"]["X-Signature"].startswith("sha256=")


def test_send_a_test_webhook_says_why_it_failed(superuser_client, settings, webhook_receiver):
    settings.FETCH_ALLOW_PRIVATE_ADDRESSES = True
    settings.LEADS_WEBHOOK_SECRET = SECRET
    webhook_receiver.statuses = [500]

    response = superuser_client.post(
        reverse("admin:chatbot_botsettings_send_test_webhook"), {"webhook_url": webhook_receiver.url}, follow=True
    )

    assert "The test webhook was not delivered: webhook answered 500" in response.content.decode()


def test_a_test_cannot_be_sent_with_a_get(superuser_client):
    assert superuser_client.get(reverse("admin:chatbot_botsettings_send_test_email")).status_code == 403


def test_the_admin_title_is_the_one_in_bot_settings(superuser_client):
    bot_settings(admin_site_title="Tidewater back office")

    page = superuser_client.get(reverse("admin:index")).content.decode()

    assert "Tidewater back office" in page


def test_colours_are_edited_with_pickers_beside_a_preview(superuser_client):
    bot_settings_row_get()

    page = superuser_client.get(CHANGE).content.decode()

    assert page.count('type="color"') == 3
    assert 'id="widget-preview"' in page
    assert "chatbot/admin/bot_settings.js" in page
    assert 'id="send-test-email"' in page and 'id="send-test-webhook"' in page


def test_a_recipient_that_is_not_an_email_is_refused_on_save(superuser_client):
    row = bot_settings_row_get()
    data = {field.name: field.value_from_object(row) or "" for field in BotSettings._meta.fields if field.editable}
    data.pop("id", None)

    response = superuser_client.post(CHANGE, {**data, "notify_emails": "sales@tidewater.test\nnot-an-address"})

    assert response.status_code == 200
    assert "Not an email address: not-an-address" in response.content.decode()
