"""A real task worker indexes; a separate, long-running process sees each new version without a restart."""

import json
import subprocess
import sys
import time

import pytest

from knowledge.models import FAQ
from testsupport.processes import BASE_DIR, child_environment, worker_process

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SEARCHER = """
import json, sys, django
django.setup()
from knowledge.selectors import search
print("ready", flush=True)
for line in sys.stdin:
    results = search(query=line.strip(), k=3)
    print(json.dumps([[r.source_identifier, r.text] for r in results]), flush=True)
"""


class Searcher:
    def __init__(self):
        self.process = subprocess.Popen(
            [sys.executable, "-c", SEARCHER],
            cwd=BASE_DIR,
            env=child_environment(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.process.stdout.readline().strip() == "ready"

    def search(self, query: str) -> list[list[str]]:
        self.process.stdin.write(query + "\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def wait_for(self, query: str, predicate, timeout: float = 60.0) -> list:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            results = self.search(query)
            if predicate(results):
                return results
            time.sleep(0.1)
        raise AssertionError(f"{query!r}: condition not met within {timeout}s; last results {results}")

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=10)


@pytest.fixture
def database_tasks(settings):
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "index", "leads"]}
    }


def test_an_faq_saved_here_reaches_a_running_searcher_through_the_worker(database_tasks):
    searcher = Searcher()
    try:
        with worker_process() as worker:
            faq = FAQ.objects.create(question="Do you deliver on Sundays?", answer="No, Monday to Saturday only.")
            searcher.wait_for("sunday delivery", lambda r: r and r[0][0] == f"faq:{faq.pk}")

            faq.answer = "Yes, since May we also deliver on Sundays."
            faq.save()
            found = searcher.wait_for("sunday delivery", lambda r: r and "since May" in r[0][1])
            assert found[0][0] == f"faq:{faq.pk}"

            faq.delete()
            searcher.wait_for("sunday delivery", lambda r: all(item[0] != f"faq:{faq.pk}" for item in r))
            assert worker.process.poll() is None, worker.log()
    finally:
        searcher.close()
