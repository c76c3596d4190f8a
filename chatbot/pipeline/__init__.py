"""
The answer pipeline: one service behind every door (WebSocket, SSE, REST, `manage.py ask`).

    answer_stream(conversation_id=..., text=...)  ->  protocol frames, in order

One module per step, in the order `answer_stream` (stream.py) runs them:
admit (refusals before any work) -> intent (small talk, a request, a question)
-> intake (store the message; search the knowledge base, retrieve.py) -> lead
(contact details become a lead, beside the answer) -> the reply (replies.py:
small talk, a person asked for in requests.py, or question.py: decide with
knowledge.answerability, then generate.py through the configured provider, or the
fallback when the knowledge base does not answer, in which case no model is
called) -> cite -> save. The steps send events (draft.py) that only
`answer_stream` applies; `collect` gathers a whole answer for REST without
streaming. The doors only carry frames over their transport.
"""

from chatbot.pipeline.admit import answer_refusal
from chatbot.pipeline.cite import citations_find, cited_sources
from chatbot.pipeline.collect import CollectedAnswer, answer_collect
from chatbot.pipeline.draft import Outcome
from chatbot.pipeline.question import WITHHELD_REPLY
from chatbot.pipeline.requests import REQUEST_ACK
from chatbot.pipeline.retrieve import MAX_PROMPT_PASSAGES, SEARCH_K, answer_confidence, passages_from_results
from chatbot.pipeline.stream import answer_stream

__all__ = [
    "MAX_PROMPT_PASSAGES",
    "REQUEST_ACK",
    "SEARCH_K",
    "WITHHELD_REPLY",
    "CollectedAnswer",
    "Outcome",
    "answer_collect",
    "answer_confidence",
    "answer_refusal",
    "answer_stream",
    "citations_find",
    "cited_sources",
    "passages_from_results",
]
