"""Exports all-MiniLM-L6-v2 to ONNX once into MODEL_CACHE_DIR (idempotent; instant when done)."""

import json

from django.core.management.base import BaseCommand, CommandError

from knowledge.embeddings import EmbeddingError, export_onnx


class Command(BaseCommand):
    help = "Prepares the local embedding model: an ONNX export checked against sentence-transformers."
    # The checks would only warn that the export this command makes is missing.
    requires_system_checks: list = []

    def add_arguments(self, parser) -> None:
        parser.add_argument("--force", action="store_true", help="Export again even if it is already there.")
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")

    def handle(self, *args, force: bool, json: bool, **options) -> None:
        try:
            result = export_onnx(force=force)
        except EmbeddingError as exc:
            raise CommandError(str(exc)) from None
        except KeyboardInterrupt:
            raise CommandError("Interrupted; nothing was left half-written (run it again).") from None
        if json:
            self.stdout.write(
                _json(
                    {
                        "path": str(result.path),
                        "exported": result.exported,
                        "seconds": round(result.seconds, 2),
                        "max_difference": result.max_difference,
                    }
                )
            )
        elif result.exported:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Exported the ONNX model to {result.path} in {result.seconds:.1f} s "
                    f"(max difference vs sentence-transformers: {result.max_difference:.1e})."
                )
            )
        elif options["verbosity"] > 0:
            self.stdout.write(f"The ONNX model is already prepared at {result.path}.")


def _json(payload: dict) -> str:
    return json.dumps(payload)
