import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from knowledge.models import FAQ, Document, Embedding, IndexVersion, SourceStatus
from knowledge.tests.samples import SAMPLE_KB

pytestmark = pytest.mark.django_db


def run(*args, **options) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO(), **options)
    return out.getvalue()


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.fixture
def small_kb(tmp_path):
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "returns.md").write_text("# Returns\n\n## Window\n\nReturn any bike within 30 days.\n")
    (tmp_path / "warranty.docx").write_bytes((SAMPLE_KB / "warranty.docx").read_bytes())
    (tmp_path / "faqs.csv").write_text("question,answer\nDo you sell helmets?,Yes: $99 with a light.\n")
    (tmp_path / ".hidden.md").write_text("# Hidden\n\nnot ingested")
    (tmp_path / "notes.xyz").write_text("skipped in folders")
    return tmp_path


def test_ingest_loads_a_folder_with_documents_and_a_faq_csv(small_kb):
    records = json_lines(run("ingest", str(small_kb), json=True))

    summary = records[-1]["summary"]
    assert summary["files"] == 3 and summary["indexed"] == 3 and summary["failed"] == 0
    assert summary["index"] == "published" and summary["index_chunks"] == summary["chunks"]
    assert set(Document.objects.values_list("identifier", flat=True)) == {"returns.md", "warranty.docx"}
    assert FAQ.objects.get().status == SourceStatus.READY
    assert summary["chunks_per_second"] > 0


def test_ingest_is_idempotent_and_embeds_nothing_the_second_time(small_kb):
    run("ingest", str(small_kb), json=True)
    versions, embeddings = IndexVersion.objects.count(), Embedding.objects.count()

    summary = json_lines(run("ingest", str(small_kb), json=True))[-1]["summary"]

    assert (summary["unchanged"], summary["indexed"], summary["embedded"], summary["index"]) == (3, 0, 0, "unchanged")
    assert (IndexVersion.objects.count(), Embedding.objects.count()) == (versions, embeddings)


def test_ingest_replaces_a_changed_file_under_the_same_identifier(small_kb):
    run("ingest", str(small_kb), json=True)
    (small_kb / "policies" / "returns.md").write_text("# Returns\n\n## Window\n\nReturn any bike within 45 days.\n")

    records = json_lines(run("ingest", str(small_kb / "policies" / "returns.md"), json=True))

    assert records[0]["status"] == "indexed"
    assert "45 days" in Document.objects.get(identifier="returns.md").chunks.get().text


def test_ingest_fails_a_bad_file_alone(small_kb):
    (small_kb / "broken.pdf").write_bytes(b"%PDF-1.4 not really")

    records = json_lines(run("ingest", str(small_kb), json=True))

    broken = next(r for r in records if r.get("file", "").endswith("broken.pdf"))
    assert broken["status"] == "failed" and "not a readable PDF" in broken["reason"]
    assert records[-1]["summary"]["indexed"] == 3


def test_ingest_refuses_a_missing_path_before_doing_anything(small_kb):
    with pytest.raises(CommandError, match="No such file or folder: /nope"):
        run("ingest", str(small_kb), "/nope")

    assert not Document.objects.exists()


def test_search_prints_ranked_chunks_with_source_title_heading_and_score(small_kb):
    run("ingest", str(small_kb), verbosity=0)

    text = run("search", "how long can I return a bike", k=2)
    lines = json_lines(run("search", "how long can I return a bike", "-k", "2", "--json"))

    assert text.startswith(" 1. ") and "returns.md  Returns  [Returns > Window]" in text
    assert [line["rank"] for line in lines] == [1, 2]
    assert lines[0]["source_identifier"] == "returns.md" and lines[0]["heading_path"] == "Returns > Window"
    assert {"title", "score", "confidence", "citation", "url"} <= set(lines[0])


def test_search_answers_a_queries_file_with_one_json_line_per_query(small_kb, tmp_path):
    run("ingest", str(small_kb), verbosity=0)
    queries = tmp_path / "queries.txt"
    queries.write_text("helmet price\n\nwarranty on the frame\nreturn window\n")

    lines = json_lines(run("search", "--queries-file", str(queries), "--json", "-k", "1"))

    assert [line["query"] for line in lines] == ["helmet price", "warranty on the frame", "return window"]
    assert lines[0]["results"][0]["source_type"] == "faq"
    assert lines[1]["results"][0]["source_identifier"] == "warranty.docx"


def test_search_without_a_query_is_a_clear_error():
    with pytest.raises(CommandError, match="Give a QUERY"):
        run("search")


def test_reindex_full_rechunks_everything_and_embeds_nothing_unchanged(small_kb):
    run("ingest", str(small_kb), verbosity=0)

    summary = json.loads(run("reindex", "--full", "--json"))

    assert summary["sources"] == 3 and summary["indexed"] == 3
    assert summary["embedded"] == 0
    assert summary["index"] == "published"


def test_reindex_without_full_only_touches_sources_that_are_not_ready(small_kb):
    run("ingest", str(small_kb), verbosity=0)
    Document.objects.filter(identifier="returns.md").update(status=SourceStatus.FAILED)

    summary = json.loads(run("reindex", "--json"))

    assert summary["sources"] == 1
    assert Document.objects.get(identifier="returns.md").status == SourceStatus.READY


def test_kb_eval_scores_dense_keyword_and_hybrid_without_touching_the_live_index(tmp_path):
    folder = tmp_path / "beir"
    (folder / "qrels").mkdir(parents=True)
    corpus = [
        ("d1", "Returns", "Bikes can be returned within 30 days of delivery."),
        ("d2", "Shipping", "We ship to all 50 US states and to Canada."),
        ("d3", "Warranty", "The frame has a lifetime warranty for the original owner."),
        ("d4", "Batteries", "A battery keeps 80% of its capacity for 800 cycles."),
    ]
    (folder / "corpus.jsonl").write_text("\n".join(json.dumps({"_id": i, "title": t, "text": x}) for i, t, x in corpus))
    (folder / "queries.jsonl").write_text(
        "\n".join(
            json.dumps({"_id": q, "text": t})
            for q, t in [
                ("q1", "can I send my bike back"),
                ("q2", "do you deliver to Canada"),
                ("q3", "is the frame guaranteed forever"),
            ]
        )
    )
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\nq3\td3\t1\n")

    report = json.loads(run("kb_eval", str(folder), json=True))
    table = run("kb_eval", str(folder))

    assert set(report["metrics"]) == {"dense", "keyword", "hybrid"}
    assert report["metrics"]["dense"]["ndcg@10"] == 1.0
    assert set(report["metrics"]["hybrid"]) == {"ndcg@10", "recall@10", "mrr@10"}
    assert "nDCG@10" in table and "Recall@10" in table and "MRR@10" in table
    assert not Document.objects.exists() and not IndexVersion.objects.exists() and not Embedding.objects.exists()


def test_kb_eval_names_what_is_missing_from_a_folder(tmp_path):
    with pytest.raises(CommandError, match="has no corpus.jsonl"):
        run("kb_eval", str(tmp_path))
