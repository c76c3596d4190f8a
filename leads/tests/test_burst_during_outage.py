"""
Nothing is lost: 100 new leads while the Sheets API fails (500s, 429s with
Retry-After, timeouts that may or may not have reached Google) are all in the
database at once, and each is in the sheet exactly once after the API recovers.
"""

import json
import time
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.management import CommandError, call_command

from leads.models import Lead, SyncState
from leads.services import lead_capture_from_message
from leads.tests.helpers import sheet_ids
from testsupport.processes import server_process, worker_process

BURST = 100


def assert_each_lead_exactly_once(fake_sheets):
    ids = sheet_ids(fake_sheets)
    assert Counter(ids).most_common(1)[0][1] == 1, "a lead appears twice in the sheet"
    assert sorted(ids, key=int) == [str(pk) for pk in Lead.objects.order_by("pk").values_list("pk", flat=True)]
    assert len(ids) == BURST


@pytest.mark.django_db(transaction=True)
def test_a_burst_during_an_outage_ends_with_each_lead_once_in_the_sheet(settings, fake_sheets):
    settings.SHEETS_TIMEOUT = 5  # the outage answers 503 at once; a busy machine must not turn it into a timeout
    fake_sheets.outage(503)

    started = time.monotonic()
    for number in range(BURST):
        lead_capture_from_message(conversation=None, text=f"lead{number}@example.com")
    print(f"burst: {time.monotonic() - started:.2f}s")

    assert Lead.objects.count() == BURST
    assert Lead.objects.filter(sync_state=SyncState.PENDING, sync_error__contains="503").count() == BURST

    # A flaky recovery: server errors, rate limits and timeouts, some after the write.
    settings.SHEETS_TIMEOUT = 0.3
    fake_sheets.recover()
    fake_sheets.chaos(rate=0.35, kinds=("500", "429", "timeout"), seed=5)
    for _ in range(40):
        try:
            call_command("sync_leads", "--batch-size", "10", verbosity=0)
            break
        except CommandError:
            continue
    fake_sheets.recover()
    call_command("sync_leads", verbosity=0)

    faults = Counter(r.fault.split(" ")[0] or str(r.status) for r in fake_sheets.requests if r.fault)
    assert faults["status"] and faults["timeout"], faults
    assert Lead.objects.filter(sync_state=SyncState.SYNCED).count() == BURST
    assert_each_lead_exactly_once(fake_sheets)


def post_lead(url, number):
    body = json.dumps({"email": f"burst{number}@example.com", "name": f"Visitor {number}", "consent": True,
                       "consent_text": "Contact me about my request."}).encode()
    request = urllib.request.Request(f"{url}/api/leads/", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_burst_through_the_api_is_mirrored_by_two_workers_after_the_outage(fake_sheets):
    """Real processes: Uvicorn takes the burst, two db_workers retry with backoff."""
    fake_sheets.outage(500)
    env = {**fake_sheets.environment(), "SHEETS_WORKSHEET": "Leads", "SHEETS_TIMEOUT": "0.5",
           "LEADS_SYNC_RETRY_BASE": "0.5", "LEADS_SYNC_RETRY_MAX": "2", "LEADS_API_RATE": "1000/m"}
    with (server_process("uvicorn", env={**env, "TASK_BACKEND": "database"}) as server,
          worker_process(env=env), worker_process(env=env)):
        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(pool.map(lambda n: post_lead(server.url, n), range(BURST)))

        assert statuses == [201] * BURST
        assert Lead.objects.count() == BURST

        time.sleep(1)
        fake_sheets.recover()
        fake_sheets.chaos(rate=0.3, kinds=("500", "429", "timeout"), seed=11)
        time.sleep(3)
        fake_sheets.recover()

        deadline = time.monotonic() + 120
        while Lead.objects.exclude(sync_state=SyncState.SYNCED).exists():
            assert time.monotonic() < deadline, list(Lead.objects.exclude(sync_state=SyncState.SYNCED).values(
                "pk", "sync_state", "sync_error", "sync_attempts", "sync_next_attempt_at", "sync_claimed_until")[:5])
            time.sleep(0.2)

    assert any(r.status == 500 for r in fake_sheets.requests)
    assert_each_lead_exactly_once(fake_sheets)
