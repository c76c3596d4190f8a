from django.contrib import admin

from conversations.models import Conversation, Message


class MessageInline(admin.TabularInline):
    model = Message
    fields = ["created_at", "role", "text"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ["id", "created_at", "last_message_at", "origin"]
    date_hierarchy = "created_at"
    search_fields = ["id", "messages__text"]
    readonly_fields = ["id", "origin", "user_agent", "created_at", "last_message_at"]
    inlines = [MessageInline]
    list_per_page = 50
    show_full_result_count = False
