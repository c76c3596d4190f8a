"""Which origins may embed the widget: the rule itself, with no transport around it."""

import pytest
from django.test import override_settings

from chatbot.origins import check_widget_allowed_origins
from core.origins import origin_is_allowed, origin_patterns_errors

SHOP = ["https://shop.example.com"]


@pytest.mark.parametrize(
    ("origin", "allowed", "expected"),
    [
        ("https://shop.example.com", SHOP, True),
        ("https://shop.example.com:443", SHOP, True),
        ("https://SHOP.example.com", SHOP, True),
        ("http://shop.example.com", SHOP, False),
        ("https://shop.example.com:8443", SHOP, False),
        ("https://evil-shop.example.com", SHOP, False),
        ("https://shop.example.com.evil.test", SHOP, False),
        ("https://shop.example.com", ["https://shop.example.com/"], True),
        ("http://127.0.0.1:5173", ["http://127.0.0.1:5173"], True),
        ("http://127.0.0.1:5174", ["http://127.0.0.1:5173"], False),
        ("https://blog.example.com", ["https://*.example.com"], True),
        ("https://example.com", ["https://*.example.com"], True),
        ("https://badexample.com", ["https://*.example.com"], False),
        ("http://blog.example.com", ["https://*.example.com"], False),
        ("https://anything.test", ["*"], True),
        ("null", ["*"], False),
        ("file://", ["*"], False),
        ("https://shop.example.com", [], False),
        ("https://shop.example.com", ["# a comment", "", "https://shop.example.com"], True),
        ("https://shop.example.com", ["not an origin", "https://shop.example.com"], True),
    ],
)
def test_it_matches_origins_against_the_allowed_list(origin, allowed, expected):
    assert origin_is_allowed(origin=origin, host="bot.example.net", allowed=allowed) is expected


def test_the_servers_own_host_is_always_allowed():
    assert origin_is_allowed(origin="http://127.0.0.1:8123", host="127.0.0.1:8123", allowed=[])
    assert origin_is_allowed(origin="https://localhost", host="localhost", allowed=[])


def test_another_port_on_the_servers_host_is_not_its_own():
    assert not origin_is_allowed(origin="http://127.0.0.1:9999", host="127.0.0.1:8123", allowed=[])


@override_settings(ALLOWED_HOSTS=["bot.example.net"])
def test_a_host_header_django_does_not_serve_does_not_count_as_own_host():
    assert not origin_is_allowed(origin="http://attacker.test", host="attacker.test", allowed=[])
    assert origin_is_allowed(origin="https://bot.example.net", host="bot.example.net", allowed=[])


def test_unusable_lines_are_reported_with_a_fix():
    errors = origin_patterns_errors(
        text="https://ok.example.com\nwww.example.com\nhttps://example.com/shop\n\n# note\nhttps://*.fine.example"
    )

    assert len(errors) == 2
    assert "no scheme" in errors[0] and "https://www.example.com" in errors[0]
    assert "'https://example.com/shop' is not an origin" in errors[1]


@override_settings(WIDGET_ALLOWED_ORIGINS=["https://ok.example.com", "ftp://files.example.com"])
def test_a_bad_widget_allowed_origins_setting_is_a_system_check_error():
    messages = check_widget_allowed_origins(None)

    assert [message.id for message in messages] == ["chatbot.E101"]
    assert "ftp://files.example.com" in messages[0].msg


@override_settings(WIDGET_ALLOWED_ORIGINS=["https://ok.example.com", "https://*.example.org"])
def test_a_good_widget_allowed_origins_setting_passes_the_check():
    assert check_widget_allowed_origins(None) == []
