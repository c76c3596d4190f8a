"""
Contact details in free text: emails, phone numbers, a name and a company.

Pure functions, no database. Phone numbers come from `phonenumbers`'
`PhoneNumberMatcher` at leniency VALID, then go through explicit rejections for
the numbers a chat is full of that are not phone numbers: prices, dates and
times, order/invoice/tracking numbers, postal codes, IP addresses and version
strings, year ranges and quantities. The matcher already refuses most of these
on its own; the extra rules catch the ones that happen to be valid numbering
plans (an order number "4155552671" is a valid US number). A number after an
identifier or amount word ("receipt", "confirmation code", "the total came
to") is not a phone number unless a phone word ("call", "my number is") comes
in between; only the number's own sentence counts. A company name ends with
its sentence ("I'm Ana from Brightside. Mail me…" is "Brightside").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator

_email_validator = EmailValidator()

_EMAIL_RE = re.compile(
    r"(?<![\w.+'-])"
    r"(?P<local>[\w.%+'-]{1,64})@"
    r"(?P<domain>(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+[^\W\d_]{2,24})"
    r"(?![\w-])",
)
# "ana [at] brightside [dot] io", "ana(at)brightside(dot)io": visitors hiding from spam bots.
_OBFUSCATED_EMAIL_RE = re.compile(
    r"(?<![\w.+-])(?P<local>[\w.+-]{1,64})\s*[\[(]\s*(?:at|@)\s*[\])]\s*"
    r"(?P<domain>[\w-]+(?:\s*[\[(]\s*(?:dot|\.)\s*[\])]\s*[\w-]+)+)",
    re.IGNORECASE,
)
_OBFUSCATED_DOT_RE = re.compile(r"\s*[\[(]\s*(?:dot|\.)\s*[\])]\s*", re.IGNORECASE)

# "logo@2x.png" is a retina image name, not an address.
_FILE_EXTENSIONS = {
    "png",
    "jpg",
    "jpeg",
    "gif",
    "svg",
    "webp",
    "bmp",
    "ico",
    "tif",
    "tiff",
    "heic",
    "pdf",
    "doc",
    "docx",
    "xls",
    "xlsx",
    "ppt",
    "pptx",
    "txt",
    "csv",
    "json",
    "xml",
    "js",
    "css",
    "html",
    "htm",
    "php",
    "mp3",
    "mp4",
    "wav",
}

_CURRENCY_BEFORE_RE = re.compile(r"(?:[$€£¥₹]|\b(?:usd|eur|gbp|chf|cad|aud))\s*$", re.IGNORECASE)
_CURRENCY_AFTER_RE = re.compile(
    r"^\s*(?:[$€£¥₹]|(?:usd|eur|gbp|chf|cad|aud|dollars?|euros?|pounds?|francs?|dólares|pesos)\b|"
    r"(?:after|before|plus|incl\.?|including|excl\.?|excluding|with|without|net\s+of)\s+(?:tax|taxes|vat|shipping)\b)",
    re.IGNORECASE,
)
_QUANTITY_AFTER_RE = re.compile(
    r"^\s*(?:x\s*)?(?:units?|pcs|pieces?|items?|bikes?|e-?bikes?|batter(?:y|ies)|km|kms|kg|kgs|miles?|"
    r"meters?|metres?|watts?|wh|kwh|volts?|rpm|people|persons?|employees?|riders?|customers?|"
    r"stück|stk|einheiten|räder|fahrräder|personen|mitarbeiter|"
    r"unités?|pièces?|vélos?|personnes|salariés|"
    r"unidades|piezas|bicicletas|bicis|personas|empleados)\b",
    re.IGNORECASE,
)
_QUANTITY_BEFORE_RE = re.compile(r"\b(?:qty|quantity|quantité|menge|anzahl|cantidad)\s*[:=]?\s*$", re.IGNORECASE)
_IPV4_RE = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")
_DATE_RE = re.compile(r"\b\d{1,4}[./-]\d{1,2}[./-]\d{1,4}\b")
_YEAR_RANGE_RE = re.compile(r"^(?:19|20)\d\d\s*[-–/]\s*(?:19|20)?\d\d$")

# A number right after one of these is an identifier, unless a phone word comes in between.
_IDENTIFIER_WORDS_RE = re.compile(
    r"(?:\border\b|\border\s+(?:no|number|#)|\binvoice|\binv\b|\bref\b|\breference|\btracking|\bticket|"
    r"\bbooking|\breservation|\baccount|\bacct|\bcustomer\s+(?:no|number|id)|\bclient\s+(?:no|number|id)|"
    r"\bserial|\bsku\b|\bitem\b|\bpart\b|\bframe\s+number|\bcase\b|\bpo\b|\biban\b|\bvat\b|\bzip\b|"
    r"\bpost\s?code|\bpostal\s+code|\bid\b|\bversion\b|\bbuild\b|"
    r"\bcommande|\bfacture|\bréférence|\bréf\b|\bdossier|\bcompte|\bcode\s+postal|\bcolis|\bsuivi|"
    r"\bbestell|\brechnung|\bauftrag|\bkundennummer|\bsendungsnummer|\bpostleitzahl|\bplz\b|\bkonto|"
    r"\bvorgang|\bpedido|\bfactura|\breferencia|\bcuenta|\bcódigo\s+postal|\bseguimiento|\breserva|"
    r"\bpurchase|\breceipt|\bconfirmation|\bcode\b|\bmember|\bpolicy|\bclaim|\bvoucher|\bcoupon|\bpromo|"
    r"\bcard\b|\btransaction|\btxn\b|\bshipment|\bparcel|\bpackage|\bconsignment|\breturn|\brma\b|"
    r"\bauthori[sz]ation|\bwarranty|\bsubscription|\bmodel\b|\bloyalty|\blicen[cs]e|\bpin\b|\bpassport|"
    r"\bcheque|\bcertificate|\bregistration|\bcontract|\bpermit|"
    r"\bachat|\breçu|\bbon\s+de|\bquittung|\bbeleg|\bgutschein|\bvertrag|\brecibo|\bcompra|\bcupón|"
    # Amounts: "the total came to 4155552671", "I paid 2125550187".
    r"\btotal|\bamount|\bsum\b|\bpaid\b|\bpay\b|\bpayment|\bcharged?\b|\brefund|\bbalance|\bbudget|"
    r"\bdeposit|\bcosts?\b|\bprice|\bfees?\b|\bowed?\b|\bspent\b|"
    r"\bmontant|\bpayé|\bbetrag|\bsumme|\bbezahlt|\bimporte|\bpagado|\bpagué|"
    r"#|\bno\.|\bnr\.?|\bn°|\bnº|\bnum\.)",
    re.IGNORECASE,
)
# Where a sentence ends: an identifier word in an earlier sentence says nothing
# about this number ("Order placed last week. My number is 415 555 2671"). A
# period after an abbreviation ("Order no. 4155552671") ends nothing.
_SENTENCE_END_RE = re.compile(r"(?P<word>[\w°º]*)(?P<mark>[.!?]+)\s+|\n")
_ABBREVIATIONS = {
    "no",
    "nr",
    "num",
    "n°",
    "nº",
    "ref",
    "réf",
    "inv",
    "acct",
    "tel",
    "tél",
    "art",
    "ca",
    "approx",
    "vs",
    "st",
    "co",
    "inc",
    "ltd",
    "corp",
    "mr",
    "mrs",
    "ms",
    "dr",
    "ph",
    "mob",
    "incl",
    "excl",
    "dept",
    "bzw",
}
_PHONE_WORDS_RE = re.compile(
    r"(?:call|phone|tel\b|telephone|mobile|cell|whatsapp|ring|text|sms|reach|"
    r"appel|téléphone|tél|portable|joindre|"
    r"anruf|ruf|telefon|handy|mobil|erreich|"
    r"llam|teléfono|móvil|celular|contact|"
    r"\bmy\s+(?:phone\s+|mobile\s+|cell\s+|direct\s+)?number|\bmeine\s+nummer|\bmon\s+numéro|\bmi\s+número)",
    re.IGNORECASE,
)

_NAME_WORD = r"[A-ZÀ-ÖØ-Þ][a-zà-öø-ÿ]+(?:[-'’][A-ZÀ-ÖØ-Þa-zà-öø-ÿ][a-zà-öø-ÿ]+)?"
_NAME = rf"{_NAME_WORD}(?:\s+{_NAME_WORD}){{0,2}}"
_COMPANY_WORD = r"[A-Z0-9À-ÖØ-Þ][\w&.'’-]*"
_COMPANY = rf"{_COMPANY_WORD}(?:\s+(?:&\s+)?{_COMPANY_WORD}){{0,3}}"

_NAME_LEAD_INS = (
    r"my\s+name\s+is|my\s+name's|i'?m|i\s+am|this\s+is|name\s*:|"
    r"je\s+m'appelle|je\s+m’appelle|je\s+suis|moi\s+c'est|moi\s+c’est|mon\s+nom\s+est|nom\s*:|"
    r"ich\s+bin|ich\s+hei(?:ß|ss)e|mein\s+name\s+ist|hier\s+ist|"
    r"me\s+llamo|soy|mi\s+nombre\s+es|nombre\s*:"
)
_COMPANY_AFTER_NAME = r"from|of|at|with|von|bei|chez|de\s+la|del|de"
_NAME_RE = re.compile(
    rf"(?<![\w])(?i:{_NAME_LEAD_INS})\s+(?P<name>{_NAME})"
    rf"(?:,?\s+(?i:{_COMPANY_AFTER_NAME})\s+(?P<company>{_COMPANY}))?"
)
_SIGN_OFF_RE = re.compile(
    rf"(?i:thanks|thank\s+you|regards|best|cheers|merci|cordialement|danke|grüße|gruß|gracias|saludos)"
    rf"[,!.]?\s*[-–]?\s*(?P<name>{_NAME})\s*[.!]?\s*$"
)
_COMPANY_RE = re.compile(
    r"(?<![\w])(?i:my\s+company\s+is|our\s+company\s+is|i\s+work\s+(?:at|for)|company(?:\s+name)?\s*(?::|is)|"
    r"je\s+travaille\s+(?:chez|pour)|de\s+la\s+société|de\s+l'entreprise|notre\s+société(?:\s+est)?|"
    r"ma\s+société(?:\s+est)?|société\s*:|entreprise\s*:|"
    r"ich\s+arbeite\s+(?:bei|für)|von\s+der\s+firma|unsere\s+firma(?:\s+ist)?|meine\s+firma(?:\s+ist)?|firma\s*:|"
    r"trabajo\s+(?:en|para)|de\s+la\s+empresa|mi\s+empresa(?:\s+es)?|nuestra\s+empresa(?:\s+es)?|empresa\s*:)"
    rf"\s+(?P<company>{_COMPANY})"
)
# Capitalised words that follow "I'm"/"ich bin"/"soy" without being a name.
_NOT_NAMES = {
    "not",
    "just",
    "looking",
    "interested",
    "sorry",
    "here",
    "back",
    "fine",
    "good",
    "ok",
    "okay",
    "from",
    "in",
    "on",
    "at",
    "the",
    "an",
    "also",
    "still",
    "very",
    "so",
    "really",
    "curious",
    "trying",
    "planning",
    "thinking",
    "new",
    "glad",
    "happy",
    "sure",
    "afraid",
    "calling",
    "writing",
    "english",
    "french",
    "german",
    "spanish",
    "italian",
    "american",
    "british",
    "canadian",
    "customer",
    "client",
    "student",
    "owner",
    "manager",
    "retired",
    "vegan",
    "available",
    "kunde",
    "kundin",
    "studentin",
    "interessent",
    "interessentin",
    "händler",
    "inhaber",
    "inhaberin",
    "neu",
    "neukunde",
    "anfänger",
    "mitglied",
    "architekt",
    "ingenieur",
    "rentner",
    "intéressé",
    "intéressée",
    "cliente",
    "nouveau",
    "nouvelle",
    "désolé",
    "désolée",
    "nuevo",
    "nueva",
    "estudiante",
    "interesado",
    "interesada",
    "dueño",
    "dueña",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
}
_COMPANY_STOP = {"the", "a", "an", "my", "our", "your", "this", "that", "le", "la", "les", "der", "die", "das", "el"}


@dataclass(frozen=True)
class ContactDetails:
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = field(default=(), metadata={"format": "E.164"})
    name: str = ""
    company: str = ""

    @property
    def email(self) -> str:
        return self.emails[0] if self.emails else ""

    @property
    def phone(self) -> str:
        return self.phones[0] if self.phones else ""

    def __bool__(self) -> bool:
        """Only an email or a phone makes a lead; a name alone does not."""
        return bool(self.emails or self.phones)


def email_normalize(value: str) -> str:
    """Lowercased and validated, or ValueError with a message for a person."""
    candidate = value.strip().lower()
    if candidate.startswith("mailto:"):
        candidate = candidate[len("mailto:") :]
    try:
        _email_validator(candidate)
    except ValidationError:
        raise ValueError("Enter a valid email address, like ana@example.com.") from None
    domain = candidate.rsplit("@", 1)[1]
    tld = domain.rsplit(".", 1)[-1]
    if "." not in domain or tld in _FILE_EXTENSIONS or not tld.isalpha() or len(tld) < 2:
        raise ValueError("Enter a valid email address, like ana@example.com.")
    return candidate


def phone_normalize(value: str, *, region: str | None = None) -> str:
    """E.164 for a valid number written in any common format, or ValueError."""
    from django.conf import settings

    region = region or settings.LEADS_DEFAULT_REGION
    try:
        number = phonenumbers.parse(value.strip(), region)
    except phonenumbers.NumberParseException:
        raise ValueError("Enter a valid phone number, like +44 20 7946 0958.") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError("Enter a valid phone number, like +44 20 7946 0958.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def emails_find(text: str) -> list[str]:
    found: list[str] = []
    candidates = [f"{m['local']}@{m['domain']}" for m in _EMAIL_RE.finditer(text)]
    candidates += [
        f"{m['local']}@{_OBFUSCATED_DOT_RE.sub('.', m['domain'])}" for m in _OBFUSCATED_EMAIL_RE.finditer(text)
    ]
    for candidate in candidates:
        candidate = candidate.strip(".'")
        try:
            email = email_normalize(candidate)
        except ValueError:
            continue
        if email not in found:
            found.append(email)
    return found


def _phone_is_something_else(text: str, start: int, end: int, raw: str) -> bool:
    before = text[max(0, start - 40) : start]
    after = text[end : end + 25]
    previous_char = text[start - 1] if start > 0 else ""
    next_char = text[end] if end < len(text) else ""

    # Part of a longer token: "INV-2024-000123", "10.0.19045.2006", "SN4155552671X".
    if previous_char and (previous_char.isalnum() or previous_char in "-/_.#@"):
        return True
    if next_char and (next_char.isalnum() or next_char in "-/_@" or (next_char in ".," and after[1:2].isdigit())):
        return True
    if _IPV4_RE.match(raw) or _DATE_RE.search(raw) or ":" in raw or _YEAR_RANGE_RE.match(raw.strip()):
        return True
    if _CURRENCY_BEFORE_RE.search(before) or _CURRENCY_AFTER_RE.match(after):
        return True
    if _QUANTITY_AFTER_RE.match(after) or _QUANTITY_BEFORE_RE.search(before):
        return True
    sentence = _current_sentence(before)
    identifiers = list(_IDENTIFIER_WORDS_RE.finditer(sentence))
    return bool(identifiers) and not _PHONE_WORDS_RE.search(sentence[identifiers[-1].end() :])


def _current_sentence(text: str) -> str:
    """The end of `text` from the start of its last sentence."""
    start = 0
    for end in _SENTENCE_END_RE.finditer(text):
        word = (end["word"] or "").lower()
        if end["mark"] == "." and (word in _ABBREVIATIONS or len(word) == 1):
            continue
        start = end.end()
    return text[start:]


def phones_find(text: str, *, region: str) -> list[str]:
    found: list[str] = []
    for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID):
        if _phone_is_something_else(text, match.start, match.end, match.raw_string):
            continue
        e164 = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
        if e164 not in found:
            found.append(e164)
    return found


_INITIALS_RE = re.compile(r"^(?:[A-Z]\.)+$")


def _clean_company(value: str) -> str:
    """The company words up to the end of the sentence: "Brightside. Mail me" is "Brightside"."""
    words = value.split()
    for index, word in enumerate(words):
        if word.endswith((".", "!", "?")) and not _INITIALS_RE.match(word) and index + 1 < len(words):
            words = words[: index + 1]
            break
    words = " ".join(words).rstrip(".,;:!?").split()
    while words and words[-1].lower() in {"and", "und", "et", "y", "&"}:
        words.pop()
    if not words or words[0].lower() in _COMPANY_STOP:
        return ""
    return " ".join(words)[:200]


def name_and_company_find(text: str) -> tuple[str, str]:
    name = company = ""
    for match in _NAME_RE.finditer(text):
        candidate = match["name"]
        if candidate.split()[0].lower() in _NOT_NAMES:
            continue
        name = candidate
        company = _clean_company(match["company"] or "")
        break
    if not name:
        sign_off = _SIGN_OFF_RE.search(text.strip())
        if sign_off and sign_off["name"].split()[0].lower() not in _NOT_NAMES:
            name = sign_off["name"]
    if not company:
        explicit = _COMPANY_RE.search(text)
        if explicit:
            company = _clean_company(explicit["company"])
    return name[:200], company


def contact_details_extract(*, text: str, region: str | None = None) -> ContactDetails:
    """Everything a visitor message tells us about how to reach them."""
    from django.conf import settings

    region = region or settings.LEADS_DEFAULT_REGION
    emails = emails_find(text)
    # Digits inside an address ("ana.4155552671@x.io") are not a phone number.
    text_without_emails = _EMAIL_RE.sub(lambda m: " " * len(m.group(0)), text)
    phones = phones_find(text_without_emails, region=region)
    if not (emails or phones):
        return ContactDetails()
    name, company = name_and_company_find(text)
    return ContactDetails(emails=tuple(emails), phones=tuple(phones), name=name, company=company)
