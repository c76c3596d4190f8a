from typing import ClassVar

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_noop

from conversations.models import Conversation
from core.origins import origin_patterns_errors
from knowledge.answerability import DEFAULT_ANSWER_THRESHOLD, DEFAULT_SIMILARITY_FLOOR

hex_colour = RegexValidator(r"^#[0-9a-fA-F]{6}$", "Use a colour like #0f766e.")
iso_weekdays = RegexValidator(r"^[1-7]*$", "Use the digits 1 (Monday) to 7 (Sunday), e.g. 12345.")


def validate_timezone(value: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if not value:
        return
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"Unknown time zone {value!r}; use a name like Europe/Paris.") from None


DEFAULT_SYSTEM_PROMPT = (
    "You are the website assistant of our company. Answer visitors' questions about our "
    "products, services and policies in a friendly, concise way (at most a few short paragraphs)."
)
# The visitor-facing defaults are marked for translation (locale/): a field still
# equal to its default is shown in the visitor's language (BotConfig.in_language).
DEFAULT_NAME = gettext_noop("Assistant")
DEFAULT_GREETING = gettext_noop("Hi! Ask me anything about our products, delivery, returns or warranty.")
DEFAULT_WIDGET_TITLE = gettext_noop("Chat with us")
DEFAULT_FALLBACK = gettext_noop(
    "I'm sorry, I couldn't find that in our knowledge base. If you leave your name and your "
    "email or phone number, a colleague will get back to you."
)
DEFAULT_CONTACT_PROMPT = gettext_noop(
    "Would you like a colleague to get in touch? Leave your name and your email or phone number "
    "and we will contact you."
)
DEFAULT_LEAD_THANKS = gettext_noop("Thank you! We have your contact details and a colleague will get back to you soon.")
DEFAULT_CONSENT = gettext_noop(
    "I agree that my contact details are stored so that the company can contact me about my request."
)


def validate_emails(value: str) -> None:
    """One email address per line (commas also separate)."""
    from django.core.validators import validate_email

    bad = [address for address in split_emails(value) if not _is_email(address, validate_email)]
    if bad:
        raise ValidationError(f"Not an email address: {', '.join(bad)}")


def _is_email(address: str, validate) -> bool:
    try:
        validate(address)
    except ValidationError:
        return False
    return True


def split_emails(value: str) -> list[str]:
    return [part.strip() for part in (value or "").replace(",", "\n").splitlines() if part.strip()]


def validate_origins(value: str) -> None:
    """One origin per line, as core.origins understands them (https://www.example.com, https://*.example.com, *)."""
    errors = origin_patterns_errors(text=value)
    if errors:
        raise ValidationError(errors)


