"""Reads for leads: intent in a visitor message, the question behind a lead, transcripts."""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from django.db.models import F, Max, Q, QuerySet
from django.db.models.functions import Coalesce, Greatest, Lower
from django.utils import timezone

from core.outbox import outbox_unclaimed
from leads.detection import contact_details_extract
from leads.models import Lead, LeadContactAttempt, LeadNotification, SheetRowDeletion, SyncState

if TYPE_CHECKING:
    from conversations.models import Conversation, Message

# Visitors asking to talk to a person.
_WANTS_PERSON_RE = re.compile(
    r"""
    # English
    \b(?:speak|talk|chat)\s+(?:to|with)\s+(?:a|an|some|the|your)?\s*(?:real\s+|actual\s+)?
        (?:human|person|someone|somebody|agent|rep|representative|sales|salesperson|staff|expert
           |advisor|manager)
    | \b(?:human|real\s+person|live\s+agent|sales\s+team|sales\s+rep)\b
    # French
    | \bparler\s+(?:à|a|avec)\s+(?:un|une|quelqu|le|la|votre|vos)\w*\s*
        (?:conseill\w*|humain|personne|vendeu\w*|commercia\w*|agent|équipe|expert)?
    # German
    | \bmit\s+(?:einem|einer|jemandem|ihrem|dem)\s+
        (?:mensch\w*|mitarbeiter\w*|berater\w*|verkäufer\w*|vertrieb\w*|person)
    | \bmensch(?:en)?\s+sprechen\b
    # Spanish
    | \bhablar\s+con\s+(?:un|una|alguien|el|la|su|vuestro|vuestra)\w*\s*
        (?:persona|humano|agente|asesor\w*|comercial|vendedor\w*|equipo)?
    """,
    re.IGNORECASE | re.VERBOSE,
)
# Visitors asking to be called or contacted back.
_WANTS_CALL_BACK_RE = re.compile(
    r"""
    \bcall\s*(?:me\s+)?back\b | \bcallback\b | \bgive\s+me\s+a\s+(?:call|ring)\b
    | \bcan\s+(?:you|someone)\s+call\s+me\b
    | \b(?:contact|reach|email|phone)\s+me\b | \bget\s+in\s+touch\b
    | \b(?:rappelez|rappeler|recontacter|recontactez|contactez)[-\s]?moi\b
    | \bme\s+(?:rappeler|contacter|recontacter)\b | \bêtre\s+(?:rappelé|contacté)e?\b
    | \brückruf\b | \bzurückrufen\b | \brufen\s+sie\s+mich\b | \bruft\s+mich\b
    | \bkontaktieren\s+sie\s+mich\b | \bmelden\s+sie\s+sich\b
    | \b(?:llamadme|llámame|llamame|llámeme|contáctame|contactadme|contácteme)\b
    | \bme\s+(?:llamen|llaméis|contacten|puede[ns]?\s+llamar)\b | \bdevolver\w*\s+la\s+llamada\b
    """,
    re.IGNORECASE | re.VERBOSE,
)
# Visitors asking for something the team prepares: a quote, a demo or test ride, an appointment,
# the price of a quantity.
_WANTS_QUOTE_RE = re.compile(
    r"""
    \bquote\b | \bquotation\b | \bestimate\s+for\b | \bbulk\s+pricing\b | \bfleet\s+pricing\b
    | \bdemo\b | \bdemonstration\b | \btest\s*ride\b | \bbook\s+an?\s+appointment\b
    | \b(?:price|prices|pricing|cost|costs|offer)\s+(?:of|for|on)\s+(?:\w+\s+){0,2}?\d{1,6}\s+(?:\w+\s+)?
        (?:units?|pieces?|pcs|items?|bikes?|e-?bikes?|licen[cs]es?|seats?|users?|devices?)\b
    | \bhow\s+much\s+(?:for|would|will|are|is|do)\s+(?:\w+\s+){0,2}?\d{1,6}\s+
    | \b\d{1,6}\s+(?:\w+\s+)?(?:units?|pieces?|bikes?|e-?bikes?|licen[cs]es?|seats?|devices?)\s+(?:would\s+)?costs?\b
    | \bdevis\b | \bdémo\b | \bdémonstration\b | \bessai\b
    | \bangebot\b | \bkostenvoranschlag\b | \bvorführung\b | \bprobefahrt\b | \bberatungstermin\b
    | \bpresupuesto\b | \bcotización\b | \bdemostración\b | \bprueba\s+de\s+conducción\b
    """,
    re.IGNORECASE | re.VERBOSE,
)

