"""
Regenerates bench/data/tidewater/corpus.jsonl from sample_kb/ (one document per
section, as the ingest pipeline chunks it, and one per FAQ). The queries and
relevance judgements next to it are written by hand and kept as they are.

    python -m bench.build_tidewater_eval
"""

import csv
import json
import os
import re
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatbot.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402

from knowledge.chunking import chunk_blocks  # noqa: E402
from knowledge.embeddings import count_tokens  # noqa: E402
from knowledge.extraction import extract  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "data" / "tidewater"


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def main() -> None:
    rows = []
    for path in sorted((ROOT / "sample_kb").iterdir()):
        if path.suffix == ".csv":
            with path.open(encoding="utf-8") as handle:
                for number, row in enumerate(csv.DictReader(handle), start=1):
                    rows.append({"_id": f"faq-{number}", "title": row["question"], "text": row["answer"]})
            continue
        extracted = extract(data=path.read_bytes(), filename=path.name)
        drafts = chunk_blocks(
            blocks=extracted.blocks,
            title=extracted.title,
            max_tokens=settings.CHUNK_TOKENS,
            overlap_tokens=settings.CHUNK_OVERLAP_TOKENS,
            count_tokens=count_tokens,
        )
        for draft in drafts:
            section = draft.heading_path.split(" > ")[-1] if draft.heading_path else extracted.title
            rows.append(
                {
                    "_id": f"{path.stem}#{slug(section)}",
                    "title": draft.heading_path or extracted.title,
                    "text": draft.text,
                }
            )
    OUT.mkdir(parents=True, exist_ok=True)
    with (OUT / "corpus.jsonl").open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(rows)} documents written to {OUT / 'corpus.jsonl'}")


if __name__ == "__main__":
    main()
