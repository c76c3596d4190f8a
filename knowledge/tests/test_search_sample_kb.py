"""Retrieval over the real sample knowledge base, ingested once for this module by the `ingest` command."""

import pytest
from django.core.management import call_command

from knowledge.models import FAQ, Chunk, Document, Embedding, IndexVersion
from knowledge.selectors import asearch, search
from knowledge.tests.samples import SAMPLE_KB

# Clear in-KB questions score well above this, clear out-of-KB ones well below; the
# answer decision of the chat pipeline is calibrated by `python -m bench.answer_decision`.
IN_KB_FLOOR = 0.45
OUT_OF_KB_CEILING = 0.30


@pytest.fixture(scope="module", autouse=True)
def sample_kb(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        call_command("ingest", str(SAMPLE_KB), verbosity=0)
        yield
        for model in (Chunk, Document, FAQ, IndexVersion, Embedding):
            model.objects.all().delete()


pytestmark = pytest.mark.django_db

IN_KB = [
    ("How long do card refunds take?", "returns-policy.pdf", "Returns policy > Refunds", 2),
    (
        "What tyre pressure for the Trail X?",
        "care-and-maintenance.pdf",
        "Care and maintenance guide > Tyre pressure",
        2,
    ),
    (
        "How many days does delivery to Canada take?",
        "shipping-and-delivery.md",
        "Shipping and delivery > Delivery times",
        None,
    ),
    ("What does the Cargo Long cost?", "products.md", "Tidewater e-bike range > Tidewater Cargo Long", None),
    (
        "How much is white glove delivery?",
        "shipping-and-delivery.md",
        "Shipping and delivery > White-glove delivery",
        None,
    ),
    ("How long do you keep my chat messages?", "privacy-policy.md", "Privacy policy > How long we keep it", None),
]
OUT_OF_KB = [
    "What is the capital of Australia?",
    "Can you recommend a good pizza place?",
    "How do I reset my router password?",
    "Who won the football world cup in 1998?",
]


@pytest.mark.parametrize(("query", "identifier", "heading_path", "page"), IN_KB)
def test_the_top_result_is_the_right_section_with_its_citation(query, identifier, heading_path, page):
    top = search(query=query, k=3)[0]

    assert (top.source_identifier, top.heading_path, top.page) == (identifier, heading_path, page)
    assert top.confidence >= IN_KB_FLOOR


def test_a_table_row_answer_is_among_the_first_results():
    results = search(query="How long is the battery covered by the warranty?", k=3)

    coverage = [r for r in results if r.heading_path == "Warranty > Coverage periods"]
    assert coverage and "Component: Battery | Coverage: 2 years or 800 charge cycles" in coverage[0].text


def test_an_faq_answers_as_one_chunk_with_question_and_answer():
    top = search(query="can I take my e-bike battery on an airplane", k=1)[0]

    assert top.source_type == "faq"
    assert top.text.startswith("Can I take the battery on a plane?\nNo.")


def test_questions_outside_the_knowledge_base_stay_below_the_threshold():
    confidences = [search(query=query, k=1)[0].confidence for query in OUT_OF_KB]

    assert max(confidences) < OUT_OF_KB_CEILING


def test_keyword_only_hits_get_a_comparable_similarity_and_results_are_ordered_by_fused_score():
    results = search(query="FedEx Freight signature", k=8)

    assert results[0].heading_path == "Shipping and delivery > Tracking your order"
    assert results[0].keyword_rank == 1
    assert all(0.0 <= r.confidence <= 1.0 for r in results)
    assert [r.score for r in results] == sorted((r.score for r in results), reverse=True)
    keyword_only = [r for r in results if r.dense_rank is None]
    assert all(r.confidence != 0.0 for r in keyword_only)


def test_a_citation_url_opens_the_escaped_text_of_that_chunk(client):
    top = search(query="restocking fee", k=1)[0]
    page_url, anchor = top.url.split("#")

    response = client.get(page_url)

    assert response.status_code == 200
    body = response.content.decode()
    assert f'id="{anchor}"' in body
    assert "A restocking fee of 10% applies" in body


def test_an_inactive_source_never_comes_back_even_before_the_next_version():
    Document.objects.filter(identifier="returns-policy.pdf").update(is_active=False)

    results = search(query="How long do card refunds take?", k=8)

    assert "returns-policy.pdf" not in {r.source_identifier for r in results}
    assert len(results) == 8


def test_k_limits_the_number_of_results_and_an_empty_query_finds_nothing():
    assert len(search(query="battery", k=3)) == 3
    assert search(query="   ", k=3) == []


async def test_the_async_search_runs_off_the_event_loop_with_the_same_results():
    results = await asearch(query="How long do card refunds take?", k=2)

    assert [r.heading_path for r in results][0] == "Returns policy > Refunds"
