"""
`manage.py setup_demo`, which `make run` calls every time: the login it prints
names the address the server listens on, and the sample knowledge base is
loaded once, into an empty knowledge base, never again (what staff deleted
stays deleted).
"""

from __future__ import annotations

from io import StringIO

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from chatbot.management.commands import setup_demo
from knowledge.models import FAQ, Document
from knowledge.tests.factories import TextDocumentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings, tmp_path, monkeypatch):
    """A DATA_DIR of its own and a two-file sample knowledge base."""
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()
    sample = tmp_path / "sample_kb"
    sample.mkdir()
    (sample / "returns.md").write_text("# Returns\n\nReturn any bike within 30 days.\n")
    (sample / "faqs.csv").write_text("question,answer\nDo you sell helmets?,Yes: $99 with a light.\n")
    monkeypatch.setattr(setup_demo, "SAMPLE_KB_DIR", sample)


def run(*args: str) -> str:
    out = StringIO()
    call_command("setup_demo", *args, stdout=out, stderr=StringIO(), verbosity=0)
    return out.getvalue()


@pytest.mark.parametrize(
    ("address", "url"),
    [
        ("127.0.0.1:18750", "http://127.0.0.1:18750/admin/"),
        ("0.0.0.0:9000", "http://127.0.0.1:9000/admin/"),
        ("[::1]:8001", "http://[::1]:8001/admin/"),
        ("localhost:8000", "http://localhost:8000/admin/"),
    ],
)
def test_the_printed_login_names_the_address_make_run_serves_on(demo, address, url):
    output = run("--no-sample-kb", "--address", address)

    password = (django_settings.DATA_DIR / "admin-password.txt").read_text().strip()
    assert f"Admin login: {url}  user: admin  password: {password}" in output
    assert get_user_model().objects.get(username="admin").check_password(password)


def test_a_malformed_address_is_a_clear_error(demo):
    with pytest.raises(CommandError, match="--address must be HOST:PORT"):
        run("--address", "18750")


def test_the_sample_knowledge_base_is_loaded_once_and_a_deleted_document_stays_deleted(demo):
    run()
    assert set(Document.objects.values_list("identifier", flat=True)) == {"returns.md"}
    assert FAQ.objects.count() == 1

    Document.objects.get(identifier="returns.md").delete()
    FAQ.objects.all().delete()
    output = run()

    assert "loaded once already" in output
    assert not Document.objects.exists() and not FAQ.objects.exists()


def test_a_knowledge_base_with_content_gets_no_sample(demo):
    TextDocumentFactory(title="Our own handbook")

    output = run()
    again = run()

    assert "not loaded, the knowledge base has content already" in output
    assert "loaded once already" in again
    assert list(Document.objects.values_list("title", flat=True)) == ["Our own handbook"]
    assert not FAQ.objects.exists()
