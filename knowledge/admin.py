"""
Admin for the people who keep the knowledge base: upload several files at once,
paste text, add web pages, edit FAQs inline or import them from CSV, see each
source's status (and why it failed), and try a question against the index.

Saving a source never waits for indexing: the post_save receiver enqueues it
on commit. Bulk actions call services, which enqueue explicitly.
"""

from __future__ import annotations

import time

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.text import Truncator, slugify

from core.durations import duration_format
from knowledge import selectors, services
from knowledge.extraction import ExtractionError
from knowledge.models import FAQ, Chunk, Document, IndexVersion, SourceStatus

STATUS_COLOURS = {
    SourceStatus.QUEUED: "#8a6d00",
    SourceStatus.INDEXING: "#1769aa",
    SourceStatus.READY: "#2e7d32",
    SourceStatus.FAILED: "#c62828",
}
MAX_UPLOAD_FILES = 50


def _status_badge(obj) -> str:
    colour = STATUS_COLOURS.get(obj.status, "#555")
    return format_html(
        '<strong style="color:{}" title="{}">{}</strong>', colour, obj.status_reason or "", obj.get_status_display()
    )


def _megabytes(limit: int) -> str:
    return f"{limit / 1_048_576:,.0f} MB"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, (list, tuple)):
            return [single(item, initial) for item in data]
        return [single(data, initial)] if data else []


