"""
Loads files and folders into the knowledge base through the same pipeline as
admin uploads (a file's name is its source's identifier; a CSV with question
and answer columns imports FAQs), and http(s) URLs as web-page sources (the URL
is the identifier, as in admin; fetched now, through the fetch guard), then
publishes one index version. Unchanged files cost a hash and a query each, so
running it at every start is cheap.
"""

import itertools
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import URLValidator
from tqdm import tqdm

from knowledge import services
from knowledge.extraction import SUPPORTED_SUFFIXES, ExtractionError

SUFFIXES = SUPPORTED_SUFFIXES | {".csv"}
FILES_PER_BATCH = 16
BATCH_BYTES = 64 * 1_048_576
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def split_urls(arguments: list[str]) -> tuple[list[str], list[str]]:
    """(URLs, paths): an argument with a scheme is a URL and must be a valid http(s) one."""
    urls = [raw for raw in arguments if _SCHEME.match(raw)]
    validate = URLValidator(schemes=["http", "https"])
    bad = []
    for url in urls:
        try:
            validate(url)
        except ValidationError:
            bad.append(url)
    if bad:
        raise CommandError(f"Not an http(s) URL: {', '.join(bad)}")
    return list(dict.fromkeys(urls)), [raw for raw in arguments if not _SCHEME.match(raw)]


def collect_files(paths: list[str]) -> list[Path]:
    """Files as given, and the supported files inside folders (recursively, hidden ones skipped)."""
    files: list[Path] = []
    missing = [raw for raw in paths if not Path(raw).exists()]
    if missing:
        raise CommandError(f"No such file or folder: {', '.join(missing)}")
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                relative = child.relative_to(path)
                if (
                    child.is_file()
                    and child.suffix.lower() in SUFFIXES
                    and not any(part.startswith(".") for part in relative.parts)
                ):
                    files.append(child)
        else:
            files.append(path)
    return list(dict.fromkeys(files))


def file_batches(files: list[Path]) -> Iterator[list[Path]]:
    """Consecutive document files in groups whose new chunks are embedded together; each CSV alone."""
    batch: list[Path] = []
    size = 0
    for path in files:
        if path.suffix.lower() == ".csv":
            if batch:
                yield batch
                batch, size = [], 0
            yield [path]
            continue
        batch.append(path)
        size += path.stat().st_size
        if len(batch) >= FILES_PER_BATCH or size >= BATCH_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


