from django.apps import AppConfig


class ChatbotConfig(AppConfig):
    name = "chatbot"
    verbose_name = "Chat"

    def ready(self) -> None:
        from django.contrib import admin
        from django.utils.functional import lazy

        from chatbot import (
            checks,  # noqa: F401  (registers system checks)
            origins,  # noqa: F401  (origin check and CORS signal receiver)
        )
        from chatbot.selectors import admin_site_title, lead_notification_targets
        from core.admin_login import RateLimitedAdminAuthenticationForm
        from core.logredact import server_log_redaction_install
        from core.structured_logging import task_logging_connect
        from leads.notify import notification_targets_source_set

        admin.site.login_form = RateLimitedAdminAuthenticationForm
        # Read on every admin page (from the bot settings' few-second cache per process).
        admin.site.site_header = admin.site.site_title = lazy(admin_site_title, str)()
        notification_targets_source_set(lead_notification_targets)
        task_logging_connect()
        server_log_redaction_install()
