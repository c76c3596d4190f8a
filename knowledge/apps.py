from django.apps import AppConfig


class KnowledgeConfig(AppConfig):
    name = "knowledge"
    verbose_name = "Knowledge base"

    def ready(self) -> None:
        from core.health import ready_check_register
        from knowledge import checks, signals  # noqa: F401  (registers checks and receivers)
        from knowledge.selectors import index_ready_check

        ready_check_register("knowledge_index", index_ready_check)
