"""FETCH_ALLOW_PRIVATE_ADDRESSES and FETCH_ALLOWED_NETWORKS are read once and validated."""

import pytest

import chatbot.tests.test_settings_from_environment as settings_loader

PRINT = (
    "import json, django; from django.conf import settings; django.setup(); print(json.dumps({"
    '"private": settings.FETCH_ALLOW_PRIVATE_ADDRESSES, "networks": settings.FETCH_ALLOWED_NETWORKS}))'
)


def fetch_settings(tmp_path, monkeypatch, **env) -> dict:
    """The settings module in a fresh interpreter (`load_settings`), printing these two settings."""
    monkeypatch.setattr(settings_loader, "PRINT_SETTINGS", PRINT)
    return settings_loader.load_settings(tmp_path, **env)


def test_private_addresses_are_off_by_default(tmp_path, monkeypatch):
    assert fetch_settings(tmp_path, monkeypatch) == {"private": False, "networks": []}


def test_networks_are_normalised(tmp_path, monkeypatch):
    loaded = fetch_settings(
        tmp_path,
        monkeypatch,
        FETCH_ALLOW_PRIVATE_ADDRESSES="1",
        FETCH_ALLOWED_NETWORKS="10.20.3.4/16, 192.168.7.7,fd00:1::/64",
    )

    assert loaded == {"private": True, "networks": ["10.20.0.0/16", "192.168.7.7/32", "fd00:1::/64"]}


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("FETCH_ALLOWED_NETWORKS", "10.0.0.0/33", "FETCH_ALLOWED_NETWORKS must list IP networks"),
        ("FETCH_ALLOWED_NETWORKS", "intranet.example.com", "FETCH_ALLOWED_NETWORKS must list IP networks"),
        ("FETCH_ALLOW_PRIVATE_ADDRESSES", "maybe", "FETCH_ALLOW_PRIVATE_ADDRESSES must be a boolean"),
    ],
)
def test_a_bad_value_stops_the_start_with_a_clear_error(tmp_path, monkeypatch, name, value, message):
    with pytest.raises(AssertionError, match=message):
        fetch_settings(tmp_path, monkeypatch, **{name: value})
