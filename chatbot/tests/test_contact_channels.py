"""The contact channels of any knowledge base: the passage that gives the most ways to reach the business."""

from __future__ import annotations

from chatbot.contact_channels import contact_channels_find
from knowledge.types import SearchResult


def result(n: int, text: str, heading: str, confidence: float = 0.5, source_type: str = "document") -> SearchResult:
    return SearchResult(
        chunk_id=n,
        text=text,
        source_type=source_type,
        source_id=n,
        source_identifier=f"doc{n}.md",
        title=heading,
        heading_path=heading if source_type == "document" else "",
        page=None,
        url=f"/kb/sources/{n}/",
        score=1 / (60 + n),
        confidence=confidence,
        dense_rank=n,
        keyword_rank=None,
    )


FAQ_WITH_A_PHONE = result(
    1,
    "How do I book a repair?\nCall +1 415 555 2671 or book online.",
    "How do I book a repair?",
    confidence=0.6,
    source_type="faq",
)
SUPPORT_PAGE = result(
    2,
    "Write to help@brightside.example or call +1 415 555 0199, Monday to Friday, 9 am to 6 pm.\n\n"
    "We answer within a day.",
    "Contact > Support",
    confidence=0.5,
)
NO_HOURS = result(3, "- Email: help@brightside.example\n- Phone: +1 415 555 0199", "Contact", confidence=0.55)
STORES = result(
    4,
    "Store: Oakland | Hours: Tue-Sat 10 am-6 pm\nStore: Berkeley | Hours: Mon-Fri 8 am-4 pm",
    "Contact > Stores",
    confidence=0.45,
)
UNRELATED = result(5, "Our bikes weigh 20 kg. Order number 4155552671 is an example.", "Bikes", confidence=0.2)


def test_the_passage_with_the_most_kinds_of_channel_wins_over_a_better_ranked_faq():
    channels = contact_channels_find([FAQ_WITH_A_PHONE, SUPPORT_PAGE])

    assert channels.text == (
        "Write to help@brightside.example or call +1 415 555 0199, Monday to Friday, 9 am to 6 pm. [1]"
    )
    assert [passage.title for passage in channels.passages] == ["Contact > Support"]


def test_opening_hours_come_from_a_second_passage_when_the_first_has_none():
    channels = contact_channels_find([NO_HOURS, STORES])

    assert channels.text.splitlines() == [
        "- Email: help@brightside.example",
        "- Phone: +1 415 555 0199 [1]",
        "",
        "| Store | Hours |",
        "|---|---|",
        "| Oakland | Tue-Sat 10 am-6 pm |",
        "| Berkeley | Mon-Fri 8 am-4 pm [2] |",
    ]
    assert [passage.n for passage in channels.passages] == [1, 2]


def test_a_knowledge_base_without_channels_has_none():
    channels = contact_channels_find([STORES, UNRELATED])

    assert (channels.text, channels.passages) == ("", [])
