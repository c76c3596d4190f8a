"""Scores retrieval on a BEIR-format folder in a throwaway index (the live one is untouched)."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from knowledge.evaluation import MODES, EvaluationError, evaluate


class Command(BaseCommand):
    help = "nDCG@10, Recall@10 and MRR@10 for dense, keyword and hybrid retrieval on a BEIR-format folder."

    def add_arguments(self, parser) -> None:
        parser.add_argument("directory", type=Path, metavar="DIR")
        parser.add_argument("-k", type=int, default=10, help="Cut-off (default 10).")
        parser.add_argument("--split", default="test", help="qrels/<split>.tsv (default test).")
        parser.add_argument("--limit", type=int, help="Only the first N judged queries.")
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")

    def handle(self, *args, directory: Path, k: int, split: str, limit: int | None, json: bool, **options) -> None:
        quiet = json or options["verbosity"] == 0
        bar = tqdm(total=0, disable=quiet, desc="kb_eval", unit="query")

        def on_progress(stage: str, done: int, total: int) -> None:
            if stage == "embedding":
                bar.set_description(f"embedding {total} chunks")
                return
            bar.set_description("queries")
            bar.total = total
            bar.n = done
            bar.refresh()

        try:
            report = evaluate(directory, k=k, split=split, limit=limit, on_progress=on_progress)
        except EvaluationError as exc:
            raise CommandError(str(exc)) from None
        except KeyboardInterrupt:
            bar.close()
            raise SystemExit(130) from None
        bar.close()
        if json:
            self.stdout.write(dumps(report))
            return
        self.stdout.write(
            f"{report['set']}: {report['documents']} documents, {report['chunks']} chunks, "
            f"{report['queries']} queries, model {report['model']}"
        )
        names = list(report["metrics"]["hybrid"])
        self.stdout.write(
            f"{'':10}"
            + "".join(
                f"{name.replace('ndcg', 'nDCG').replace('recall', 'Recall').replace('mrr', 'MRR'):>12}"
                for name in names
            )
        )
        for mode in MODES:
            self.stdout.write(f"{mode:10}" + "".join(f"{report['metrics'][mode][name]:>12.4f}" for name in names))


def dumps(payload: dict) -> str:
    return json.dumps(payload)
