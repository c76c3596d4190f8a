from django.apps import AppConfig


class ChatbotConfig(AppConfig):
    name = "chatbot"
    verbose_name = "Chat"

    def ready(self) -> None:
        from django.contrib import admin

        from chatbot import (
            checks,  # noqa: F401  (registers system checks)
            origins,  # noqa: F401  (origin check and CORS signal receiver)
        )
        from core.admin_login import RateLimitedAdminAuthenticationForm
        from core.logredact import server_log_redaction_install
        from core.structured_logging import task_logging_connect

        admin.site.login_form = RateLimitedAdminAuthenticationForm
        task_logging_connect()
        server_log_redaction_install()
