"""Output shapes shared by several chat endpoints (each view keeps its own input serializer)."""

from rest_framework import serializers


class SourceSerializer(serializers.Serializer):
    n = serializers.IntegerField(help_text="The number cited in the answer as [n].")
    title = serializers.CharField()
    url = serializers.CharField(allow_blank=True)
    snippet = serializers.CharField()


class HistoryItemSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="Message id (use it for feedback).")
    role = serializers.ChoiceField(choices=["visitor", "assistant", "agent"], help_text="agent: a staff member.")
    text = serializers.CharField(allow_blank=True)
    sources = SourceSerializer(many=True)
    answered = serializers.BooleanField(allow_null=True)
    feedback = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    name = serializers.CharField(required=False, help_text="For an agent message: the staff member's name.")


class ColorsSerializer(serializers.Serializer):
    primary = serializers.CharField()
    background = serializers.CharField()
    text = serializers.CharField()


class PublicBotSettingsSerializer(serializers.Serializer):
    name = serializers.CharField()
    greeting = serializers.CharField()
    title = serializers.CharField()
    colors = ColorsSerializer()
    consent_text = serializers.CharField()
