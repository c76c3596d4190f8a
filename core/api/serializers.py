"""The error shape every API view documents (see core.api.errors)."""

from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    code = serializers.ChoiceField(
        choices=["bad_request", "too_long", "rate_limited", "llm_unavailable", "not_found", "server_error"]
    )
    message = serializers.CharField()
    retry_after = serializers.IntegerField(required=False, help_text="Seconds, for rate_limited.")
