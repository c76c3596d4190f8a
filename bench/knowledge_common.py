"""
Shared set-up of the knowledge benchmarks: a throwaway embedded install
(SQLite in a temporary DATA_DIR, the developer's data untouched), generated
corpora and knowledge bases, percentiles and the report printer.

Figures on this 2-core machine are noisy when other work runs: every report
says how many cores it saw and its load average at the start.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np

BASE_DIR = Path(__file__).resolve().parent.parent
SAMPLE_KB = BASE_DIR / "sample_kb"
TIDEWATER_SET = BASE_DIR / "bench" / "data" / "tidewater"
# Knowledge bases the load benchmarks run on (`--kb`): the sample one alone,
# or on top of 10,000 generated chunks, so that memory figures include a real index.
KNOWLEDGE_BASES = {"sample": 0, "10k": 10_000}
DIMENSION = 384
CLUSTERS = 2000


def django_setup(*, prefix: str, data_dir: Path | None = None, **environment: str) -> Path:
    """Configures Django on a fresh temporary install; returns its DATA_DIR."""
    data_dir = data_dir or Path(tempfile.mkdtemp(prefix=f"bench-{prefix}-"))
    for name in ("DATABASE_URL", "REDIS_URL", "DATABASE_TEST_NAME"):
        os.environ.pop(name, None)
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "chatbot.settings",
            "DATA_DIR": str(data_dir),
            "DOTENV": "0",
            "TASK_BACKEND": "immediate",
            "HF_HUB_OFFLINE": "1",
            "LOG_LEVEL": "warning",
            **environment,
        }
    )
    if str(BASE_DIR) not in sys.path:
        sys.path.insert(0, str(BASE_DIR))
    import warnings

    warnings.filterwarnings("ignore", message="No directory at")  # whitenoise: no collectstatic in a bench
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return data_dir


def machine() -> dict:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return {"cores": os.cpu_count(), "load_average_1m": round(load, 2) if load is not None else None}


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def latency_ms(seconds: list[float]) -> dict:
    return {
        "p50_ms": round(percentile(seconds, 0.50) * 1000, 2),
        "p90_ms": round(percentile(seconds, 0.90) * 1000, 2),
        "p99_ms": round(percentile(seconds, 0.99) * 1000, 2),
        "max_ms": round(max(seconds) * 1000, 2) if seconds else None,
        "mean_ms": round(statistics.fmean(seconds) * 1000, 2) if seconds else None,
        "n": len(seconds),
    }


def corpus_label(name: str) -> str:
    """`sample_kb` -> "sample KB", `generated_2000` -> "generated corpus" (the figure keys of the ingest benchmarks)."""
    return "sample KB" if name == "sample_kb" else "generated corpus" if name.startswith("generated_") else name


def parser(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--json", action="store_true", help="Print one JSON object instead of the table.")
    return parser


def report(title: str, figures: dict, *, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"benchmark": title, **figures}))
        return
    print(f"== {title}")
    for key, value in _flatten(figures):
        print(f"  {key}: {value}")


def _flatten(figures: dict, prefix: str = ""):
    for key, value in figures.items():
        if isinstance(value, dict):
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


WORDS = (
    "battery motor frame wheel brake chain tyre pressure warranty return refund shipping delivery order "
    "commuter cargo trail rider saddle pedal assist speed range charge charger display light fender rack "
    "showroom service tune-up mechanic helmet lock accessory price discount financing lease fleet invoice "
    "customer support email phone week month year day hour mile distance weight size step-through torque "
    "mountain city gravel rain winter storage cleaning repair replacement part package carrier tracking "
    "signature damage photo claim policy privacy data account payment card bank approval exchange model"
).split()
FILLER = "the a our your every each this that with for from to of in on at by and or but when if".split()


def sentence(rng: random.Random) -> str:
    words = []
    for _ in range(rng.randint(10, 22)):
        words.append(rng.choice(WORDS) if rng.random() < 0.55 else rng.choice(FILLER))
    number = rng.choice(["", f" {rng.randint(2, 900)}", f" ${rng.randint(20, 4000)}"])
    return (" ".join(words) + number).capitalize() + "."


def generated_markdown_corpus(directory: Path, *, sections: int, seed: int = 7, sections_per_file: int = 50) -> Path:
    """Markdown files whose sections each hold ~130-190 tokens: one chunk per section."""
    rng = random.Random(seed)
    directory.mkdir(parents=True, exist_ok=True)
    for file_number in range((sections + sections_per_file - 1) // sections_per_file):
        lines = [f"# Handbook volume {file_number + 1}", ""]
        for section in range(min(sections_per_file, sections - file_number * sections_per_file)):
            lines += [f"## Topic {file_number + 1}.{section + 1}: {rng.choice(WORDS)} and {rng.choice(WORDS)}", ""]
            lines += [" ".join(sentence(rng) for _ in range(rng.randint(5, 7))), ""]
        (directory / f"handbook-{file_number + 1:03}.md").write_text("\n".join(lines))
    return directory


def generated_chunks_create(*, size: int, seed: int = 11) -> None:
    """
    Replaces the knowledge base with `size` generated chunks: text from
    `sentence()` and, as their embeddings, unit vectors drawn around 2,000
    cluster centres in 384 dimensions (embedding 100,000 real chunks takes
    hours on two cores), written straight to the chunk and embedding rows.
    Publishing an index version from them is the caller's next step.
    """
    from django.db import transaction

    from knowledge.chunking import content_hash
    from knowledge.embeddings import get_provider
    from knowledge.models import FAQ, Chunk, Document, Embedding, IndexVersion, SourceStatus

    for model in (Chunk, Document, FAQ, IndexVersion, Embedding):
        model.objects.all().delete()
    rng = random.Random(seed)
    vectors_rng = np.random.default_rng(seed)
    centres = vectors_rng.standard_normal((CLUSTERS, DIMENSION)).astype(np.float32)
    model_id = get_provider().model_id
    per_document = 100
    batch = 2000
    with transaction.atomic():
        documents = Document.objects.bulk_create(
            [
                Document(
                    kind=Document.Kind.TEXT,
                    title=f"Generated handbook {n}",
                    identifier=f"text:generated-{n}",
                    status=SourceStatus.READY,
                    text="(generated)",
                )
                for n in range((size + per_document - 1) // per_document)
            ]
        )
    for start in range(0, size, batch):
        chunks, embeddings = [], []
        count = min(batch, size - start)
        noise = vectors_rng.standard_normal((count, DIMENSION)).astype(np.float32) * 0.6
        vectors = centres[vectors_rng.integers(0, CLUSTERS, count)] + noise
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        for offset in range(count):
            number = start + offset
            heading = f"Generated handbook {number // per_document} > Topic {number % per_document}"
            text = " ".join(sentence(rng) for _ in range(3))
            search_text = f"{heading}\n{text}"
            digest = content_hash(search_text)
            chunks.append(
                Chunk(
                    document=documents[number // per_document],
                    position=number % per_document,
                    text=text,
                    heading_path=heading,
                    token_count=len(text.split()),
                    search_text=search_text,
                    content_hash=digest,
                )
            )
            embeddings.append(
                Embedding(model_id=model_id, content_hash=digest, dimension=DIMENSION, vector=vectors[offset].tobytes())
            )
        with transaction.atomic():
            Chunk.objects.bulk_create(chunks, batch_size=500)
            Embedding.objects.bulk_create(embeddings, batch_size=500, ignore_conflicts=True)


def knowledge_base_prepare(*, kb: str) -> int:
    """
    The knowledge base of a load benchmark, indexed and published: the sample
    one, on top of `KNOWLEDGE_BASES[kb]` generated chunks. Returns its chunk count.
    """
    from django.core.management import call_command

    from knowledge.models import Chunk

    generated = KNOWLEDGE_BASES[kb]
    if generated:
        generated_chunks_create(size=generated)
    call_command("ingest", str(SAMPLE_KB), verbosity=0)
    return Chunk.objects.count()
