"""
The knowledge base: sources (documents, web pages, FAQs), their chunks, the
embedding cache and the published index versions.

The database holds everything a process needs: the raw bytes of uploaded files
and fetched pages (so a worker on another machine can re-index them without a
shared disk), the canonical vectors (`Embedding`, keyed by model and content
hash) and every serialised FAISS + BM25 snapshot (`IndexVersion`). Each process
derives its in-memory index from the current snapshot.
"""

from django.db import models
from django.urls import reverse


class SourceStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    INDEXING = "indexing", "Indexing"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


def _mark_queued_on_full_save(source, kwargs: dict) -> None:
    """
    A full save (admin, ORM) means the source may have changed: it shows as
    queued until its indexing task (enqueued on commit by the post_save
    receiver) has run. The pipeline itself writes with `update()`, never save().
    """
    if kwargs.get("update_fields") is None:
        source.status = SourceStatus.QUEUED
        source.status_reason = ""


class Document(models.Model):
    """A knowledge source: an uploaded file, pasted text or a web page."""

    class Kind(models.TextChoices):
        FILE = "file", "Uploaded file"
        TEXT = "text", "Pasted text"
        URL = "url", "Web page"

    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.TEXT)
    title = models.CharField(max_length=300, blank=True, help_text="Left blank, it is taken from the document itself.")
    identifier = models.CharField(
        max_length=500,
        unique=True,
        help_text="File name or URL; re-ingesting the same identifier replaces the source.",
    )
    content = models.BinaryField(
        blank=True,
        default=b"",
        editable=False,
        help_text="The uploaded file's bytes, or the last fetched body of a web page.",
    )
    content_type = models.CharField(max_length=200, blank=True, editable=False)
    size_bytes = models.PositiveBigIntegerField(default=0, editable=False)
    text = models.TextField(blank=True, help_text="Pasted text (Markdown or plain text).")
    url = models.URLField(max_length=2000, blank=True)
    refetch_interval_hours = models.PositiveIntegerField(
        null=True, blank=True, help_text="Web pages only: re-fetch every N hours."
    )
    is_active = models.BooleanField(default=True, help_text="Inactive sources are never searched.")
    status = models.CharField(max_length=10, choices=SourceStatus.choices, default=SourceStatus.QUEUED, db_index=True)
    status_reason = models.TextField(blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True, editable=False)
    lease_until = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="Set while a worker indexes this source."
    )
    source_hash = models.CharField(
        max_length=64,
        blank=True,
        editable=False,
        help_text="Hash of the input and pipeline settings the current chunks were made from.",
    )
    chunk_count = models.PositiveIntegerField(default=0)
    indexed_at = models.DateTimeField(null=True, blank=True)
    fetched_url = models.URLField(max_length=2000, blank=True, editable=False)
    fetched_at = models.DateTimeField(null=True, blank=True, editable=False)
    next_fetch_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title", "id"]
        indexes = [models.Index(fields=["kind", "next_fetch_at"])]

    def __str__(self) -> str:
        return self.title or self.identifier

    def save(self, *args, **kwargs) -> None:
        _mark_queued_on_full_save(self, kwargs)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        if self.kind == self.Kind.URL and self.url:
            return self.url
        return reverse("knowledge:source", args=[self.pk])


class FAQ(models.Model):
    question = models.CharField(max_length=500)
    answer = models.TextField()
    is_active = models.BooleanField(default=True)
    status = models.CharField(max_length=10, choices=SourceStatus.choices, default=SourceStatus.QUEUED, db_index=True)
    status_reason = models.TextField(blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True, editable=False)
    lease_until = models.DateTimeField(null=True, blank=True, editable=False)
    source_hash = models.CharField(max_length=64, blank=True, editable=False)
    indexed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "FAQ"
        verbose_name_plural = "FAQs"
        ordering = ["question"]

    def __str__(self) -> str:
        return self.question

    def save(self, *args, **kwargs) -> None:
        _mark_queued_on_full_save(self, kwargs)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("knowledge:faq", args=[self.pk])


class Chunk(models.Model):
    """A retrievable passage of one source: a document section or one FAQ pair."""

    document = models.ForeignKey(Document, null=True, blank=True, on_delete=models.CASCADE, related_name="chunks")
    faq = models.ForeignKey(FAQ, null=True, blank=True, on_delete=models.CASCADE, related_name="chunks")
    position = models.PositiveIntegerField(default=0)
    text = models.TextField()
    heading_path = models.CharField(max_length=1000, blank=True)
    page = models.PositiveIntegerField(null=True, blank=True)
    token_count = models.PositiveIntegerField(default=0)
    search_text = models.TextField(
        help_text="What is embedded and keyword-indexed: the heading path (or title) and the text."
    )
    content_hash = models.CharField(max_length=64, db_index=True, help_text="sha256 of search_text.")

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


class Embedding(models.Model):
    """
    The canonical vector of one text under one model: float32 bytes, normalised.

    Keyed by (model id, sha256 of the embedded text), so an unchanged chunk is
    never embedded twice, and a switch of model simply misses the cache.
    """

    model_id = models.CharField(max_length=300)
    content_hash = models.CharField(max_length=64)
    dimension = models.PositiveIntegerField()
    vector = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["model_id", "content_hash"], name="embedding_model_hash_unique")]

    def __str__(self) -> str:
        return f"{self.model_id}:{self.content_hash[:12]}"


class IndexVersion(models.Model):
    """
    One serialised FAISS + BM25 snapshot of every active chunk.

    A builder reserves its row (state BUILDING) before it reads the chunks, so
    row ids order builds by the moment they saw the data: a build is only made
    current if no younger build already is. Exactly one row is current.
    """

    class State(models.TextChoices):
        BUILDING = "building", "Building"
        READY = "ready", "Ready"
        DISCARDED = "discarded", "Discarded"

    state = models.CharField(max_length=10, choices=State.choices, default=State.BUILDING)
    is_current = models.BooleanField(default=False)
    model_id = models.CharField(max_length=300, blank=True)
    dimension = models.PositiveIntegerField(default=0)
    index_kind = models.CharField(max_length=10, blank=True, help_text="flat or hnsw")
    chunk_count = models.PositiveIntegerField(default=0)
    signature = models.CharField(max_length=64, blank=True, help_text="Hash of model and (chunk id, hash) pairs.")
    blob = models.BinaryField(null=True, blank=True, editable=False)
    size_bytes = models.PositiveBigIntegerField(default=0)
    build_seconds = models.FloatField(default=0.0)
    embedded_count = models.PositiveIntegerField(default=0, help_text="Vectors computed for this build.")
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_current"], condition=models.Q(is_current=True), name="one_current_index_version"
            )
        ]

    def __str__(self) -> str:
        return f"index v{self.pk} ({self.chunk_count} chunks, {self.state})"
