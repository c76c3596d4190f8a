"""
Contact details in realistic visitor messages, in several languages and formats:
what must be detected and, as much, what must not.
"""

import pytest

from leads.detection import contact_details_extract, email_normalize, phone_normalize

# (region, message, emails, phones (E.164), name, company)
CASES = [
    # --- must be detected -----------------------------------------------------------------
    (
        "US",
        "I'm Ana from Brightside, mail me at ana@brightside.io or call +44 20 7946 0958",
        ["ana@brightside.io"],
        ["+442079460958"],
        "Ana",
        "Brightside",
    ),
    ("US", "Hi, my name is Tom Baker. You can reach me on (415) 555-2671.", [], ["+14155552671"], "Tom Baker", ""),
    ("US", "call me at 415.555.2671 after 5pm please", [], ["+14155552671"], "", ""),
    (
        "US",
        "My cell: +1 415-555-2671, email TOM.BAKER@Example.COM",
        ["tom.baker@example.com"],
        ["+14155552671"],
        "",
        "",
    ),
    ("US", "mailto:sales@bright-side.co.uk", ["sales@bright-side.co.uk"], [], "", ""),
    ("US", "Can someone email me? jane_doe+bikes@gmail.com", ["jane_doe+bikes@gmail.com"], [], "", ""),
    (
        "US",
        "This is Priya Shah with Northwind Logistics, 20 cargo bikes needed, priya@northwind.example.org",
        ["priya@northwind.example.org"],
        [],
        "Priya Shah",
        "Northwind Logistics",
    ),
    ("US", "write to ana [at] brightside [dot] io, I hate spam", ["ana@brightside.io"], [], "", ""),
    (
        "US",
        "I work for Acme Couriers, ring me on +1 (212) 555-0187 or 212 555 0188",
        [],
        ["+12125550187", "+12125550188"],
        "",
        "Acme Couriers",
    ),
    (
        "US",
        "Thanks for the help! My email is maria.garcia@outlook.com\nThanks, Maria",
        ["maria.garcia@outlook.com"],
        [],
        "Maria",
        "",
    ),
    ("GB", "Ring me on 020 7946 0958 or my mobile 07911 123456", [], ["+442079460958", "+447911123456"], "", ""),
    (
        "GB",
        "I'm Oliver from Harbour Cycles Ltd. oliver@harbourcycles.co.uk",
        ["oliver@harbourcycles.co.uk"],
        [],
        "Oliver",
        "Harbour Cycles Ltd",
    ),
    (
        "FR",
        "Je m'appelle Chloé Martin de la société Vélocité, mon portable : 06 12 34 56 78",
        [],
        ["+33612345678"],
        "Chloé Martin",
        "Vélocité",
    ),
    (
        "FR",
        "Bonjour, je suis Luc Moreau, vous pouvez me joindre au 01 42 68 53 00 ou luc.moreau@orange.fr",
        ["luc.moreau@orange.fr"],
        ["+33142685300"],
        "Luc Moreau",
        "",
    ),
    ("FR", "Rappelez-moi au +33 6 12 34 56 78 svp", [], ["+33612345678"], "", ""),
    (
        "DE",
        "Ich bin Jonas Weber von Radhaus GmbH, erreichbar unter 0171 1234567",
        [],
        ["+491711234567"],
        "Jonas Weber",
        "Radhaus GmbH",
    ),
    (
        "DE",
        "Mein Name ist Lena Fischer, Telefon 030 12345678, Mail lena.fischer@web.de",
        ["lena.fischer@web.de"],
        ["+493012345678"],
        "Lena Fischer",
        "",
    ),
    ("DE", "Rufen Sie mich an: +49 (0)89 1234567", [], ["+49891234567"], "", ""),
    ("ES", "Soy Lucía de Bicis Norte, llámame al 612 345 678", [], ["+34612345678"], "Lucía", "Bicis Norte"),
    (
        "ES",
        "Me llamo Javier Ruiz, mi correo es javier.ruiz@telefonica.es y mi móvil +34 699 123 456",
        ["javier.ruiz@telefonica.es"],
        ["+34699123456"],
        "Javier Ruiz",
        "",
    ),
    ("ES", "Trabajo en Mensajería Rápida, teléfono 91 123 45 67", [], ["+34911234567"], "", "Mensajería Rápida"),
    ("US", "whatsapp +44 7911 123456", [], ["+447911123456"], "", ""),
    ("US", "Reach me: +49 30 901820 (office in Berlin)", [], ["+4930901820"], "", ""),
    ("US", "I'm interested in the Orbit 500. Email me: sam@orbit-fans.net", ["sam@orbit-fans.net"], [], "", ""),
    # --- must not be detected ------------------------------------------------------------------
    ("US", "My order number is 4155552671, where is it?", [], [], "", ""),
    ("US", "Order #415 555 2671 arrived damaged", [], [], "", ""),
    ("US", "invoice INV-2024-000123 has the wrong VAT", [], [], "", ""),
    ("US", "The Orbit 500 costs $1,299.00, or 1299 USD with the rack?", [], [], "", ""),
    ("US", "Is the price 4155552671 dollars a typo?", [], [], "", ""),
    ("US", "Can I pick it up on 12/05/2024 at 14:30?", [], [], "", ""),
    ("US", "Delivery on 2024-03-15 10:00 works for me", [], [], "", ""),
    ("US", "my router is 192.168.100.200 and the app can't connect", [], [], "", ""),
    ("US", "Firmware version 10.0.19045.2006 on the display", [], [], "", ""),
    ("US", "We ride 2019-2023 models in our fleet", [], [], "", ""),
    ("US", "We need 4155552671 units for the city program", [], [], "", ""),
    ("US", "Tracking number 1Z999AA10123456784", [], [], "", ""),
    ("US", "My zip code is 97205, do you deliver there?", [], [], "", ""),
    ("US", "The battery is 36 V 14 Ah, 504 Wh, range 80 km", [], [], "", ""),
    ("US", "logo@2x.png is broken on your site", [], [], "", ""),
    ("US", "I'm looking for a cargo bike for two kids", [], [], "", ""),
    ("FR", "Ma commande 06 12 34 56 78 n'est pas arrivée", [], [], "", ""),
    ("FR", "Le vélo coûte 2 499,00 € ?", [], [], "", ""),
    ("FR", "Code postal 75008, livrez-vous à Paris ?", [], [], "", ""),
    ("DE", "Bestellnummer 0171 1234567 ist nicht angekommen", [], [], "", ""),
    ("DE", "Rechnung Nr. 030 12345678 ist falsch", [], [], "", ""),
    ("DE", "Ich bin Kunde seit 2019 und brauche 3 Akkus", [], [], "", ""),
    ("ES", "Mi pedido 612 345 678 no ha llegado", [], [], "", ""),
    ("ES", "Necesito 250 unidades para 2025", [], [], "", ""),
    # --- look-alikes tried as a user would (issue 15) ------------------------------------------------
    ("US", "My purchase 4155552671 hasn't shipped yet", [], [], "", ""),
    ("US", "Receipt 4155552671 is attached, can you check it?", [], [], "", ""),
    ("US", "Confirmation code 4155552671", [], [], "", ""),
    ("US", "The total came to 4155552671 after tax?", [], [], "", ""),
    ("US", "Booking reference 4155552671, can I change the date?", [], [], "", ""),
    ("US", "Membership number 4155552671 expired?", [], [], "", ""),
    ("US", "Member ID 4155552671, do I get the discount?", [], [], "", ""),
    ("US", "Serial 415 555 2671 is on the frame", [], [], "", ""),
    ("US", "Tracking 4155552671 shows no movement", [], [], "", ""),
    ("US", "Ticket 2125550187 is still open", [], [], "", ""),
    ("US", "Account 4155552671 was charged twice", [], [], "", ""),
    ("US", "I paid 4155552671 last month?", [], [], "", ""),
    ("US", "I was charged 2125550187 twice, why?", [], [], "", ""),
    ("US", "The refund of 2125550187 never arrived", [], [], "", ""),
    ("US", "We have a budget of 4155552671 for the fleet", [], [], "", ""),
    ("US", "IBAN: DE89 3704 0044 0532 0130 00, is that right?", [], [], "", ""),
    ("US", "Pay to FR76 3000 6000 0112 3456 7890 189 please", [], [], "", ""),
    ("US", "Voucher code 4155552671 doesn't work", [], [], "", ""),
    ("US", "Gift card 4155552671 has no balance", [], [], "", ""),
    ("US", "Transaction 4155552671 failed at checkout", [], [], "", ""),
    ("US", "My parcel 415 555 2671 is stuck in customs", [], [], "", ""),
    ("US", "Return authorization 4155552671, where do I send the bike?", [], [], "", ""),
    ("US", "Warranty 4155552671 still valid?", [], [], "", ""),
    ("US", "Bought it on 04 15 2024, still under warranty?", [], [], "", ""),
    ("US", "Delivered 20240415 but the box was damaged", [], [], "", ""),
    ("US", "Order no. 4155552671 is missing", [], [], "", ""),
    ("DE", "Der Betrag von 0171 1234567 stimmt nicht", [], [], "", ""),
    ("US", "Order placed last week. My number is 415 555 2671", [], ["+14155552671"], "", ""),
    ("US", "Hi, I'm Ana from Brightside. Mail me at ana@brightside.io", ["ana@brightside.io"], [], "Ana", "Brightside"),
    (
        "US",
        "I'm Oliver from Harbour Cycles Ltd. Call me at 415 555 2671",
        [],
        ["+14155552671"],
        "Oliver",
        "Harbour Cycles Ltd",
    ),
    ("US", "I work for Acme Couriers. Call me at 415 555 2671", [], ["+14155552671"], "", "Acme Couriers"),
    ("US", "Got my receipt. Reach me on 415 555 2671 if anything is missing", [], ["+14155552671"], "", ""),
    ("US", "Order 123 arrived, thanks! Call me at 415 555 2671 about another one", [], ["+14155552671"], "", ""),
    ("US", "Can I pay on delivery? 415 555 2671", [], ["+14155552671"], "", ""),
    ("US", "Order placed last week, my number is 415 555 2671", [], ["+14155552671"], "", ""),
    ("US", "You can text me on 415-555-2671 tomorrow", [], ["+14155552671"], "", ""),
    ("US", "Best number to reach me: (212) 555-0187", [], ["+12125550187"], "", ""),
    ("GB", "My invoice was fine. Please ring 020 7946 0958", [], ["+442079460958"], "", ""),
    ("DE", "Meine Bestellung kam an. Meine Nummer ist 0171 1234567", [], ["+491711234567"], "", ""),
]


