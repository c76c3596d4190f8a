"""The sales desk: leads with their transcripts, bulk actions and the Sheets sync state."""

from __future__ import annotations

import csv
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from leads import selectors, services
from leads.models import Lead, LeadNotification, SyncState
from leads.sheets import sheets_mirror_enabled

CSV_COLUMNS = [
    ("id", "ID"), ("created_at", "Created"), ("name", "Name"), ("email", "Email"), ("phone", "Phone"),
    ("company", "Company"), ("interest", "Interest"), ("source", "Source"), ("status", "Status"),
    ("owner", "Owner"), ("consent", "Consent"), ("notes", "Notes"),
]


def _csv_safe(value: str) -> str:
    """Spreadsheet apps run cells starting with = + - @ as formulas; quote them."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


class NotificationInline(admin.TabularInline):
    model = LeadNotification
    fields = ["channel", "state", "attempts", "last_error", "next_attempt_at", "sent_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
    list_display = [
        "__str__", "email", "phone", "company", "status", "owner", "source", "sync_badge",
        "created_at", "last_activity_display",
    ]
    list_filter = [
        "status", "source", ("owner", admin.RelatedOnlyFieldListFilter), "sync_state", "consent", "created_at",
    ]
    list_select_related = ["owner"]
    search_fields = ["name", "email", "phone", "company", "interest", "notes"]
    date_hierarchy = "created_at"
    list_per_page = 50
    list_max_show_all = 200
    show_full_result_count = False
    actions = ["assign_to_me", "mark_contacted", "export_csv", "resync"]
    inlines = [NotificationInline]
    readonly_fields = [
        "source", "consent", "consent_text", "consent_at", "created_at", "updated_at", "transcripts",
        "sync_state", "synced_at", "sync_error", "sync_attempts", "sync_next_attempt_at", "sheet_row",
    ]
    fieldsets = [
        (None, {"fields": ["name", "email", "phone", "company", "interest"]}),
        ("Sales", {"fields": ["status", "owner", "notes"]}),
        ("Conversations", {"fields": ["transcripts"]}),
        ("Origin and consent", {"fields": ["source", "consent", "consent_text", "consent_at", "created_at",
                                           "updated_at"], "classes": ["collapse"]}),
        ("Google Sheets", {"fields": ["sync_state", "synced_at", "sync_error", "sync_attempts",
                                      "sync_next_attempt_at", "sheet_row"]}),
    ]
    def get_queryset(self, request: HttpRequest) -> QuerySet[Lead]:
        return selectors.leads_with_last_activity().select_related("owner")

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "owner":
            kwargs["queryset"] = db_field.related_model.objects.filter(is_staff=True, is_active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Lead, form: Any, change: bool) -> None:
        services.lead_save_from_admin(lead=obj, changed_fields=form.changed_data)

    @admin.display(description="Last activity", ordering="last_activity")
    def last_activity_display(self, obj: Lead) -> Any:
        return getattr(obj, "last_activity", None) or obj.updated_at

    @admin.display(description="Sheet", ordering="sync_state")
    def sync_badge(self, obj: Lead) -> SafeString:
        if obj.sync_state == SyncState.SYNCED:
            return format_html('<span title="{}">synced</span>', f"row {obj.sheet_row}" if obj.sheet_row else "")
        label = obj.get_sync_state_display().lower()
        if obj.sync_attempts:
            label = f"{label} ({obj.sync_attempts} attempts)"
        return format_html('<span title="{}" style="color:#b45309">{}</span>', obj.sync_error or "", label)

    @admin.display(description="Transcripts")
    def transcripts(self, obj: Lead) -> SafeString:
        if obj.pk is None:
            return format_html("<p>{}</p>", "No conversation yet.")
        parts = []
        for conversation, chat in selectors.lead_transcripts(lead=obj):
            url = reverse("admin:conversations_conversation_change", args=[conversation.pk])
            rows = format_html_join(
                "", '<tr><td style="white-space:nowrap">{}</td><th>{}</th><td style="white-space:pre-wrap">{}'
                    "</td></tr>",
                ((timezone.localtime(m.created_at).strftime("%Y-%m-%d %H:%M"), m.get_role_display(), m.text)
                 for m in chat),
            )
            parts.append(format_html(
                '<div class="lead-transcript"><p><a href="{}">{}</a></p><table>{}</table></div>',
                url, str(conversation), rows or format_html("<tr><td>{}</td></tr>", "No messages."),
            ))
        if not parts:
            return format_html("<p>{}</p>", "No conversation linked (the lead came from a form or the API).")
        return format_html_join("", "{}", ((part,) for part in parts))

    @admin.action(description="Assign to me", permissions=["change"])
    def assign_to_me(self, request: HttpRequest, queryset: QuerySet[Lead]) -> None:
        count = services.leads_assign(leads=queryset.select_related(None).only("pk"), owner=request.user)
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
            self.message_user(request, f"{count} lead(s) marked pending, but the Google Sheets mirror is off "
                                       "(no SHEETS_* credentials).", messages.WARNING)

    @admin.action(description="Export selected as CSV", permissions=["view"])
    def export_csv(self, request: HttpRequest, queryset: QuerySet[Lead]) -> HttpResponse:
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="leads-{timezone.now():%Y%m%d-%H%M}.csv"'
        writer = csv.writer(response)
        writer.writerow([label for _, label in CSV_COLUMNS])
        for lead in queryset.select_related("owner").order_by("created_at", "id")[:10_000]:
            owner = (lead.owner.get_full_name() or lead.owner.get_username()) if lead.owner else ""
            values = {
                "id": str(lead.pk), "created_at": timezone.localtime(lead.created_at).isoformat(timespec="seconds"),
                "name": lead.name, "email": lead.email, "phone": lead.phone, "company": lead.company,
                "interest": lead.interest, "source": lead.get_source_display(),
                "status": lead.get_status_display(), "owner": owner, "consent": "yes" if lead.consent else "no",
                "notes": lead.notes,
            }
            # Phones are validated E.164, whose leading "+" is not a formula.
            writer.writerow([value if key == "phone" else _csv_safe(value) for key, value in
                             ((key, values[key]) for key, _ in CSV_COLUMNS)])
        return response
