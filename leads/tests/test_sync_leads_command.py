import json
import signal
import subprocess
import sys
import time
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from leads.models import Lead, SyncState
from leads.sheets import HEADER
from leads.tests.factories import LeadFactory
from leads.tests.helpers import sheet_ids
from testsupport.processes import BASE_DIR, child_environment

pytestmark = pytest.mark.django_db


def run(*args):
    out, err = StringIO(), StringIO()
    call_command("sync_leads", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def leads_pending(count, settings):
    """Leads saved while the mirror was off: pending, never pushed."""
    credentials, settings.SHEETS_CREDENTIALS_JSON = settings.SHEETS_CREDENTIALS_JSON, ""
    leads = LeadFactory.create_batch(count)
    settings.SHEETS_CREDENTIALS_JSON = credentials
    return leads


def test_it_pushes_pending_leads_in_batches(settings, fake_sheets):
    leads = leads_pending(7, settings)

    out, _ = run("--json", "--batch-size", "3")

    summary = json.loads(out)
    assert (summary["synced"], summary["remaining"], summary["errors"]) == (7, 0, [])
    assert sheet_ids(fake_sheets) == [str(lead.pk) for lead in leads]
    assert len(fake_sheets.api_calls("POST", ":append")) == 3
    assert set(Lead.objects.values_list("sync_state", flat=True)) == {SyncState.SYNCED}


def test_it_pushes_failed_leads_again(settings, fake_sheets):
    lead = leads_pending(1, settings)[0]
    Lead.objects.update(sync_state=SyncState.FAILED, sync_error="Sheets API 403: denied", sync_attempts=12)

    run()

    lead.refresh_from_db()
    assert (lead.sync_state, lead.sync_error, lead.sync_attempts) == (SyncState.SYNCED, "", 0)


def test_all_repairs_a_sheet_edited_by_hand(settings, fake_sheets):
    first, second = leads_pending(2, settings)
    run()
    rows = fake_sheets.rows("Leads")
    rows[1][2] = "typo"
    fake_sheets.set_rows("Leads", [HEADER, rows[1]])  # the second lead's row was deleted

    run("--all")

    repaired = fake_sheets.rows("Leads")
    assert [r[0] for r in repaired[1:]] == [str(first.pk), str(second.pk)]
    assert repaired[1][2] == first.name


def test_it_stops_at_the_first_refused_batch_and_keeps_the_leads_pending(settings, fake_sheets):
    leads_pending(5, settings)
    fake_sheets.outage(503)

    with pytest.raises(CommandError, match="5 lead\\(s\\) are not in the sheet") as error:
        run("--batch-size", "2")

    assert error.value.returncode == 1
    assert len(fake_sheets.api_calls()) == 1
    assert Lead.objects.filter(sync_state=SyncState.PENDING, sync_error__contains="503").count() == 2
    assert Lead.objects.filter(sync_claim__isnull=False).count() == 0


def test_with_the_mirror_off_it_says_so_and_succeeds(mirror_off):
    LeadFactory()

    out, err = run()

    assert "mirror is off" in err
    assert Lead.objects.get().sync_state == SyncState.PENDING


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_ctrl_c_releases_the_batch_in_flight(settings, fake_sheets):
    leads_pending(3, settings)
    fake_sheets.hang_seconds = 60
    fake_sheets.time_out_next(1, apply=False)
    env = child_environment(**fake_sheets.environment(), SHEETS_WORKSHEET="Leads", SHEETS_TIMEOUT="20")
    process = subprocess.Popen(
        [sys.executable, "manage.py", "sync_leads", "--json"],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while not any(r.fault == "timeout before apply" for r in fake_sheets.requests):
        assert time.monotonic() < deadline and process.poll() is None, process.communicate()
        time.sleep(0.05)
    assert Lead.objects.filter(sync_claim__isnull=False).count() == 3

    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)

    assert process.returncode == 130, err
    assert json.loads(out)["interrupted"] is True
    assert Lead.objects.filter(sync_claim__isnull=False).count() == 0
    assert Lead.objects.filter(sync_state=SyncState.PENDING).count() == 3
