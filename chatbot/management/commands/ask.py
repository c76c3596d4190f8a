"""`python manage.py ask "QUESTION"`: the answer pipeline in a terminal, streamed, with its sources."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Mapping
from contextlib import aclosing
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from chatbot.pipeline import answer_stream
from conversations.models import Conversation, new_conversation_id
from conversations.selectors import conversation_get

ID_OPTIONS = ("--conversation",)


class _IdValueParser(CommandParser):
    """
    Takes the word after `--conversation` as the id even when it begins with
    `-`, as one stored id in 64 made before ids stopped beginning with `-`
    does: argparse alone reads `--conversation -x...` as a missing value
    followed by an option. `--conversation=-x...` works either way.
    """

    def parse_known_args(self, args=None, namespace=None):
        if args is not None:
            args = _id_values_attached(list(args), known=set(self._option_string_actions))
        return super().parse_known_args(args, namespace)


def _id_values_attached(args: list[str], *, known: set[str]) -> list[str]:
    """`["--conversation", "-abc"]` -> `["--conversation=-abc"]`, unless `-abc` is one of our options."""
    attached: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        following = args[index + 1] if index + 1 < len(args) else None
        if arg in ID_OPTIONS and following is not None and following.startswith("-") and following not in known:
            attached.append(f"{arg}={following}")
            index += 2
        else:
            attached.append(arg)
            index += 1
    return attached


class Command(BaseCommand):
    help = (
        "Asks the assistant a question and streams the answer with its sources, exactly as a visitor "
        "would get it (stored as a conversation of channel 'cli', left out of the unanswered list)."
    )

    def create_parser(self, prog_name: str, subcommand: str, **kwargs) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.__class__ = _IdValueParser  # same parser, ids beginning with "-" read as values
        return parser

    def add_arguments(self, parser) -> None:
        parser.add_argument("question", nargs="+", help="The question (quote it, or give it as several words).")
        parser.add_argument(
            "--conversation",
            default="",
            metavar="ID",
            help="Continue this conversation (an id beginning with '-' works too).",
        )
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

    def _show(self, frame: Mapping[str, Any], conversation_id: str) -> str | None:
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


def _json_line(frame: Mapping[str, Any]) -> str:
    return json.dumps(frame, ensure_ascii=False)
