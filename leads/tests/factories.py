import factory
from django.contrib.auth import get_user_model

from conversations.models import Conversation, Message
from leads.models import Lead


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"sales{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@tidewater.test")
    is_staff = True


class ConversationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Conversation


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    conversation = factory.SubFactory(ConversationFactory)
    role = "visitor"
    text = "Do you deliver e-bikes to Portland?"


class LeadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lead

    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"visitor{n}@example.com")
    phone = ""
    source = Lead.Source.DETECTED
