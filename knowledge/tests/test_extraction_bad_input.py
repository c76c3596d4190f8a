import pytest

from knowledge.extraction import ExtractionError, extract, parse_faq_csv
from knowledge.tests.samples import (
    blank_pdf_bytes,
    encrypted_pdf_bytes,
    zip_bomb_docx_bytes,
)


def reason(**kwargs) -> str:
    with pytest.raises(ExtractionError) as caught:
        extract(**kwargs)
    return str(caught.value)


def test_an_encrypted_pdf_is_refused_as_password_protected():
    assert "password-protected" in reason(data=encrypted_pdf_bytes(), filename="locked.pdf")


def test_a_corrupt_pdf_is_refused_as_unreadable():
    assert "not a readable PDF" in reason(data=b"%PDF-1.7\n%garbage\x00\x01" * 50, filename="broken.pdf")


def test_a_pdf_without_text_is_refused_with_a_hint_about_ocr():
    assert "no text layer" in reason(data=blank_pdf_bytes(2), filename="scan.pdf")


def test_an_empty_file_is_refused():
    assert reason(data=b"", filename="empty.pdf") == "The file is empty."


def test_a_docx_that_is_not_a_zip_is_refused():
    assert "not a valid DOCX" in reason(data=b"This is plain text pretending to be Word.", filename="fake.docx")


def test_a_docx_zip_bomb_is_refused_before_it_is_inflated():
    assert "zip bomb" in reason(data=zip_bomb_docx_bytes(40), filename="bomb.docx")


def test_a_binary_file_named_markdown_is_refused():
    assert "binary data" in reason(data=bytes(range(256)) * 40, filename="image.md")


def test_html_with_only_scripts_and_styles_has_no_text():
    html = b"<html><head><style>p{}</style></head><body><script>alert(1)</script><nav>Menu</nav></body></html>"

    assert reason(data=html, filename="page.html") == "The file contains no text."


def test_an_unsupported_file_type_is_named():
    assert ".xlsx are not supported" in reason(data=b"PK\x03\x04 spreadsheet", filename="prices.xlsx")


def test_a_csv_without_question_and_answer_columns_is_refused():
    with pytest.raises(ExtractionError) as caught:
        parse_faq_csv(b"q,a\nhello,world\n")

    assert "'question' and 'answer' columns" in str(caught.value)
