"""The live inbox in admin: one server-rendered page; staff-inbox.js talks to /ws/staff/."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse

from chatbot.handoff.selectors import staff_can_handle
from chatbot.models import StaffInbox


@admin.register(StaffInbox)
class StaffInboxAdmin(admin.ModelAdmin):
    """
    Linked from the admin index for staff with `conversations.handle_conversation`
    only; others see neither the link nor the page (403).
    """

    def has_module_permission(self, request: HttpRequest) -> bool:
        return staff_can_handle(request.user)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return staff_can_handle(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def get_urls(self):
        from django.urls import path

        return [path("", self.admin_site.admin_view(self.inbox_view), name="chatbot_staffinbox_changelist")]

    def inbox_view(self, request: HttpRequest):
        if not self.has_view_permission(request):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Live inbox",
            "transcripts_url": f"/{settings.ADMIN_URL}conversations/conversation/",
        }
        return TemplateResponse(request, "admin/chatbot/staff_inbox.html", context)
