from django.contrib import admin

from knowledge.models import FAQ, Chunk, Document


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "identifier", "is_active", "status", "chunk_count", "indexed_at"]
    list_filter = ["kind", "status", "is_active"]
    search_fields = ["title", "identifier", "url"]
    readonly_fields = ["status", "status_reason", "chunk_count", "indexed_at", "created_at", "updated_at"]


@admin.register(FAQ)
class FAQAdmin(admin.ModelAdmin):
    list_display = ["question", "is_active", "status", "indexed_at", "updated_at"]
    list_filter = ["status", "is_active"]
    search_fields = ["question", "answer"]
    readonly_fields = ["status", "status_reason", "indexed_at", "created_at", "updated_at"]


@admin.register(Chunk)
class ChunkAdmin(admin.ModelAdmin):
    list_display = ["__str__", "document", "faq", "page", "token_count"]
    list_select_related = ["document", "faq"]
    search_fields = ["text", "heading_path"]
    list_per_page = 50
    show_full_result_count = False
