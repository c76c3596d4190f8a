"""
The task worker is killed (SIGKILL) in the middle of a re-index (its
embedding call held by the fake until then): the server keeps answering from
the last good index version, and when a worker comes back the interrupted
task runs again and the new content is served.

django-tasks-db alone would leave the killed task RUNNING forever; our
`db_worker` keeps a lease on the task it runs (core/task_leases.py), so a
task whose worker died is put back in the queue once its lease runs out, and
the re-run takes over the source lease the dead worker held (knowledge/tasks.py).
"""

from __future__ import annotations

import json
import signal
import urllib.request
from datetime import timedelta

import pytest
from django_tasks_db.models import DBTaskResult

from knowledge.models import Document, IndexVersion, SourceStatus
from knowledge.tests.servers import FakeEmbeddings
from testsupport.processes import server_process, worker_process
from testsupport.waiting import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

LEASE_SECONDS = 2
QUESTION = "When is the Tidewater workshop open?"
OLD_TEXT = "# Workshop\n\nThe Tidewater workshop is open Monday to Friday, 9am to 5pm (hours-v1).\n"
NEW_FIRST = "# Workshop\n\nThe Tidewater workshop is open every day, 8am to 8pm (hours-v2).\n"


def new_text(sections: int = 30) -> str:
    """The new version of the page, a few dozen chunks."""
    parts = [NEW_FIRST]
    for number in range(sections):
        words = " ".join(f"servicing{number}x{word} wheel truing brake bleeding" for word in range(30))
        parts.append(f"\n## Service {number}\n\nService number {number} covers {words}.\n")
    return "".join(parts)


def ask(url: str) -> str:
    request = urllib.request.Request(
        f"{url}/api/chat/",
        data=json.dumps({"message": QUESTION}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["answer"]


@pytest.fixture
def embeddings(settings):
    """
    Embeddings from a loopback OpenAI-compatible server, here and in the
    server and worker processes: the test holds the re-index's embedding call
    there, so the worker is provably in the middle of the task when it dies.
    """
    with FakeEmbeddings() as fake:
        settings.EMBEDDING_PROVIDER, settings.OPENAI_BASE_URL = "openai", fake.openai_base_url
        settings.OPENAI_API_KEY, settings.LLM_TIMEOUT = "sk-test", 60.0
        yield fake


def embeddings_environment(fake: FakeEmbeddings) -> dict[str, str]:
    return {
        "EMBEDDING_PROVIDER": "openai",
        "OPENAI_BASE_URL": fake.openai_base_url,
        "OPENAI_API_KEY": "sk-test",
        "LLM_TIMEOUT": "60",
    }


@pytest.fixture
def workshop_page(transactional_db, embeddings):
    """The page as it was, indexed at once (the tests' immediate task backend)."""
    page = Document.objects.create(kind=Document.Kind.TEXT, identifier="workshop", title="Workshop", text=OLD_TEXT)
    page.refresh_from_db()
    assert page.status == SourceStatus.READY
    return page


@pytest.fixture
def database_tasks(settings):
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "index", "leads"]}
    }


def test_a_worker_killed_mid_reindex_leaves_the_old_index_serving_and_the_task_runs_again(
    workshop_page, embeddings, database_tasks
):
    # The test polls /api/chat/ from one address: per-IP limits are not the subject here.
    env = {
        **embeddings_environment(embeddings),
        "TASKS_LEASE_SECONDS": str(LEASE_SECONDS),
        "LLM_PROVIDER": "extractive",
        "RATE_LIMIT_MESSAGES_PER_IP": "10000/m",
    }
    with server_process("gunicorn", env=env) as server:
        assert "hours-v1" in ask(server.url)
        version_before = IndexVersion.objects.get(is_current=True).pk

        reindex = embeddings.hold(matches=lambda texts: any("hours-v2" in text for text in texts))
        workshop_page.text = new_text()
        workshop_page.save()
        task = DBTaskResult.objects.get(task_path="knowledge.tasks.document_index_task")

        with worker_process(env=env) as doomed:
            assert reindex.arrived.wait(60), doomed.log()[-3000:]
            assert Document.objects.get(pk=workshop_page.pk).status == SourceStatus.INDEXING
            # Alive, the worker renews its lease past the first term: nobody else takes the task.
            task.refresh_from_db()
            first_term_over = task.started_at + timedelta(seconds=2 * LEASE_SECONDS)
            wait_until(
                lambda: DBTaskResult.objects.get(pk=task.pk).run_after > first_term_over,
                describe=lambda: doomed.log()[-3000:],
            )
            task.refresh_from_db()
            assert task.status == "RUNNING" and len(task.worker_ids) == 1, "a live worker keeps its lease"
            doomed.stop(signal.SIGKILL)

        task.refresh_from_db()
        assert task.status == "RUNNING", "killed mid-task: django-tasks-db still shows it running"
        assert Document.objects.get(pk=workshop_page.pk).status == SourceStatus.INDEXING
        assert IndexVersion.objects.get(is_current=True).pk == version_before
        assert "hours-v1" in ask(server.url), "the last good index keeps serving"

        reindex.release()
        with worker_process(env=env) as revived:
            wait_until(
                lambda: DBTaskResult.objects.get(pk=task.pk).status == "SUCCESSFUL",
                describe=lambda: revived.log()[-3000:],
            )
            task.refresh_from_db()
            assert len(task.worker_ids) == 2, "run once more, by the new worker"
            # The re-run takes over the page's lease, which the dead worker still held (knowledge/tasks.py).
            assert task.return_value["source"] == "indexed", task.return_value
            wait_until(lambda: "hours-v2" in ask(server.url), interval=0.2)

    page = Document.objects.get(pk=workshop_page.pk)
    assert page.status == SourceStatus.READY and page.chunk_count > 30
    current = IndexVersion.objects.get(is_current=True)
    assert current.pk > version_before and current.chunk_count == page.chunk_count