RequestKind = Literal["person", "call_back", "quote"]


def visitor_request(text: str) -> RequestKind | None:
    """
    What a visitor message asks of the team rather than of the knowledge base
    (en, fr, de, es): to talk to a `person`, a `call_back` (or to be
    contacted), or a `quote` (also a demo, a test ride, an appointment, the
    price of a quantity); None for anything else.
    """
    text = text or ""
    if _WANTS_PERSON_RE.search(text):
        return "person"
    if _WANTS_QUOTE_RE.search(text):
        return "quote"
    if _WANTS_CALL_BACK_RE.search(text):
        return "call_back"
    return None


def visitor_wants_contact(text: str) -> bool:
    """The visitor asks for a person, a quote, a demo or a call back (en, fr, de, es)."""
    return visitor_request(text) is not None


def _looks_like_a_question(text: str) -> bool:
    return "?" in text or len(text.split()) >= 4


def _states_an_interest(text: str) -> bool:
    """A question, or a request for a quote, a demo...: not "call me back", which the details answer."""
    return "?" in text or visitor_request(text) == "quote"


def conversation_interest(*, conversation: Conversation | None, current_text: str = "") -> str:
    """
    What the lead is about: the current message, once its contact details
    are taken out, when it still asks something or requests a quote, a demo
    ("I'd like a quote for 10 bikes, my email is ..."); else the visitor's
    latest request of that kind in the conversation; else their latest
    message that asks something rather than only giving contact details.
    """
    current = _text_without_contact_details(current_text)
    if current and _states_an_interest(current):
        return current
    if conversation is None:
        return ""
    visitor_messages: QuerySet[Message] = conversation.messages.filter(role="visitor").order_by("-created_at", "-id")
    questions: list[str] = []
    for message in visitor_messages[:20]:
        text = message.text.strip()
        if not text or text == current_text.strip():
            continue
        if contact_details_extract(text=text) or not _looks_like_a_question(text):
            continue
        if visitor_request(text) == "quote":
            return text[:2000]
        questions.append(text)
    return questions[0][:2000] if questions else ""


_CONTACT_TOKEN_RE = re.compile(r"\S+@\S+|\+?\d[\d\s().-]{6,}\d")
# What is left of "..., my email is <address>" once the address is gone.
_DANGLING_RE = re.compile(
    r"(?:[\s,;:.-]*\b(?:and|or|at|on|is|me|my|our|mail|e-?mail(?:\s+address)?|phone(?:\s+number)?|number|"
    r"mobile|cell|tel|reach|contact|call|you\s+can)\b)+[\s,;:.-]*$",
    re.IGNORECASE,
)


def message_without_contact_details(text: str) -> str:
    """A visitor message without its email addresses and phone numbers, nor the words that announced them."""
    remainder = _CONTACT_TOKEN_RE.sub(" ", text or "")
    remainder = re.sub(r"\s+", " ", remainder).strip(" ,.;:-")
    return _DANGLING_RE.sub("", remainder).strip(" ,.;:-")


def _text_without_contact_details(text: str) -> str:
    remainder = message_without_contact_details(text)
    return remainder[:2000] if _looks_like_a_question(remainder) else ""


def lead_find_by_email(*, email: str) -> Lead | None:
    if not email:
        return None
    return Lead.objects.alias(email_lower=Lower("email")).filter(email_lower=email.lower()).exclude(email="").first()


def lead_find_by_phone(*, phone: str) -> Lead | None:
    if not phone:
        return None
    return Lead.objects.filter(phone=phone).exclude(phone="").first()


def leads_with_last_activity() -> QuerySet[Lead]:
    """Leads annotated with `last_activity`: their latest chat message or edit."""
    return Lead.objects.annotate(
        last_activity=Greatest(Coalesce(Max("conversations__last_message_at"), F("updated_at")), F("updated_at"))
    )


def leads_to_sync(*, include_synced: bool = False) -> QuerySet[Lead]:
    """Leads that `sync_leads` should push: pending or failed, unclaimed or with an expired claim."""
    queryset = outbox_unclaimed(Lead.objects.all(), fields=Lead.outbox_fields)
    if not include_synced:
        queryset = queryset.filter(sync_state__in=[SyncState.PENDING, SyncState.FAILED])
    return queryset.order_by("created_at", "id")


