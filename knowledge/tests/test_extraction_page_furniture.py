"""PDF page furniture (running headers, footers, page numbers) is left out of the extracted text."""

from knowledge.extraction import extract
from knowledge.tests.samples import MANUAL_HEADER as HEADER
from knowledge.tests.samples import manual_pdf_bytes, pdf_bytes

MANUAL = manual_pdf_bytes()


def test_running_headers_footers_and_page_numbers_are_not_in_the_text():
    extracted = extract(data=MANUAL, filename="manual.pdf")

    text = "\n".join(block.text for block in extracted.blocks)
    assert HEADER not in text
    assert "Edition 2024" not in text
    assert "support@tidewaterbikes.example" not in text
    for number in (91, 92, 93):
        assert f"- {number} -" not in text
    assert all(block.text.strip("- ").strip() not in {"91", "92", "93"} for block in extracted.blocks)


def test_the_body_text_stays_with_its_headings_lists_and_pages():
    extracted = extract(data=MANUAL, filename="manual.pdf")

    assert [(block.kind, block.text, block.page) for block in extracted.blocks] == [
        ("heading", "Owner's manual", 1),
        ("paragraph", "Read this manual before your first ride. Keep it with the bike.", 1),
        ("heading", "Charging", 2),
        ("paragraph", "Charge the battery indoors at room temperature.", 2),
        ("list_item", "Never charge it below freezing.", 2),
        ("list_item", "Unplug the charger when it is full.", 2),
        ("heading", "Storage", 3),
        ("paragraph", "Keep it with the bike. The battery keeps 80% of its capacity after 92 full cycles.", 3),
    ]
    assert extracted.title == "Owner's manual"


def test_a_lone_page_number_goes_even_in_a_one_page_document():
    leaflet = pdf_bytes(
        [[(760, 16, "Test rides"), (730, 11, "Book a free test ride in any showroom."), (40, 10, "Page 1 of 1")]],
        bold_sizes=(16,),
    )

    blocks = extract(data=leaflet, filename="leaflet.pdf").blocks

    assert [block.text for block in blocks] == ["Test rides", "Book a free test ride in any showroom."]
