"""
Regenerates the PDF and DOCX files of the sample knowledge base in sample_kb/.

The generated files are committed; this script is only needed to change them.
It needs fpdf2 (`pip install fpdf2==2.8.9`) besides python-docx.
"""

from pathlib import Path

from docx import Document
from fpdf import FPDF

OUT = Path(__file__).resolve().parent.parent / "sample_kb"

RETURNS_PAGES = [
    [
        ("h1", "Returns policy"),
        (
            "p",
            "This policy applies to bikes, parts and accessories bought directly from Tidewater Bikes, "
            "online or in one of our showrooms. Products bought from a dealer follow the dealer's policy.",
        ),
        ("h2", "Returns window"),
        (
            "p",
            "You can return a bike within 30 days of delivery and parts or accessories within 60 days of "
            "delivery, for any reason. A returned bike must have been ridden less than 50 miles and must "
            "be free of damage beyond normal test riding.",
        ),
        ("h2", "How to start a return"),
        ("li", "Write to returns@tidewaterbikes.example with your order number."),
        ("li", "We email you a prepaid return label and packing instructions within one business day."),
        ("li", "Pack the bike in its original box, or book a free pickup if you no longer have the box."),
        ("li", "You can also bring the bike to any Tidewater showroom."),
        ("h2", "Return shipping costs"),
        (
            "p",
            "Return shipping is free for bikes in the contiguous US. For Alaska, Hawaii and Canada we deduct "
            "a flat $149 return shipping fee from the refund. Parts and accessories are returned free of "
            "charge from every address we ship to.",
        ),
    ],
    [
        ("h2", "Refunds"),
        (
            "p",
            "We inspect returned items within 3 business days of receiving them. Once a return is approved "
            "we refund the full purchase price to the original payment method. Card refunds appear within "
            "5 to 10 business days, depending on your bank. Orders paid with financing are refunded to the "
            "financing partner, which closes the plan without interest.",
        ),
        (
            "p",
            "A restocking fee of 10% applies only to bikes ridden more than 50 miles or returned with "
            "missing parts. Gift cards and white-glove delivery fees are not refundable.",
        ),
        ("h2", "Exchanges"),
        (
            "p",
            "If you want a different size or model, we exchange the bike free of charge within 30 days. "
            "We ship the new bike as soon as the carrier has scanned the return, so you wait as little as "
            "possible. If the new bike costs more, we charge the difference; if it costs less, we refund it.",
        ),
        ("h2", "Items that cannot be returned"),
        ("li", "Helmets that have been worn, for hygiene and safety reasons."),
        ("li", "Bikes customised to order, such as special paint."),
        ("li", "Batteries that have been opened or damaged."),
    ],
]

CARE_PAGES = [
    [
        ("h1", "Care and maintenance guide"),
        (
            "p",
            "A few minutes of care each month keeps a Tidewater e-bike safe and extends the life of its "
            "drivetrain and battery.",
        ),
        ("h2", "Battery care"),
        ("li", "Store the battery indoors between 50 and 77 degrees Fahrenheit (10 to 25 degrees Celsius)."),
        ("li", "For storage longer than a month, charge it to between 40% and 60% and top it up every 3 months."),
        ("li", "Never charge a battery below freezing; let a cold battery warm up for an hour first."),
        ("li", "Use only the Tidewater charger that came with the bike or the Tidewater fast charger."),
        ("h2", "Cleaning"),
        (
            "p",
            "Clean the bike with a damp cloth or a low-pressure hose and mild soap. Remove the battery "
            "before cleaning and dry the contacts before putting it back.",
        ),
    ],
    [
        ("h2", "Tyre pressure"),
        (
            "p",
            "Check tyre pressure every week. The Commuter 2 runs at 50 to 65 psi, the Trail X at 22 to 30 psi "
            "and the Cargo Long at 35 to 50 psi. The correct range is also printed on the tyre sidewall.",
        ),
        ("h2", "Chain and brakes"),
        (
            "p",
            "Lubricate the chain every 200 miles, or after every wet ride. Hydraulic brake pads last about "
            "1,000 to 2,000 miles; replace them when the pad material is thinner than 1 mm.",
        ),
        ("h2", "Service schedule"),
        (
            "p",
            "We recommend a professional tune-up after the first 300 miles and then once a year. The first "
            "tune-up within 6 months of purchase is free at any Tidewater showroom.",
        ),
    ],
]


