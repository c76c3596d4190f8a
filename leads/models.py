from django.conf import settings
from django.db import models
from django.db.models.functions import Lower


class Lead(models.Model):
    class Status(models.TextChoices):
        NEW = "new", "New"
        CONTACTED = "contacted", "Contacted"
        QUALIFIED = "qualified", "Qualified"
        WON = "won", "Won"
        LOST = "lost", "Lost"

    class Source(models.TextChoices):
        DETECTED = "detected", "Detected in chat"
        FORM = "form", "Contact form"
        API = "api", "API"

    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(max_length=254, blank=True)
    phone = models.CharField(max_length=32, blank=True, help_text="E.164")
    company = models.CharField(max_length=200, blank=True)
    interest = models.TextField(blank=True, help_text="The question that led to this lead.")
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.DETECTED)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW, db_index=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="leads"
    )
    notes = models.TextField(blank=True)
    conversations = models.ManyToManyField("conversations.Conversation", blank=True, related_name="leads")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"), condition=~models.Q(email=""), name="lead_unique_email"
            ),
            models.UniqueConstraint(
                fields=["phone"], condition=~models.Q(phone=""), name="lead_unique_phone"
            ),
        ]

    def __str__(self) -> str:
        return self.name or self.email or self.phone or f"Lead {self.pk}"
