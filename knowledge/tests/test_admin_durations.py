"""Durations in the knowledge admin are rounded for people (the index build time was 0.007661171999984617)."""

import pytest
from django.conf import settings

from knowledge.models import IndexVersion

pytestmark = pytest.mark.django_db


def test_the_index_versions_show_a_rounded_build_time(admin_client):
    version = IndexVersion.objects.create(
        state=IndexVersion.State.READY, build_seconds=0.007661171999984617, chunk_count=3
    )
    admin = f"/{settings.ADMIN_URL}knowledge/indexversion/"

    listing = admin_client.get(admin).content.decode()
    detail = admin_client.get(f"{admin}{version.pk}/change/").content.decode()

    for page in (listing, detail):
        assert "8 ms" in page
        assert "0.00766" not in page
