"""
The chat REST API: one view per operation, thin (the answer comes from chatbot.pipeline).

POST /api/chat/ answers as JSON, or, with `Accept: text/event-stream`, as
Server-Sent Events carrying the WebSocket frames.

Every endpoint is rate-limited per client IP and, where a conversation is
involved, per conversation, in the buckets the WebSocket shares
(core.limits): over a limit, a 429 with `Retry-After` and
`{"code": "rate_limited", "message", "retry_after"}`.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing

from asgiref.sync import async_to_sync
from django.core.exceptions import ValidationError
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
)
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from chatbot.api.renderers import EventStreamRenderer, sse_event
from chatbot.api.serializers import (
    HistoryItemSerializer,
    PublicBotSettingsSerializer,
    SourceSerializer,
)
from chatbot.frames import ServerFrame
from chatbot.handoff.relay import answer_relay_collected, answer_relayed
from chatbot.handoff.visitor import HandoffRoute, visitor_message_route
from chatbot.pipeline import answer_collect, answer_refusal, answer_stream
from chatbot.selectors import bot_settings_get
from conversations.models import Conversation, Message, new_conversation_id
from conversations.selectors import conversation_get, conversation_history
from conversations.services import message_feedback_set
from core.api.errors import error_response, rate_limited_response
from core.api.serializers import ErrorSerializer
from core.language import language_default, language_supported
from core.limits import (
    FEEDBACK_PER_CONVERSATION,
    FEEDBACK_PER_IP,
    READS_PER_IP,
    RateRequest,
    limits_hit,
    rate_request_from_http,
    resume_miss_record,
    resume_misses_reached,
    resume_refusal,
)
from core.structured_logging import bind_conversation

SSE_DESCRIPTION = """\
With `Accept: text/event-stream` the answer streams as Server-Sent Events: each
event is named after its frame type and carries the frame as JSON in `data`,
exactly as on the WebSocket (docs/protocol.md): `conversation` (the id), `start`,
`token`..., `sources`, `done`, then `lead` if the message carried contact
details; or one `error`."""


def _not_found(message: str) -> Response:
    return Response({"code": "not_found", "message": message}, status=status.HTTP_404_NOT_FOUND)


class PublicApi(APIView):
    """Endpoints for anonymous website visitors."""

    authentication_classes: list = []
    permission_classes = [AllowAny]


LANG_HELP = (
    "The visitor's UI language (en, fr, de, es, nl; fr-CA reads as fr). Texts left at their default are "
    "sent in it; other languages get the site's default."
)


class BotSettingsApi(PublicApi):
    @extend_schema(
        responses={200: PublicBotSettingsSerializer, 429: ErrorSerializer},
        parameters=[OpenApiParameter("lang", str, description=LANG_HELP)],
        summary="The bot's public settings (for the widget)",
    )
    def get(self, request: Request) -> Response:
        retry_after = limits_hit(client=rate_request_from_http(request), checks=[(READS_PER_IP, None)])
        if retry_after is not None:
            return rate_limited_response(retry_after)
        language = language_supported(request.query_params.get("lang")) or language_default()
        return Response(bot_settings_get().in_language(language).public())


class ChatApi(PublicApi):
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, EventStreamRenderer]

    @extend_schema_serializer(component_name="ChatRequest")
    class InputSerializer(serializers.Serializer):
        message = serializers.CharField(trim_whitespace=False, allow_blank=True)
        conversation_id = serializers.CharField(
            required=False,
            allow_blank=True,
            default="",
            max_length=64,
            help_text="Continue this conversation; omit to start a new one.",
        )
        lang = serializers.CharField(
            required=False,
            allow_blank=True,
            default="",
            max_length=35,
            help_text="The visitor's UI language, for fixed texts when a message is too short to tell its own "
            "(answers follow the language of each message).",
        )

    @extend_schema_serializer(component_name="ChatAnswer")
    class OutputSerializer(serializers.Serializer):
        conversation_id = serializers.CharField()
        message_id = serializers.CharField()
        answer = serializers.CharField(allow_blank=True)
        sources = SourceSerializer(many=True)
        answered = serializers.BooleanField(help_text="False when the knowledge base did not cover the question.")
        offer_contact = serializers.BooleanField(help_text="Show the contact form.")
        lead = serializers.CharField(
            allow_null=True, help_text='"captured" or "updated" when the message carried contact details.'
        )
        handoff = serializers.ChoiceField(
            choices=["held", "waiting"],
            allow_null=True,
            required=False,
            help_text='Live handoff: "held" when a staff member holds the conversation (the message was stored '
            'and relayed to them; no answer, `message_id` is the message\'s); "waiting" when the visitor asked '
            "for a person and one will join. Staff messages appear in GET /api/conversations/<id>/.",
        )

    @extend_schema(
        request=InputSerializer,
        responses={
            (200, "application/json"): OutputSerializer,
            (200, "text/event-stream"): OpenApiResponse(OpenApiTypes.STR, description=SSE_DESCRIPTION),
            400: ErrorSerializer,
            404: ErrorSerializer,
            429: ErrorSerializer,
            503: ErrorSerializer,
        },
        summary="Ask a question",
        description=SSE_DESCRIPTION,
        examples=[
            OpenApiExample("A question", value={"message": "How long do I have to return a bike?"}, request_only=True)
        ],
    )
    def post(self, request: Request) -> Response | StreamingHttpResponse:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        requested = data["conversation_id"]
        conversation_id = requested or new_conversation_id()
        bind_conversation(conversation_id)
        client = rate_request_from_http(request)
        # Counted before the conversation is looked up, so guessing ids is limited too.
        ui_language = language_supported(data["lang"])
        refusal = async_to_sync(answer_refusal)(
            conversation_id=conversation_id,
            text=data["message"],
            client=client,
            language=ui_language,
        )
        if refusal is not None:
            return error_response(refusal)
        if requested:
            retry_after = resume_misses_reached(client=client)
            if retry_after is not None:
                return rate_limited_response(retry_after)
            if conversation_get(conversation_id=requested) is None:
                resume_miss_record(client=client)
                return _not_found("No conversation with this id.")
        return self._respond(
            request, conversation_id=conversation_id, text=data["message"], client=client, ui_language=ui_language
        )

    def _respond(
        self, request: Request, *, conversation_id: str, text: str, client: RateRequest, ui_language: str
    ) -> Response | StreamingHttpResponse:
        """The reply to an admitted message: the live handoff's, else the pipeline's answer (SSE or JSON)."""
        origin = request.headers.get("origin", "")[:300]
        user_agent = request.headers.get("user-agent", "")[:500]
        streaming = isinstance(request.accepted_renderer, EventStreamRenderer)
        channel = Conversation.Channel.API
        routed = async_to_sync(visitor_message_route)(
            conversation_id=conversation_id,
            text=text,
            channel=channel,
            origin=origin,
            user_agent=user_agent,
            ui_language=ui_language,
        )
        if routed is not None:
            return self._handoff_response(conversation_id, routed, streaming=streaming)
        if streaming:
            stream = answer_stream(
                conversation_id=conversation_id,
                text=text,
                channel=channel,
                origin=origin,
                user_agent=user_agent,
                client=client,
                admitted=True,
                ui_language=ui_language,
            )
            return _sse_response(
                conversation_id, answer_relayed(conversation_id=conversation_id, text=text, frames=stream)
            )
        result = async_to_sync(answer_collect)(
            conversation_id=conversation_id,
            text=text,
            channel=channel,
            origin=origin,
            user_agent=user_agent,
            client=client,
            admitted=True,
            ui_language=ui_language,
        )
        if result.error is not None:
            error = dict(result.error)
            if result.message_id and result.error["code"] == "llm_unavailable":
                error.update(conversation_id=conversation_id, partial_answer=result.answer)
            return error_response(error)
        async_to_sync(answer_relay_collected)(
            conversation_id=conversation_id, text=text, message_id=result.message_id or "", answer=result.answer
        )
        output = self.OutputSerializer(
            {
                "conversation_id": conversation_id,
                "message_id": result.message_id,
                "answer": result.answer,
                "sources": result.sources,
                "answered": result.answered,
                "offer_contact": result.offer_contact,
                "lead": result.lead,
            }
        )
        return Response(output.data)

    def _handoff_response(
        self, conversation_id: str, routed: HandoffRoute, *, streaming: bool
    ) -> Response | StreamingHttpResponse:
        """A message the live handoff took (chatbot.handoff.visitor): its frames, or one JSON answer."""
        if streaming:
            return _sse_response(conversation_id, _frames(routed.frames))
        output = {
            "conversation_id": conversation_id,
            "message_id": routed.message_id,
            "answer": routed.text,
            "sources": [],
            "answered": True,
            "offer_contact": False,
            "lead": routed.lead,
            "handoff": routed.kind,
        }
        return Response(self.OutputSerializer(output).data)


def _sse_response(conversation_id: str, frames: AsyncGenerator[ServerFrame, None]) -> StreamingHttpResponse:
    response = StreamingHttpResponse(_sse(conversation_id, frames), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: do not buffer the stream
    return response


async def _frames(frames: list[dict]) -> AsyncGenerator[ServerFrame, None]:
    for frame in frames:
        yield frame  # type: ignore[misc]


async def _sse(conversation_id: str, frames: AsyncGenerator[ServerFrame, None]) -> AsyncIterator[bytes]:
    yield sse_event({"type": "conversation", "id": conversation_id})
    async with aclosing(frames):
        async for frame in frames:
            yield sse_event(frame)


class ConversationApi(PublicApi):
    @extend_schema_serializer(component_name="ConversationHistory")
    class OutputSerializer(serializers.Serializer):
        id = serializers.CharField()
        history = HistoryItemSerializer(many=True)

    @extend_schema(
        responses={200: OutputSerializer, 404: ErrorSerializer, 429: ErrorSerializer},
        summary="A conversation's history",
    )
    def get(self, request: Request, conversation_id: str) -> Response:
        bind_conversation(conversation_id)
        client = rate_request_from_http(request)
        retry_after = resume_refusal(client=client, conversation_id=conversation_id)
        if retry_after is not None:
            return rate_limited_response(retry_after)
        conversation = conversation_get(conversation_id=conversation_id)
        if conversation is None:
            resume_miss_record(client=client)
            return _not_found("No conversation with this id.")
        history = conversation_history(conversation_id=conversation.pk)
        return Response(self.OutputSerializer({"id": conversation.pk, "history": history}).data)


class FeedbackApi(PublicApi):
    @extend_schema_serializer(component_name="FeedbackRequest")
    class InputSerializer(serializers.Serializer):
        message_id = serializers.CharField(max_length=64)
        rating = serializers.ChoiceField(choices=[1, -1], help_text="1: helpful, -1: not helpful.")
        conversation_id = serializers.CharField(
            required=False, max_length=64, help_text="When given, the message must belong to this conversation."
        )

    @extend_schema_serializer(component_name="FeedbackResult")
    class OutputSerializer(serializers.Serializer):
        message_id = serializers.CharField()
        rating = serializers.IntegerField()

    @extend_schema(
        request=InputSerializer,
        responses={200: OutputSerializer, 404: ErrorSerializer, 429: ErrorSerializer},
        summary="Rate an answer",
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if data.get("conversation_id"):
            bind_conversation(data["conversation_id"])
        retry_after = limits_hit(
            client=rate_request_from_http(request),
            checks=[(FEEDBACK_PER_IP, None), (FEEDBACK_PER_CONVERSATION, data.get("conversation_id"))],
        )
        if retry_after is not None:
            return rate_limited_response(retry_after)
        try:
            message = message_feedback_set(
                message_id=data["message_id"], rating=data["rating"], conversation_id=data.get("conversation_id")
            )
        except Message.DoesNotExist:
            return _not_found("No answer with this message_id.")
        except ValidationError as exc:
            return Response({"code": "bad_request", "message": " ".join(exc.messages)}, status=400)
        return Response(self.OutputSerializer({"message_id": message.public_id, "rating": message.feedback}).data)
