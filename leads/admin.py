from django.contrib import admin

from leads.models import Lead


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
    list_display = ["__str__", "email", "phone", "company", "status", "owner", "source", "created_at"]
    list_filter = ["status", "source", "owner"]
    list_select_related = ["owner"]
    search_fields = ["name", "email", "phone", "company", "interest"]
    date_hierarchy = "created_at"
    readonly_fields = ["created_at", "updated_at"]
    list_per_page = 50
