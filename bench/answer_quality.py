"""
Answer quality on labelled question sets, through the real answer pipeline
(`manage.py answer_eval`), each on a throwaway install with its own knowledge base:

- `tidewater`: the sample knowledge base (`sample_kb/`) with the hand-written
  questions of `bench/data/answer_eval/tidewater-{dev,test}.jsonl` (in-KB
  questions from the Tidewater retrieval set, plus out-of-scope ones);
- `stackfaq`: the StackFAQ protocol built at run time from
  `../shared/datasets/stackfaq/` (`bench/stackfaq.py`): 100 FAQs in the KB,
  people's rephrasings as questions, held-out threads as the unanswerable ones,
  with refusals reported per held-out thread;
- `stackfaq-docs`: the same protocol with the FAQs as help-centre articles (one
  Markdown file each): the same questions against a knowledge base of documents.

    python -m bench.answer_quality [--set tidewater|stackfaq|stackfaq-docs|all] [--split dev|test|both] [--json]
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from bench.knowledge_common import BASE_DIR, SAMPLE_KB, machine, parser, report
from bench.results import Figure, run_save, run_start
from bench.stackfaq import stackfaq_build

EVAL_DIR = BASE_DIR / "bench" / "data" / "answer_eval"


def _evaluate(path: Path) -> dict:
    from chatbot.evaluation import eval_questions_parse, eval_run, eval_summary

    questions = eval_questions_parse(data=path.read_bytes(), filename=path.name)

    async def run() -> list:
        return [result async for result in eval_run(questions=questions)]

    results = asyncio.run(run())
    summary = eval_summary(results)
    summary.pop("summary", None)
    held_out = {name: group for name, group in summary.pop("groups", {}).items() if not group["answerable"]}
    if held_out:
        summary["refused_per_held_out_thread"] = {
            name: f"{group['refused']}/{group['questions']}"
            for name, group in sorted(held_out.items(), key=lambda item: int(item[0].split()[1]))
        }
    summary["missed"] = {
        "answerable_refused": [r.question for r in results if r.answerable and not r.answered][:20],
        "unanswerable_answered": [r.question for r in results if not r.answerable and r.answered][:20],
        "first_source_wrong": [r.question for r in results if r.first_source_right is False][:20],
    }
    return summary


def main() -> None:
    cli = parser("Answer quality through the real pipeline: answered, refused, first source, token recall.")
    cli.add_argument("--set", choices=["tidewater", "stackfaq", "stackfaq-docs", "all"], default="all")
    cli.add_argument("--split", choices=["dev", "test", "both"], default="both")
    args = cli.parse_args()
    run = run_start(benchmark="answer_quality", area="Answers")
    splits = ["dev", "test"] if args.split == "both" else [args.split]
    figures: dict = {"machine": machine()}
    if args.set in ("tidewater", "all"):
        figures["tidewater"] = _run_set(
            knowledge=[SAMPLE_KB],
            files={s: EVAL_DIR / f"tidewater-{s}.jsonl" for s in splits},
            prefix="quality-tidewater",
        )
    if args.set in ("stackfaq", "all"):
        built = stackfaq_build(out_dir=Path(tempfile.mkdtemp(prefix="bench-stackfaq-")))
        figures["stackfaq"] = _run_set(
            knowledge=[built["faqs"]], files={s: built[s] for s in splits}, prefix="quality-stackfaq"
        )
    if args.set in ("stackfaq-docs", "all"):
        built = stackfaq_build(out_dir=Path(tempfile.mkdtemp(prefix="bench-stackfaq-docs-")), as_document=True)
        figures["stackfaq-docs"] = _run_set(
            knowledge=[built["documents"]], files={s: built[s] for s in splits}, prefix="quality-stackfaq-docs"
        )
    run_save(run=run, figures=figures, headline=headline(figures))
    report("answer quality", figures, as_json=args.json)


def headline(figures: dict) -> list[Figure]:
    def share(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.0%}"

    rows = []
    for name, splits in figures.items():
        if name == "machine":
            continue
        for split, summary in splits.items():
            rows.append(
                Figure(
                    f"Answer quality, {name} {split} split ({summary['questions']} questions: {summary['answerable']} "
                    f"answerable, {summary['unanswerable']} not)",
                    f"answerable answered {share(summary['answerable_answered'])}, unanswerable refused "
                    f"{share(summary['unanswerable_refused'])}, "
                    f"first source right {share(summary['first_source_right'])}"
                    + (f", token recall {summary['token_recall']:.2f}" if summary["token_recall"] is not None else ""),
                )
            )
    return rows


def _run_set(*, knowledge: list[Path], files: dict[str, Path], prefix: str) -> dict:
    """Each set on its own throwaway install: a child process, since Django is set up once per process."""
    import json
    import subprocess
    import sys

    command = [
        sys.executable,
        "-m",
        "bench.answer_quality_run",
        "--files",
        *[f"{s}={p}" for s, p in files.items()],
        "--knowledge",
        *map(str, knowledge),
        "--prefix",
        prefix,
    ]
    output = subprocess.run(command, cwd=BASE_DIR, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