def notifications_to_send() -> QuerySet[LeadNotification]:
    return outbox_unclaimed(
        LeadNotification.objects.filter(state__in=[LeadNotification.State.PENDING, LeadNotification.State.FAILED]),
        fields=LeadNotification.outbox_fields,
    ).order_by("created_at", "id")


def lead_transcripts(*, lead: Lead, max_messages: int = 200) -> list[tuple[Conversation, list[Message]]]:
    """Each linked conversation with its latest `max_messages` messages, oldest first."""
    transcripts = []
    for conversation in lead.conversations.order_by("-created_at")[:10]:
        messages = list(conversation.messages.order_by("-created_at", "-id")[:max_messages])
        messages.reverse()
        transcripts.append((conversation, messages))
    return transcripts


def sheet_deletions_to_sync() -> QuerySet[SheetRowDeletion]:
    """
    Sheet-row deletions of erased leads still to do: pending or failed,
    unclaimed or with an expired claim, and past any push still in flight.
    """
    now = timezone.now()
    return outbox_unclaimed(
        SheetRowDeletion.objects.filter(
            Q(not_before__isnull=True) | Q(not_before__lte=now),
            sync_state__in=[SyncState.PENDING, SyncState.FAILED],
        ),
        fields=SheetRowDeletion.outbox_fields,
        now=now,
    ).order_by("created_at", "id")


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def lead_export(*, lead: Lead) -> dict[str, Any]:
    """
    Everything held about the person behind `lead`, as JSON-ready data: the
    lead and its notes, the consent record, unverified contact attempts (their
    details, not the transcript of the conversation they came from, which may
    be someone else's), every linked conversation with all its messages, and
    the notifications sent to sales.
    """
    conversations = lead.conversations.order_by("created_at").prefetch_related("messages__author")
    owner = lead.owner.get_username() if lead.owner else None
    return {
        "format": "tidewater-assistant.person-export.v1",
        "exported_at": timezone.now().isoformat(),
        "lead": {
            "id": lead.pk,
            "name": lead.name,
            "email": lead.email,
            "phone": lead.phone,
            "company": lead.company,
            "interest": lead.interest,
            "source": lead.source,
            "status": lead.status,
            "owner": owner,
            "notes": lead.notes,
            "created_at": _iso(lead.created_at),
            "updated_at": _iso(lead.updated_at),
            "google_sheet": {"state": lead.sync_state, "synced_at": _iso(lead.synced_at), "row": lead.sheet_row},
        },
        "consent": {"given": lead.consent, "text": lead.consent_text, "at": _iso(lead.consent_at)},
        "contact_attempts": [
            _contact_attempt_export(attempt) for attempt in lead.contact_attempts.order_by("created_at", "id")
        ],
        "conversations": [_conversation_export(conversation) for conversation in conversations],
        "notifications": [
            {
                "channel": notification.channel,
                "about": "contact attempt" if notification.contact_attempt_id else "new lead",
                "state": notification.state,
                "sent_at": _iso(notification.sent_at),
                "created_at": _iso(notification.created_at),
            }
            for notification in lead.notifications.order_by("created_at", "id")
        ],
    }


def _contact_attempt_export(attempt: LeadContactAttempt) -> dict[str, Any]:
    return {
        "id": attempt.pk,
        "verified": False,
        "source": attempt.source,
        "name": attempt.name,
        "email": attempt.email,
        "phone": attempt.phone,
        "company": attempt.company,
        "message": attempt.message,
        "consent": attempt.consent,
        "consent_text": attempt.consent_text,
        "conversation_id": attempt.conversation_id,
        "created_at": _iso(attempt.created_at),
    }


def _author_name(message: Message) -> str:
    author = message.author
    return ((author.first_name or "").strip() or author.get_username()) if author else ""


def _conversation_export(conversation: Conversation) -> dict[str, Any]:
    """A conversation with all its messages (prefetched)."""
    return {
        "id": conversation.pk,
        "channel": conversation.channel,
        "origin": conversation.origin,
        "user_agent": conversation.user_agent,
        "created_at": _iso(conversation.created_at),
        "last_message_at": _iso(conversation.last_message_at),
        "messages": [
            {
                "id": message.public_id,
                "role": message.role,
                "text": message.text,
                "created_at": _iso(message.created_at),
                "answered": message.answered,
                "feedback": message.feedback,
                "sources": message.sources,
                # A staff member's message (live handoff) names who wrote it, as the visitor saw it.
                **({"name": _author_name(message)} if message.role == "agent" else {}),
            }
            for message in conversation.messages.all()
        ],
    }
