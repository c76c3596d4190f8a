"""
Nothing is lost: 100 new leads while the Sheets API fails (500s, 429s with
Retry-After, timeouts that may or may not have reached Google) are all in the
database at once, and each is in the sheet exactly once after the API recovers.

The faults of the recovery are planned, not left to chance, and each test
proves from the fake's record that they happened: a timed-out append that did
reach the sheet (the case that would duplicate a row), a timeout before the
write, a 429 and a 500, on top of a seeded random mix of errors. The planned
timeouts are held by the fake until the client gives up, so they happen
however fast the machine is; the timeout itself is generous enough that an
ordinary answer never turns into one.
"""

import json
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.management import CommandError, call_command

from leads.models import Lead, SyncState
from leads.services import lead_capture_from_message
from leads.tests.helpers import sheet_ids
from testsupport.fake_sheets import FakeSheets
from testsupport.processes import server_process, worker_process
from testsupport.waiting import wait_until

BURST = 100
SHEETS_TIMEOUT = 2  # seconds; each planned timeout costs this much


def assert_each_lead_exactly_once(fake_sheets):
    ids = sheet_ids(fake_sheets)
    assert Counter(ids).most_common(1)[0][1] == 1, "a lead appears twice in the sheet"
    assert sorted(ids, key=int) == [str(pk) for pk in Lead.objects.order_by("pk").values_list("pk", flat=True)]
    assert len(ids) == BURST


def plan_a_flaky_recovery(fake_sheets: FakeSheets, *, seed: int) -> int:
    """Ends the outage with planned faults and a random mix; returns where the recovery's requests start."""
    fake_sheets.recover()
    since = len(fake_sheets.requests)
    fake_sheets.time_out_next(1, apply=True, method="POST", path_contains=":append")
    fake_sheets.fail_next(1, status=429, retry_after=1)
    fake_sheets.time_out_next(1, apply=False)
    fake_sheets.fail_next(1, status=500)
    fake_sheets.chaos(rate=0.3, kinds=("500", "429"), seed=seed)
    return since


def planned_faults_happened(fake_sheets: FakeSheets, since: int) -> bool:
    injected = fake_sheets.injected(since=since)
    return (
        injected["timeout after apply"] >= 1
        and injected["timeout before apply"] >= 1
        and injected["status 429"] >= 2
        and injected["status 500"] >= 2
    )  # planned + random ones


def assert_the_recovery_was_flaky(fake_sheets: FakeSheets, since: int) -> None:
    assert planned_faults_happened(fake_sheets, since), fake_sheets.injected(since=since)
    timed_out_appends = [r for r in fake_sheets.requests[since:] if r.fault == "timeout after apply"]
    assert [r.path.endswith(":append") for r in timed_out_appends] == [True], "the append reached the sheet"
    hung = [r for r in fake_sheets.requests[since:] if r.fault.startswith("timeout")]
    wait_until(lambda: all(r.client_gave_up for r in hung), describe="a client never gave up on a hung call")


def sync_until_everything_is_in_the_sheet(*, max_calls: int) -> int:
    """Runs `sync_leads` as cron would, until it exits 0; returns how many runs it took."""
    for calls in range(1, max_calls + 1):
        try:
            call_command("sync_leads", "--batch-size", "10", verbosity=0)
            return calls
        except CommandError:
            continue
    raise AssertionError(
        f"sync_leads still failing after {max_calls} runs: "
        f"{list(Lead.objects.exclude(sync_state=SyncState.SYNCED).values('pk', 'sync_error')[:5])}"
    )


@pytest.mark.django_db(transaction=True)
def test_a_burst_during_an_outage_ends_with_each_lead_once_in_the_sheet(settings, fake_sheets):
    fake_sheets.outage(503)

    for number in range(BURST):
        lead_capture_from_message(conversation=None, text=f"lead{number}@example.com")

    assert Lead.objects.count() == BURST
    assert Lead.objects.filter(sync_state=SyncState.PENDING, sync_error__contains="503").count() == BURST

    settings.SHEETS_TIMEOUT = SHEETS_TIMEOUT
    since = plan_a_flaky_recovery(fake_sheets, seed=5)
    runs = sync_until_everything_is_in_the_sheet(max_calls=200)

    assert runs > 1, "the recovery never failed a run"
    assert_the_recovery_was_flaky(fake_sheets, since)
    assert Lead.objects.filter(sync_state=SyncState.SYNCED).count() == BURST
    assert_each_lead_exactly_once(fake_sheets)


def post_lead(url, number):
    body = json.dumps(
        {
            "email": f"burst{number}@example.com",
            "name": f"Visitor {number}",
            "consent": True,
            "consent_text": "Contact me about my request.",
        }
    ).encode()
    request = urllib.request.Request(
        f"{url}/api/leads/", data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status


def unsynced() -> list[dict]:
    return list(
        Lead.objects.exclude(sync_state=SyncState.SYNCED).values(
            "pk", "sync_state", "sync_error", "sync_attempts", "sync_next_attempt_at", "sync_claimed_until"
        )[:5]
    )


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_burst_through_the_api_is_mirrored_by_two_workers_after_the_outage(fake_sheets):
    """Real processes: Uvicorn takes the burst, two db_workers retry with backoff."""
    fake_sheets.outage(500)
    # However long a busy machine makes the outage last, no lead gives up retrying (that is another test's subject).
    env = {
        **fake_sheets.environment(),
        "SHEETS_WORKSHEET": "Leads",
        "SHEETS_TIMEOUT": str(SHEETS_TIMEOUT),
        "LEADS_SYNC_RETRY_BASE": "0.5",
        "LEADS_SYNC_RETRY_MAX": "2",
        "LEADS_SYNC_MAX_ATTEMPTS": "1000",
        "LEADS_API_RATE": "1000/m",
    }
    with (
        server_process("uvicorn", env={**env, "TASK_BACKEND": "database"}) as server,
        worker_process(env=env),
        worker_process(env=env),
    ):
        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(pool.map(lambda n: post_lead(server.url, n), range(BURST)))

        assert statuses == [201] * BURST
        assert Lead.objects.count() == BURST

        # The outage refuses the workers' pushes. Not every lead's: the retries of the first ones come
        # before the first push of the others in the task queue (django-tasks-db orders by run_after).
        wait_until(
            lambda: Lead.objects.filter(sync_attempts__gte=1, sync_error__contains="500").count() >= 10,
            describe=lambda: f"the outage has refused {fake_sheets.injected()} pushes so far",
        )
        since = plan_a_flaky_recovery(fake_sheets, seed=11)
        wait_until(
            lambda: planned_faults_happened(fake_sheets, since),
            timeout=120,
            describe=lambda: fake_sheets.injected(since=since),
        )
        fake_sheets.recover()

        wait_until(
            lambda: not Lead.objects.exclude(sync_state=SyncState.SYNCED).exists(), timeout=120, describe=unsynced
        )

    assert_the_recovery_was_flaky(fake_sheets, since)
    assert_each_lead_exactly_once(fake_sheets)
