"""`python manage.py answer_eval FILE [--json]`: a question file through the answer pipeline, scored."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from chatbot.evaluation import EvalFileError, EvalResult, eval_questions_parse, eval_run, eval_summary


class Command(BaseCommand):
    help = (
        "Asks every question of FILE (JSONL, or CSV with the same columns) through the answer pipeline, "
        "as a visitor would, and reports per question and in total: answered or refused, cited sources, "
        "whether the first cited source is an expected one, token recall of the expected answer, time to "
        "first token. Nothing is kept: no lead, no unanswered question, no conversation."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="JSONL (or .csv): question, expected_sources, expected_answer, group.")
        parser.add_argument("--json", action="store_true", help="One JSON line per question, then one summary line.")

    def handle(self, *args, file: str, json: bool, **options) -> None:
        path = Path(file)
        try:
            questions = eval_questions_parse(data=path.read_bytes(), filename=path.name)
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror or exc}.") from None
        except EvalFileError as exc:
            raise CommandError(f"{file}: {exc}") from None
        try:
            summary = asyncio.run(self._run(questions, as_json=json))
        except KeyboardInterrupt:
            self.stderr.write("\nInterrupted.")
            sys.exit(130)
        if json:
            self.stdout.write(_json_line(summary))
        else:
            self._show_summary(summary)

    async def _run(self, questions, *, as_json: bool) -> dict:
        results: list[EvalResult] = []
        async for result in eval_run(questions=questions):
            results.append(result)
            if as_json:
                self.stdout.write(_json_line(result.as_dict()))
            else:
                self._show(result, len(results), len(questions))
        return eval_summary(results)

    def _show(self, result: EvalResult, number: int, total: int) -> None:
        if result.answerable:
            verdict = "answered" if result.answered else "REFUSED"
        else:
            verdict = "refused (out of scope)" if not result.answered else "ANSWERED (out of scope)"
        mark = self.style.SUCCESS("ok ") if result.right else self.style.ERROR("BAD")
        line = f"{mark} [{number}/{total}] {verdict}: {result.question}"
        if result.cited_sources:
            first = "right" if result.first_source_right else ("wrong" if result.first_source_right is False else "-")
            line += f"\n      first source {first}: {result.cited_sources[0]}"
        if result.token_recall is not None:
            line += f"\n      token recall {result.token_recall:.2f}"
        if result.error:
            line += f"\n      error: {result.error}"
        self.stdout.write(line)

    def _show_summary(self, summary: dict) -> None:
        def pct(value: float | None) -> str:
            return "-" if value is None else f"{value:.0%}"

        ttft = summary["time_to_first_token_ms"]
        self.stdout.write(
            f"\n{summary['questions']} questions ({summary['answerable']} answerable, "
            f"{summary['unanswerable']} not)\n"
            f"  answerable answered:      {pct(summary['answerable_answered'])}\n"
            f"  unanswerable refused:     {pct(summary['unanswerable_refused'])}\n"
            f"  first cited source right: {pct(summary['first_source_right'])} of the answered\n"
            f"  token recall:             "
            f"{'-' if summary['token_recall'] is None else format(summary['token_recall'], '.2f')}\n"
            f"  time to first token:      p50 {ttft['p50']} ms, p95 {ttft['p95']} ms"
        )


def _json_line(payload: dict) -> str:
    return json.dumps(payload, ensure_ascii=False)
