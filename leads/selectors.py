"""Reads for leads: intent in a visitor message, the question behind a lead, transcripts."""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db.models import F, Max, Q, QuerySet
from django.db.models.functions import Coalesce, Greatest, Lower
from django.utils import timezone

from leads.detection import contact_details_extract
from leads.models import Lead, LeadNotification, SheetRowDeletion, SyncState

if TYPE_CHECKING:
    from conversations.models import Conversation, Message

# Visitors asking for a person, a quote, a demo (or a test ride) or a call back.
_WANTS_CONTACT_RE = re.compile(
    r"""
    # English
    \b(?:speak|talk|chat)\s+(?:to|with)\s+(?:a|an|some|the|your)?\s*(?:real\s+|actual\s+)?
        (?:human|person|someone|somebody|agent|rep|representative|sales|salesperson|staff|expert
           |advisor|manager)
    | \b(?:human|real\s+person|live\s+agent|sales\s+team|sales\s+rep)\b
    | \bcall\s*(?:me\s+)?back\b | \bcallback\b | \bgive\s+me\s+a\s+(?:call|ring)\b
    | \bcan\s+(?:you|someone)\s+call\s+me\b
    | \b(?:contact|reach|email|phone)\s+me\b | \bget\s+in\s+touch\b
    | \bquote\b | \bquotation\b | \bestimate\s+for\b | \bbulk\s+pricing\b | \bfleet\s+pricing\b
    | \bdemo\b | \bdemonstration\b | \btest\s*ride\b | \bbook\s+an?\s+appointment\b
    # French
    | \bparler\s+(?:à|a|avec)\s+(?:un|une|quelqu|le|la|votre|vos)\w*\s*
        (?:conseill\w*|humain|personne|vendeu\w*|commercia\w*|agent|équipe|expert)?
    | \b(?:rappelez|rappeler|recontacter|recontactez|contactez)[-\s]?moi\b
    | \bme\s+(?:rappeler|contacter|recontacter)\b
    | \bêtre\s+(?:rappelé|contacté)e?\b | \bdevis\b | \bdémo\b | \bdémonstration\b | \bessai\b
    # German
    | \bmit\s+(?:einem|einer|jemandem|ihrem|dem)\s+
        (?:mensch\w*|mitarbeiter\w*|berater\w*|verkäufer\w*|vertrieb\w*|person)
    | \bmensch(?:en)?\s+sprechen\b | \brückruf\b | \bzurückrufen\b | \brufen\s+sie\s+mich\b
    | \bruft\s+mich\b | \bkontaktieren\s+sie\s+mich\b | \bmelden\s+sie\s+sich\b
    | \bangebot\b | \bkostenvoranschlag\b | \bvorführung\b | \bprobefahrt\b | \bberatungstermin\b
    # Spanish
    | \bhablar\s+con\s+(?:un|una|alguien|el|la|su|vuestro|vuestra)\w*\s*
        (?:persona|humano|agente|asesor\w*|comercial|vendedor\w*|equipo)?
    | \b(?:llamadme|llámame|llamame|llámeme|contáctame|contactadme|contácteme)\b
    | \bme\s+(?:llamen|llaméis|contacten|puede[ns]?\s+llamar)\b
    | \bdevolver\w*\s+la\s+llamada\b | \bpresupuesto\b | \bcotización\b | \bdemostración\b
    | \bprueba\s+de\s+conducción\b
    """,
    re.IGNORECASE | re.VERBOSE,
)


def visitor_wants_contact(text: str) -> bool:
    """The visitor asks for a person, a quote, a demo or a call back (en, fr, de, es)."""
    return bool(_WANTS_CONTACT_RE.search(text or ""))


def _looks_like_a_question(text: str) -> bool:
    return "?" in text or len(text.split()) >= 4


