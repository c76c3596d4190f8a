"""`python manage.py ask "QUESTION"`: the answer pipeline in a terminal, streamed, with its sources."""

from __future__ import annotations

import asyncio
import json
import sys
from contextlib import aclosing

from django.core.management.base import BaseCommand, CommandError

from chatbot.services import answer_stream
from conversations.models import Conversation, new_conversation_id
from conversations.selectors import conversation_get


class Command(BaseCommand):
    help = (
        "Asks the assistant a question and streams the answer with its sources, exactly as a visitor "
        "would get it (stored as a conversation of channel 'cli', left out of the unanswered list)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("question", nargs="+", help="The question (quote it, or give it as several words).")
        parser.add_argument("--conversation", default="", help="Continue this conversation id.")
        parser.add_argument("--json", action="store_true", help="Print every protocol frame as one JSON line.")

    def handle(self, *args, question: list[str], conversation: str, json: bool, **options) -> None:
        text = " ".join(question)
        if conversation and conversation_get(conversation_id=conversation) is None:
            raise CommandError(f"No conversation with id {conversation!r}.")
        conversation_id = conversation or new_conversation_id()
        try:
            failed = asyncio.run(self._run(conversation_id=conversation_id, text=text, as_json=json))
        except KeyboardInterrupt:
            self.stderr.write("\nInterrupted; the partial answer is saved.")
            sys.exit(130)
        if failed:
            raise CommandError(failed)

    async def _run(self, *, conversation_id: str, text: str, as_json: bool) -> str | None:
        """Streams the frames; returns the error message when the answer failed."""
        failed = None
        frames = answer_stream(conversation_id=conversation_id, text=text, channel=Conversation.Channel.CLI)
        async with aclosing(frames):
            async for frame in frames:
                if as_json:
                    self.stdout.write(_json_line(frame))
                    self.stdout.flush()
                    if frame["type"] == "error":
                        failed = frame["message"]
                    continue
                failed = self._show(frame, conversation_id) or failed
        return failed

    def _show(self, frame: dict, conversation_id: str) -> str | None:
        kind = frame["type"]
        if kind == "token":
            self.stdout.write(frame["text"], ending="")
            self.stdout.flush()
        elif kind == "sources" and frame["items"]:
            self.stdout.write("\n\nSources:")
            for item in frame["items"]:
                self.stdout.write(f"  [{item['n']}] {item['title']}  {item['url']}")
        elif kind == "done":
            self.stdout.write("")
            if not frame["answered"]:
                self.stdout.write(self.style.WARNING("(not answered from the knowledge base)"))
            self.stdout.write(self.style.HTTP_INFO(f"conversation {conversation_id}  message {frame['message_id']}"))
        elif kind == "lead":
            self.stdout.write(self.style.SUCCESS(f"lead {frame['status']}"))
        elif kind == "error":
            self.stdout.write("")
            return f"{frame['code']}: {frame['message']}"
        return None


def _json_line(frame: dict) -> str:
    return json.dumps(frame, ensure_ascii=False)
