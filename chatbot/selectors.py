"""Reads of the bot's settings, cached per process."""

from __future__ import annotations

import dataclasses
import functools
import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from datetime import time as clock_time
from typing import Any, TypedDict
from zoneinfo import ZoneInfo

from chatbot.models import BotSettings, split_emails
from conversations.grouping import QuestionGroup
from core.language import gettext_in, language_default, language_supported
from knowledge.answerability import answer_decide, answer_search

BOT_SETTINGS_TTL = 5.0
# As many results as the answer decision looks at (knowledge.answerability.DECISION_PASSAGES, and more).
COVERAGE_SEARCH_K = 8

logger = logging.getLogger(__name__)


class BotColors(TypedDict):
    primary: str
    background: str
    text: str


class PublicBotSettings(TypedDict):
    """What visitors may see: sent in the `conversation` frame and by GET /api/bot/."""

    name: str
    greeting: str
    title: str
    colors: BotColors
    consent_text: str


@dataclass(frozen=True)
class BotConfig:
    """An immutable snapshot of BotSettings, safe to share between requests."""

    name: str
    greeting: str
    system_prompt: str
    fallback_message: str
    contact_prompt: str
    lead_thanks_message: str
    consent_text: str
    confidence_threshold: float  # the similarity floor of the answer decision
    widget_title: str
    color_primary: str
    color_background: str
    color_text: str
    allowed_origins: str  # one origin per line, as edited in admin (see chatbot.origins)
    answer_threshold: float = 0.5  # see knowledge.answerability
    notify_emails: tuple[str, ...] = ()  # empty: LEADS_NOTIFY_EMAILS (leads.notify)
    webhook_url: str = ""  # empty: LEADS_WEBHOOK_URL
    site_url: str = ""  # empty: SITE_URL
    admin_site_title: str = ""
    # Office hours of the live handoff: ISO weekdays, opening and closing times, time zone ("" = TIME_ZONE).
    office_days: str = "1234567"
    office_opens: clock_time | None = None
    office_closes: clock_time | None = None
    office_timezone: str = ""

    @classmethod
    def from_model(cls, row: BotSettings) -> BotConfig:
        return cls(
            name=row.name,
            greeting=row.greeting,
            system_prompt=row.system_prompt,
            fallback_message=row.fallback_message,
            contact_prompt=row.contact_prompt,
            lead_thanks_message=row.lead_thanks_message,
            consent_text=row.consent_text,
            confidence_threshold=row.confidence_threshold,
            widget_title=row.widget_title,
            color_primary=row.color_primary,
            color_background=row.color_background,
            color_text=row.color_text,
            allowed_origins=row.allowed_origins,
            answer_threshold=row.answer_threshold,
            notify_emails=tuple(split_emails(row.notify_emails)),
            webhook_url=row.webhook_url,
            site_url=row.site_url.rstrip("/"),
            admin_site_title=row.admin_site_title,
            office_days=row.office_days,
            office_opens=row.office_opens,
            office_closes=row.office_closes,
            office_timezone=row.office_timezone,
        )

    def office_open(self, moment: datetime) -> bool:
        """
        Whether `moment` (aware) falls in the office hours: on one of the days,
        between opens and closes (closes before opens runs past midnight, and
        counts for the day it opened); no times set means all day.
        """
        from django.conf import settings

        local = moment.astimezone(ZoneInfo(self.office_timezone or settings.TIME_ZONE))
        day, now = local.isoweekday(), local.time()
        opens, closes = self.office_opens, self.office_closes
        if opens is None or closes is None or opens == closes:
            return str(day) in self.office_days
        if opens < closes:
            return str(day) in self.office_days and opens <= now < closes
        if now >= opens:
            return str(day) in self.office_days
        yesterday = 7 if day == 1 else day - 1
        return now < closes and str(yesterday) in self.office_days

    def in_language(self, language: str) -> BotConfig:
        """
        The settings as a visitor writing `language` sees them: the texts staff
        left at their shipped default, translated (into the site's default
        language when there is no catalogue for `language`); the texts staff
        wrote, as written.
        """
        return _bot_config_in_language(self, language_supported(language) or language_default())

    def public(self) -> PublicBotSettings:
        return {
            "name": self.name,
            "greeting": self.greeting,
            "title": self.widget_title,
            "colors": {"primary": self.color_primary, "background": self.color_background, "text": self.color_text},
            "consent_text": self.consent_text,
        }


