"""Searches the knowledge base like the chat pipeline does, from the command line."""

import json
import time
from dataclasses import asdict
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from knowledge.selectors import search
from knowledge.types import SearchResult


def result_payload(rank: int, result: SearchResult) -> dict:
    payload = asdict(result)
    payload["rank"] = rank
    payload["citation"] = result.citation_label
    return payload


class Command(BaseCommand):
    help = "Print the ranked chunks for a question (or for each line of --queries-file)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("query", nargs="?", help="The question.")
        parser.add_argument("-k", type=int, default=8, help="How many results (default 8).")
        parser.add_argument(
            "--json", action="store_true", help="One JSON object per result (per query with --queries-file)."
        )
        parser.add_argument("--queries-file", type=Path, help="A file with one query per line.")

    def handle(self, *args, query: str | None, k: int, json: bool, queries_file: Path | None, **options) -> None:
        self.verbosity = options["verbosity"]
        if k < 1:
            raise CommandError("-k must be at least 1")
        if queries_file is not None:
            if query:
                raise CommandError("Give either a QUERY or --queries-file, not both.")
            try:
                lines = queries_file.read_text(encoding="utf-8").splitlines()
            except OSError as exc:
                raise CommandError(f"Cannot read {queries_file}: {exc}") from None
            queries = [line.strip() for line in lines if line.strip()]
        elif query and query.strip():
            queries = [query.strip()]
        else:
            raise CommandError('Give a QUERY (search "how long is the warranty?") or --queries-file FILE.')
        try:
            for text in queries:
                started = time.perf_counter()
                results = search(query=text, k=k)
                elapsed_ms = (time.perf_counter() - started) * 1000
                if json and queries_file is not None:
                    self.stdout.write(
                        dumps(
                            {
                                "query": text,
                                "ms": round(elapsed_ms, 2),
                                "results": [result_payload(i, r) for i, r in enumerate(results, 1)],
                            }
                        )
                    )
                elif json:
                    for rank, result in enumerate(results, start=1):
                        self.stdout.write(dumps(result_payload(rank, result)))
                else:
                    self._print(text, results, elapsed_ms, many=queries_file is not None)
        except KeyboardInterrupt:
            raise SystemExit(130) from None

    def _print(self, query: str, results: list[SearchResult], elapsed_ms: float, *, many: bool) -> None:
        if many:
            self.stdout.write(self.style.MIGRATE_HEADING(f"? {query}"))
        if not results:
            self.stdout.write("No results.")
        for rank, result in enumerate(results, start=1):
            found_by = "+".join(
                side for side, r in (("dense", result.dense_rank), ("keyword", result.keyword_rank)) if r
            )
            self.stdout.write(
                f"{rank:2}. {result.confidence:.3f}  {result.source_identifier}  {result.title}  "
                f"[{result.citation_label}]  ({found_by}, fused {result.score:.4f})"
            )
            excerpt = " ".join(result.text.split())
            self.stdout.write(f"    {excerpt[:200]}{'...' if len(excerpt) > 200 else ''}")
        if self.verbosity > 1:
            self.stdout.write(f"({elapsed_ms:.1f} ms)")


def dumps(payload: dict) -> str:
    return json.dumps(payload, ensure_ascii=False)