class DocumentForm(forms.ModelForm):
    upload = forms.FileField(
        required=False, help_text="Uploaded files: PDF, DOCX, Markdown, HTML or plain text. Replaces the stored file."
    )
    url = forms.URLField(
        required=False, max_length=2000, assume_scheme="https", label="URL", help_text="Web pages: the page to fetch."
    )

    class Meta:
        model = Document
        fields = ["kind", "title", "identifier", "upload", "text", "url", "refetch_interval_hours", "is_active"]
        widgets = {"text": forms.Textarea(attrs={"rows": 14, "cols": 90})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["identifier"].required = False
        self.fields[
            "identifier"
        ].help_text = (
            "Left blank: the file name, the URL, or 'text:' and the title. Re-using an identifier replaces that source."
        )

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        upload = data.get("upload")
        if kind == Document.Kind.FILE and not upload and not (self.instance.pk and self.instance.size_bytes):
            self.add_error("upload", "Choose a file to upload.")
        if kind == Document.Kind.TEXT and not (data.get("text") or "").strip():
            self.add_error("text", "Paste the text to index.")
        if kind == Document.Kind.URL and not data.get("url"):
            self.add_error("url", "Enter the web page's URL.")
        if not data.get("identifier"):
            if kind == Document.Kind.FILE and upload:
                data["identifier"] = upload.name[:500]
            elif kind == Document.Kind.URL and data.get("url"):
                data["identifier"] = data["url"][:500]
            elif kind == Document.Kind.TEXT:
                data["identifier"] = f"text:{slugify(data.get('title') or '') or int(time.time())}"
            elif self.instance.pk:
                data["identifier"] = self.instance.identifier
            if data.get("identifier"):
                clash = Document.objects.filter(identifier=data["identifier"]).exclude(pk=self.instance.pk)
                if clash.exists():
                    self.add_error("identifier", f"A source named {data['identifier']!r} exists; edit that one.")
                self.instance.identifier = data["identifier"]
        return data


class UploadForm(forms.Form):
    # Django's form metaclass moves fields off the class, so this does not shadow `Form.files`.
    files = MultipleFileField(  # type: ignore[assignment]
        help_text="Choose one or more files. A file with the name of an existing source replaces it."
    )


class CsvImportForm(forms.Form):
    file = forms.FileField(help_text="A CSV file with a header row naming 'question' and 'answer' columns.")


class SearchForm(forms.Form):
    query = forms.CharField(max_length=500, widget=forms.TextInput(attrs={"size": 70, "autofocus": True}))
    k = forms.IntegerField(min_value=1, max_value=50, initial=8, label="Results")


class SourceActionsMixin(admin.ModelAdmin):
    source_argument: str  # the keyword of `services.sources_set_active` this admin's rows go to

    @admin.action(description="Activate selected (searchable again)")
    def activate(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = services.sources_set_active(**{self.source_argument: queryset}, active=True)
        self.message_user(request, f"{count} activated; the index updates in the background.")

    @admin.action(description="Deactivate selected (never searched)")
    def deactivate(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = services.sources_set_active(**{self.source_argument: queryset}, active=False)
        self.message_user(request, f"{count} deactivated; the index updates in the background.")


def _search_view(admin_site, request: HttpRequest) -> TemplateResponse:
    form = SearchForm(request.GET or None)
    context = {**admin_site.each_context(request), "title": "Try a search", "form": form, "results": None}
    if form.is_valid():
        started = time.perf_counter()
        results = selectors.search(query=form.cleaned_data["query"], k=form.cleaned_data["k"])
        context.update(
            results=results, elapsed_ms=(time.perf_counter() - started) * 1000, readiness=selectors.index_readiness()[1]
        )
    return TemplateResponse(request, "admin/knowledge/search.html", context)


@admin.register(Document)
class DocumentAdmin(SourceActionsMixin, admin.ModelAdmin):
    form = DocumentForm
    source_argument = "documents"
    list_display = [
        "__str__",
        "kind",
        "short_identifier",
        "is_active",
        "status_badge",
        "short_reason",
        "chunk_count",
        "indexed_at",
    ]
    list_filter = ["status", "kind", "is_active"]
    search_fields = ["title", "identifier", "url"]
    list_per_page = 50
    readonly_fields = [
        "status_badge",
        "status_reason",
        "chunk_count",
        "chunks_link",
        "indexed_at",
        "size_bytes",
        "content_type",
        "fetched_at",
        "next_fetch_at",
        "created_at",
        "updated_at",
    ]
    actions = ["reindex", "activate", "deactivate"]
    change_list_template = "admin/knowledge/document/change_list.html"

    def get_fieldsets(self, request, obj=None):
        source = (
            "Source",
            {"fields": ["kind", "title", "identifier", "upload", "text", "url", "refetch_interval_hours", "is_active"]},
        )
        if obj is None:
            return [source]
        return [source, ("Indexing", {"fields": self.readonly_fields})]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).defer("content")

    @admin.display(description="Identifier", ordering="identifier")
    def short_identifier(self, obj: Document) -> str:
        return Truncator(obj.identifier).chars(60)

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj: Document) -> str:
        return _status_badge(obj)

    @admin.display(description="Reason")
    def short_reason(self, obj: Document) -> str:
        return Truncator(obj.status_reason).chars(90) if obj.status == SourceStatus.FAILED else ""

    @admin.display(description="Chunks")
    def chunks_link(self, obj: Document) -> str:
        url = reverse("admin:knowledge_chunk_changelist") + f"?document__id__exact={obj.pk}"
        return format_html(
            '<a href="{}">{} chunks</a> &middot; <a href="{}">public page</a>',
            url,
            obj.chunk_count,
            reverse("knowledge:source", args=[obj.pk]),
        )

    def save_model(self, request: HttpRequest, obj: Document, form: DocumentForm, change: bool) -> None:
        upload = form.cleaned_data.get("upload")
        if upload is not None and obj.kind == Document.Kind.FILE:
            services.document_apply_upload(
                document=obj,
                name=upload.name,
                size=upload.size,
                data=upload.read() if upload.size <= settings.UPLOAD_MAX_BYTES else None,
            )
        super().save_model(request, obj, form, change)

    @admin.action(description="Re-index selected now")
    def reindex(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = services.sources_enqueue_reindex(document_ids=queryset.values_list("id", flat=True))
        self.message_user(request, f"{count} queued for indexing.")

    def get_urls(self):
        own = [
            path("upload/", self.admin_site.admin_view(self.upload_view), name="knowledge_document_upload"),
            path("search/", self.admin_site.admin_view(self.search_view), name="knowledge_search"),
        ]
        return own + super().get_urls()

    def upload_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_add_permission(request):
            return HttpResponseRedirect(reverse("admin:index"))
        form = UploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            files = form.cleaned_data["files"][:MAX_UPLOAD_FILES]
            too_big = []
            for upload in files:
                oversized = upload.size > settings.UPLOAD_MAX_BYTES
                services.document_save_file(
                    name=upload.name,
                    size=upload.size,
                    data=None if oversized else upload.read(),
                )
                if oversized:
                    too_big.append(upload.name)
            self.message_user(request, f"{len(files)} file(s) stored; they are indexed in the background.")
            if too_big:
                self.message_user(
                    request,
                    f"Over the {_megabytes(settings.UPLOAD_MAX_BYTES)} limit, marked failed: " + ", ".join(too_big),
                    level=messages.WARNING,
                )
            return HttpResponseRedirect(reverse("admin:knowledge_document_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": "Upload files",
            "form": form,
            "opts": self.model._meta,
            "limit": _megabytes(settings.UPLOAD_MAX_BYTES),
        }
        return TemplateResponse(request, "admin/knowledge/document/upload.html", context)

    def search_view(self, request: HttpRequest) -> TemplateResponse:
        return _search_view(self.admin_site, request)


class FAQChangeListForm(forms.ModelForm):
    class Meta:
        model = FAQ
        fields = ["question", "answer", "is_active"]
        widgets = {
            "question": forms.Textarea(attrs={"rows": 2, "cols": 28}),
            "answer": forms.Textarea(attrs={"rows": 3, "cols": 44}),
        }


@admin.register(FAQ)
class FAQAdmin(SourceActionsMixin, admin.ModelAdmin):
    source_argument = "faqs"
    list_display = ["edit", "question", "answer", "is_active", "status_badge", "indexed_at"]
    list_display_links = ["edit"]
    list_editable = ["question", "answer", "is_active"]
    list_filter = ["status", "is_active"]
    search_fields = ["question", "answer"]
    list_per_page = 50
    readonly_fields = ["status_badge", "status_reason", "indexed_at", "created_at", "updated_at"]
    fields = ["question", "answer", "is_active", *readonly_fields]
    actions = ["reindex", "activate", "deactivate"]
    change_list_template = "admin/knowledge/faq/change_list.html"

    def get_changelist_form(self, request, **kwargs):
        return FAQChangeListForm

    @admin.display(description="")
    def edit(self, obj: FAQ) -> str:
        return "Edit"

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj: FAQ) -> str:
        return _status_badge(obj)

    @admin.action(description="Re-index selected now")
    def reindex(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = services.sources_enqueue_reindex(faq_ids=queryset.values_list("id", flat=True))
        self.message_user(request, f"{count} queued for indexing.")

    def get_urls(self):
        own = [path("import-csv/", self.admin_site.admin_view(self.import_view), name="knowledge_faq_import")]
        return own + super().get_urls()

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_add_permission(request):
            return HttpResponseRedirect(reverse("admin:index"))
        form = CsvImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                if upload.size > settings.UPLOAD_MAX_BYTES:
                    raise ExtractionError(f"The file is over the {_megabytes(settings.UPLOAD_MAX_BYTES)} limit.")
                result = services.faq_import_csv(data=upload.read())
            except ExtractionError as exc:
                form.add_error("file", str(exc))
            else:
                self.message_user(
                    request,
                    f"Imported {result.created} new and {result.updated} changed FAQ(s); "
                    f"{result.unchanged} unchanged. They are indexed in the background.",
                )
                if result.skipped:
                    self.message_user(request, "Skipped " + "; ".join(result.skipped[:20]), level=messages.WARNING)
                return HttpResponseRedirect(reverse("admin:knowledge_faq_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": "Import FAQs from CSV",
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/knowledge/faq/import.html", context)


class SourceTypeFilter(admin.SimpleListFilter):
    title = "source type"
    parameter_name = "source"

    def lookups(self, request, model_admin):
        return [("document", "Documents"), ("faq", "FAQs")]

    def queryset(self, request, queryset):
        if self.value() == "document":
            return queryset.filter(document__isnull=False)
        if self.value() == "faq":
            return queryset.filter(faq__isnull=False)
        return queryset


@admin.register(Chunk)
class ChunkAdmin(admin.ModelAdmin):
    list_display = ["__str__", "source", "page", "token_count", "position"]
    list_select_related = ["document", "faq"]
    list_filter = [SourceTypeFilter]
    search_fields = ["text", "heading_path"]
    list_per_page = 50
    show_full_result_count = False
    readonly_fields = [
        "document",
        "faq",
        "position",
        "heading_path",
        "page",
        "token_count",
        "text",
        "search_text",
        "content_hash",
    ]
    fields = tuple(readonly_fields)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).defer("document__content", "search_text")

    def lookup_allowed(self, lookup: str, value, request=None) -> bool:
        return lookup in {"document__id__exact", "faq__id__exact"} or super().lookup_allowed(lookup, value, request)

    @admin.display(description="Source")
    def source(self, obj: Chunk) -> str:
        return str(obj.document or obj.faq)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(IndexVersion)
class IndexVersionAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "state",
        "is_current",
        "chunk_count",
        "index_kind",
        "model_id",
        "size",
        "build_time",
        "embedded_count",
        "published_at",
    ]
    list_filter = ["state", "is_current"]
    list_per_page = 50
    show_full_result_count = False
    readonly_fields = [
        "state",
        "is_current",
        "model_id",
        "dimension",
        "index_kind",
        "chunk_count",
        "signature",
        "size_bytes",
        "build_time",
        "embedded_count",
        "created_at",
        "published_at",
    ]
    fields = tuple(readonly_fields)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).defer("blob")

    @admin.display(description="Size")
    def size(self, obj: IndexVersion) -> str:
        return f"{obj.size_bytes / 1_048_576:,.1f} MB"

    @admin.display(description="Build time", ordering="build_seconds")
    def build_time(self, obj: IndexVersion) -> str:
        return duration_format(obj.build_seconds)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
