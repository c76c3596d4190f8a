"""
Writes of the knowledge base: ingesting sources, importing FAQs, publishing
index versions. Admin, tasks and management commands all call these, through
this package's names (`from knowledge.services import document_ingest`).

By concern: `runner` (the ingest protocol: leases, prepare, embed, finish;
read it first), `embedding_cache`, `documents`, `uploads` (files and URLs
stored as sources), `refetch` (web pages' schedule), `faqs` (and the CSV
import), `activation` (admin's bulk actions), `publish` (index versions) and
`reindex`.
"""

from knowledge.services.activation import sources_enqueue_reindex, sources_set_active
from knowledge.services.documents import (
    document_ingest,
    document_input_hash,
    document_prepare,
    document_refetch,
    document_source_hash,
    documents_ingest,
)
from knowledge.services.embedding_cache import DB_BATCH, embeddings_ensure, embeddings_load
from knowledge.services.faqs import (
    FaqImportResult,
    faq_import_csv,
    faq_ingest,
    faq_prepare,
    faq_search_text,
    faq_source_hash,
    faqs_ingest,
)
from knowledge.services.publish import KEEP_OLD_VERSIONS, STALE_BUILD_AGE, PublishOutcome, index_publish
from knowledge.services.refetch import document_refetch_schedule, documents_due_for_refetch
from knowledge.services.reindex import ReindexOutcome, sources_reindex
from knowledge.services.runner import (
    LEASE,
    PIPELINE_VERSION,
    SOURCE_PROBLEMS,
    IngestOutcome,
    _claim,
    ingest_run,
)
from knowledge.services.uploads import (
    document_apply_upload,
    document_files_ingest,
    document_save_file,
    document_store_file,
    document_store_url,
    document_urls_ingest,
)

__all__ = [
    "DB_BATCH",
    "KEEP_OLD_VERSIONS",
    "LEASE",
    "PIPELINE_VERSION",
    "SOURCE_PROBLEMS",
    "STALE_BUILD_AGE",
    "FaqImportResult",
    "IngestOutcome",
    "PublishOutcome",
    "ReindexOutcome",
    "_claim",
    "document_apply_upload",
    "document_files_ingest",
    "document_ingest",
    "document_input_hash",
    "document_prepare",
    "document_refetch",
    "document_refetch_schedule",
    "document_save_file",
    "document_source_hash",
    "document_store_file",
    "document_store_url",
    "document_urls_ingest",
    "documents_due_for_refetch",
    "documents_ingest",
    "embeddings_ensure",
    "embeddings_load",
    "faq_import_csv",
    "faq_ingest",
    "faq_prepare",
    "faq_search_text",
    "faq_source_hash",
    "faqs_ingest",
    "index_publish",
    "ingest_run",
    "sources_enqueue_reindex",
    "sources_reindex",
    "sources_set_active",
]
