"""
Storing sources: uploaded files (admin, the `ingest` command) and web-page
URLs, and the `ingest` command's doors, which store what changed and index it.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.utils import timezone

from knowledge.extraction import ExtractionError, detect_format
from knowledge.models import Document, SourceStatus
from knowledge.services.documents import document_ingest, document_input_hash, documents_ingest
from knowledge.services.runner import IngestOutcome

_CONTENT_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "markdown": "text/markdown",
    "html": "text/html",
    "text": "text/plain",
}


def document_apply_upload(*, document: Document, name: str, data: bytes | None, size: int) -> None:
    """
    Puts an uploaded file into `document` (not saved). A file over
    UPLOAD_MAX_BYTES is not stored: the source keeps its size and fails with
    that reason when indexed.
    """
    too_big = size > settings.UPLOAD_MAX_BYTES
    document.kind = Document.Kind.FILE
    document.content = b"" if too_big or data is None else data
    document.size_bytes = size
    document.content_type = _CONTENT_TYPES.get(_safe_format(name), "")
    document.url = ""
    document.text = ""


def _safe_format(filename: str) -> str:
    try:
        return detect_format(filename=filename)
    except ExtractionError:
        return ""


def document_save_file(
    *, name: str, data: bytes | None, size: int, title: str = "", send_signal: bool = True
) -> Document:
    """
    Creates or replaces the file source called `name` (its identifier). A file
    over UPLOAD_MAX_BYTES is not stored: the source records its size and fails
    with that reason. With `send_signal` (admin) indexing is enqueued on commit
    by the post_save receiver; without it (the `ingest` command, which indexes
    inline) the row is written with bulk operations that fire no signal.
    """
    identifier = Path(name).name[:500]
    existing = Document.objects.filter(identifier=identifier).defer("content").first()
    document = existing or Document(identifier=identifier)
    document_apply_upload(document=document, name=identifier, data=data, size=size)
    if title:
        document.title = title[:300]
    if send_signal:
        document.save()
        return document
    fields = dict(
        kind=document.kind,
        content=document.content,
        size_bytes=size,
        content_type=document.content_type,
        url="",
        text="",
        title=document.title,
    )
    if existing is None:
        document.status = SourceStatus.QUEUED
        Document.objects.bulk_create([document])
        return document if document.pk else Document.objects.defer("content").get(identifier=identifier)
    Document.objects.filter(pk=existing.pk).update(
        updated_at=timezone.now(), status=SourceStatus.QUEUED, status_reason="", **fields
    )
    return document


def document_store_file(*, path: Path, force: bool = False) -> tuple[Document, bool]:
    """
    Stores the file as a source if it changed. Returns the document and
    whether it needs indexing (False: these very bytes are indexed and ready).
    """
    size = path.stat().st_size
    data = path.read_bytes() if size <= settings.UPLOAD_MAX_BYTES else None
    existing = Document.objects.filter(identifier=path.name).first()
    if (
        existing is not None
        and not force
        and existing.kind == Document.Kind.FILE
        and data is not None
        and existing.source_hash
        and existing.source_hash == document_input_hash(kind=Document.Kind.FILE, title=existing.title, data=data)
        and existing.status == SourceStatus.READY
    ):
        return existing, False
    if (
        existing is None
        or force
        or existing.kind != Document.Kind.FILE
        or bytes(existing.content) != (data or b"")
        or existing.size_bytes != size
    ):
        return document_save_file(name=path.name, data=data, size=size, send_signal=False), True
    return existing, True


def document_files_ingest(*, paths: list[Path], force: bool = False) -> list[IngestOutcome]:
    """The `ingest` command's door: stores the files that changed and indexes them together."""
    stored = [document_store_file(path=path, force=force) for path in paths]
    to_index = [document.pk for document, needs_indexing in stored if needs_indexing]
    outcomes = dict(zip(to_index, documents_ingest(document_ids=to_index, force=force), strict=False))
    return [
        outcomes[document.pk]
        if needs_indexing
        else IngestOutcome(f"document:{document.pk}", "unchanged", chunks=document.chunk_count)
        for document, needs_indexing in stored
    ]


def document_store_url(*, url: str) -> Document:
    """
    The web-page source for `url` (the URL is its identifier, as in admin):
    created, or pointed at the URL again. Written with bulk operations, which
    fire no signal: the caller indexes it. Raises `ExtractionError` when a file
    or text source already has that identifier (it is not overwritten).
    """
    identifier = url[:500]
    existing = Document.objects.filter(identifier=identifier).defer("content").first()
    if existing is None:
        Document.objects.bulk_create(
            [Document(kind=Document.Kind.URL, url=url, identifier=identifier, status=SourceStatus.QUEUED)]
        )
        return Document.objects.defer("content").get(identifier=identifier)
    if existing.kind != Document.Kind.URL:
        raise ExtractionError(
            f"The {existing.get_kind_display().lower()} source {identifier!r} already has "
            "this identifier; it was left as it is."
        )
    if existing.url != url:
        Document.objects.filter(pk=existing.pk).update(url=url, updated_at=timezone.now())
    return existing


def document_urls_ingest(*, urls: list[str], force: bool = False) -> list[IngestOutcome]:
    """The `ingest` command's door for web pages: stores each and fetches it now, through the fetch guard."""
    outcomes = []
    for url in urls:
        try:
            document = document_store_url(url=url)
        except ExtractionError as exc:
            outcomes.append(IngestOutcome(f"url:{url}", "failed", reason=str(exc)))
            continue
        outcomes.append(document_ingest(document_id=document.pk, force=force, refetch=True, take_over=True))
    return outcomes
