"""The "Unanswered questions" admin page, and turning a group into an FAQ."""

from __future__ import annotations

import html
import re

import pytest
from django.contrib.auth.models import Permission, User

from chatbot.pipeline import answer_collect
from conversations.models import Conversation, Message
from conversations.tests.factories import ConversationFactory, exchange
from knowledge.models import FAQ

PAGE = "/admin/conversations/unansweredquestion/"


def ask_unanswered(*texts: str) -> None:
    for text in texts:
        exchange(question=text, answered=False)


@pytest.mark.django_db
def test_similar_questions_are_one_row_most_frequent_first(admin_client):
    ask_unanswered(
        "Do you ship to Mexico?",
        "Is there a kids e-bike?",
        "shipping to mexico possible?",
        "Do you ship to Mexico?",
        "Do you make e-bikes for children?",
        "Do you sell helmets for dogs?",
    )
    exchange(question="Do you ship to Canada?", answered=True)
    exchange(conversation=ConversationFactory(channel=Conversation.Channel.CLI), question="Staff test?", answered=False)
    response = admin_client.get(PAGE)

    assert response.status_code == 200
    rows = response.context["rows"]
    assert [(row["group"].count, row["group"].representative) for row in rows] == [
        (3, "Do you ship to Mexico?"),
        (2, "Is there a kids e-bike?"),
        (1, "Do you sell helmets for dogs?"),
    ]
    page = response.content.decode()
    assert "Do you ship to Canada?" not in page, "answered questions are not listed"
    assert "Staff test?" not in page, "questions from manage.py ask are not listed"


@pytest.mark.django_db
def test_dismissing_a_group_takes_it_off_the_list(admin_client):
    ask_unanswered("Do you ship to Mexico?", "Do you ship to Mexico?", "Do you sell helmets for dogs?")
    ids = admin_client.get(PAGE).context["rows"][0]["ids"]
    admin_client.post(PAGE, {"ids": ids})

    rows = admin_client.get(PAGE).context["rows"]
    assert [row["group"].representative for row in rows] == ["Do you sell helmets for dogs?"]
    assert Message.objects.filter(handled_at__isnull=False).count() == 2


@pytest.mark.django_db
def test_staff_without_the_permission_cannot_see_the_page(client):
    staff = User.objects.create_user("intern", password="pw", is_staff=True)
    client.force_login(staff)
    assert client.get(PAGE).status_code == 403

    staff.user_permissions.add(Permission.objects.get(codename="view_unansweredquestion"))
    ask_unanswered("Do you ship to Mexico?")
    page = client.get(PAGE).content.decode()
    assert "Do you ship to Mexico?" in page
    assert 'value="Dismiss"' not in page


@pytest.mark.django_db(transaction=True)
def test_draft_faq_opens_a_prefilled_faq_whose_save_answers_the_question_at_once(admin_client, settings):
    settings.LLM_PROVIDER = "extractive"
    from chatbot.tests.support import TIDEWATER_FAQS, knowledge_base_load

    knowledge_base_load(faqs=TIDEWATER_FAQS[:2])
    from asgiref.sync import async_to_sync

    question = "Do you have a showroom in Chicago?"
    before = async_to_sync(answer_collect)(conversation_id="c1", text=question)
    assert before.answered is False

    row = admin_client.get(PAGE).context["rows"][0]
    assert row["group"].representative == question
    assert row["covered"] is None
    draft = admin_client.get(html.unescape(row["draft_faq_url"]))
    assert draft.status_code == 200
    assert draft.context["adminform"].form.initial["question"] == question

    answer = "Yes: our Chicago showroom is at 400 N Lake Shore Drive, open Tuesday to Sunday."
    form = draft.context["adminform"].form
    data = {name: form.initial.get(name, "") for name in form.fields}
    data.update(question=question, answer=answer, is_active="on")
    saved = admin_client.post(re.sub(r"\?.*", "", row["draft_faq_url"]), data)
    assert saved.status_code == 302, saved.context["adminform"].form.errors if saved.context else saved
    assert FAQ.objects.get(question=question).status == "ready"

    after = async_to_sync(answer_collect)(conversation_id="c2", text=question)
    assert after.answered is True
    assert "400 N Lake Shore Drive" in after.answer
    assert admin_client.get(PAGE).context["rows"][0]["covered"]["title"] == question
