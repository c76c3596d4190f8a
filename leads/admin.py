"""
The sales desk: leads with their transcripts, bulk actions and the Sheets sync
state; and the privacy tools: export everything about a person as JSON, and
erase a person (both audited in admin history).
"""

from __future__ import annotations

import csv
import json
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from leads import selectors, services
from leads.models import Lead, LeadContactAttempt, LeadNotification, SyncState
from leads.sheets import sheets_mirror_enabled

NOT_CONFIGURED = "not configured"
NOT_CONFIGURED_HINT = (
    "No Google Sheets credentials: set SHEETS_CREDENTIALS_FILE (or SHEETS_CREDENTIALS_JSON) "
    "and SHEETS_SPREADSHEET_ID, and the lead is pushed by the next `manage.py sync_leads`."
)

CSV_COLUMNS = [
    ("id", "ID"),
    ("created_at", "Created"),
    ("name", "Name"),
    ("email", "Email"),
    ("phone", "Phone"),
    ("company", "Company"),
    ("interest", "Interest"),
    ("source", "Source"),
    ("status", "Status"),
    ("owner", "Owner"),
    ("consent", "Consent"),
    ("notes", "Notes"),
]


def _csv_safe(value: str) -> str:
    """Spreadsheet apps run cells starting with = + - @ as formulas; quote them."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


class NotificationInline(admin.TabularInline):
    model = LeadNotification
    fields = readonly_fields = ("channel", "about", "state", "attempts", "last_error", "next_attempt_at", "sent_at")
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="About")
    def about(self, obj: LeadNotification) -> str:
        return "unverified contact attempt" if obj.contact_attempt_id else "new lead"


class SheetStateFilter(admin.SimpleListFilter):
    """The sheet state as sales should read it: "not configured" while no credentials are set."""

    title = "sheet"
    parameter_name = "sheet"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        if not sheets_mirror_enabled():
            return [(NOT_CONFIGURED, "Not configured"), (SyncState.SYNCED, "Synced")]
        return list(SyncState.choices)

    def queryset(self, request: HttpRequest, queryset: QuerySet[Lead]) -> QuerySet[Lead]:
        value = self.value()
        if value == NOT_CONFIGURED:
            return queryset.exclude(sync_state=SyncState.SYNCED)
        if value in SyncState.values:
            return queryset.filter(sync_state=value)
        return queryset


class ContactAttemptFilter(admin.SimpleListFilter):
    title = "unverified contact attempts"
    parameter_name = "attempts"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Has some"), ("no", "None")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Lead]) -> QuerySet[Lead]:
        attempts = Exists(LeadContactAttempt.objects.filter(lead=OuterRef("pk")))
        if self.value() == "yes":
            return queryset.filter(attempts)
        if self.value() == "no":
            return queryset.filter(~attempts)
        return queryset


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "email",
        "phone",
        "company",
        "status",
        "owner",
        "source",
        "sync_badge",
        "created_at",
        "last_activity_display",
    ]
    list_filter = [
        "status",
        "source",
        ("owner", admin.RelatedOnlyFieldListFilter),
        SheetStateFilter,
        "consent",
        ContactAttemptFilter,
        "created_at",
    ]
    list_select_related = ["owner"]
    search_fields = ["name", "email", "phone", "company", "interest", "notes"]
    date_hierarchy = "created_at"
    list_per_page = 50
    list_max_show_all = 200
    show_full_result_count = False
    actions = ["assign_to_me", "mark_contacted", "export_csv", "resync", "export_json", "erase_people"]
    inlines = [NotificationInline]
    change_form_template = "admin/leads/lead/change_form.html"
    readonly_fields = [
        "source",
        "consent",
        "consent_text",
        "consent_at",
        "created_at",
        "updated_at",
        "transcripts",
        "contact_attempts",
        "sheet_state",
        "synced_at",
        "sync_error",
        "sync_attempts",
        "sync_next_attempt_at",
        "sheet_row",
    ]
    fieldsets = [
        (None, {"fields": ["name", "email", "phone", "company", "interest"]}),
        ("Sales", {"fields": ["status", "owner", "notes"]}),
        ("Unverified contact attempts", {"fields": ["contact_attempts"]}),
        ("Conversations", {"fields": ["transcripts"]}),
        (
            "Origin and consent",
            {
                "fields": ["source", "consent", "consent_text", "consent_at", "created_at", "updated_at"],
                "classes": ["collapse"],
            },
        ),
        (
            "Google Sheets",
            {
                "fields": [
                    "sheet_state",
                    "synced_at",
                    "sync_error",
                    "sync_attempts",
                    "sync_next_attempt_at",
                    "sheet_row",
                ]
            },
        ),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Lead]:
        return selectors.leads_with_last_activity().select_related("owner")

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "owner":
            kwargs["queryset"] = db_field.related_model.objects.filter(is_staff=True, is_active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Lead, form: Any, change: bool) -> None:
        services.lead_save_from_admin(lead=obj, changed_fields=form.changed_data)

    def delete_model(self, request: HttpRequest, obj: Lead) -> None:
        services.leads_delete(leads=[obj])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Lead]) -> None:
        services.leads_delete(leads=queryset)

    def get_urls(self) -> list[URLPattern]:
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/export/",
                self.admin_site.admin_view(self.export_view),
                name="{}_{}_export".format(*info),
            ),
            path(
                "<path:object_id>/erase/", self.admin_site.admin_view(self.erase_view), name="{}_{}_erase".format(*info)
            ),
            *super().get_urls(),
        ]

    @admin.display(description="Last activity", ordering="last_activity")
    def last_activity_display(self, obj: Lead) -> Any:
        return getattr(obj, "last_activity", None) or obj.updated_at

    @admin.display(description="Sheet", ordering="sync_state")
    def sync_badge(self, obj: Lead) -> SafeString:
        if obj.sync_state == SyncState.SYNCED:
            return format_html('<span title="{}">synced</span>', f"row {obj.sheet_row}" if obj.sheet_row else "")
        if not sheets_mirror_enabled():
            return format_html('<span title="{}">{}</span>', NOT_CONFIGURED_HINT, NOT_CONFIGURED)
        label = obj.get_sync_state_display().lower()
        if obj.sync_attempts:
            label = f"{label} ({obj.sync_attempts} attempts)"
        return format_html('<span title="{}" style="color:#b45309">{}</span>', obj.sync_error or "", label)

    @admin.display(description="Sheet state")
    def sheet_state(self, obj: Lead) -> str:
        if obj.sync_state != SyncState.SYNCED and not sheets_mirror_enabled():
            return f"Not configured. {NOT_CONFIGURED_HINT}"
        return obj.get_sync_state_display()

    @admin.display(description="Unverified contact attempts")
    def contact_attempts(self, obj: Lead) -> SafeString:
        """Details that named this lead from outside its conversations: nothing on the lead was changed."""
        attempts = list(obj.contact_attempts.select_related("conversation")[:50]) if obj.pk else []
        if not attempts:
            return format_html("<p>{}</p>", "None.")
        rows = format_html_join(
            "",
            '<tr><td style="white-space:nowrap">{}</td><td>{}</td><td>{}</td>'
            '<td style="white-space:pre-wrap">{}</td><td>{}</td><td>{}</td></tr>',
            (
                (
                    timezone.localtime(a.created_at).strftime("%Y-%m-%d %H:%M"),
                    a.get_source_display(),
                    "; ".join(v for v in (a.name, a.email, a.phone, a.company) if v),
                    a.message,
                    "yes" if a.consent else "no",
                    _conversation_link(a.conversation),
                )
                for a in attempts
            ),
        )
        return format_html(
            "<p>{}</p><table><tr><th>When</th><th>Source</th><th>Details given</th><th>Message</th>"
            "<th>Consent</th><th>Conversation</th></tr>{}</table>",
            "Someone gave these details from outside this lead's conversations; nothing on the lead was "
            "changed. Check them before acting on them.",
            rows,
        )

    @admin.display(description="Transcripts")
    def transcripts(self, obj: Lead) -> SafeString:
        if obj.pk is None:
            return format_html("<p>{}</p>", "No conversation yet.")
        parts = []
        for conversation, chat in selectors.lead_transcripts(lead=obj):
            url = reverse("admin:conversations_conversation_change", args=[conversation.pk])
            rows = format_html_join(
                "",
                '<tr><td style="white-space:nowrap">{}</td><th>{}</th><td style="white-space:pre-wrap">{}</td></tr>',
                (
                    (timezone.localtime(m.created_at).strftime("%Y-%m-%d %H:%M"), m.get_role_display(), m.text)
                    for m in chat
                ),
            )
            parts.append(
                format_html(
                    '<div class="lead-transcript"><p><a href="{}">{}</a></p><table>{}</table></div>',
                    url,
                    str(conversation),
                    rows or format_html("<tr><td>{}</td></tr>", "No messages."),
                )
            )
        if not parts:
            return format_html("<p>{}</p>", "No conversation linked (the lead came from a form or the API).")
        return format_html_join("", "{}", ((part,) for part in parts))

    @admin.action(description="Assign to me", permissions=["change"])
    def assign_to_me(self, request: HttpRequest, queryset: QuerySet[Lead]) -> None:
        count = services.leads_assign(leads=queryset.select_related(None).only("pk"), owner=_staff_user(request))
        self.message_user(request, f"{count} lead(s) assigned to you.", messages.SUCCESS)

    @admin.action(description="Mark contacted", permissions=["change"])
    def mark_contacted(self, request: HttpRequest, queryset: QuerySet[Lead]) -> None:
        count = services.leads_mark_contacted(leads=queryset.select_related(None).only("pk"))
        self.message_user(request, f"{count} lead(s) marked contacted.", messages.SUCCESS)

    @admin.action(description="Resync to Google Sheets", permissions=["change"])
    def resync(self, request: HttpRequest, queryset: QuerySet[Lead]) -> None:
        count = services.leads_resync(leads=queryset.select_related(None).only("pk"))
        if sheets_mirror_enabled():
            self.message_user(request, f"{count} lead(s) queued for the Google Sheet.", messages.SUCCESS)
        else:
            self.message_user(
                request,
                f"{count} lead(s) marked pending, but the Google Sheets mirror is off (no SHEETS_* credentials).",
                messages.WARNING,
            )

    @admin.action(description="Export selected as CSV", permissions=["view"])
    def export_csv(self, request: HttpRequest, queryset: QuerySet[Lead]) -> HttpResponse:
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="leads-{timezone.now():%Y%m%d-%H%M}.csv"'
        writer = csv.writer(response)
        writer.writerow([label for _, label in CSV_COLUMNS])
        for lead in queryset.select_related("owner").order_by("created_at", "id")[:10_000]:
            owner = (lead.owner.get_full_name() or lead.owner.get_username()) if lead.owner else ""
            values = {
                "id": str(lead.pk),
                "created_at": timezone.localtime(lead.created_at).isoformat(timespec="seconds"),
                "name": lead.name,
                "email": lead.email,
                "phone": lead.phone,
                "company": lead.company,
                "interest": lead.interest,
                "source": lead.get_source_display(),
                "status": lead.get_status_display(),
                "owner": owner,
                "consent": "yes" if lead.consent else "no",
                "notes": lead.notes,
            }
            # Phones are validated E.164, whose leading "+" is not a formula.
            writer.writerow(
                [
                    value if key == "phone" else _csv_safe(value)
                    for key, value in ((key, values[key]) for key, _ in CSV_COLUMNS)
                ]
            )
        return response

    # --- privacy ---------------------------------------------------------------------------

    @admin.action(description="Export everything held about the selected people (JSON)", permissions=["view"])
    def export_json(self, request: HttpRequest, queryset: QuerySet[Lead]) -> HttpResponse:
        leads = list(queryset.select_related("owner").order_by("pk")[:500])
        return self._export_response(request, leads, filename=f"people-{timezone.now():%Y%m%d-%H%M}.json", single=False)

    def export_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        lead = get_object_or_404(Lead.objects.select_related("owner"), pk=object_id)
        if not self.has_view_permission(request, lead):
            raise PermissionDenied
        return self._export_response(request, [lead], filename=f"lead-{lead.pk}.json", single=True)

    def _export_response(self, request: HttpRequest, leads: list[Lead], *, filename: str, single: bool) -> HttpResponse:
        """One person's data (the lead's page), or {"people": [...]} (the action); each export in history."""
        people = [selectors.lead_export(lead=lead) for lead in leads]
        for lead in leads:
            self.log_change(request, lead, "Exported everything held about this person as JSON.")
        body = json.dumps(people[0] if single else {"people": people}, ensure_ascii=False, indent=2)
        response = HttpResponse(body, content_type="application/json; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    @admin.action(
        description="Erase the selected people (lead, conversations, notifications, sheet row)", permissions=["delete"]
    )
    def erase_people(self, request: HttpRequest, queryset: QuerySet[Lead]) -> HttpResponse | None:
        leads = list(queryset.order_by("pk")[:100])
        if request.POST.get("erase_confirmed") != "yes":
            return self._erase_confirmation(request, leads, selected=True)
        self._erase(request, leads)
        return None

    def erase_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        lead = get_object_or_404(Lead, pk=object_id)
        if not self.has_delete_permission(request, lead):
            raise PermissionDenied
        if request.method != "POST" or request.POST.get("erase_confirmed") != "yes":
            return self._erase_confirmation(request, [lead], selected=False)
        self._erase(request, [lead])
        return HttpResponseRedirect(reverse("admin:leads_lead_changelist"))

    def _erase(self, request: HttpRequest, leads: list[Lead]) -> None:
        for lead in leads:
            erasure = services.lead_erase(lead=lead, actor=_staff_user(request))
            self.message_user(request, erasure.describe(), messages.SUCCESS)

    def _erase_confirmation(self, request: HttpRequest, leads: list[Lead], *, selected: bool) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": "Erase people?",
            "opts": self.opts,
            "leads": leads,
            "selected": selected,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media,
        }
        return TemplateResponse(request, "admin/leads/lead/erase_confirmation.html", context)


def _staff_user(request: HttpRequest) -> AbstractBaseUser:
    """The logged-in staff member of an admin view (the admin lets nobody else in)."""
    assert isinstance(request.user, AbstractBaseUser)
    return request.user


def _conversation_link(conversation: Any) -> SafeString | str:
    if conversation is None:
        return "-"
    url = reverse("admin:conversations_conversation_change", args=[conversation.pk])
    return format_html('<a href="{}">{}</a>', url, str(conversation))
