"""
Re-indexes the knowledge base and publishes a new index version.

Without --full: sources that are not ready (queued, failed, or stuck in
"indexing" after a worker died) are indexed again, and the publish embeds
whatever the configured model lacks (a switch of embedding model rebuilds
cleanly this way). With --full: every source is re-extracted and re-chunked;
unchanged text is still not embedded again.
"""

import json
import time

from django.core.management.base import BaseCommand
from tqdm import tqdm

from knowledge import services


class Command(BaseCommand):
    help = "Re-index sources that need it (--full: all of them) and publish a fresh index version."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--full", action="store_true", help="Re-extract and re-chunk every source.")
        parser.add_argument("--json", action="store_true", help="Print one JSON summary line.")

    def handle(self, *args, full: bool, json: bool, **options) -> None:
        quiet = json or options["verbosity"] == 0
        bar = tqdm(total=0, unit="source", disable=quiet, desc="reindex")
        started = time.perf_counter()

        def on_total(total: int) -> None:
            bar.total = total
            bar.refresh()

        def on_progress(outcome: services.IngestOutcome) -> None:
            if outcome.status == "failed" and not quiet:
                bar.write(self.style.ERROR(f"failed  {outcome.source}: {outcome.reason}"))
            bar.update(1)

        try:
            result = services.sources_reindex(full=full, on_progress=on_progress, on_total=on_total)
        except KeyboardInterrupt:
            bar.close()
            self.stderr.write("Interrupted. The previous index version is still current; run reindex again.")
            raise SystemExit(130) from None
        bar.close()
        counts: dict[str, int] = {}
        for outcome in result.outcomes:
            counts[outcome.status] = counts.get(outcome.status, 0) + 1
        publish = result.publish
        summary = {
            "sources": len(result.outcomes),
            **counts,
            "embedded": sum(o.embedded for o in result.outcomes) + publish.embedded,
            "index": publish.status,
            "index_version": publish.version_id,
            "index_chunks": publish.chunk_count,
            "seconds": round(time.perf_counter() - started, 3),
        }
        if json:
            self.stdout.write(json_dumps(summary))
        elif options["verbosity"] > 0:
            self.stdout.write(
                self.style.SUCCESS(
                    f"{summary['sources']} source(s) re-indexed "
                    f"({', '.join(f'{v} {k}' for k, v in counts.items()) or 'none needed'}); "
                    f"{summary['embedded']} embedded. Index v{publish.version_id} ({publish.status}): "
                    f"{publish.chunk_count} chunks."
                )
            )


def json_dumps(payload: dict) -> str:
    return json.dumps(payload)
