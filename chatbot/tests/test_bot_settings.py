"""Bot settings: one record, edited in admin, cached per process, invalidated on save."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from chatbot.models import BotSettings
from chatbot.selectors import abot_settings_get, bot_settings_get

pytestmark = pytest.mark.django_db


def test_there_is_only_ever_one_record():
    BotSettings(name="First").save()
    BotSettings(name="Second").save()

    assert BotSettings.objects.count() == 1
    assert BotSettings.objects.get().name == "Second"


def test_it_is_created_with_defaults_on_first_read():
    config = bot_settings_get()

    assert BotSettings.objects.count() == 1
    assert 0 < config.confidence_threshold < 1
    assert config.fallback_message and config.greeting and config.system_prompt


def test_reads_are_cached_and_a_save_refreshes_them(django_assert_num_queries):
    bot_settings_get()
    with django_assert_num_queries(0):
        bot_settings_get()
    row = BotSettings.objects.get()
    row.name = "Renamed"
    row.save()

    assert bot_settings_get().name == "Renamed"


@pytest.mark.django_db(transaction=True)
async def test_the_async_read_shares_the_cache():
    await abot_settings_get()
    row = await BotSettings.objects.aget()
    row.greeting = "Ahoy!"
    await row.asave()

    assert (await abot_settings_get()).greeting == "Ahoy!"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("color_primary", "red"),
        ("color_text", "#12345"),
        ("confidence_threshold", 1.5),
        ("allowed_origins", "https://shop.example.com\nexample.com/path"),
    ],
)
def test_bad_values_are_refused_with_a_message(field, value):
    row = BotSettings(**{field: value})
    with pytest.raises(ValidationError) as failure:
        row.full_clean()

    assert field in failure.value.message_dict


def test_allowed_origins_take_one_origin_per_line():
    row = BotSettings(allowed_origins="https://www.example.com\nhttps://*.example.org\n")
    row.full_clean()
    row.save()

    assert bot_settings_get().allowed_origins.splitlines()[:2] == ["https://www.example.com", "https://*.example.org"]


def test_the_admin_opens_the_one_record_and_cannot_add_or_delete(admin_client):
    response = admin_client.get("/admin/chatbot/botsettings/")

    assert response.status_code == 302
    assert response["Location"] == "/admin/chatbot/botsettings/1/change/"
    assert admin_client.get("/admin/chatbot/botsettings/add/").status_code == 403
    assert admin_client.get("/admin/chatbot/botsettings/1/delete/").status_code == 403


def test_saving_the_admin_form_changes_what_the_bot_uses(admin_client):
    bot_settings_get()
    form = admin_client.get("/admin/chatbot/botsettings/1/change/").context["adminform"].form
    data = {name: "" if form.initial.get(name) is None else form.initial[name] for name in form.fields}
    data.update(name="Tidewater helper", confidence_threshold="0.6")
    response = admin_client.post("/admin/chatbot/botsettings/1/change/", data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert bot_settings_get().name == "Tidewater helper"
    assert bot_settings_get().confidence_threshold == 0.6
