"""
POST /api/leads/: the contact form for sites that post it themselves, and integrations.

Rate-limited per client IP (LEADS_API_RATE) and per conversation, in the same
buckets as the WebSocket `lead` frame (core.limits).

The answer never tells whether the email or phone was known: no lead id, and
the same status for a new lead and for details that named an existing lead
from outside its conversations (kept as an unverified contact attempt; see
leads.services).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from drf_spectacular.utils import (
    extend_schema,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from conversations.models import Conversation
from core.api.errors import rate_limited_response
from core.api.serializers import ErrorSerializer
from core.limits import (
    LEADS_PER_CONVERSATION,
    LEADS_PER_IP,
    limits_hit,
    rate_request_from_http,
)
from core.structured_logging import bind_conversation
from leads.models import Lead
from leads.services import lead_submit_form


class LeadCreateApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema_serializer(component_name="LeadRequest")
    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
        email = serializers.CharField(max_length=254, required=False, allow_blank=True, default="")
        phone = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
        company = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
        consent = serializers.BooleanField(required=False, default=False)
        consent_text = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
        conversation_id = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
        message = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")

    @extend_schema_serializer(component_name="LeadResult")
    class OutputSerializer(serializers.Serializer):
        status = serializers.ChoiceField(
            choices=["captured", "updated"],
            help_text="`updated` only when this conversation gave details before; says nothing about "
            "whether the email or phone was known.",
        )

    @extend_schema(
        request=InputSerializer,
        responses={
            201: OutputSerializer,
            200: OutputSerializer,
            400: inline_serializer("LeadErrors", {"field": serializers.ListField(child=serializers.CharField())}),
            429: ErrorSerializer,
        },
        summary="Submit contact details (201 the first time a conversation does, 200 after that)",
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if data["conversation_id"]:
            bind_conversation(data["conversation_id"])
        retry_after = limits_hit(
            client=rate_request_from_http(request),
            checks=[(LEADS_PER_IP, None), (LEADS_PER_CONVERSATION, data["conversation_id"])],
        )
        if retry_after is not None:
            return rate_limited_response(retry_after, "Too many submissions in a short time; please try again later.")
        conversation = None
        if data["conversation_id"]:
            conversation = Conversation.objects.filter(pk=data["conversation_id"]).first()
            if conversation is None:
                return Response({"conversation_id": ["Unknown conversation."]}, status=status.HTTP_400_BAD_REQUEST)
        try:
            result = lead_submit_form(
                conversation=conversation,
                name=data["name"],
                email=data["email"],
                phone=data["phone"],
                company=data["company"],
                consent=data["consent"],
                consent_text=data["consent_text"],
                message=data["message"],
                source=Lead.Source.API,
            )
        except ValidationError as exc:
            return Response(exc.message_dict, status=status.HTTP_400_BAD_REQUEST)
        output = self.OutputSerializer({"status": result.status})
        code = status.HTTP_201_CREATED if result.status == "captured" else status.HTTP_200_OK
        return Response(output.data, status=code)
