"""Prepares the embedded demo: the sample knowledge base and an admin login."""

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

SAMPLE_KB_DIR = settings.BASE_DIR / "sample_kb"


class Command(BaseCommand):
    help = "Loads the sample knowledge base and makes sure an admin login exists (prints it)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--username", default="admin")
        parser.add_argument("--no-sample-kb", action="store_true", help="Only create the admin login.")

    def handle(self, *args, username: str, no_sample_kb: bool, **options) -> None:
        if not no_sample_kb:
            call_command("ingest", str(SAMPLE_KB_DIR), verbosity=options["verbosity"])
        password = self._admin_password(username)
        admin_url = f"http://127.0.0.1:8000/{settings.ADMIN_URL}"
        self.stdout.write(self.style.SUCCESS(f"Admin login: {admin_url}  user: {username}  password: {password}"))

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
        user, _ = user_model.objects.get_or_create(
            username=username, defaults={"is_staff": True, "is_superuser": True}
        )
        if not user.check_password(password):
            user.set_password(password)
        user.is_staff = user.is_superuser = True
        user.save()
        return password
