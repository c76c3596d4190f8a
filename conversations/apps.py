from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ConversationsConfig(AppConfig):
    name = "conversations"
    verbose_name = "Conversations"

    def ready(self) -> None:
        post_migrate.connect(_purge_schedule, sender=self, dispatch_uid="conversations.purge_schedule")


def _purge_schedule(**kwargs: object) -> None:
    """Every `migrate` (each deploy, `make run`) makes sure the retention purge is queued."""
    from conversations.services import conversations_purge_schedule

    conversations_purge_schedule()
