"""
The `ingest` command embeds the new chunks of several files in one batch, yet
each file still succeeds or fails on its own, with its reason.
"""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from knowledge.models import Chunk, Document, SourceStatus

pytestmark = pytest.mark.django_db


def ingest(*paths) -> list[dict]:
    out = StringIO()
    call_command("ingest", *map(str, paths), json=True, stdout=out, stderr=StringIO())
    return [json.loads(line) for line in out.getvalue().splitlines()]


def write_policies(folder, names=("returns", "shipping", "warranty")):
    for name in names:
        (folder / f"{name}.md").write_text(
            f"# {name.title()}\n\n## Who\n\nEvery {name} question goes to the {name} desk.\n\n"
            f"## When\n\nThe {name} desk answers within two working days.\n"
        )


def embedding_requests(fake):
    return [request for request in fake.requests if request["path"] == "/v1/embeddings"]


def test_the_new_chunks_of_several_files_reach_the_model_in_one_request(openai_embeddings, settings, tmp_path):
    settings.EMBEDDING_BATCH_SIZE = 64
    write_policies(tmp_path)

    records = ingest(tmp_path)

    assert [record["status"] for record in records[:-1]] == ["indexed"] * 3
    requests = embedding_requests(openai_embeddings)
    assert len(requests) == 1
    assert sorted(requests[0]["body"]["input"]) == sorted(Chunk.objects.values_list("search_text", flat=True))
    assert records[-1]["summary"]["embedded"] == Chunk.objects.count() == 6


def test_when_the_batch_cannot_be_embedded_each_file_fails_alone_and_keeps_its_old_chunks(
    openai_embeddings, settings, tmp_path
):
    settings.EMBEDDING_BATCH_SIZE = 64
    write_policies(tmp_path, names=("returns",))
    ingest(tmp_path)
    (tmp_path / "returns.md").write_text("# Returns\n\nReturns now take 45 days.\n")
    write_policies(tmp_path, names=("shipping", "warranty"))
    openai_embeddings.failures.extend([500] * 10)

    records = ingest(tmp_path)

    assert [record["status"] for record in records[:-1]] == ["failed"] * 3
    assert all("answered 500" in record["reason"] for record in records[:-1])
    returns = Document.objects.get(identifier="returns.md")
    assert returns.status == SourceStatus.FAILED and "answered 500" in returns.status_reason
    assert "two working days" in " ".join(returns.chunks.values_list("text", flat=True))


def test_a_changed_and_an_unchanged_file_are_told_apart_in_one_batch(openai_embeddings, settings, tmp_path):
    settings.EMBEDDING_BATCH_SIZE = 64
    write_policies(tmp_path, names=("returns", "shipping"))
    ingest(tmp_path)
    (tmp_path / "shipping.md").write_text("# Shipping\n\nWe ship to Canada too.\n")
    before = len(embedding_requests(openai_embeddings))

    records = ingest(tmp_path)

    by_file = {record["file"].rsplit("/", 1)[-1]: record["status"] for record in records[:-1]}
    assert by_file == {"returns.md": "unchanged", "shipping.md": "indexed"}
    assert len(embedding_requests(openai_embeddings)) == before + 1
    assert records[-1]["summary"]["embedded"] == 1


def test_a_broken_file_in_a_batch_fails_alone_while_the_others_are_indexed(tmp_path):
    write_policies(tmp_path, names=("returns", "shipping"))
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 not really")

    records = ingest(tmp_path)

    by_file = {record["file"].rsplit("/", 1)[-1]: record["status"] for record in records[:-1]}
    assert by_file == {"broken.pdf": "failed", "returns.md": "indexed", "shipping.md": "indexed"}
    assert Document.objects.get(identifier="broken.pdf").status == SourceStatus.FAILED
    assert Document.objects.filter(status=SourceStatus.READY).count() == 2
