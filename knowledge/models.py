from django.db import models


class SourceStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    INDEXING = "indexing", "Indexing"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class Document(models.Model):
    """A knowledge source: an uploaded file, pasted text or a web page."""

    class Kind(models.TextChoices):
        FILE = "file", "Uploaded file"
        TEXT = "text", "Pasted text"
        URL = "url", "Web page"

    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.TEXT)
    title = models.CharField(max_length=300)
    identifier = models.CharField(
        max_length=500,
        unique=True,
        help_text="File name or URL; re-ingesting the same identifier replaces the source.",
    )
    file = models.FileField(upload_to="documents/", blank=True)
    text = models.TextField(blank=True, help_text="Pasted text (for pasted-text sources).")
    url = models.URLField(max_length=2000, blank=True)
    refetch_interval_hours = models.PositiveIntegerField(
        null=True, blank=True, help_text="Web pages only: re-fetch every N hours."
    )
    is_active = models.BooleanField(default=True)
    status = models.CharField(
        max_length=10, choices=SourceStatus.choices, default=SourceStatus.QUEUED
    )
    status_reason = models.TextField(blank=True)
    chunk_count = models.PositiveIntegerField(default=0)
    indexed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class FAQ(models.Model):
    question = models.CharField(max_length=500)
    answer = models.TextField()
    is_active = models.BooleanField(default=True)
    status = models.CharField(
        max_length=10, choices=SourceStatus.choices, default=SourceStatus.QUEUED
    )
    status_reason = models.TextField(blank=True)
    indexed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "FAQ"
        verbose_name_plural = "FAQs"
        ordering = ["question"]

    def __str__(self) -> str:
        return self.question


class Chunk(models.Model):
    """A retrievable passage of one source: a document section or one FAQ pair."""

    document = models.ForeignKey(
        Document, null=True, blank=True, on_delete=models.CASCADE, related_name="chunks"
    )
    faq = models.ForeignKey(
        FAQ, null=True, blank=True, on_delete=models.CASCADE, related_name="chunks"
    )
    position = models.PositiveIntegerField(default=0)
    text = models.TextField()
    heading_path = models.CharField(max_length=1000, blank=True)
    page = models.PositiveIntegerField(null=True, blank=True)
    token_count = models.PositiveIntegerField(default=0)
    content_hash = models.CharField(max_length=64, db_index=True)

    class Meta:
        ordering = ["document_id", "faq_id", "position"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(document__isnull=False, faq__isnull=True)
                    | models.Q(document__isnull=True, faq__isnull=False)
                ),
                name="chunk_has_exactly_one_source",
            )
        ]

    def __str__(self) -> str:
        return f"{self.heading_path or self.text[:60]}"
