from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator

from conversations.grouping import QuestionGroup
from conversations.models import Conversation, Message, UnansweredQuestion
from conversations.selectors import conversations_with_flags, unanswered_question_groups
from conversations.services import unanswered_questions_mark_handled

GROUPS_SHOWN = 100

# A Conversation row of the change list, annotated by `ConversationAdmin.get_queryset` with
# first_question_text, messages_total, has_lead, has_unanswered and has_negative_feedback.
ListedConversation = Any


class _ExistsFilter(admin.SimpleListFilter):
    """Yes/No on one of the flags `conversations_with_flags` annotates."""

    flag = ""

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(**{self.flag: True})
        if self.value() == "no":
            return queryset.filter(**{self.flag: False})
        return queryset


class HasLeadFilter(_ExistsFilter):
    title = "has a lead"
    parameter_name = "has_lead"
    flag = "has_lead"


class UnansweredFilter(_ExistsFilter):
    title = "unanswered question"
    parameter_name = "unanswered"
    flag = "has_unanswered"


class NegativeFeedbackFilter(_ExistsFilter):
    title = "negative feedback"
    parameter_name = "negative_feedback"
    flag = "has_negative_feedback"


class MessageInline(admin.TabularInline):
    """The transcript: every message in order, read-only."""

    model = Message
    fields = readonly_fields = ("created_at", "role", "message", "details")
    extra = 0
    can_delete = False
    ordering = ["created_at", "id"]
    verbose_name = "message"
    verbose_name_plural = "transcript"

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author")

    @admin.display(description="message")
    def message(self, obj: Message) -> str:
        sources = format_html_join(
            "",
            '<li>[{}] <a href="{}" target="_blank" rel="noopener">{}</a></li>',
            ((s.get("n"), s.get("url") or "#", s.get("title")) for s in obj.sources or []),
        )
        if sources:
            return format_html(
                '<div style="white-space:pre-wrap;max-width:60em">{}</div><ul>{}</ul>', obj.text, sources
            )
        return format_html('<div style="white-space:pre-wrap;max-width:60em">{}</div>', obj.text)

    @admin.display(description="details")
    def details(self, obj: Message) -> str:
        if obj.role == Message.Role.VISITOR:
            state = {True: "answered", False: "not answered", None: ""}[obj.answered]
            return " · ".join(part for part in (state, f"language {obj.language}" if obj.language else "") if part)
        parts = []
        if obj.role == Message.Role.AGENT:
            # A staff member's message (live handoff): who wrote it.
            author = obj.author
            parts.append(f"by {author.get_full_name() or author.get_username()}" if author else "by a deleted user")
        if obj.answered is False:
            parts.append("not answered")
        if obj.confidence is not None:
            parts.append(f"confidence {obj.confidence:.2f}")
        if obj.provider:
            parts.append(f"{obj.provider} {obj.model}".strip())
        if obj.prompt_tokens is not None or obj.completion_tokens is not None:
            parts.append(f"tokens {obj.prompt_tokens or 0}+{obj.completion_tokens or 0}")
        if obj.time_to_first_token_ms is not None:
            parts.append(f"first token {obj.time_to_first_token_ms} ms")
        if obj.feedback:
            parts.append("👍" if obj.feedback == 1 else "👎")
        if obj.error:
            parts.append(f"error: {obj.error}")
        return " · ".join(parts)


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = [
        "short_id",
        "first_question",
        "message_count",
        "has_lead",
        "has_unanswered",
        "has_negative_feedback",
        "channel",
        "created_at",
        "last_message_at",
    ]
    list_filter = [HasLeadFilter, UnansweredFilter, NegativeFeedbackFilter, "channel", "created_at"]
    date_hierarchy = "created_at"
    search_fields = ["=id", "messages__text"]
    readonly_fields = ["id", "channel", "origin", "user_agent", "created_at", "last_message_at", "leads_list"]
    inlines = [MessageInline]
    list_per_page = 50
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Conversation]:
        first_question = (
            Message.objects.filter(conversation_id=OuterRef("pk"), role=Message.Role.VISITOR)
            .order_by("created_at", "id")
            .values("text")[:1]
        )
        message_count = (
            Message.objects.filter(conversation_id=OuterRef("pk"))
            .order_by()
            .values("conversation_id")
            .annotate(n=Count("id"))
            .values("n")
        )
        return conversations_with_flags().annotate(
            first_question_text=Subquery(first_question),
            messages_total=Coalesce(Subquery(message_count), 0),
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="conversation", ordering="id")
    def short_id(self, obj: Conversation) -> str:
        return f"{obj.pk[:10]}…"

    @admin.display(description="first question")
    def first_question(self, obj: ListedConversation) -> str:
        return Truncator(obj.first_question_text or "").chars(80)

    @admin.display(description="messages", ordering="messages_total")
    def message_count(self, obj: ListedConversation) -> int:
        return obj.messages_total

    @admin.display(description="lead", boolean=True, ordering="has_lead")
    def has_lead(self, obj: ListedConversation) -> bool:
        return obj.has_lead

    @admin.display(description="unanswered", boolean=True, ordering="has_unanswered")
    def has_unanswered(self, obj: ListedConversation) -> bool:
        return obj.has_unanswered

    @admin.display(description="👎", boolean=True, ordering="has_negative_feedback")
    def has_negative_feedback(self, obj: ListedConversation) -> bool:
        return obj.has_negative_feedback

    @admin.display(description="leads")
    def leads_list(self, obj: Conversation) -> str:
        leads = list(obj.leads.all()[:20])
        if not leads:
            return "—"
        return format_html_join(
            ", ",
            '<a href="{}">{}</a>',
            ((reverse("admin:leads_lead_change", args=[lead.pk]), str(lead)) for lead in leads),
        )


