from knowledge.chunking import chunk_blocks
from knowledge.embeddings import count_tokens
from knowledge.extraction import Block, extract
from knowledge.tests.samples import SAMPLE_KB


def chunk(blocks, *, max_tokens=200, overlap=30, title="Doc"):
    return chunk_blocks(
        blocks=blocks, title=title, max_tokens=max_tokens, overlap_tokens=overlap, count_tokens=count_tokens
    )


def test_each_section_is_its_own_chunk_with_its_heading_path_and_page():
    extracted = extract(data=(SAMPLE_KB / "returns-policy.pdf").read_bytes(), filename="returns-policy.pdf")

    chunks = chunk(extracted.blocks)

    refunds = next(c for c in chunks if c.heading_path == "Returns policy > Refunds")
    assert refunds.page == 2
    assert refunds.text.startswith("We inspect returned items")
    assert "A restocking fee of 10% applies" in refunds.text
    assert [c.heading_path for c in chunks][:2] == ["Returns policy", "Returns policy > Returns window"]


def test_a_list_and_a_table_stay_in_one_chunk_when_they_fit():
    extracted = extract(data=(SAMPLE_KB / "warranty.docx").read_bytes(), filename="warranty.docx")

    chunks = chunk(extracted.blocks)

    coverage = next(c for c in chunks if c.heading_path == "Warranty > Coverage periods")
    assert coverage.text.count("\n") == 4
    assert "Component: Paint and finish | Coverage: 1 year" in coverage.text
    claim = next(c for c in chunks if c.heading_path == "Warranty > How to make a warranty claim")
    assert claim.text.startswith("1. Email") and "\n3. Covered repairs" in claim.text


def test_deeper_headings_nest_and_a_new_sibling_replaces_the_old_one():
    blocks = [
        Block("heading", "Guide", level=1),
        Block("heading", "Battery", level=2),
        Block("heading", "Storage", level=3),
        Block("paragraph", "Keep it cool."),
        Block("heading", "Charging", level=2),
        Block("paragraph", "Use the charger."),
    ]

    paths = [c.heading_path for c in chunk(blocks)]

    assert paths == ["Guide > Battery > Storage", "Guide > Charging"]


def test_chunks_never_exceed_the_token_budget_and_a_long_list_splits_between_items():
    items = [Block("list_item", f"Item {n}: " + "spare parts and accessories " * 6, group=1) for n in range(20)]

    chunks = chunk([Block("heading", "Parts", level=1), *items], max_tokens=80, overlap=0)

    assert len(chunks) > 3
    assert all(c.token_count <= 80 for c in chunks)
    assert all(c.token_count == count_tokens(c.text) for c in chunks)
    for c in chunks:
        for line in c.text.split("\n"):
            assert line.startswith("- Item "), "an item was cut in the middle"


def test_a_continued_section_repeats_the_end_of_the_previous_chunk():
    sentences = [f"Sentence number {n} talks about frame size {n} and rider height." for n in range(40)]
    blocks = [Block("heading", "Sizing", level=1), Block("paragraph", " ".join(sentences))]

    chunks = chunk(blocks, max_tokens=100, overlap=25)

    assert len(chunks) >= 3
    assert all(c.token_count <= 100 for c in chunks)
    assert all(c.token_count == count_tokens(c.text) for c in chunks)
    for previous, following in zip(chunks, chunks[1:], strict=False):
        last_sentence = previous.text.rsplit(". ", 1)[-1]
        assert following.text.startswith(last_sentence.split()[0])
        assert last_sentence in following.text


def test_a_sentence_longer_than_a_chunk_is_cut_at_word_boundaries():
    blocks = [Block("paragraph", " ".join(f"word{n}" for n in range(600)))]

    chunks = chunk(blocks, max_tokens=64, overlap=0)

    assert all(c.token_count <= 64 for c in chunks)
    rebuilt = " ".join(c.text for c in chunks).split()
    assert rebuilt == [f"word{n}" for n in range(600)]


def test_a_document_without_headings_has_an_empty_heading_path():
    chunks = chunk([Block("paragraph", "Just text.")])

    assert [(c.heading_path, c.text, c.page) for c in chunks] == [("", "Just text.", None)]
