"""Small generated inputs for tests (real files made with the real libraries)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

SAMPLE_KB = Path(__file__).resolve().parents[2] / "sample_kb"


def docx_bytes(build) -> bytes:
    import docx

    document = docx.Document()
    build(document)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def blank_pdf_bytes(pages: int = 1) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def encrypted_pdf_bytes(password: str = "s3cret") -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(SAMPLE_KB / "returns-policy.pdf").pages:
        writer.add_page(page)
    writer.encrypt(user_password=password, owner_password=password + "-owner")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def zip_bomb_docx_bytes(expanded_mb: int = 40) -> bytes:
    """A zip that looks like a DOCX and inflates a zero-filled part to `expanded_mb` MB."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"\0" * (expanded_mb * 1024 * 1024))
    return buffer.getvalue()


def pdf_bytes(pages: list[list[tuple[float, float, str]]], *, bold_sizes: tuple[float, ...] = ()) -> bytes:
    """
    A text PDF written object by object (no PDF library writes text here):
    each page is a list of (y, font size, text) lines set in Helvetica at
    x=72 on an A4 page (y counts from the bottom); sizes in `bold_sizes` are
    set in Helvetica-Bold.
    """

    def escaped(text: str) -> bytes:
        raw = text.encode("cp1252")
        return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")

    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"",  # the page tree, once the pages' numbers are known
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
    ]
    page_numbers = []
    for lines in pages:
        stream = b"".join(
            b"BT /%s %g Tf 72 %g Td (%s) Tj ET\n" % (b"F2" if size in bold_sizes else b"F1", size, y, escaped(text))
            for y, size, text in lines
        )
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents %d 0 R "
            b"/Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> >>" % len(objects)
        )
        page_numbers.append(len(objects))
    kids = b" ".join(b"%d 0 R" % number for number in page_numbers)
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(page_numbers))
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.writelines(b"%010d 00000 n \n" % offset for offset in offsets)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


MANUAL_HEADER = "Tidewater Commuter 2 Owner's Manual"


def manual_pdf_bytes() -> bytes:
    """
    Three pages of an owner's manual with the furniture real manuals have: a
    running header and an edition line on top, a footer with the support
    address and "page N", and a page number "- 9N -" at the bottom.
    """

    def page(number: int, body: list[tuple[float, str]]) -> list[tuple[float, float, str]]:
        lines = [(806, 8, MANUAL_HEADER), (792, 8, f"Edition 2024 - chapter {number}")]
        y = 740
        for size, text in body:
            lines.append((y, size, text))
            y -= 26 if size > 11 else 15
        return lines + [
            (52, 8, f"Tidewater Bikes - support@tidewaterbikes.example - page {number}"),
            (36, 9, f"- {90 + number} -"),
        ]

    return pdf_bytes(
        [
            page(
                1,
                [
                    (18, "Owner's manual"),
                    (11, "Read this manual before your first ride."),
                    (11, "Keep it with the bike."),
                ],
            ),
            page(
                2,
                [
                    (14, "Charging"),
                    (11, "Charge the battery indoors at room temperature."),
                    (11, "- Never charge it below freezing."),
                    (11, "- Unplug the charger when it is full."),
                ],
            ),
            page(
                3,
                [
                    (14, "Storage"),
                    (11, "Keep it with the bike."),
                    (11, "The battery keeps 80% of its capacity after 92 full cycles."),
                ],
            ),
        ],
        bold_sizes=(14, 18),
    )
