"""Re-fetches web-page sources that are due (or all of them), for cron or when tasks cannot be deferred."""

import json

from django.core.management.base import BaseCommand
from tqdm import tqdm

from knowledge import services


class Command(BaseCommand):
    help = "Re-fetch web pages whose re-fetch interval has passed (--all: every web page), then publish."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--all", action="store_true", help="Every active web page, due or not.")
        parser.add_argument("--json", action="store_true", help="One JSON line per page, then a summary.")

    def handle(self, *args, all: bool, json: bool, **options) -> None:
        ids = services.documents_due_for_refetch(include_all=all)
        quiet = json or options["verbosity"] == 0
        counts: dict[str, int] = {}
        try:
            for document_id in tqdm(ids, unit="page", disable=quiet, desc="refresh"):
                outcome = services.document_refetch(document_id=document_id)
                counts[outcome.status] = counts.get(outcome.status, 0) + 1
                if json:
                    self.stdout.write(
                        dumps(
                            {
                                "source": outcome.source,
                                "status": outcome.status,
                                "reason": outcome.reason,
                                "chunks": outcome.chunks,
                            }
                        )
                    )
                elif outcome.status == "failed":
                    self.stderr.write(f"failed  {outcome.source}: {outcome.reason}")
            publish = services.index_publish()
        except KeyboardInterrupt:
            raise SystemExit(130) from None
        summary = {"pages": len(ids), **counts, "index": publish.status, "index_version": publish.version_id}
        if json:
            self.stdout.write(dumps({"summary": summary}))
        elif options["verbosity"] > 0:
            self.stdout.write(
                f"{len(ids)} page(s) re-fetched: "
                + (", ".join(f"{v} {k}" for k, v in counts.items()) or "none due")
                + f". Index v{publish.version_id} ({publish.status})."
            )


def dumps(payload: dict) -> str:
    return json.dumps(payload)