class Command(BaseCommand):
    help = (
        "Ingest files or folders (PDF, DOCX, Markdown, HTML, text; CSV of FAQs) and http(s) URLs of web "
        "pages into the knowledge base."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("paths", nargs="+", metavar="PATH_OR_URL")
        parser.add_argument("--force", action="store_true", help="Re-extract and re-chunk even unchanged files.")
        parser.add_argument("--json", action="store_true", help="One JSON line per file or page, then a summary line.")

    def handle(self, *args, paths: list[str], force: bool, json: bool, **options) -> None:
        urls, paths = split_urls(paths)
        files = collect_files(paths)
        quiet = json or options["verbosity"] == 0
        started = time.perf_counter()
        totals = {"indexed": 0, "unchanged": 0, "failed": 0, "busy": 0, "missing": 0}
        chunks = tokens = embedded = 0
        done = 0
        bar = tqdm(total=len(files) + len(urls), unit="source", disable=quiet, desc="ingest")
        try:
            batches: Iterator[list[Path] | list[str]] = itertools.chain(file_batches(files), ([url] for url in urls))
            for batch in batches:
                for record in self._ingest_batch(batch, force=force):
                    totals[record["status"]] = totals.get(record["status"], 0) + 1
                    if record["status"] == "indexed":
                        chunks += record["chunks"]
                        tokens += record["tokens"]
                    embedded += record["embedded"]
                    name = record.get("file") or record["url"]
                    if json:
                        self.stdout.write(_dumps(record))
                    elif record["status"] == "failed":
                        bar.write(self.style.ERROR(f"failed  {name}: {record['reason']}"))
                    elif options["verbosity"] > 1:
                        bar.write(f"{record['status']:9} {name}")
                done += len(batch)
                bar.update(len(batch))
            bar.close()
            publish = services.index_publish()
        except KeyboardInterrupt:
            bar.close()
            self.stderr.write(
                f"Interrupted after {done} of {len(files) + len(urls)} sources. Finished ones are "
                "kept; run the command again to continue."
            )
            raise SystemExit(130) from None
        seconds = time.perf_counter() - started
        summary = {
            "files": len(files),
            "pages": len(urls),
            **totals,
            "chunks": chunks,
            "tokens": tokens,
            "embedded": embedded,
            "seconds": round(seconds, 3),
            "chunks_per_second": round(chunks / seconds, 1) if seconds else None,
            "index": publish.status,
            "index_version": publish.version_id,
            "index_chunks": publish.chunk_count,
        }
        if json:
            self.stdout.write(_dumps({"summary": summary}))
        elif options["verbosity"] > 0:
            self.stdout.write(
                self.style.SUCCESS(
                    f"{len(files)} file(s){f', {len(urls)} page(s)' if urls else ''}: {totals['indexed']} indexed, "
                    f"{totals['unchanged']} unchanged, "
                    f"{totals['failed']} failed; {chunks} chunks, {embedded} embedded in {seconds:.1f} s. "
                    f"Index v{publish.version_id} ({publish.status}): {publish.chunk_count} chunks."
                )
            )

    def _ingest_batch(self, paths: list[Path] | list[str], *, force: bool):
        if isinstance(paths[0], str):
            for url, outcome in zip(paths, services.document_urls_ingest(urls=paths, force=force), strict=False):
                yield _record(url, outcome, key="url")
            return
        if paths[0].suffix.lower() == ".csv":
            yield from self._ingest_csv(paths[0], force=force)
            return
        for path, outcome in zip(paths, services.document_files_ingest(paths=paths, force=force), strict=False):
            yield _record(path, outcome)

    def _ingest_csv(self, path: Path, *, force: bool):
        if path.stat().st_size > settings.UPLOAD_MAX_BYTES:
            yield {
                "file": str(path),
                "status": "failed",
                "reason": "The CSV is over the upload limit.",
                "chunks": 0,
                "tokens": 0,
                "embedded": 0,
            }
            return
        try:
            imported = services.faq_import_csv(data=path.read_bytes(), enqueue=False)
        except ExtractionError as exc:
            yield {"file": str(path), "status": "failed", "reason": str(exc), "chunks": 0, "tokens": 0, "embedded": 0}
            return
        faq_ids = imported.faq_ids
        if force:
            from knowledge.models import FAQ

            faq_ids = list(FAQ.objects.order_by("id").values_list("id", flat=True))
        chunks = tokens = embedded = 0
        failed = []
        for outcome in services.faqs_ingest(faq_ids=faq_ids, force=force, take_over=True):
            chunks += outcome.chunks if outcome.status == "indexed" else 0
            tokens += outcome.tokens if outcome.status == "indexed" else 0
            embedded += outcome.embedded
            if outcome.status == "failed":
                failed.append(f"{outcome.source}: {outcome.reason}")
        status = "failed" if failed else ("indexed" if faq_ids else "unchanged")
        yield {
            "file": str(path),
            "status": status,
            "faqs_created": imported.created,
            "faqs_updated": imported.updated,
            "faqs_unchanged": imported.unchanged,
            "skipped": imported.skipped,
            "reason": "; ".join(failed),
            "chunks": chunks,
            "tokens": tokens,
            "embedded": embedded,
        }


def _record(path: Path | str, outcome: services.IngestOutcome, *, key: str = "file") -> dict:
    return {
        key: str(path),
        "source": outcome.source,
        "status": outcome.status,
        "reason": outcome.reason,
        "chunks": outcome.chunks,
        "tokens": outcome.tokens,
        "embedded": outcome.embedded,
        "seconds": round(outcome.seconds, 3),
    }


def _dumps(payload: dict) -> str:
    return json.dumps(payload, ensure_ascii=False)