@admin.register(UnansweredQuestion)
class UnansweredQuestionAdmin(admin.ModelAdmin):
    """
    Not a list of rows: a page of groups of similar unanswered questions, most
    frequent first, each with "Draft FAQ" (the FAQ form, prefilled) and
    "Dismiss". A group the knowledge base now covers (a new FAQ or document
    answers it above the bot's threshold) says so.
    """

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            return self._dismiss(request)
        groups = unanswered_question_groups()
        shown = groups[:GROUPS_SHOWN]
        coverage = self.groups_coverage(shown)
        rows = [
            {
                "group": group,
                "draft_faq_url": _draft_faq_url(group.representative),
                "ids": ",".join(str(pk) for pk in group.message_ids),
                "covered": coverage.get(index),
                "conversation_url": reverse(
                    "admin:conversations_conversation_change", args=[group.questions[0].conversation_id]
                ),
            }
            for index, group in enumerate(shown)
        ]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Unanswered questions",
            "rows": rows,
            "total_groups": len(groups),
            "total_questions": sum(g.count for g in groups),
            "can_dismiss": request.user.has_perm("conversations.change_unansweredquestion"),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/conversations/unanswered_questions.html", context)

    def groups_coverage(self, groups: list[QuestionGroup]) -> dict[int, dict]:
        """
        Which groups the knowledge base now covers ({index: {"title", "confidence"}}).
        None here: the answer thresholds are the bot's settings, a layer above, so
        chatbot.admin registers a subclass that fills this in.
        """
        return {}

    def _dismiss(self, request: HttpRequest) -> HttpResponse:
        if not request.user.has_perm("conversations.change_unansweredquestion"):
            messages.error(request, "You may not dismiss questions.")
            return HttpResponseRedirect(request.path)
        ids = [int(value) for value in request.POST.get("ids", "").split(",") if value.strip().isdigit()]
        count = unanswered_questions_mark_handled(message_ids=ids)
        messages.success(request, f"Dismissed {count} question{'s' if count != 1 else ''}.")
        return HttpResponseRedirect(request.path)


def _draft_faq_url(question: str) -> str:
    try:
        add_url = reverse("admin:knowledge_faq_add")
    except NoReverseMatch:
        return ""
    return f"{add_url}?{urlencode({'question': question[:500]})}"
