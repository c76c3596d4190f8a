"""Two captures of one person at the same moment end in one lead: the database decides."""

import logging
import threading

import pytest
from django.db import connection, transaction

from conversations.models import Conversation
from leads.models import Lead
from leads.services import lead_capture_from_message
from testsupport.waiting import wait_until

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
    """
    A competitor inserts the same email and holds its transaction open; the
    capture starts meanwhile and must wait for it. PostgreSQL lets the capture
    look (it finds nothing yet), then its INSERT waits on the unique index and
    fails once the competitor commits: the capture retries and updates the
    winner's row. SQLite takes the write lock when the capture's transaction
    begins (BEGIN IMMEDIATE), so the capture waits before looking and finds the
    row at once. Either way one lead, with both visitors' details.
    """
    caplog.set_level(logging.INFO, logger="leads.services")
    inserted, release, blocking = threading.Event(), threading.Event(), threading.Event()
    results: list = []
    conversation = Conversation.objects.create()
    # The statement that must wait for the competitor's transaction.
    waits_on = "BEGIN" if connection.vendor == "sqlite" else 'INSERT INTO "leads_lead"'

    def competitor():
        with transaction.atomic():
            Lead.objects.create(email="ana@brightside.io", name="Ana").conversations.add(conversation)
            inserted.set()
            release.wait(timeout=60)
        return "committed"

    def signal_the_blocking_statement(execute, sql, params, many, context):
        if sql.startswith(waits_on):
            blocking.set()
        return execute(sql, params, many, context)

    def capture():
        with connection.execute_wrapper(signal_the_blocking_statement):
            return lead_capture_from_message(conversation=conversation, text="ana@brightside.io +1 415 555 2671")

    first = _in_thread(competitor, results)
    first.start()
    assert inserted.wait(timeout=60)
    second = _in_thread(capture, results)
    second.start()
    assert blocking.wait(timeout=60), "the capture never reached the statement that waits for the competitor"
    if connection.vendor == "postgresql":
        wait_until(lambda: backends_waiting_for_a_lock() == 1, describe="the capture's INSERT is not waiting")
    release.set()
    first.join(timeout=60)
    second.join(timeout=60)

    captured = [r for r in results if r != "committed"]
    assert len(captured) == 1 and not isinstance(captured[0], Exception), results
    assert captured[0].status == "updated"
    lead = Lead.objects.get()
    assert (lead.name, lead.phone) == ("Ana", "+14155552671")
    raced = "raced another capture" in caplog.text
    assert raced is (connection.vendor == "postgresql"), caplog.text


def backends_waiting_for_a_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]
