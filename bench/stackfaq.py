"""
The StackFAQ protocol (../shared/datasets/stackfaq/README.md), built at run time.

Threads are taken in file order; threads 0-3 of every 5 go into the knowledge
base as FAQs (question + first answer), every 5th is held out. Rephrasings of a
thread in the KB are answerable (the right source is its FAQ); rephrasings of a
held-out thread are not. Dev = even threads, test = odd threads. Nothing of the
data set is copied into the repository.

    python -m bench.stackfaq OUT_DIR [--dataset PATH]

writes OUT_DIR/faqs.csv (for `manage.py ingest`) and OUT_DIR/dev.jsonl,
OUT_DIR/test.jsonl (for `manage.py answer_eval`; each question carries its
thread as `group`). With `as_document`, the same FAQs become help-centre
articles instead (OUT_DIR/help-centre/, one Markdown file per FAQ with its
question as the title), and the answerable questions expect their article's
file: the same questions against a knowledge base of documents.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

DATASET_FILE = Path("shared") / "datasets" / "stackfaq" / "stackExchange-FAQ.json"


def default_dataset() -> Path:
    """`shared/datasets/stackfaq/` next to the checkout (or next to one of its parent folders)."""
    for folder in Path(__file__).resolve().parents[1:]:
        if (folder / DATASET_FILE).is_file():
            return folder / DATASET_FILE
    return Path(__file__).resolve().parents[2] / DATASET_FILE


MIN_REPHRASING_CHARS = 4
HELP_CENTRE_DIR = "help-centre"


def _article_name(number: int) -> str:
    return f"article-{number:03}.md"


def stackfaq_build(*, out_dir: Path, dataset: Path | None = None, as_document: bool = False) -> dict[str, Path]:
    """Writes the protocol's files; returns their paths by name (faqs or documents, dev, test)."""
    threads = json.loads((dataset or default_dataset()).read_text(encoding="utf-8"))["root"]["qapair"]
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"dev": out_dir / "dev.jsonl", "test": out_dir / "test.jsonl"}
    kept = [thread for position, thread in enumerate(threads) if position % 5 != 4]
    if as_document:
        paths["documents"] = out_dir / HELP_CENTRE_DIR
        paths["documents"].mkdir(exist_ok=True)
        for position, thread in enumerate(threads):
            if position % 5 != 4:
                (paths["documents"] / _article_name(position)).write_text(
                    f"# {thread['question'].strip()}\n\n{thread['answer'][0].strip()}\n", encoding="utf-8"
                )
    else:
        paths["faqs"] = out_dir / "faqs.csv"
        with paths["faqs"].open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["question", "answer"])
            for thread in kept:
                writer.writerow([thread["question"].strip(), thread["answer"][0].strip()])
    splits = {"dev": paths["dev"].open("w", encoding="utf-8"), "test": paths["test"].open("w", encoding="utf-8")}
    try:
        for position, thread in enumerate(threads):
            in_kb = position % 5 != 4
            expected = _article_name(position) if as_document else thread["question"].strip()
            row_base = {
                "expected_sources": [expected] if in_kb else [],
                "expected_answer": thread["answer"][0].strip() if in_kb else "",
                "group": f"thread {position}" + ("" if in_kb else " (held out)"),
            }
            handle = splits["dev" if position % 2 == 0 else "test"]
            for rephrasing in thread["rephr"]:
                if not isinstance(rephrasing, str) or len(rephrasing.strip()) < MIN_REPHRASING_CHARS:
                    continue
                handle.write(json.dumps({"question": rephrasing.strip(), **row_base}, ensure_ascii=False) + "\n")
    finally:
        for handle in splits.values():
            handle.close()
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description="Builds the StackFAQ answer-quality protocol's files.")
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--dataset", type=Path, default=None, help="default: ../shared/datasets/stackfaq/")
    parser.add_argument("--as-document", action="store_true", help="The FAQs as one help-centre document.")
    args = parser.parse_args()
    for name, path in stackfaq_build(out_dir=args.out_dir, dataset=args.dataset, as_document=args.as_document).items():
        print(f"{name}: {path}")


if __name__ == "__main__":
    main()