@functools.lru_cache(maxsize=64)
def _bot_config_in_language(bot: BotConfig, language: str) -> BotConfig:
    changes: dict[str, Any] = {
        name: gettext_in(language, default)
        for name, default in BotSettings.TRANSLATED_DEFAULTS.items()
        if getattr(bot, name).strip() == default
    }
    return dataclasses.replace(bot, **changes) if changes else bot


class _ProcessMemo:
    """
    A few seconds of memory per process. Every visitor message reads the bot
    settings; this turns that into one query per process every few seconds.
    A save in this process makes its copy stale at once (a copy is kept with
    the count of saves it was read after, BotSettings.saves_in_process); other
    processes see the change within BOT_SETTINGS_TTL.
    """

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._lock = threading.Lock()
        self._value: BotConfig | None = None
        self._saves = 0
        self._expires = 0.0

    def get(self) -> BotConfig | None:
        with self._lock:
            fresh = self._saves == BotSettings.saves_in_process and time.monotonic() < self._expires
            if self._value is not None and fresh:
                return self._value
            return None

    def put(self, value: BotConfig, *, saves: int) -> None:
        """`saves`: BotSettings.saves_in_process once the row was read (reading may create it)."""
        with self._lock:
            self._value = value
            self._saves = saves
            self._expires = time.monotonic() + self.ttl

    def clear(self) -> None:
        with self._lock:
            self._value = None


_memo = _ProcessMemo(BOT_SETTINGS_TTL)


def bot_settings_cache_clear() -> None:
    _memo.clear()


def bot_settings_row_get() -> BotSettings:
    """The one BotSettings row, created with the defaults on first use."""
    row, _ = BotSettings.objects.get_or_create(pk=BotSettings.SINGLETON_PK)
    return row


def bot_settings_get() -> BotConfig:
    cached = _memo.get()
    if cached is not None:
        return cached
    config = BotConfig.from_model(bot_settings_row_get())
    _memo.put(config, saves=BotSettings.saves_in_process)
    return config


async def abot_settings_get() -> BotConfig:
    cached = _memo.get()
    if cached is not None:
        return cached
    row, _ = await BotSettings.objects.aget_or_create(pk=BotSettings.SINGLETON_PK)
    config = BotConfig.from_model(row)
    _memo.put(config, saves=BotSettings.saves_in_process)
    return config


ADMIN_SITE_TITLE = "Website assistant"


def admin_site_title() -> str:
    """The admin's title from the bot settings (a failure to read them must not break the admin)."""
    try:
        return bot_settings_get().admin_site_title or ADMIN_SITE_TITLE
    except Exception:  # noqa: BLE001 - e.g. before the first migration
        return ADMIN_SITE_TITLE


def lead_notification_targets():
    """The notification targets staff edited in the bot settings (leads.notify falls back to the environment)."""
    from leads.notify import NotificationTargets

    bot = bot_settings_get()
    return NotificationTargets(emails=bot.notify_emails, webhook_url=bot.webhook_url, site_url=bot.site_url)


def question_groups_coverage(groups: list[QuestionGroup]) -> dict[int, dict]:
    """
    For each group of unanswered questions (by index) that the bot would now
    answer, by the same decision and thresholds as the chat pipeline
    (`knowledge.answerability`, the bot settings), the passage that decided
    and the decision's score. A failure only loses this hint, never the list
    of questions.
    """
    try:
        bot = bot_settings_get()
        covered = {}
        for index, group in enumerate(groups):
            results = answer_search(query=group.representative, k=COVERAGE_SEARCH_K)
            decision = answer_decide(
                results=results, threshold=bot.answer_threshold, similarity_floor=bot.confidence_threshold
            )
            if decision.answer:
                covered[index] = {"title": decision.title, "confidence": decision.score}
        return covered
    except Exception:
        logger.exception("could not check which unanswered questions are covered now")
        return {}
