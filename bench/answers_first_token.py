"""
How much time the backend adds before the first token.

Runs the real answer pipeline (`chatbot.pipeline.answer_stream`) in-process on
the sample knowledge base, once per question of the knowledge base's eval set,
and reports p50/p99 of:

- retrieval: the hybrid search alone (embedding, FAISS, BM25, fusion, the chunk rows);
- added_before_llm: from the visitor's message to the moment the LLM server
  receives the request (retrieval, storing the message, loading history,
  building the prompt, the openai client sending it), measured with a fake
  OpenAI-compatible server on loopback that answers at once;
- first_token_extractive: from the visitor's message to the first token frame
  with the extractive provider (everything a visitor waits for, no model);
  `_cold` with the process's cache of short-text vectors emptied first, so the
  question and the candidate sentences are embedded then (a question about a
  section nobody asked about since the process started), the other with the
  question set's sections already seen, as in a running process.

    python -m bench.answers_first_token [--rounds 3] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from contextlib import aclosing

from bench.answers_common import django_setup, questions, summary_ms
from bench.results import Figure, run_save, run_start

TARGET_P50_MS = 40.0


async def _measure(question_list: list[str], rounds: int, warmup: int) -> dict:
    from django.conf import settings

    from chatbot.pipeline import answer_stream
    from conversations.models import new_conversation_id
    from knowledge.embeddings import few_cache_clear
    from knowledge.selectors import asearch
    from testsupport.fake_openai import FakeOpenAI

    retrieval, added, first_token, first_token_cold = [], [], [], []

    async def first_token_of(text: str) -> float:
        started = time.monotonic()
        async with aclosing(answer_stream(conversation_id=new_conversation_id(), text=text)) as frames:
            async for frame in frames:
                if frame["type"] == "token":
                    return time.monotonic() - started
        raise RuntimeError(f"no token for {text!r}")

    with FakeOpenAI() as llm:
        for round_number in range(rounds + 1):
            for index, text in enumerate(question_list):
                keep = round_number > 0 or index >= warmup

                started = time.monotonic()
                await asearch(query=text, k=8)
                if keep:
                    retrieval.append(time.monotonic() - started)

                settings.LLM_PROVIDER = "extractive"
                elapsed = await first_token_of(text)
                if keep:
                    first_token.append(elapsed)

                settings.LLM_PROVIDER, settings.OPENAI_BASE_URL, settings.OPENAI_API_KEY = (
                    "openai",
                    llm.base_url,
                    "sk-bench",
                )
                seen = len(llm.requests)
                started = time.monotonic()
                async for _frame in answer_stream(conversation_id=new_conversation_id(), text=text):
                    pass
                if keep and len(llm.requests) > seen:
                    added.append(llm.requests[seen].received_at - started)
        settings.LLM_PROVIDER = "extractive"
        for text in question_list:
            few_cache_clear()
            first_token_cold.append(await first_token_of(text))
    return {
        "retrieval": summary_ms(retrieval),
        "added_before_llm": summary_ms(added),
        "first_token_extractive": summary_ms(first_token),
        "first_token_extractive_cold": summary_ms(first_token_cold),
    }


def headline(results: dict) -> list[Figure]:
    added, retrieval, extractive = results["added_before_llm"], results["retrieval"], results["first_token_extractive"]
    cold = results["first_token_extractive_cold"]
    return [
        Figure(
            "Time the backend adds before the LLM request (retrieval, storing, history, prompt)",
            f"p50 {added['p50_ms']} ms, p99 {added['p99_ms']} ms (retrieval alone p50 {retrieval['p50_ms']} ms, "
            f"p99 {retrieval['p99_ms']} ms)",
            target=f"p50 ≤ {TARGET_P50_MS:g} ms",
            met=results["meets_target"],
        ),
        Figure(
            "First token with the extractive provider, in-process",
            f"p50 {extractive['p50_ms']} ms, p99 {extractive['p99_ms']} ms",
        ),
        Figure(
            "First token with the extractive provider, its sentence vectors not cached yet (cold)",
            f"p50 {cold['p50_ms']} ms, p99 {cold['p99_ms']} ms",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="passes over the question set (after a warm-up pass)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    run = run_start(benchmark="answers_first_token", area="Answers")

    django_setup()
    question_list = questions()
    from chatbot.selectors import bot_settings_get

    bot = bot_settings_get()
    results = asyncio.run(_measure(question_list, args.rounds, warmup=len(question_list)))
    results["questions"] = len(question_list)
    results["rounds"] = args.rounds
    results["threshold"] = {"answer": bot.answer_threshold, "similarity_floor": bot.confidence_threshold}
    results["target_p50_ms"] = TARGET_P50_MS
    results["meets_target"] = results["added_before_llm"]["p50_ms"] <= TARGET_P50_MS
    run_save(run=run, figures=results, headline=headline(results))
    if args.json:
        print(json.dumps(results))
        return
    print(f"{len(question_list)} questions x {args.rounds} rounds, in-process, embedded SQLite, sample knowledge base")
    print("(2 shared cores: figures are noisy)")
    for name in ("retrieval", "added_before_llm", "first_token_extractive", "first_token_extractive_cold"):
        row = results[name]
        print(f"  {name:28s} p50 {row['p50_ms']:7.2f} ms   p99 {row['p99_ms']:7.2f} ms   (n={row['n']})")
    verdict = "meets" if results["meets_target"] else "MISSES"
    print(f"  target: at most {TARGET_P50_MS:.0f} ms added at p50 -> {verdict}")


if __name__ == "__main__":
    main()