@pytest.mark.parametrize(
    ("region", "text", "emails", "phones", "name", "company"),
    CASES,
    ids=[f"{case[0]}-{i:02d}" for i, case in enumerate(CASES)],
)
def test_it_detects_exactly_the_contact_details_in_the_message(region, text, emails, phones, name, company):
    details = contact_details_extract(text=text, region=region)

    assert list(details.emails) == emails
    assert list(details.phones) == phones
    assert (details.name, details.company) == ((name, company) if (emails or phones) else ("", ""))


def test_the_table_covers_enough_messages_both_ways():
    positives = [case for case in CASES if case[2] or case[3]]
    negatives = [case for case in CASES if not (case[2] or case[3])]

    assert len(CASES) >= 40
    assert len(positives) >= 20 and len(negatives) >= 20
    assert {case[0] for case in CASES} >= {"US", "GB", "FR", "DE", "ES"}


def test_a_name_alone_is_not_a_lead():
    assert not contact_details_extract(text="Hi, I'm Ana from Brightside", region="US")


def test_the_default_region_comes_from_the_settings(settings):
    settings.LEADS_DEFAULT_REGION = "FR"
    assert contact_details_extract(text="appelez-moi au 06 12 34 56 78").phones == ("+33612345678",)

    settings.LEADS_DEFAULT_REGION = "US"
    assert contact_details_extract(text="appelez-moi au 06 12 34 56 78").phones == ()


@pytest.mark.parametrize("value", ["ana@localhost", "ana@@x.io", "ana@x.p", "a b@x.io", "logo@2x.png", ""])
def test_it_refuses_invalid_emails_with_a_message(value):
    with pytest.raises(ValueError, match="valid email"):
        email_normalize(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("+44 20 7946 0958", "+442079460958"),
        ("(415) 555-2671", "+14155552671"),
        ("415.555.2671", "+14155552671"),
    ],
)
def test_it_normalises_phones_to_e164(value, expected):
    assert phone_normalize(value, region="US") == expected


@pytest.mark.parametrize("value", ["12345", "555-1234", "call me", "+1 000 000 0000"])
def test_it_refuses_invalid_phones_with_a_message(value):
    with pytest.raises(ValueError, match="valid phone"):
        phone_normalize(value, region="US")
