"""
The task worker is killed (SIGKILL) in the middle of a re-index: the server
keeps answering from the last good index version, and when a worker comes
back the interrupted task runs again and the new content is served.

django-tasks-db alone would leave the killed task RUNNING forever; our
`db_worker` keeps a lease on the task it runs (chatbot/task_leases.py), so a
task whose worker died is put back in the queue once its lease runs out, and
the re-run takes over the source lease the dead worker held (knowledge/tasks.py).
"""

from __future__ import annotations

import json
import signal
import time
import urllib.request

import pytest
from django_tasks_db.models import DBTaskResult

from knowledge.models import Document, IndexVersion, SourceStatus
from testsupport.processes import server_process, worker_process

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

LEASE_SECONDS = 1
QUESTION = "When is the Tidewater workshop open?"
OLD_TEXT = "# Workshop\n\nThe Tidewater workshop is open Monday to Friday, 9am to 5pm (hours-v1).\n"
NEW_FIRST = "# Workshop\n\nThe Tidewater workshop is open every day, 8am to 8pm (hours-v2).\n"


def new_text(sections: int = 140) -> str:
    """The new version of the page: long enough that indexing it takes seconds."""
    parts = [NEW_FIRST]
    for number in range(sections):
        words = " ".join(f"servicing{number}x{word} wheel truing brake bleeding" for word in range(30))
        parts.append(f"\n## Service {number}\n\nService number {number} covers {words}.\n")
    return "".join(parts)


def ask(url: str) -> str:
    request = urllib.request.Request(f"{url}/api/chat/", data=json.dumps({"message": QUESTION}).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["answer"]


def wait_until(condition, *, timeout: float, describe=lambda: "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, describe()
        time.sleep(0.1)


@pytest.fixture
def workshop_page(transactional_db):
    """The page as it was, indexed at once (the tests' immediate task backend)."""
    page = Document.objects.create(kind=Document.Kind.TEXT, identifier="workshop", title="Workshop", text=OLD_TEXT)
    page.refresh_from_db()
    assert page.status == SourceStatus.READY
    return page


@pytest.fixture
def database_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend",
                                  "QUEUES": ["default", "index", "leads"]}}


def test_a_worker_killed_mid_reindex_leaves_the_old_index_serving_and_the_task_runs_again(
    workshop_page, database_tasks
):
    # The test polls /api/chat/ from one address: per-IP limits are not the subject here.
    env = {"TASKS_LEASE_SECONDS": str(LEASE_SECONDS), "LLM_PROVIDER": "extractive",
           "RATE_LIMIT_MESSAGES_PER_IP": "10000/m"}
    with server_process("gunicorn", env=env) as server:
        assert "hours-v1" in ask(server.url)
        version_before = IndexVersion.objects.get(is_current=True).pk

        workshop_page.text = new_text()
        workshop_page.save()
        task = DBTaskResult.objects.get(task_path="knowledge.tasks.document_index_task")

        with worker_process(env=env) as doomed:
            wait_until(lambda: Document.objects.get(pk=workshop_page.pk).status == SourceStatus.INDEXING,
                       timeout=60, describe=doomed.log)
            time.sleep(LEASE_SECONDS * 1.6)
            task.refresh_from_db()
            assert task.status == "RUNNING" and len(task.worker_ids) == 1, "a live worker keeps its lease"
            doomed.stop(signal.SIGKILL)

        task.refresh_from_db()
        assert task.status == "RUNNING", "killed mid-task: django-tasks-db still shows it running"
        assert Document.objects.get(pk=workshop_page.pk).status == SourceStatus.INDEXING
        assert IndexVersion.objects.get(is_current=True).pk == version_before
        assert "hours-v1" in ask(server.url), "the last good index keeps serving"

        with worker_process(env=env) as revived:
            wait_until(lambda: DBTaskResult.objects.get(pk=task.pk).status == "SUCCESSFUL", timeout=60,
                       describe=lambda: revived.log()[-3000:])
            task.refresh_from_db()
            assert len(task.worker_ids) == 2, "run once more, by the new worker"
            # The re-run takes over the page's lease, which the dead worker still held (knowledge/tasks.py).
            assert task.return_value["source"] == "indexed", task.return_value
            wait_until(lambda: "hours-v2" in ask(server.url), timeout=30)

    page = Document.objects.get(pk=workshop_page.pk)
    assert page.status == SourceStatus.READY and page.chunk_count > 200
    current = IndexVersion.objects.get(is_current=True)
    assert current.pk > version_before and current.chunk_count == page.chunk_count
