from django.apps import AppConfig
from django.db.models.signals import post_migrate


class InsightsConfig(AppConfig):
    name = "insights"
    verbose_name = "Insights"

    def ready(self) -> None:
        post_migrate.connect(_rollup_schedule, sender=self, dispatch_uid="insights.rollup_schedule")


def _rollup_schedule(**kwargs: object) -> None:
    """Every `migrate` (each deploy, `make run`) makes sure the daily rollup task is queued."""
    from insights.services import insights_rollup_schedule

    insights_rollup_schedule()
