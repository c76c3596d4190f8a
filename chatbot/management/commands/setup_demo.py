"""
Prepares the embedded demo (`make run` calls it every time): the sample
knowledge base, once, and an admin login, printed with the address the server
will listen on.
"""

import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from knowledge.models import FAQ, Document

SAMPLE_KB_DIR = settings.BASE_DIR / "sample_kb"
# Hosts a server listens on that a browser cannot open as such.
_ANY_ADDRESS = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}


def sample_kb_marker() -> Path:
    return settings.DATA_DIR / "sample-kb-loaded"


def login_url(address: str) -> str:
    """`0.0.0.0:18750` -> `http://127.0.0.1:18750/admin/` (ADMIN_URL)."""
    host, separator, port = address.rpartition(":")
    if not separator or not port.isdigit():
        raise CommandError(f"--address must be HOST:PORT, got {address!r}")
    host = host.strip("[]")
    host = _ANY_ADDRESS.get(host, host)
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/{settings.ADMIN_URL}"


class Command(BaseCommand):
    help = (
        "Loads the sample knowledge base the first time (never again: what staff delete stays deleted) "
        "and makes sure an admin login exists (prints it)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--username", default="admin")
        parser.add_argument("--no-sample-kb", action="store_true", help="Only create the admin login.")
        parser.add_argument(
            "--address",
            default="127.0.0.1:8000",
            help="HOST:PORT the server listens on, for the printed login (make run passes it).",
        )

    def handle(self, *args, username: str, no_sample_kb: bool, address: str, **options) -> None:
        admin_url = login_url(address)
        if not no_sample_kb:
            self._sample_kb(verbosity=options["verbosity"])
        password = self._admin_password(username)
        self.stdout.write(self.style.SUCCESS(f"Admin login: {admin_url}  user: {username}  password: {password}"))

    def _sample_kb(self, *, verbosity: int) -> None:
        """
        Only the first time, and only into an empty knowledge base: the marker
        in DATA_DIR remembers that it was loaded, so sample documents staff
        deleted (or all of them) do not come back on the next `make run`.
        """
        marker = sample_kb_marker()
        if marker.exists():
            self.stdout.write(
                f"Sample knowledge base: loaded once already ({marker}); not loaded again. "
                f"`manage.py ingest sample_kb` loads it again."
            )
            return
        if Document.objects.exists() or FAQ.objects.exists():
            self.stdout.write("Sample knowledge base: not loaded, the knowledge base has content already.")
        else:
            call_command("ingest", str(SAMPLE_KB_DIR), verbosity=verbosity)
        marker.write_text(timezone.now().isoformat() + "\n")

    def _admin_password(self, username: str) -> str:
        """
        The password is generated once and kept in DATA_DIR (mode 600), so the
        printed login keeps working across runs and never appears in the code.
        """
        password_file = settings.DATA_DIR / "admin-password.txt"
        if not password_file.exists():
            password_file.write_text(secrets.token_urlsafe(12))
            password_file.chmod(0o600)
        password = password_file.read_text().strip()
        user_model = get_user_model()
        user, _ = user_model.objects.get_or_create(username=username, defaults={"is_staff": True, "is_superuser": True})
        if not user.check_password(password):
            user.set_password(password)
        user.is_staff = user.is_superuser = True
        user.save()
        return password
