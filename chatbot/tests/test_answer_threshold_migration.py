"""Upgrading: the similarity threshold's old default becomes the new floor; a value an admin chose stays."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("chatbot", "0001_initial")]
AFTER = [("chatbot", "0002_answer_decision_threshold")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.parametrize(("before", "after"), [(0.40, 0.15), (0.55, 0.55)])
def test_the_old_default_threshold_becomes_the_similarity_floor(before, after):
    try:
        old_apps = migrate(BEFORE)
        old_apps.get_model("chatbot", "BotSettings").objects.create(pk=1, confidence_threshold=before)

        new_apps = migrate(AFTER)

        row = new_apps.get_model("chatbot", "BotSettings").objects.get(pk=1)
        assert (row.confidence_threshold, row.answer_threshold) == (after, 0.5)
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