def conversation_interest(*, conversation: Conversation | None, current_text: str = "") -> str:
    """
    The question that led to the lead: the visitor's latest message in the
    conversation that asks something rather than only giving contact details;
    failing that, what is left of the current message once the details are
    taken out.
    """
    if conversation is not None:
        visitor_messages: QuerySet[Message] = conversation.messages.filter(role="visitor").order_by(
            "-created_at", "-id"
        )
        for message in visitor_messages[:20]:
            text = message.text.strip()
            if not text or text == current_text.strip():
                continue
            if contact_details_extract(text=text) or not _looks_like_a_question(text):
                continue
            return text[:2000]
    return _text_without_contact_details(current_text)


_CONTACT_TOKEN_RE = re.compile(r"\S+@\S+|\+?\d[\d\s().-]{6,}\d")


def _text_without_contact_details(text: str) -> str:
    remainder = _CONTACT_TOKEN_RE.sub(" ", text or "")
    remainder = re.sub(r"\s+", " ", remainder).strip(" ,.;:-")
    return remainder[:2000] if _looks_like_a_question(remainder) and "?" in remainder else ""


def lead_find_by_email(*, email: str) -> Lead | None:
    if not email:
        return None
    return (
        Lead.objects.alias(email_lower=Lower("email"))
        .filter(email_lower=email.lower())
        .exclude(email="")
        .first()
    )


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
    now = timezone.now()
    queryset = Lead.objects.filter(Q(sync_claimed_until__isnull=True) | Q(sync_claimed_until__lt=now))
    if not include_synced:
        queryset = queryset.filter(sync_state__in=[SyncState.PENDING, SyncState.FAILED])
    return queryset.order_by("created_at", "id")


def notifications_to_send() -> QuerySet[LeadNotification]:
    now = timezone.now()
    return LeadNotification.objects.filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
        state__in=[LeadNotification.State.PENDING, LeadNotification.State.FAILED],
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
    return SheetRowDeletion.objects.filter(
        Q(sync_claimed_until__isnull=True) | Q(sync_claimed_until__lt=now),
        Q(not_before__isnull=True) | Q(not_before__lte=now),
        sync_state__in=[SyncState.PENDING, SyncState.FAILED],
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
    conversations = []
    for conversation in lead.conversations.order_by("created_at").prefetch_related("messages"):
        conversations.append({
            "id": conversation.pk, "channel": conversation.channel, "origin": conversation.origin,
            "user_agent": conversation.user_agent, "created_at": _iso(conversation.created_at),
            "last_message_at": _iso(conversation.last_message_at),
            "messages": [{
                "id": message.public_id, "role": message.role, "text": message.text,
                "created_at": _iso(message.created_at), "answered": message.answered,
                "feedback": message.feedback, "sources": message.sources,
            } for message in conversation.messages.all()],
        })
    owner = lead.owner.get_username() if lead.owner else None
    return {
        "format": "tidewater-assistant.person-export.v1",
        "exported_at": timezone.now().isoformat(),
        "lead": {
            "id": lead.pk, "name": lead.name, "email": lead.email, "phone": lead.phone, "company": lead.company,
            "interest": lead.interest, "source": lead.source, "status": lead.status, "owner": owner,
            "notes": lead.notes, "created_at": _iso(lead.created_at), "updated_at": _iso(lead.updated_at),
            "google_sheet": {"state": lead.sync_state, "synced_at": _iso(lead.synced_at), "row": lead.sheet_row},
        },
        "consent": {"given": lead.consent, "text": lead.consent_text, "at": _iso(lead.consent_at)},
        "contact_attempts": [{
            "id": attempt.pk, "verified": False, "source": attempt.source, "name": attempt.name,
            "email": attempt.email, "phone": attempt.phone, "company": attempt.company,
            "message": attempt.message, "consent": attempt.consent, "consent_text": attempt.consent_text,
            "conversation_id": attempt.conversation_id, "created_at": _iso(attempt.created_at),
        } for attempt in lead.contact_attempts.order_by("created_at", "id")],
        "conversations": conversations,
        "notifications": [{
            "channel": notification.channel, "about": "contact attempt" if notification.contact_attempt_id
            else "new lead", "state": notification.state, "sent_at": _iso(notification.sent_at),
            "created_at": _iso(notification.created_at),
        } for notification in lead.notifications.order_by("created_at", "id")],
    }
