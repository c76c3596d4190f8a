"""BotConfig.office_open: days, opening times, past midnight, time zone."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, time

from chatbot.models import BotSettings
from chatbot.selectors import BotConfig

# 2026-12-07 is a Monday.
MONDAY_NOON_UTC = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def hours(**fields) -> BotConfig:
    return dataclasses.replace(BotConfig.from_model(BotSettings()), **fields)


def test_no_hours_set_means_all_day_on_the_listed_days():
    assert hours().office_open(MONDAY_NOON_UTC)
    assert not hours(office_days="234567").office_open(MONDAY_NOON_UTC)


def test_it_is_open_between_opening_and_closing_time():
    weekdays = hours(office_days="12345", office_opens=time(9), office_closes=time(17), office_timezone="UTC")
    assert weekdays.office_open(MONDAY_NOON_UTC)
    assert not weekdays.office_open(MONDAY_NOON_UTC.replace(hour=17))
    assert not weekdays.office_open(MONDAY_NOON_UTC.replace(hour=8, minute=59))


def test_hours_past_midnight_count_for_the_day_they_opened():
    nights = hours(office_days="1", office_opens=time(22), office_closes=time(2), office_timezone="UTC")
    assert nights.office_open(MONDAY_NOON_UTC.replace(hour=23))
    assert nights.office_open(datetime(2026, 12, 8, 1, 0, tzinfo=UTC))  # Tuesday 01:00, opened Monday
    assert not nights.office_open(MONDAY_NOON_UTC.replace(hour=1))  # Monday 01:00: opened Sunday, not listed


def test_hours_are_read_in_the_office_time_zone():
    tokyo = hours(office_opens=time(9), office_closes=time(17), office_timezone="Asia/Tokyo")
    assert not tokyo.office_open(MONDAY_NOON_UTC)  # 21:00 in Tokyo
    assert tokyo.office_open(MONDAY_NOON_UTC.replace(hour=1))  # 10:00 in Tokyo