def build_pdf(pages: list, path: Path, title: str) -> None:
    pdf = FPDF()
    pdf.set_title(title)
    pdf.set_auto_page_break(auto=False)
    for page in pages:
        pdf.add_page()
        pdf.set_left_margin(20)
        pdf.set_right_margin(20)
        for kind, text in page:
            if kind == "h1":
                pdf.set_font("Helvetica", "B", 20)
                pdf.multi_cell(0, 10, text, new_x="LMARGIN", new_y="NEXT")
                pdf.ln(3)
            elif kind == "h2":
                pdf.ln(3)
                pdf.set_font("Helvetica", "B", 14)
                pdf.multi_cell(0, 8, text, new_x="LMARGIN", new_y="NEXT")
            elif kind == "li":
                pdf.set_font("Helvetica", "", 11)
                pdf.multi_cell(0, 6, "- " + text, new_x="LMARGIN", new_y="NEXT")
            else:
                pdf.set_font("Helvetica", "", 11)
                pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
                pdf.ln(2)
    pdf.output(str(path))


def build_warranty_docx(path: Path) -> None:
    doc = Document()
    doc.core_properties.title = "Warranty"
    doc.add_heading("Warranty", level=1)
    doc.add_paragraph(
        "Every Tidewater e-bike comes with a warranty against defects in materials and workmanship for "
        "the original owner. The warranty starts on the day of delivery."
    )
    doc.add_heading("Coverage periods", level=2)
    table = doc.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "Component"
    table.rows[0].cells[1].text = "Coverage"
    for component, coverage in [
        ("Frame and fork", "Lifetime for the original owner"),
        ("Motor and controller", "3 years"),
        ("Battery", "2 years or 800 charge cycles, whichever comes first"),
        ("Display, lights and wiring", "2 years"),
        ("Paint and finish", "1 year"),
    ]:
        row = table.add_row()
        row.cells[0].text = component
        row.cells[1].text = coverage
    doc.add_heading("What the warranty does not cover", level=2)
    for item in [
        "Normal wear of tyres, brake pads, chain, cassette and grips.",
        "Damage from crashes, misuse, or riding beyond the bike's load limit.",
        "Modifications such as speed tuning kits or non-Tidewater batteries.",
        "Commercial use, unless the bike was bought through a Tidewater fleet contract.",
    ]:
        doc.add_paragraph(item, style="List Bullet")
    doc.add_heading("How to make a warranty claim", level=2)
    for step in [
        "Email warranty@tidewaterbikes.example with your order number, the frame serial number "
        "(under the bottom bracket) and photos or a video of the problem.",
        "A technician answers within two business days and, when needed, books a repair at a showroom "
        "or sends a prepaid shipping label.",
        "Covered repairs, parts and shipping are free. We aim to complete repairs within 10 business days.",
    ]:
        doc.add_paragraph(step, style="List Number")
    doc.add_heading("Extended warranty", level=2)
    doc.add_paragraph(
        "Tidewater Care+ extends motor and battery coverage to 5 years and adds one free tune-up per year. "
        "It costs $199 and can be bought within 60 days of delivery."
    )
    doc.save(str(path))


if __name__ == "__main__":
    build_pdf(RETURNS_PAGES, OUT / "returns-policy.pdf", "Returns policy")
    build_pdf(CARE_PAGES, OUT / "care-and-maintenance.pdf", "Care and maintenance guide")
    build_warranty_docx(OUT / "warranty.docx")
    print("wrote", sorted(p.name for p in OUT.iterdir()))
