import factory

from conversations.models import Conversation, Message


class ConversationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Conversation

    channel = Conversation.Channel.WIDGET


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    conversation = factory.SubFactory(ConversationFactory)
    role = Message.Role.VISITOR
    text = factory.Sequence(lambda n: f"Question number {n}?")


def exchange(
    *,
    conversation=None,
    question: str,
    answer: str = "Sorry, I don't know.",
    answered: bool | None = False,
    feedback: int | None = None,
    **answer_fields,
) -> tuple[Message, Message]:
    """A visitor question and its answer, as the pipeline stores them."""
    conversation = conversation or ConversationFactory()
    asked = MessageFactory(conversation=conversation, text=question, answered=answered)
    reply = MessageFactory(
        conversation=conversation,
        role=Message.Role.ASSISTANT,
        text=answer,
        reply_to=asked,
        answered=answered,
        feedback=feedback,
        **answer_fields,
    )
    return asked, reply
