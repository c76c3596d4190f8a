"""
The staff pages of issue 14 in headless Chromium against the real server
(daphne on the test database), each under the Content-Security-Policy with
no violation and no script error: the insights page draws every chart from
the vendored Chart.js; "Test your bot" shows a decision trace; a batch test
uploaded from a file runs and shows its results; the bot settings' colour
pickers drive the widget preview live. Screenshots go to the test artifacts
(the insights page's is docs/insights.png in the README).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from chatbot.tests.support import TIDEWATER_FAQS
from insights.seeding import insights_seed
from knowledge.models import FAQ
from tests.browser.conftest import module_rows, screenshot
from testsupport.processes import server_process

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "correct horse battery staple"
WATCH_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
}, true);
"""


def _load() -> None:
    for question, answer in TIDEWATER_FAQS:
        FAQ.objects.create(question=question, answer=answer)
    insights_seed(conversations=1500, messages=12000, days=30, seed=7)
    get_user_model().objects.create(
        username="staff",
        is_staff=True,
        is_superuser=True,
        password=PBKDF2PasswordHasher().encode(PASSWORD, "test-salt", iterations=1000),
    )


@pytest.fixture(scope="module")
def transactional_db(django_db_setup) -> None:
    """Module-wide rows shared with a server process (see test_widget_live.py for why)."""


@pytest.fixture(scope="module")
def rows(transactional_db, django_db_blocker) -> Iterator[None]:
    with module_rows(django_db_blocker, _load):
        yield


@pytest.fixture(scope="module")
def bot(rows):
    with server_process("daphne") as server:
        yield server


@pytest.fixture
def staff_page(page, bot):
    """A page logged in to the admin, collecting CSP violations."""
    page.csp_console = []
    page.add_init_script(WATCH_VIOLATIONS)
    page.on(
        "console",
        lambda message: page.csp_console.append(message.text) if "Content Security Policy" in message.text else None,
    )
    admin = f"{bot.url}/{settings.ADMIN_URL}"
    page.goto(admin)
    page.fill("#id_username", "staff")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(admin)
    page.admin = admin
    return page


def clean(page) -> None:
    violations = page.evaluate("() => window.__cspViolations || []") + page.csp_console
    assert violations == []
    assert page.errors == []


def test_the_insights_page_draws_every_chart_and_links_each_csv(staff_page):
    page = staff_page
    page.set_viewport_size({"width": 1400, "height": 1800})
    page.click("#insights-module a:text('Insights')")
    page.wait_for_function("() => document.body.dataset.chartsDrawn === '7'")

    charts = page.evaluate(
        "() => [...document.querySelectorAll('canvas[data-chart]')].map((c) => [c.dataset.chart, !!c.chart, c.width])"
    )
    assert len(charts) == 7 and all(drawn and width > 100 for _, drawn, width in charts)
    figure = page.locator("[data-figure=conversations]").inner_text()
    assert int(figure) > 0
    csv_links = page.locator("a.csv").evaluate_all("(links) => links.map((a) => a.getAttribute('href'))")
    assert len(csv_links) == 11
    response = page.request.get(page.admin.rsplit("/admin/", 1)[0] + csv_links[0])
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.text().startswith("day,conversations,visitor_messages,staff_replies")

    page.select_option("#period", "7")
    page.click(".insights-period input[type=submit]")
    page.wait_for_function("() => document.body.dataset.chartsDrawn === '7'")
    assert "period=7" in page.url
    screenshot(page, "insights-page")
    page.screenshot(path=str(screenshot_dir() / "insights-full.png"), full_page=True)
    clean(page)


def screenshot_dir():
    from tests.browser.conftest import ARTIFACTS

    return ARTIFACTS


def test_test_your_bot_shows_the_decision_trace(staff_page):
    page = staff_page
    page.goto(page.admin + "insights/test/")
    page.fill("textarea[name=question]", "Can I ride my e-bike in the rain?")
    page.click("#test-bot input[type=submit]")

    assert page.locator("#verdict").inner_text().startswith("Answers")
    first = page.locator("#trace-passages tbody tr").first.locator("td")
    assert first.nth(2).inner_text() == "1" and first.nth(3).inner_text() == "1", "dense and keyword ranks"
    assert "rain" in page.locator("#answer-text").inner_text().lower()
    assert page.locator("#trace-prompt pre").count() >= 2
    screenshot(page, "insights-test-your-bot")
    clean(page)


def test_a_batch_test_uploaded_from_a_file_runs_and_shows_its_results(staff_page, tmp_path):
    page = staff_page
    questions = tmp_path / "questions.jsonl"
    questions.write_text(
        "\n".join(
            json.dumps(q)
            for q in [
                {"question": "Can I ride my e-bike in the rain?", "expected_sources": [TIDEWATER_FAQS[2][0]]},
                {"question": "What is the capital of Australia?", "expected_sources": []},
            ]
        )
    )
    page.goto(page.admin + "insights/batch/")
    page.set_input_files("#batch-upload input[type=file]", str(questions))
    page.click("#batch-upload input[type=submit]")
    page.wait_for_selector("#run-state[data-state=done]")

    assert page.locator("#passed").inner_text() == "2"
    assert page.locator("#results tbody tr").count() == 2
    page.click("#rerun")
    page.wait_for_selector("#run-state[data-state=done]")
    assert page.locator("#results thead th").nth(1).text_content() == "Run 1", "compared with the first run"
    screenshot(page, "insights-batch-test")
    clean(page)


def test_the_colour_pickers_drive_the_widget_preview(staff_page):
    page = staff_page
    page.goto(page.admin + "chatbot/botsettings/1/change/")
    page.wait_for_selector("#widget-preview[data-live='1']")

    page.locator("#id_color_primary").fill("#aa0000")

    header = page.evaluate("() => getComputedStyle(document.querySelector('.wp-header')).backgroundColor")
    assert header == "rgb(170, 0, 0)"
    page.fill("#id_widget_title", "Talk to Tidewater")
    assert page.locator(".wp-title").inner_text() == "Talk to Tidewater"
    page.locator("#widget-preview-box").scroll_into_view_if_needed()
    screenshot(page, "bot-settings-preview")
    clean(page)
