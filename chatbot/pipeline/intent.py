"""What a visitor message is: small talk, a request, or a question to answer from the knowledge base."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from chatbot.contact_channels import CONTACT_QUERY
from chatbot.smalltalk import smalltalk_kind
from leads.selectors import RequestKind, message_without_contact_details, visitor_request


@dataclass(frozen=True)
class Intent:
    text: str  # the message as sent, stripped
    smalltalk: Literal["greeting", "thanks", "goodbye"] | None
    request: RequestKind | None
    # What is answered: the message without the visitor's own email or phone ("..., my email is ...").
    question: str

    @property
    def search_query(self) -> str | None:
        """What the knowledge base is searched for; asking for a person searches the contact channels."""
        if self.smalltalk:
            return None
        return CONTACT_QUERY if self.request == "person" else self.question

    @property
    def is_question(self) -> bool:
        """Answered from the knowledge base (a request for a quote or a call back too, when it can)."""
        return not self.smalltalk and self.request != "person"


def intent_read(text: str) -> Intent:
    return Intent(
        text=text,
        smalltalk=smalltalk_kind(text),
        request=visitor_request(text),
        question=message_without_contact_details(text) or text,
    )