class BotSettings(models.Model):
    """
    The bot's editable settings: one record, edited in admin.

    Read through `chatbot.selectors.bot_settings_get()`, which caches it for a
    few seconds per process; `save()` makes this process's copy stale at once.
    """

    SINGLETON_PK = 1
    # Saves of the row by this process: chatbot.selectors' memo of the settings
    # holds only while this count is the one it was read at, so a save is seen at once.
    saves_in_process: ClassVar[int] = 0
    # Fields shown in the visitor's language while they keep their shipped default.
    TRANSLATED_DEFAULTS = {
        "name": DEFAULT_NAME,
        "greeting": DEFAULT_GREETING,
        "widget_title": DEFAULT_WIDGET_TITLE,
        "fallback_message": DEFAULT_FALLBACK,
        "contact_prompt": DEFAULT_CONTACT_PROMPT,
        "lead_thanks_message": DEFAULT_LEAD_THANKS,
        "consent_text": DEFAULT_CONSENT,
    }

    name = models.CharField(max_length=100, default=DEFAULT_NAME)
    greeting = models.TextField(
        default=DEFAULT_GREETING,
        help_text="First message the widget shows.",
    )
    system_prompt = models.TextField(
        default=DEFAULT_SYSTEM_PROMPT,
        help_text="Instructions for the language model: tone, scope, company facts. Never shown to visitors.",
    )
    fallback_message = models.TextField(
        default=DEFAULT_FALLBACK,
        help_text="Sent when the knowledge base does not cover a question (no model is called).",
    )
    contact_prompt = models.TextField(
        default=DEFAULT_CONTACT_PROMPT,
        help_text="Added to an answer when the visitor asks for a person, a quote, a demo or a call back.",
    )
    lead_thanks_message = models.TextField(
        default=DEFAULT_LEAD_THANKS,
        help_text="Sent when a visitor leaves contact details and asks nothing the knowledge base covers.",
    )
    consent_text = models.TextField(
        default=DEFAULT_CONSENT,
        help_text="Shown next to the contact form's consent box and stored with each lead.",
    )
    answer_threshold = models.FloatField(
        default=DEFAULT_ANSWER_THRESHOLD,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text=(
            "How sure (0–1) the bot must be that the knowledge base answers a question before it answers; "
            "below, it sends the fallback message. It weighs how similar the best passages are to the question, "
            "how much they stand out, and how many of the question's words they hold. Raise it to refuse more."
        ),
    )
    confidence_threshold = models.FloatField(
        default=DEFAULT_SIMILARITY_FLOOR,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text=(
            "A floor: below this similarity (0–1) between the question and the best passage the bot never "
            "answers, whatever the other evidence."
        ),
    )
    widget_title = models.CharField(max_length=100, default=DEFAULT_WIDGET_TITLE)
    color_primary = models.CharField(max_length=7, default="#0f766e", validators=[hex_colour])
    color_background = models.CharField(max_length=7, default="#ffffff", validators=[hex_colour])
    color_text = models.CharField(max_length=7, default="#111827", validators=[hex_colour])
    allowed_origins = models.TextField(
        blank=True,
        validators=[validate_origins],
        help_text=(
            "Sites that may embed the widget, one origin per line: https://www.example.com, "
            "https://*.example.com for a domain and its subdomains, or * for any site."
        ),
    )
    notify_emails = models.TextField(
        "notification recipients",
        blank=True,
        validators=[validate_emails],
        help_text="Who is emailed about each new lead, one address per line. Empty: LEADS_NOTIFY_EMAILS.",
    )
    webhook_url = models.URLField(
        "webhook URL",
        max_length=2000,
        blank=True,
        help_text="Where each new lead is POSTed as signed JSON (the secret stays in LEADS_WEBHOOK_SECRET). "
        "Empty: LEADS_WEBHOOK_URL.",
    )
    site_url = models.URLField(
        "site URL",
        max_length=300,
        blank=True,
        help_text="Where staff reach this server, such as https://bot.example.com: notification emails link to "
        "the lead with it. Empty: SITE_URL.",
    )
    admin_site_title = models.CharField(
        "admin site title",
        max_length=100,
        blank=True,
        help_text="Shown at the top of every admin page. Empty: “Website assistant”.",
    )
    # Office hours for the live handoff (chatbot.handoff): outside them, a visitor who asks for
    # a person gets the contact offer even when a staff member is online.
    office_days = models.CharField(
        max_length=7,
        default="1234567",
        blank=True,
        validators=[iso_weekdays],
        help_text="Days staff take live chats: digits 1 (Monday) to 7 (Sunday), e.g. 12345 for weekdays.",
    )
    office_opens = models.TimeField(
        null=True, blank=True, help_text="Live chats from this time (empty with closes: all day)."
    )
    office_closes = models.TimeField(
        null=True, blank=True, help_text="Live chats until this time; earlier than opens means past midnight."
    )
    office_timezone = models.CharField(
        max_length=64,
        blank=True,
        validators=[validate_timezone],
        help_text="Time zone of the office hours, e.g. Europe/Paris (empty: the server's TIME_ZONE).",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "bot settings"
        verbose_name_plural = "bot settings"

    def __str__(self) -> str:
        return "Bot settings"

    def save(self, *args, **kwargs) -> None:
        self.pk = self.SINGLETON_PK
        super().save(*args, **kwargs)
        BotSettings.saves_in_process += 1


class StaffInbox(Conversation):
    """
    The live staff inbox in admin (chatbot.handoff): not a table of its own, a
    page over conversations, shown to staff with `conversations.handle_conversation`.
    """

    class Meta:
        proxy = True
        default_permissions = ()
        verbose_name = "live inbox"
        verbose_name_plural = "live inbox"
