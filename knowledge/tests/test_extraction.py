from knowledge.extraction import extract, parse_faq_csv
from knowledge.tests.samples import SAMPLE_KB, docx_bytes


def kinds(extracted):
    return [(block.kind, block.text) for block in extracted.blocks]


def test_it_reads_pdf_headings_by_font_size_and_keeps_the_page_of_each_block():
    extracted = extract(data=(SAMPLE_KB / "returns-policy.pdf").read_bytes(), filename="returns-policy.pdf")

    headings = [(b.level, b.text, b.page) for b in extracted.blocks if b.kind == "heading"]
    assert extracted.title == "Returns policy"
    assert (1, "Returns policy", 1) in headings
    assert (2, "Refunds", 2) in headings
    refunds = next(b for b in extracted.blocks if b.text.startswith("We inspect returned items"))
    assert refunds.page == 2
    assert "Card refunds appear within 5 to 10 business days" in refunds.text


def test_it_joins_wrapped_pdf_lines_into_paragraphs_and_list_items():
    extracted = extract(data=(SAMPLE_KB / "care-and-maintenance.pdf").read_bytes(), filename="care.pdf")

    items = [b for b in extracted.blocks if b.kind == "list_item"]
    assert len(items) == 4
    assert items[1].text == (
        "For storage longer than a month, charge it to between 40% and 60% and top it up every 3 months."
    )
    assert len({item.group for item in items}) == 1


def test_it_reads_docx_headings_lists_and_tables_in_document_order():
    extracted = extract(data=(SAMPLE_KB / "warranty.docx").read_bytes(), filename="warranty.docx")

    sequence = kinds(extracted)
    coverage = sequence.index(("heading", "Coverage periods"))
    assert sequence[coverage + 1] == (
        "table_row",
        "Component: Frame and fork | Coverage: Lifetime for the original owner",
    )
    numbered = [text for kind, text in sequence if kind == "list_item" and text[0].isdigit()]
    assert numbered[0].startswith("1. Email warranty@tidewaterbikes.example")
    assert numbered[2].startswith("3. Covered repairs")


def test_it_reads_merged_docx_cells_once():
    def build(document):
        table = document.add_table(rows=2, cols=3)
        table.rows[0].cells[0].text, table.rows[0].cells[1].text, table.rows[0].cells[2].text = "Plan", "Months", "APR"
        merged = table.rows[1].cells[0].merge(table.rows[1].cells[1])
        merged.text = "Promo"
        table.rows[1].cells[2].text = "0%"

    extracted = extract(data=docx_bytes(build), filename="plans.docx")

    assert kinds(extracted) == [("table_row", "Plan: Promo | Months: 0%")]


def test_it_reads_markdown_tables_as_self_describing_rows():
    extracted = extract(data=(SAMPLE_KB / "shipping-and-delivery.md").read_bytes(), filename="shipping.md")

    rows = [text for kind, text in kinds(extracted) if kind == "table_row"]
    assert rows[3] == "Destination: Canada | Bikes: 6-10 business days | Parts and accessories: 4-8 business days"


def test_it_keeps_markdown_list_markers_and_drops_inline_markup():
    text = "# Title\n\nSome **bold** and `code` and [a link](http://x).\n\n1. first\n2. second\n\n- a\n  - nested\n"

    extracted = extract(data=text.encode(), filename="note.md")

    assert kinds(extracted) == [
        ("heading", "Title"),
        ("paragraph", "Some bold and code and a link."),
        ("list_item", "1. first"),
        ("list_item", "2. second"),
        ("list_item", "a"),
        ("list_item", "  nested"),
    ]


def test_html_becomes_text_only_without_scripts_styles_or_navigation():
    html = b"""<html><head><title>Opening hours</title><style>body{color:red}</style>
    <script>var secret = "do-not-index";</script></head><body>
    <nav><a href="/">Home</a> <a href="/shop">Shop</a></nav>
    <main><h1>Opening hours</h1><p>We are open <b>Tue-Sun</b>.</p>
    <script>document.write("tracking")</script><noscript>enable js</noscript>
    <ul><li>Portland</li><li>Seattle</li></ul>
    <table><tr><th>Day</th><th>Hours</th></tr><tr><td>Sunday</td><td>10-6</td></tr></table>
    <div>Loose <span>text</span> here</div></main>
    <footer>Copyright</footer></body></html>"""

    extracted = extract(data=html, filename="hours.html")

    flat = " ".join(text for _, text in kinds(extracted))
    assert extracted.title == "Opening hours"
    assert "do-not-index" not in flat and "tracking" not in flat and "color" not in flat
    assert "Home" not in flat and "Copyright" not in flat and "enable js" not in flat
    assert kinds(extracted) == [
        ("heading", "Opening hours"),
        ("paragraph", "We are open Tue-Sun."),
        ("list_item", "Portland"),
        ("list_item", "Seattle"),
        ("table_row", "Day: Sunday | Hours: 10-6"),
        ("paragraph", "Loose text here"),
    ]


def test_plain_text_is_split_into_paragraphs_and_lists():
    text = "First paragraph\ncontinues here.\n\n- one\n- two\n\nLast."

    extracted = extract(data=text.encode("utf-16"), filename="notes.txt", fallback_title="Notes")

    assert extracted.title == "Notes"
    assert kinds(extracted) == [
        ("paragraph", "First paragraph continues here."),
        ("list_item", "one"),
        ("list_item", "two"),
        ("paragraph", "Last."),
    ]


def test_it_parses_faq_csv_with_any_column_order_and_reports_bad_lines():
    data = 'Answer;Question;Notes\nYes, we do.;Do you ship to Canada?;x\n;Empty answer?;\n\n"Multi\nline";Q2?;\n'

    parsed = parse_faq_csv(data.encode("utf-8-sig"))

    assert [(row.question, row.answer) for row in parsed.rows] == [
        ("Do you ship to Canada?", "Yes, we do."),
        ("Q2?", "Multi\nline"),
    ]
    assert parsed.skipped == ["line 3: the answer is empty"]
