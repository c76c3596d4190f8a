from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse

from chatbot.models import BotSettings, split_emails, validate_emails
from chatbot.selectors import bot_settings_row_get, question_groups_coverage
from conversations.admin import UnansweredQuestionAdmin
from conversations.grouping import QuestionGroup
from conversations.models import UnansweredQuestion
from leads.notify import NotificationError
from leads.services import notification_test_email_send, notification_test_webhook_send

COLOUR_FIELDS = ("color_primary", "color_background", "color_text")


@admin.register(BotSettings)
class BotSettingsAdmin(admin.ModelAdmin):
    """One record: the list page opens it, and it can be neither added twice nor deleted."""

    LANGUAGE_RULE = (
        "The texts visitors see are shown in the visitor's language (English, French, German, Spanish or "
        "Dutch) while they keep their default wording. Once you change one, it is shown exactly as you "
        "wrote it, to every visitor."
    )
    change_form_template = "admin/chatbot/botsettings/change_form.html"
    fieldsets = [
        ("Identity", {"fields": ["name", "greeting", "widget_title"], "description": LANGUAGE_RULE}),
        (
            "Answers",
            {
                "fields": [
                    "system_prompt",
                    "answer_threshold",
                    "confidence_threshold",
                    "fallback_message",
                    "contact_prompt",
                    "lead_thanks_message",
                ],
                "description": LANGUAGE_RULE,
            },
        ),
        ("Contact form", {"fields": ["consent_text"], "description": LANGUAGE_RULE}),
        ("Widget", {"fields": [*COLOUR_FIELDS, "allowed_origins"], "classes": ["widget-colours"]}),
        (
            "Notifications",
            {
                "fields": ["notify_emails", "webhook_url", "site_url"],
                "description": "Who hears about new leads. “Send a test” uses what is in the form now, saved or not.",
                "classes": ["notifications"],
            },
        ),
        ("Admin", {"fields": ["admin_site_title"]}),
        (
            "Live handoff",
            {
                "fields": ["office_days", "office_opens", "office_closes", "office_timezone"],
                "description": "A visitor who asks for a person is told someone will join when a staff member "
                "with the permission has the live inbox open within these office hours; otherwise they get "
                "the contact offer.",
            },
        ),
    ]
    readonly_fields = ["updated_at"]

    class Media:
        css = {"all": ["chatbot/admin/bot_settings.css"]}
        js = ["chatbot/admin/bot_settings.js"]

    def formfield_for_dbfield(self, db_field: models.Field, request: HttpRequest, **kwargs) -> forms.Field | None:
        if db_field.name in COLOUR_FIELDS:
            kwargs["widget"] = forms.TextInput(attrs={"type": "color", "class": "colour-picker"})
        if isinstance(db_field, models.URLField):
            kwargs["assume_scheme"] = "https"
        if db_field.name == "notify_emails":
            kwargs["widget"] = forms.Textarea(attrs={"rows": 3, "cols": 60})
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context=None):
        row = bot_settings_row_get()
        return HttpResponseRedirect(reverse("admin:chatbot_botsettings_change", args=[row.pk]))

    def get_urls(self):
        extra = [
            path(
                "send-test-email/",
                self.admin_site.admin_view(self.send_test_email),
                name="chatbot_botsettings_send_test_email",
            ),
            path(
                "send-test-webhook/",
                self.admin_site.admin_view(self.send_test_webhook),
                name="chatbot_botsettings_send_test_webhook",
            ),
        ]
        return extra + super().get_urls()

    def _back(self) -> HttpResponse:
        return HttpResponseRedirect(reverse("admin:chatbot_botsettings_change", args=[BotSettings.SINGLETON_PK]))

    def _check(self, request: HttpRequest) -> None:
        if request.method != "POST" or not self.has_change_permission(request):
            raise PermissionDenied

    def send_test_email(self, request: HttpRequest) -> HttpResponse:
        self._check(request)
        typed = request.POST.get("notify_emails", "")
        site_url = request.POST.get("site_url", "").strip().rstrip("/")
        try:
            validate_emails(typed)
            if site_url:
                URLValidator(schemes=["http", "https"])(site_url)
            sent_to = notification_test_email_send(recipients=split_emails(typed), site_url=site_url)
        except ValidationError as error:
            messages.error(request, f"No test sent: {' '.join(error.messages)}")
        except NotificationError as error:
            messages.error(request, f"The test email was not sent: {error}")
        else:
            messages.success(request, f"Test email sent to {', '.join(sent_to)}.")
        return self._back()

    def send_test_webhook(self, request: HttpRequest) -> HttpResponse:
        self._check(request)
        typed = request.POST.get("webhook_url", "").strip()
        try:
            if typed:
                URLValidator(schemes=["http", "https"])(typed)
            url = notification_test_webhook_send(url=typed)
        except ValidationError as error:
            messages.error(request, f"No test sent: {' '.join(error.messages)}")
        except NotificationError as error:
            messages.error(request, f"The test webhook was not delivered: {error}")
        else:
            messages.success(request, f"Test webhook delivered to {url}.")
        return self._back()


class UnansweredQuestionCoverageAdmin(UnansweredQuestionAdmin):
    """
    The "Unanswered questions" page of conversations.admin, with the hint that
    a group is now covered: it takes the bot's answer thresholds, which
    conversations (a layer below chatbot) cannot read.
    """

    def groups_coverage(self, groups: list[QuestionGroup]) -> dict[int, dict]:
        return question_groups_coverage(groups)


admin.site.unregister(UnansweredQuestion)
admin.site.register(UnansweredQuestion, UnansweredQuestionCoverageAdmin)


from chatbot.handoff.admin import StaffInboxAdmin  # noqa: E402, F401 - registers the live inbox
