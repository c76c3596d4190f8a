"""Two captures of one person at the same moment end in one lead: the database decides."""

import logging
import threading
import time

import pytest
from django.db import connection, transaction

from conversations.models import Conversation
from leads.models import Lead
from leads.services import lead_capture_from_message

pytestmark = pytest.mark.django_db(transaction=True)


def _in_thread(target, results, *args):
    def run():
        try:
            results.append(target(*args))
        except Exception as exc:  # noqa: BLE001  reported by the assertion below
            results.append(exc)
        finally:
            connection.close()
    return threading.Thread(target=run)


def test_two_messages_at_the_same_moment_end_in_one_lead():
    rounds = 6
    for number in range(rounds):
        barrier = threading.Barrier(2)
        results: list = []
        # Both messages come from the same conversation: only a lead's own conversation updates it.
        conversation = Conversation.objects.create()

        def capture(text, barrier=barrier, conversation=conversation):
            barrier.wait()
            return lead_capture_from_message(conversation=conversation, text=text).status

        threads = [
            _in_thread(capture, results, f"visitor{number}@example.com"),
            _in_thread(capture, results, f"VISITOR{number}@example.com or +1 415 555 26{number:02d}"),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

        assert sorted(map(str, results)) == ["captured", "updated"]
    assert Lead.objects.count() == rounds


def test_a_capture_that_loses_the_race_to_the_unique_index_updates_the_winner(caplog):
    caplog.set_level(logging.INFO, logger="leads.services")
    inserted, release = threading.Event(), threading.Event()
    results: list = []

    conversation = Conversation.objects.create()

    def competitor():
        with transaction.atomic():
            Lead.objects.create(email="ana@brightside.io", name="Ana").conversations.add(conversation)
            inserted.set()
            release.wait(timeout=30)
        return "committed"

    first = _in_thread(competitor, results)
    first.start()
    assert inserted.wait(timeout=30)
    second = _in_thread(
        lambda: lead_capture_from_message(conversation=conversation, text="ana@brightside.io +1 415 555 2671"),
        results)
    second.start()
    time.sleep(0.5)  # the capture is now blocked on the competitor's uncommitted row or lock
    release.set()
    first.join(timeout=30)
    second.join(timeout=30)

    captured = [r for r in results if r != "committed"]
    assert len(captured) == 1 and not isinstance(captured[0], Exception), results
    assert captured[0].status == "updated"
    lead = Lead.objects.get()
    assert (lead.name, lead.phone) == ("Ana", "+14155552671")
    if connection.vendor == "postgresql":
        # PostgreSQL let both transactions look, then the unique index refused the second insert.
        assert "raced another capture" in caplog.text
