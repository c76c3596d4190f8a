"""Only staff with the insights permissions see the insights pages; anonymous visitors go to the admin login."""

import pytest
from django.conf import settings
from django.urls import reverse

pytestmark = pytest.mark.django_db

PAGES = [
    ("insights:insights", []),
    ("insights:csv", ["volume"]),
    ("insights:test_bot", []),
    ("insights:batch_list", []),
]


@pytest.mark.parametrize(("name", "args"), PAGES)
def test_an_anonymous_visitor_is_sent_to_the_admin_login(client, name, args):
    url = reverse(name, args=args)

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith(f"/{settings.ADMIN_URL}login/")
    assert "next=" in response["Location"]


@pytest.mark.parametrize(("name", "args"), PAGES)
def test_staff_without_the_permission_are_refused(client, plain_staff, name, args):
    assert client.get(reverse(name, args=args)).status_code == 403


def test_the_insights_permission_opens_insights_but_not_the_test_pages(client, analyst):
    assert client.get(reverse("insights:insights")).status_code == 200
    assert client.get(reverse("insights:csv", args=["volume"])).status_code == 200
    assert client.get(reverse("insights:test_bot")).status_code == 403
    assert client.get(reverse("insights:batch_list")).status_code == 403


def test_the_test_permission_opens_the_test_pages(client, tester):
    assert client.get(reverse("insights:test_bot")).status_code == 200
    assert client.get(reverse("insights:batch_list")).status_code == 200


def test_the_admin_index_links_the_pages_a_user_may_open(client, analyst):
    page = client.get(reverse("admin:index")).content.decode()

    assert reverse("insights:insights") in page
    assert reverse("insights:test_bot") not in page


def test_the_admin_index_shows_no_insights_to_staff_without_the_permission(client, plain_staff):
    page = client.get(reverse("admin:index")).content.decode()

    assert 'id="insights-module"' not in page
