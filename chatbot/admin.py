from django.contrib import admin
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse

from chatbot.models import BotSettings
from chatbot.selectors import bot_settings_row_get, question_groups_coverage
from conversations.admin import UnansweredQuestionAdmin
from conversations.grouping import QuestionGroup
from conversations.models import UnansweredQuestion


@admin.register(BotSettings)
class BotSettingsAdmin(admin.ModelAdmin):
    """One record: the list page opens it, and it can be neither added twice nor deleted."""

    LANGUAGE_RULE = (
        "The texts visitors see are shown in the visitor's language (English, French, German, Spanish or "
        "Dutch) while they keep their default wording. Once you change one, it is shown exactly as you "
        "wrote it, to every visitor."
    )
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
        ("Widget", {"fields": ["color_primary", "color_background", "color_text", "allowed_origins"]}),
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

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context=None):
        row = bot_settings_row_get()
        return HttpResponseRedirect(reverse("admin:chatbot_botsettings_change", args=[row.pk]))


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
