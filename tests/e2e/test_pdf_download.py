"""Ask for the adviser's PDF on the results page in Chromium, wait while a PDF worker makes
it, and download it: with JavaScript on (the page polls) and off (a link to check again),
with and without the link back to the live result."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Browser, expect
from pypdf import PdfReader

from eligibility.models import Answer, Assessment
from tests.e2e.test_applicant_flow import assert_accessible
from tests.factories import blue_card
from tests.pdf_queue import pdf_worker_thread

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("with_link", [False, True], ids=["no-link", "with-link"])
@pytest.mark.parametrize("javascript", [True, False], ids=["js-on", "js-off"])
def test_a_pdf_asked_for_is_prepared_then_downloaded_as_a_dated_pdf(
    browser: Browser, live_server: Any, core_questions: None, javascript: bool, with_link: bool
) -> None:
    blue_card()
    assessment = Assessment.objects.create()
    Answer.objects.create(assessment=assessment, question_key="job_offer_country", value="DE")
    Answer.objects.create(assessment=assessment, question_key="offered_salary", value=None)
    results_url = live_server.url + reverse("results", args=[assessment.token])

    context = browser.new_context(java_script_enabled=javascript, accept_downloads=True)
    try:
        page = context.new_page()
        page.goto(results_url)
        if with_link:
            page.get_by_label("Print the private link").check()
        page.get_by_role("button", name="Make a PDF for your adviser").click()
        status = page.get_by_role("status").filter(has_text="Your PDF")
        expect(status).to_contain_text("Your PDF is being prepared.")
        with pdf_worker_thread():
            if javascript:
                # htmx polls in place: the results page stays, and says when it is ready.
                expect(status).to_contain_text("Your PDF is ready", timeout=30_000)
                assert page.url == results_url
                assert_accessible(page)
            else:
                status_url = page.url
                for _ in range(60):
                    check = page.get_by_role("link", name="Check if your PDF is ready")
                    if check.count():
                        check.click()
                    else:
                        # A 500 "table is locked": on SQLite, the test database lives in memory,
                        # shared by the live server and the worker thread, and answers at once
                        # where a database file or PostgreSQL waits for the writer (seen in
                        # CI). Ask again, as the applicant would.
                        page.goto(status_url)
                    if page.get_by_role("link", name="Download your PDF").count():
                        break
                    page.wait_for_timeout(500)
                assert "/pdf/" in page.url
        with page.expect_download() as caught:
            page.get_by_role("link", name="Download your PDF").click()
        download = caught.value
        assert download.failure() is None
        today = timezone.localdate().isoformat()
        assert download.suggested_filename == f"route-finder-results-{today}.pdf"
        text = "".join(p.extract_text() for p in PdfReader(download.path()).pages)
        assert "EU Blue Card" in text
        assert "May fit" in text
        assert (assessment.token in text.replace("\n", "")) is with_link
    finally:
        context.close()


def test_the_pdf_page_is_accessible_while_waiting_and_when_ready(
    browser: Browser, live_server: Any, core_questions: None
) -> None:
    blue_card()
    assessment = Assessment.objects.create()
    without_javascript = browser.new_context(java_script_enabled=False)
    try:
        asking = without_javascript.new_page()
        asking.goto(live_server.url + reverse("results", args=[assessment.token]))
        asking.get_by_role("button", name="Make a PDF for your adviser").click()
        status_url = asking.url
    finally:
        without_javascript.close()
    page = browser.new_page()
    try:
        page.goto(status_url)
        expect(page.get_by_role("heading", level=1)).to_have_text("Your PDF for your adviser")
        assert_accessible(page)
        with pdf_worker_thread():
            expect(page.get_by_role("status")).to_contain_text("Your PDF is ready", timeout=30_000)
        assert_accessible(page)
    finally:
        page.close()
